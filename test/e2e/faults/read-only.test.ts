// The read-only guarantee, end to end: one run that uses every built-in resource (each with
// its facts and accessors) as the non-root test user, over the real sshd, leaves the host's
// tree exactly as it was: names, types, modes, owners, sizes, mtimes and ctimes.
// Resources exported from src/index.ts that this file does not know yet are still exercised,
// generically (called with a path, every zero-argument accessor read), so the guarantee grows
// with the catalogue.
import { chmodSync, lstatSync, mkdirSync, readdirSync, writeFileSync } from 'node:fs'
import path from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startFleet, type Fleet } from '../../support/sshd.ts'
import { layDeploy, startStatusApp, type StatusApp } from '../../support/deploy-tree.ts'
import { makeWorkdir, readResult, runCli, type Workdir } from '../../support/workdir.ts'
import type { RunResult } from '../../../src/model.ts'
import { selfSignedCert } from '../../support/tls.ts'

let fleet: Fleet
let work: Workdir
let app: StatusApp
let root: string

/** Everything under a tree, as `path type mode uid:gid size mtime ctime`; ctime catches a chmod or chown put back. */
function snapshot(dir: string): string[] {
  const out: string[] = []
  const walk = (d: string) => {
    for (const name of readdirSync(d).sort()) {
      const p = path.join(d, name)
      const s = lstatSync(p)
      out.push(`${path.relative(dir, p)} ${s.mode.toString(8)} ${s.uid}:${s.gid} ${s.size} ${s.mtimeMs} ${s.ctimeMs}`)
      if (s.isDirectory()) walk(p)
    }
  }
  out.push(`. ${lstatSync(dir).mode.toString(8)} ${lstatSync(dir).mtimeMs} ${lstatSync(dir).ctimeMs}`)
  walk(dir)
  return out
}

beforeAll(async () => {
  fleet = await startFleet({ hosts: 1, name: 'faults-read-only' })
  work = makeWorkdir()
  app = await startStatusApp()
  root = fleet.hosts[0]!.root
  layDeploy(root)
  const etc = path.join(root, 'etc')
  mkdirSync(etc, { recursive: true })
  writeFileSync(path.join(etc, 'app.json'), '{"port": 8080, "workers": 4}\n')
  writeFileSync(path.join(etc, 'app.yaml'), 'port: 8080\nworkers: 4\n---\nsecond: doc\n')
  writeFileSync(path.join(etc, 'app.pid'), `${process.pid}\n`)
  writeFileSync(path.join(etc, 'secret.key'), 'not for verifytest\n')
  chmodSync(path.join(etc, 'secret.key'), 0o600) // owned by root: permission denied for the test user
  selfSignedCert({ key: path.join(work.dir, 'tls.key'), cert: path.join(etc, 'tls.crt'), subject: '/CN=blog.example.com' })
  work.write(
    'hosts.yaml',
    `hosts:
  host-1:
    address: ${fleet.hosts[0]!.address}
    port: ${fleet.port}
    user: ${fleet.user}
    identityFile: ${fleet.identityFile}
    knownHosts: ${fleet.knownHosts}
    vars: { root: ${JSON.stringify(root)}, statusPort: ${app.port}, sshPort: ${fleet.port} }
`,
  )
  work.write('specs/every-resource.spec.ts', EVERY_RESOURCE_SPEC)
})

afterAll(async () => {
  await app?.close()
  await fleet?.stop()
  work?.remove()
})

