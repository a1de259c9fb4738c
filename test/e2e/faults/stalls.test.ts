// Hosts that accept the SSH connection and then stall, over the real sshd behind the fault proxy:
// an exec channel open never answered, a probe that goes silent mid-fact, a direct-tcpip tunnel
// (http via the host) that never opens, and one that opens but never sends a byte. Each costs
// its host a timeout that says what stalled, within a few --timeout, never a hang.
import { readFileSync } from 'node:fs'
import { setTimeout as sleep } from 'node:timers/promises'
import path from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startFleet, type Fleet } from '../../support/sshd.ts'
import { pidsRunning, startSilentListener, startTcpProxy, waitFor, type TcpProxy } from '../../support/faults.ts'
import { makeWorkdir, readResult, runCli, type CliRun, type Workdir } from '../../support/workdir.ts'
import { fleetDefaults } from '../../support/fleet-project.ts'
import type { CheckResult } from '../../../src/model.ts'

const TIMEOUT_S = 3
// the checks wait this long before their first fact, so the proxies can freeze after authentication
const PAUSE_MS = 6_000
// sshd logs the login before its answer has passed the proxy: freezing at once could strand the handshake
const AFTER_LOGIN_MS = 1_500
// a sleep no other test runs: the fact the silent probe is inside of when its host freezes
const MARKER = '7431'

let fleet: Fleet
let work: Workdir
let silent: Awaited<ReturnType<typeof startSilentListener>>
const proxies: Record<string, TcpProxy> = {}

beforeAll(async () => {
  fleet = await startFleet({ hosts: 3, name: 'faults-stalls' })
  silent = await startSilentListener()
  const [h1, h2, h3] = fleet.hosts
  proxies['exec-open'] = await startTcpProxy({ host: h1!.address, port: fleet.port })
  proxies['tunnel-open'] = await startTcpProxy({ host: h2!.address, port: fleet.port })
  proxies['probe-silent'] = await startTcpProxy({ host: h3!.address, port: fleet.port })
  work = makeWorkdir()
  work.write(
    'proxy_known_hosts',
    Object.values(proxies)
      .map(p => `[127.0.0.1]:${p.port} ${fleet.hostKeyPub}\n`)
      .join(''),
  )
  const viaProxy = (name: string) =>
    `{ address: 127.0.0.1, port: ${proxies[name]!.port}, knownHosts: ${path.join(work.dir, 'proxy_known_hosts')}, vars: { stall: ${name} } }`
  work.write(
    'hosts.yaml',
    `${fleetDefaults(fleet)}
hosts:
  exec-open: ${viaProxy('exec-open')}
  tunnel-open: ${viaProxy('tunnel-open')}
  probe-silent: ${viaProxy('probe-silent')}
  tunnel-silent: { address: ${h1!.address}, vars: { stall: tunnel-silent } }
groups:
  stalled:
    hosts: [exec-open, tunnel-open, probe-silent, tunnel-silent]
`,
  )
  work.write(
    'specs/stall.spec.ts',
    `
import { describe, it, expect, command, http, varIs } from 'postdeploy-verify'
const pause = () => new Promise((resolve) => setTimeout(resolve, ${PAUSE_MS}))
describe('stalls', () => {
  it('runs a command', { when: varIs('stall', 'exec-open') }, async () => {
    await pause()
    expect((await command('echo ok')).stdout).toBe('ok\\n')
  })
  it('answers HTTP through the host', { when: varIs('stall', 'tunnel-open') }, async () => {
    await pause()
    expect((await http('http://127.0.0.1:${silent.port}/', { via: 'host' })).status).toBe(200)
  })
  it('runs a slow command', { when: varIs('stall', 'probe-silent') }, async () => {
    expect((await command('sleep ${MARKER}')).exitStatus).toBe(0)
  })
  it('answers HTTP from a port that never speaks', { when: varIs('stall', 'tunnel-silent') }, async () => {
    expect((await http('http://127.0.0.1:${silent.port}/', { via: 'host' })).status).toBe(200)
  })
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

/** SSH sessions sshd has authenticated so far. */
function authenticated(): number {
  return [...readFileSync(fleet.logFile, 'utf8').matchAll(/Accepted publickey for /g)].length
}

describe('hosts that stall after accepting the connection', () => {
  let run: CliRun
  let checks: Map<string, CheckResult>

  beforeAll(async () => {
    // --check-timeout far above: each stall must be caught by what it is, not by the check's limit
    const cli = runCli(['--hosts', 'stalled', '--timeout', String(TIMEOUT_S), '--check-timeout', '60', '--json', 'out/r.json'], {
      cwd: work.dir,
      timeoutMs: 90_000,
    })
    let done = false
    void cli
      .finally(() => {
        done = true
      })
      .catch(() => {})
    await Promise.all([
      // every host authenticated: the two that pause go silent before their first channel
      waitFor(() => done || authenticated() >= 4, 60_000)
        .then(() => sleep(AFTER_LOGIN_MS))
        .then(() => {
          proxies['exec-open']!.freeze()
          proxies['tunnel-open']!.freeze()
        }),
      waitFor(() => done || pidsRunning(['sleep', MARKER]).length > 0, 60_000).then(() => proxies['probe-silent']!.freeze()),
    ])
    run = await cli
    const result = readResult(work.dir, 'out/r.json')
    checks = new Map(result.hosts.map(h => [h.host.name, h.checks.find(c => c.status !== 'skipped')!]))
  })

  it('errors every stalled host with a timeout (exit 2), well before the check timeout', () => {
    expect(run.exitCode, run.stdout + run.stderr).toBe(2)
    for (const [name, check] of checks) {
      expect(check.errorKind, `${name}: ${check.message}`).toBe('timeout')
      expect(check.durationMs, name).toBeLessThan(PAUSE_MS + 20_000)
    }
  })

  it('an exec channel open never answered: says the server stopped answering', () => {
    expect(checks.get('exec-open')!.message).toMatch(
      /the server did not answer the opening of an exec channel \(\/bin\/sh -s\) within 3s \(--timeout\): it accepted the connection, then stopped answering/,
    )
  })

  it('a probe that goes silent mid-fact: a timeout within --timeout (the runner times each fact from its start line), or no byte back', () => {
    expect(checks.get('probe-silent')!.message).toMatch(/command "sleep 7431" timed out on the host|the probe got no byte back for 10s/)
  })

  it('a tunnel that never opens, and one that never sends a byte: the request times out via the host', () => {
    for (const name of ['tunnel-open', 'tunnel-silent']) {
      expect(checks.get(name)!.message, name).toMatch(/timed out after 3s via host|did not answer the opening of a direct-tcpip channel/)
    }
  })
})
