// Hosts that fail after connecting, all in one run over the real sshd: a check whose command
// never ends, a host killed mid-run (its connection reset), a host frozen mid-run (no byte
// passes any more). Each errors on its own host only; the healthy hosts report; the run ends
// within its time bound.
import { setTimeout as sleep } from 'node:timers/promises'
import path from 'node:path'
import { execa } from 'execa'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startFleet, type Fleet } from '../../support/sshd.ts'
import { pidsRunning, startTcpProxy, waitFor, type TcpProxy } from '../../support/faults.ts'
import { makeWorkdir, readResult, REPO_ROOT, type Workdir } from '../../support/workdir.ts'
import type { HostResult } from '../../../src/model.ts'

const FACT_TIMEOUT_S = 3
const CHECK_TIMEOUT_S = 6
// the slowest fault, the frozen host: its check deadline, then 2 s to give up closing; plus slack for a busy CI box
const RUN_BOUND_MS = (CHECK_TIMEOUT_S + 2) * 1000 + 5_000
// the whole process, with node, tsx and spec loading on a loaded 2-core machine: this catches a hang, not a slow start
const PROCESS_BOUND_MS = 60_000

let fleet: Fleet
let work: Workdir
let killed: TcpProxy
let frozen: TcpProxy

beforeAll(async () => {
  fleet = await startFleet({ hosts: 4, name: 'faults-runtime' })
  work = makeWorkdir()
  const [h1, h2, h3, h4] = fleet.hosts
  killed = await startTcpProxy({ host: h4!.address, port: fleet.port })
  frozen = await startTcpProxy({ host: h4!.address, port: fleet.port })
  work.write('proxy_known_hosts', [killed, frozen].map(p => `[127.0.0.1]:${p.port} ${fleet.hostKeyPub}\n`).join(''))
  const viaProxy = (p: TcpProxy, slow: string) =>
    `{ address: 127.0.0.1, port: ${p.port}, knownHosts: ${path.join(work.dir, 'proxy_known_hosts')}, vars: { slow: '${slow}' } }`
  work.write(
    'hosts.yaml',
    `defaults:
  port: ${fleet.port}
  user: ${fleet.user}
  identityFile: ${fleet.identityFile}
  knownHosts: ${fleet.knownHosts}
vars:
  slow: '2'
hosts:
  healthy-1: { address: ${h1!.address} }
  healthy-2: { address: ${h2!.address} }
  hung-command: { address: ${h3!.address}, vars: { hang: true } }
  killed-mid-run: ${viaProxy(killed, '5.01')}
  frozen-mid-run: ${viaProxy(frozen, '5.02')}
groups:
  all:
    hosts: [healthy-1, healthy-2, hung-command, killed-mid-run, frozen-mid-run]
`,
  )
  work.write(
    'specs/runtime.spec.ts',
    `
import { describe, it, expect, command } from 'postdeploy-verify'
describe('runtime', ({ vars }) => {
  it('answers at once', async () => { expect((await command('echo ok')).stdout).toBe('ok\\n') })
  it('takes a while', async () => { expect((await command('sleep ' + vars.slow + '; echo done')).stdout).toBe('done\\n') })
  if (vars.hang) it('never ends', async () => { expect((await command('sleep 7401')).exitStatus).toBe(0) })
})
`,
  )
})

afterAll(async () => {
  await killed?.close()
  await frozen?.close()
  for (const pid of [...pidsRunning(['sleep', '5.01']), ...pidsRunning(['sleep', '5.02']), ...pidsRunning(['sleep', '7401'])])
    process.kill(pid, 'SIGKILL')
  await fleet?.stop()
  work?.remove()
})

