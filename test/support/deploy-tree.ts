// Lays out the blog's Capistrano-style deploy under a fleet host's root, and runs the
// app's status page: what a host looks like after the push-style deploy.
import { mkdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs'
import http from 'node:http'
import type { AddressInfo } from 'node:net'
import path from 'node:path'

export const RELEASES = ['20261120T101500', '20261123T091200']

export function layDeploy(hostRoot: string, app = 'blog'): { appsRoot: string; appRoot: string } {
  const appsRoot = path.join(hostRoot, 'apps')
  const appRoot = path.join(appsRoot, app)
  for (const r of RELEASES) {
    mkdirSync(path.join(appRoot, 'releases', r, 'public'), { recursive: true })
    writeFileSync(path.join(appRoot, 'releases', r, 'REVISION'), r === RELEASES[1] ? '3f9c2ab\n' : '1d04e7c\n')
  }
  mkdirSync(path.join(appRoot, 'shared', 'log'), { recursive: true })
  pointCurrent(appRoot, path.join(appRoot, 'releases', RELEASES[1]!))
  return { appsRoot, appRoot }
}

export function pointCurrent(appRoot: string, target: string): void {
  rmSync(path.join(appRoot, 'current'), { force: true })
  symlinkSync(target, path.join(appRoot, 'current'))
}

export interface StatusApp {
  port: number
  /** Accesses so far, as the app's mod_status-style page reports them. */
  accesses: number
  close(): Promise<void>
}

/** An app with an Apache `?auto` status page on 127.0.0.1 (reached through the host's tunnel). */
export async function startStatusApp(initialAccesses = 0): Promise<StatusApp> {
  const app = { port: 0, accesses: initialAccesses, close: async () => {} }
  const server = http.createServer((req, res) => {
    app.accesses++
    if (req.url?.startsWith('/server-status'))
      return void res.end(`Total Accesses: ${app.accesses}\nTotal kBytes: 12\nUptime: 42\nBusyWorkers: 1\nIdleWorkers: 7\n`)
    if (req.url === '/health') return void res.end('{"status":"ok"}')
    res.statusCode = 404
    res.end()
  })
  await new Promise<void>(resolve => server.listen(0, '127.0.0.1', resolve))
  app.port = (server.address() as AddressInfo).port
  app.close = () =>
    new Promise<void>(resolve => {
      server.closeAllConnections()
      server.close(() => resolve())
    })
  return app
}
