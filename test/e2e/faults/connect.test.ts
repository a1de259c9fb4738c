// Connecting goes wrong in every way at once, in one run of the CLI over the real sshd:
// each broken host errors on its own, within the connect timeout, with a message that says
// what to check; a server that drops the first connections (MaxStartups) is retried and verified.
import { execFileSync } from 'node:child_process'
import { readFileSync, writeFileSync } from 'node:fs'
import path from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startFleet, type Fleet } from '../../support/sshd.ts'
import { closedPort, startSilentListener, startTcpProxy, type TcpProxy } from '../../support/faults.ts'
import { makeWorkdir, readResult, runCli, type Workdir } from '../../support/workdir.ts'
import type { HostResult } from '../../../src/model.ts'

const CONNECT_TIMEOUT_S = 3
// what a host's connect time may show beyond --connect-timeout: timer and event-loop lag on a busy CI box
const SLACK_MS = 1_500

let fleet: Fleet
let work: Workdir
let silent: Awaited<ReturnType<typeof startSilentListener>>
const proxies: Record<string, TcpProxy> = {}

beforeAll(async () => {
  fleet = await startFleet({ hosts: 3, name: 'faults-connect' })
  work = makeWorkdir()
  silent = await startSilentListener()
  const [h1, h2, h3] = fleet.hosts
  const upstream = { host: h1!.address, port: fleet.port }
  proxies.dropped = await startTcpProxy(upstream, ['close', 'reset'])
  proxies.cut = await startTcpProxy(upstream, ['banner-then-close'])
  proxies.overloaded = await startTcpProxy(upstream, Array(20).fill('close'))

  execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', 'not-authorized', '-f', path.join(work.dir, 'stranger_key')])
  execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', 'impostor', '-f', path.join(work.dir, 'impostor_host_key')])
  const impostor = readFileSync(path.join(work.dir, 'impostor_host_key.pub'), 'utf8').split(' ').slice(0, 2).join(' ')
  writeFileSync(path.join(work.dir, 'changed_known_hosts'), `[${h3!.address}]:${fleet.port} ${impostor}\n`)
  writeFileSync(path.join(work.dir, 'empty_known_hosts'), '')
  // the proxies present the fleet's host key under their own [127.0.0.1]:port names
  writeFileSync(
    path.join(work.dir, 'proxy_known_hosts'),
    Object.values(proxies)
      .map(p => `[127.0.0.1]:${p.port} ${fleet.hostKeyPub}\n`)
      .join(''),
  )
  const proxy = (name: string) =>
    `{ address: 127.0.0.1, port: ${proxies[name]!.port}, knownHosts: ${path.join(work.dir, 'proxy_known_hosts')} }`
  work.write(
    'hosts.yaml',
    `defaults:
  port: ${fleet.port}
  user: ${fleet.user}
  identityFile: ${fleet.identityFile}
  knownHosts: ${fleet.knownHosts}
hosts:
  healthy: { address: ${h1!.address} }
  down: { address: 127.0.0.1, port: ${await closedPort()} }
  wrong-key: { address: ${h2!.address}, identityFile: ${path.join(work.dir, 'stranger_key')} }
  changed-host-key: { address: ${h3!.address}, knownHosts: ${path.join(work.dir, 'changed_known_hosts')} }
  unknown-host-key: { address: ${h3!.address}, knownHosts: ${path.join(work.dir, 'empty_known_hosts')} }
  no-such-name: { address: db-7.staging.invalid }
  silent: { address: 127.0.0.1, port: ${silent.port} }
  dropped-twice: ${proxy('dropped')}
  cut-mid-handshake: ${proxy('cut')}
  overloaded: ${proxy('overloaded')}
groups:
  all-faults:
    hosts: [healthy, down, wrong-key, changed-host-key, unknown-host-key, no-such-name, silent, dropped-twice, cut-mid-handshake, overloaded]
`,
  )
  work.write(
    'specs/up.spec.ts',
    `
import { describe, it, expect, file } from 'postdeploy-verify'
describe('host', () => {
  it('has a root directory', async () => { expect(await file('/')).toBeDirectory() })
})
`,
  )
})

afterAll(async () => {
  await Promise.all(Object.values(proxies).map(p => p.close()))
  await silent?.close()
  await fleet?.stop()
  work?.remove()
})