describe('faults after connecting, one run', () => {
  let exitCode: number | undefined
  let stdout = ''
  let runMs = 0
  let processMs = 0
  let hosts: Map<string, HostResult>

  beforeAll(async () => {
    const started = performance.now()
    const cli = execa(
      'node',
      [
        path.join(REPO_ROOT, 'bin/verify.mjs'),
        '--hosts',
        'all',
        '--timeout',
        String(FACT_TIMEOUT_S),
        '--check-timeout',
        String(CHECK_TIMEOUT_S),
        '--json',
        'out/r.json',
      ],
      {
        cwd: work.dir,
        env: { NO_COLOR: '1' },
        reject: false,
        stdin: 'ignore',
        timeout: 90_000,
      },
    )
    // both proxied hosts are inside their slow command: now one dies and the other freezes
    const midRun = await waitFor(() => pidsRunning(['sleep', '5.01']).length > 0 && pidsRunning(['sleep', '5.02']).length > 0, 30_000)
    expect(midRun, 'the proxied hosts never reached their slow command').toBe(true)
    // The first check's frame left the host before the slow command started, but it may still be
    // in flight (host -> proxy -> client, or unread in the client's socket, which a reset discards):
    // give it time to arrive, well inside the 5 s the slow command takes.
    await sleep(1500)
    killed.kill()
    frozen.freeze()
    const result = await cli
    processMs = performance.now() - started
    exitCode = result.exitCode
    stdout = String(result.stdout)
    if (exitCode !== 2) console.error(stdout, String(result.stderr))
    const json = readResult(work.dir, 'out/r.json')
    runMs = json.durationMs // from the first connect to the last host's end
    hosts = new Map(json.hosts.map(h => [h.host.name, h]))
  })

  const outcomes = (name: string) => hosts.get(name)!.checks.map(c => [c.path.at(-1), c.status, c.errorKind])

  it('the run ends within its bound, exit 2', () => {
    expect(exitCode, stdout).toBe(2)
    expect(runMs).toBeLessThan(RUN_BOUND_MS)
    expect(processMs).toBeLessThan(PROCESS_BOUND_MS)
  })

  it('the healthy hosts complete and report', () => {
    for (const name of ['healthy-1', 'healthy-2']) {
      expect(hosts.get(name)!.status).toBe('verified')
      expect(outcomes(name)).toEqual([
        ['answers at once', 'passed', undefined],
        ['takes a while', 'passed', undefined],
      ])
    }
  })

  it("a command that never ends: that check times out on the host; the host's other checks pass", () => {
    expect(hosts.get('hung-command')!.status).toBe('verified')
    expect(outcomes('hung-command')).toEqual([
      ['answers at once', 'passed', undefined],
      ['takes a while', 'passed', undefined],
      ['never ends', 'error', 'timeout'],
    ])
    expect(hosts.get('hung-command')!.checks[2]!.message).toBe('command "sleep 7401" timed out on the host')
  })

  it('a host killed mid-run: a lost connection for that host; what finished before still counts', () => {
    const host = hosts.get('killed-mid-run')!
    expect(host.status).toBe('error')
    expect(host.error!.kind).toBe('unreachable')
    expect(host.error!.message).toMatch(/^verifytest@127\.0\.0\.1:\d+: connection lost/)
    expect(outcomes('killed-mid-run')).toEqual([
      ['answers at once', 'passed', undefined],
      ['takes a while', 'error', 'unreachable'],
    ])
  })

  it('a host frozen mid-run: its unfinished check times out at the check deadline', () => {
    expect(outcomes('frozen-mid-run')).toEqual([
      ['answers at once', 'passed', undefined],
      ['takes a while', 'error', 'timeout'],
    ])
    expect(hosts.get('frozen-mid-run')!.checks[1]!.message).toBe(`check did not finish within ${CHECK_TIMEOUT_S}s`)
  })

  it('the console names each host with its fault', () => {
    expect(stdout).toMatch(/hung-command[\s\S]*never ends[\s\S]*timeout: command "sleep 7401" timed out on the host/)
    expect(stdout).toMatch(/killed-mid-run[^\n]*ERROR[\s\S]*unreachable: verifytest@127\.0\.0\.1:\d+: connection lost/)
    expect(stdout).toMatch(/frozen-mid-run[\s\S]*takes a while[\s\S]*timeout: check did not finish within 6s/)
  })
})
