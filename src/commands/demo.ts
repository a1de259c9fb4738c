// `verify demo`: a sample deploy laid out in a temporary directory (releases/, a current
// symlink, a running app with a real server-status page), verified by the package's own
// example specs through the real pipeline on the built-in `local` target.
import { mkdtempSync, mkdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs'
import http from 'node:http'
import type { AddressInfo } from 'node:net'
import os from 'node:os'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import type { HostSpec } from '../model.ts'
import { runCommand, type RunFlags } from '../app/run.ts'

const PACKAGE_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..')

export interface DemoDeploy {
  appsRoot: string
  app: string
  release: string
  statusPort: number
  stop(): Promise<void>
}

/** Lays out /apps/blog the way a Capistrano-style deploy does, and starts the "restarted" app. */
export async function startDemoDeploy(): Promise<DemoDeploy> {
  const base = mkdtempSync(path.join(os.tmpdir(), 'verify-demo-'))
  const app = 'blog'
  const appRoot = path.join(base, 'apps', app)
  const releases = ['20261120T101500', '20261123T091200']
  for (const r of releases) {
    const dir = path.join(appRoot, 'releases', r)
    mkdirSync(path.join(dir, 'public'), { recursive: true })
    writeFileSync(path.join(dir, 'REVISION'), `${r === releases[1] ? '3f9c2ab' : '1d04e7c'}\n`)
    writeFileSync(path.join(dir, 'public', 'index.html'), '<h1>blog</h1>\n')
  }
  const release = releases[releases.length - 1]!
  mkdirSync(path.join(appRoot, 'shared', 'log'), { recursive: true })
  symlinkSync(path.join(appRoot, 'releases', release), path.join(appRoot, 'current'))
  const server = await startDemoApp()
  return {
    appsRoot: path.join(base, 'apps'),
    app,
    release,
    statusPort: (server.address() as AddressInfo).port,
    stop: async () => {
      await new Promise<void>(resolve => server.close(() => resolve()))
      rmSync(base, { recursive: true, force: true })
    },
  }
}

/** A freshly restarted app: its Apache-style status counter starts at zero. */
function startDemoApp(): Promise<http.Server> {
  const started = Date.now()
  let accesses = 0
  const server = http.createServer((req, res) => {
    accesses++
    if (req.url?.startsWith('/server-status')) {
      res.setHeader('content-type', 'text/plain; charset=ISO-8859-1')
      res.end(
        `Total Accesses: ${accesses}\nTotal kBytes: ${Math.ceil(accesses / 10)}\nUptime: ${Math.round((Date.now() - started) / 1000)}\nBusyWorkers: 1\nIdleWorkers: 4\nScoreboard: _W___\n`,
      )
      return
    }
    if (req.url === '/health') return void res.end(JSON.stringify({ status: 'ok', release: 'current' }))
    res.statusCode = 404
    res.end('not found\n')
  })
  server.keepAliveTimeout = 1000
  return new Promise(resolve => server.listen(0, '127.0.0.1', () => resolve(server)))
}

export async function runDemo(flags: RunFlags): Promise<number> {
  const deploy = await startDemoDeploy()
  const host: HostSpec = {
    name: 'local',
    address: 'localhost',
    port: 22,
    transport: 'local',
    groups: [],
    vars: { appsRoot: deploy.appsRoot, app: deploy.app, statusPort: deploy.statusPort, release: deploy.release },
  }
  const junit = flags.junit ?? 'reports/demo-junit.xml'
  try {
    process.stdout.write(
      `demo: a sample deploy of "${deploy.app}" laid out in ${deploy.appsRoot}, app listening on 127.0.0.1:${deploy.statusPort}\n\n`,
    )
    // the demo always runs the package's own example specs, wherever it is started from
    // its app is gone after the demo: its requests are not worth a request ledger in the user's directory
    process.env['VERIFY_STATE_DIR'] ??= path.join(deploy.appsRoot, '..', '.verify')
    const code = await runCommand({ ...flags, junit, specs: 'specs/**/*.spec.ts' }, { hosts: [host], cwd: PACKAGE_ROOT })
    process.stdout.write(`\nJUnit report: ${path.resolve(junit)}\n`)
    return code
  } finally {
    await deploy.stop()
  }
}