describe('connect faults, one run', () => {
  let run: Awaited<ReturnType<typeof runCli>>
  let hosts: Map<string, HostResult>
  let durationMs = 0

  beforeAll(async () => {
    run = await runCli(
      ['--hosts', 'all-faults', '--connect-timeout', String(CONNECT_TIMEOUT_S), '--json', 'out/r.json', '--junit', 'out/r.xml'],
      { cwd: work.dir },
    )
    if (run.exitCode !== 2) console.error(run.stdout, run.stderr)
    const result = readResult(work.dir, 'out/r.json')
    hosts = new Map(result.hosts.map(h => [h.host.name, h]))
    durationMs = result.durationMs
  })

  const error = (name: string) => hosts.get(name)!.error

  it('errors each broken host on its own and verifies the others (exit 2), all within one connect timeout', () => {
    expect(run.exitCode, run.stdout + run.stderr).toBe(2)
    for (const name of ['healthy', 'dropped-twice', 'cut-mid-handshake']) {
      expect(hosts.get(name), name).toMatchObject({ status: 'verified', checks: [{ status: 'passed' }] })
    }
    for (const h of hosts.values()) expect(h.timings.connectMs ?? 0, h.host.name).toBeLessThan(CONNECT_TIMEOUT_S * 1000 + SLACK_MS)
    // the hosts connect in parallel: the run costs one connect timeout, not one per broken host
    expect(durationMs).toBeLessThan(CONNECT_TIMEOUT_S * 1000 + SLACK_MS)
    expect(run.ms).toBeLessThan(60_000)
  })

  it('a closed port: refused, and where to look', () => {
    expect(error('down')).toMatchObject({ kind: 'unreachable' })
    expect(error('down')!.message).toMatch(
      /ECONNREFUSED 127\.0\.0\.1:\d+\. Nothing accepts connections there: check that sshd is running on the host and that the port is right \(host defined at hosts\.yaml:\d+\)\.$/,
    )
    expect(hosts.get('down')!.timings.connectMs).toBeLessThan(2_000)
  })

  it('a key the server does not accept: auth, naming the key that was offered', () => {
    expect(error('wrong-key')).toMatchObject({ kind: 'auth' })
    expect(error('wrong-key')!.message).toContain(`the server accepted none of: identity file ${path.join(work.dir, 'stranger_key')}`)
  })

  it('a changed host key: refused, with both fingerprints and the fix', () => {
    expect(error('changed-host-key')).toMatchObject({ kind: 'host-key' })
    expect(error('changed-host-key')!.message).toMatch(
      /HOST KEY CHANGED: the host presented ssh-ed25519 key SHA256:\S+, but .*changed_known_hosts:1 holds a different key/,
    )
    expect(error('changed-host-key')!.message).toContain('ssh-keygen -R')
  })

  it('an unknown host key: refused, with the command that would add it', () => {
    expect(error('unknown-host-key')).toMatchObject({ kind: 'host-key' })
    expect(error('unknown-host-key')!.message).toMatch(
      /is not in .*empty_known_hosts; the host presented ssh-ed25519 key SHA256:.*ssh-keyscan -p \d+ 127\.0\.0\.4 >>/,
    )
  })

  it('a name that does not resolve: unreachable at once, saying the name does not resolve', () => {
    expect(error('no-such-name')).toMatchObject({ kind: 'unreachable' })
    expect(error('no-such-name')!.message).toMatch(
      /cannot resolve db-7\.staging\.invalid.*The name does not resolve: check the address in the inventory/,
    )
    expect(hosts.get('no-such-name')!.timings.connectMs).toBeLessThan(2_000)
  })

  it('a port that accepts TCP and never speaks: a timeout after --connect-timeout, not a hang', () => {
    expect(error('silent')).toMatchObject({ kind: 'timeout' })
    expect(error('silent')!.message).toMatch(/connect timed out after 3s\. No SSH greeting came in time/)
    expect(hosts.get('silent')!.timings.connectMs).toBeGreaterThanOrEqual(CONNECT_TIMEOUT_S * 1000 - 100)
  })

  it('connections closed, reset or cut before the handshake are retried, and the host is verified', () => {
    expect(proxies.dropped!.accepted).toBe(3)
    expect(proxies.cut!.accepted).toBe(2)
  })

  it('a server that keeps dropping connections: a few jittered retries, then an error that names MaxStartups', () => {
    expect(error('overloaded')).toMatchObject({ kind: 'unreachable' })
    expect(error('overloaded')!.message).toMatch(
      /closed the connection before the SSH handshake on all 4 attempts: sshd may be at its MaxStartups limit/,
    )
    expect(proxies.overloaded!.accepted).toBe(4)
  })

  it('the console names every broken host with its message', () => {
    for (const [name, text] of [
      ['down', 'ECONNREFUSED'],
      ['wrong-key', 'authentication failed'],
      ['changed-host-key', 'HOST KEY CHANGED'],
      ['no-such-name', 'does not resolve'],
      ['silent', 'connect timed out'],
      ['overloaded', 'MaxStartups'],
    ]) {
      // long messages wrap onto indented lines: read them as one
      expect(run.stdout.replace(/\n +/g, ' ')).toMatch(new RegExp(`${name} [^\\n]*ERROR[\\s\\S]*?${text}`))
    }
  })
})