// Each known resource with the facts and accessors it offers; `read` awaits everything.
const EVERY_RESOURCE_SPEC = `
import * as verify from 'postdeploy-verify'
import { describe, it } from 'postdeploy-verify'

const NOT_RESOURCES = new Set(['describe', 'it', 'expect', 'defineVars', 'secret', 'inGroup', 'notInGroup', 'hasVars', 'varIs', 'z', 'compareVersions', 'satisfiesVersion'])

/** Awaits a resource's value and every zero-argument getter or method on it (and on its facts). */
async function read(value: unknown): Promise<void> {
  const seen = new Set<unknown>()
  const visit = async (v: unknown, depth: number): Promise<void> => {
    if (depth > 1 || v === null || typeof v !== 'object' || seen.has(v)) return
    seen.add(v)
    if (typeof (v as PromiseLike<unknown>).then === 'function') return visit(await settle(v as PromiseLike<unknown>), depth)
    for (let proto = Object.getPrototypeOf(v); proto && proto !== Object.prototype; proto = Object.getPrototypeOf(proto)) {
      for (const [name, d] of Object.entries(Object.getOwnPropertyDescriptors(proto))) {
        if (name === 'constructor' || name === 'then') continue
        if (d.get) await visit(await settle((v as any)[name]), depth + 1)
        else if (typeof d.value === 'function' && d.value.length === 0) await visit(await settle(Promise.resolve().then(() => d.value.call(v))), depth + 1)
      }
    }
  }
  await visit(value, 0)
}

/** A fact the host cannot give is fine here: only what the run does to the host matters. */
async function settle(p: PromiseLike<unknown> | unknown): Promise<unknown> {
  try { return await p } catch { return undefined }
}

describe('every resource', ({ vars }) => {
  const root = vars.root as string
  const app = root + '/apps/blog'
  const status = 'http://127.0.0.1:' + vars.statusPort
  const known: Record<string, () => Promise<unknown>> = {
    file: async () => {
      for (const p of [app + '/current', root + '/etc/app.json', root + '/etc/app.yaml', root + '/etc/secret.key', root + '/missing']) {
        const f = verify.file(p)
        await read(f)
        await settle(f.content); await settle(f.json); await settle(f.yaml); await settle(f.yamlDocuments)
        await settle(f.contains('port')); await settle(f.countMatching(/work/)); await settle(f.accessibleBy('nobody'))
      }
    },
    directory: () => read(verify.directory(app + '/releases')),
    command: () => read(verify.command('ls -la ' + root)),
    http: async () => { await read(verify.http(status + '/health', { via: 'host' })); await read(verify.http(status + '/health')) },
    serverStatus: () => read(verify.serverStatus(status + '/server-status?auto', { via: 'host' })),
    release: () => read(verify.release(app, { revisionFile: 'REVISION', expectedVersion: '3f9c2ab' })),
    process: async () => { await read(verify.process('sshd')); await read(verify.process({ pidFile: root + '/etc/app.pid' })) },
    port: async () => { await read(verify.port(vars.sshPort)); await read(verify.port(vars.sshPort, { source: 'proc' })) },
    service: () => read(verify.service('ssh')),
    pkg: () => read(verify.pkg('openssh-server')),
    user: () => read(verify.user('verifytest')),
    group: () => read(verify.group('root')),
    restart: () => read(verify.restart({ processes: 'sshd', since: new Date(0), statusPage: { url: status + '/server-status?auto', via: 'host', maxAccesses: 1000 } })),
    hostClock: () => read(verify.hostClock()),
    mount: () => read(verify.mount(root)),
    networkInterface: async () => { const lo = verify.networkInterface('lo'); await read(lo); await settle(lo.hasAddress('127.0.0.1')) },
    iface: () => read(verify.iface('lo')),
    host: async () => { const h = verify.host('localhost'); await read(h); await settle(h.reachable(vars.sshPort)); await settle(h.connect(vars.sshPort)) },
    kernelParam: () => read(verify.kernelParam('net.ipv4.ip_forward')),
    cron: async () => { const c = verify.cron(); await read(c); await settle(c.hasEntry('backup')) },
    x509: () => read(verify.x509({ path: root + '/etc/tls.crt' })),
  }
  for (const [name, value] of Object.entries(verify)) {
    if (typeof value !== 'function' || NOT_RESOURCES.has(name) || /^[A-Z]/.test(name)) continue
    // an unknown export may be a helper that rejects a path: whatever it does, it must not write
    const exercise = known[name] ?? (() => settle(Promise.resolve().then(() => read((value as (arg: string) => unknown)(root)))))
    it((known[name] ? '' : 'generic ') + name, async () => { await exercise() })
  }
})
`

describe('a full run of every built-in resource', () => {
  let before: string[]
  let run: Awaited<ReturnType<typeof runCli>>
  let result: RunResult

  beforeAll(async () => {
    before = snapshot(root)
    run = await runCli(['--hosts', 'host-1', '--json', 'out/r.json', '--timeout', '5'], { cwd: work.dir })
    result = readResult(work.dir, 'out/r.json')
  })

  it('ran as the non-root user, every resource reading facts on the host, none crashing', () => {
    expect(result.configErrors, run.stderr).toEqual([])
    const [host] = result.hosts
    expect(host!.host.user).toBe(fleet.user)
    expect(fleet.user === 'root').toBe(false)
    expect(host!.status, JSON.stringify(host!.error)).toBe('verified')
    const checks = host!.checks
    expect(checks.length).toBeGreaterThanOrEqual(21)
    for (const check of checks) {
      const name = check.path.at(-1)!
      expect(check.errorKind, `${name}: ${check.message}`).not.toBe('crash')
      // exports this file does not know may not be resources at all (helpers): they only have to leave the host alone
      const readsFacts = !name.startsWith('generic ') && !['http', 'serverStatus'].includes(name)
      if (readsFacts) expect(check.facts.length, `${name} read no fact`).toBeGreaterThan(0)
    }
  })

  it('left the host tree exactly as it was', () => {
    expect(snapshot(root)).toEqual(before)
  })
})
