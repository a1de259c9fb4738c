// Runs that used to outlive their report (issue 11), over the real sshd: a handshake that
// completes after --connect-timeout gave up on it, and a connect timeout that fires while
// `ssh -G` is still reading ssh_config. Each run must end on its own right after its report,
// with nothing left alive (runCli fails on any handle VERIFY_DEBUG_HANDLES lists).
import { readFileSync } from 'node:fs'
import path from 'node:path'
import { execa } from 'execa'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startFleet, type Fleet } from '../../support/sshd.ts'
import { descendantPids, isAlive, pidsWithCmdline, startTcpProxy, waitFor, type TcpProxy } from '../../support/faults.ts'
import { makeWorkdir, readResult, REPO_ROOT, runCli, type Workdir } from '../../support/workdir.ts'
import { fleetDefaults } from '../../support/fleet-project.ts'
import { startDelayProxy, type DelayProxy } from '../../../bench/delay-proxy.ts'
import { DEBUG_HANDLES_ENV, LIVE_HANDLES_HEADER } from '../../../src/runner/live-handles.ts'

// the bound: the process is gone this soon after its report
const EXIT_BOUND_MS = 2_000
// each SSH round trip through the proxy costs 2 × 100 ms: the handshake takes about 1.1 s
const DELAY_MS = 100

let fleet: Fleet
let work: Workdir
let proxy: DelayProxy
let frozenBastion: TcpProxy

beforeAll(async () => {
  fleet = await startFleet({ hosts: 1, name: 'faults-hangs' })
  proxy = await startDelayProxy({ targetPort: fleet.port, delayMs: DELAY_MS })
  work = makeWorkdir()
  const h = fleet.hosts[0]!
  // a bastion that accepts TCP and then passes no byte
  frozenBastion = await startTcpProxy({ host: h.address, port: fleet.port })
  frozenBastion.freeze()
  work.write(
    'proxy_known_hosts',
    `[${h.address}]:${proxy.port} ${fleet.hostKeyPub}\n[127.0.0.1]:${frozenBastion.port} ${fleet.hostKeyPub}\n`,
  )
  work.write(
    'bastion.ssh_config',
    `Host frozen-bastion
  HostName 127.0.0.1
  Port ${frozenBastion.port}
  User ${fleet.user}
  IdentityFile ${fleet.identityFile}
  UserKnownHostsFile ${path.join(work.dir, 'proxy_known_hosts')}
Host behind-bastion
  HostName ${h.address}
  ProxyJump frozen-bastion
`,
  )
  work.write(
    'hosts.yaml',
    `${fleetDefaults(fleet)}
hosts:
  far: { address: ${h.address}, port: ${proxy.port}, knownHosts: ${path.join(work.dir, 'proxy_known_hosts')} }
  near: { address: ${h.address} }
  behind: { address: behind-bastion }
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
  // a spec that leaves its own timer behind: verify cannot close it, but must not hang on it
  work.write(
    'leaky/timer.spec.ts',
    `
import { describe, it, expect } from 'postdeploy-verify'
describe('leaky spec', () => {
  it('sets a timer and forgets it', async () => { setTimeout(() => {}, 600_000); expect(1).toBe(1) })
})
`,
  )
  // ssh -G runs Match exec for every alias it resolves: this is how long reading ssh_config takes
  work.write('slow-1s.ssh_config', 'Match exec "sleep 1"\n')
  work.write('slow-3.5s.ssh_config', 'Match exec "sleep 3.5"\n')
})

afterAll(async () => {
  await frozenBastion?.close()
  await proxy?.close()
  await fleet?.stop()
  work?.remove()
})

describe('a handshake that completes after --connect-timeout gave up', () => {
  it('is destroyed: the host errors with a timeout and the process exits right after the report', async () => {
    // ssh_config costs 1 s and the handshake about 1.1 s: the 1.5 s connect timeout fires mid-handshake,
    // and ssh2's own timer (started after ssh_config) would have let the handshake finish at about 2.1 s
    const run = await runCli(
      ['--hosts', 'far', '-F', 'slow-1s.ssh_config', '--connect-timeout', '1.5', '--json', 'out-a/r.json', '--junit', 'out-a/r.xml'],
      { cwd: work.dir, timeoutMs: 60_000 },
    )
    expect(run.exitCode, run.stdout + run.stderr).toBe(2)
    const host = readResult(work.dir, 'out-a/r.json').hosts[0]!
    expect(host.error).toMatchObject({ kind: 'timeout' })
    expect(host.error!.message).toMatch(/connect timed out after 1\.5s/)
    expect(run.exitDelayMs, run.stderr).toBeLessThanOrEqual(EXIT_BOUND_MS)
  })
})

describe('a connect timeout while ssh_config is still being read (Match exec "sleep 3.5", --connect-timeout 3)', () => {
  const args = ['--hosts', 'near', '-F', 'slow-3.5s.ssh_config', '--connect-timeout', '3']

  it('says the time went on reading ssh_config, and the process ends right after the report', async () => {
    const run = await runCli([...args, '--json', 'out-b/r.json'], { cwd: work.dir, timeoutMs: 60_000 })
    expect(run.exitCode, run.stdout + run.stderr).toBe(2)
    const host = readResult(work.dir, 'out-b/r.json').hosts[0]!
    expect(host.error).toMatchObject({ kind: 'timeout' })
    expect(host.error!.message).toMatch(/connect timed out after 3s while reading ssh_config \(ssh -G\)/)
    expect(host.error!.message).toMatch(/Match exec/)
    expect(host.error!.message).not.toMatch(/No SSH greeting/)
    expect(run.exitDelayMs, run.stderr).toBeLessThanOrEqual(EXIT_BOUND_MS)
  })

  it('SIGINT while ssh -G runs: "interrupted", exit 2, reports written, no ssh -G left, nothing alive after the report', async () => {
    const cli = execa('node', [path.join(REPO_ROOT, 'bin/verify.mjs'), ...args, '--json', 'out-c/r.json', '--junit', 'out-c/r.xml'], {
      cwd: work.dir,
      env: { NO_COLOR: '1', [DEBUG_HANDLES_ENV]: '1' },
      reject: false,
      stdin: 'ignore',
      timeout: 60_000,
    })
    let exited = false
    void cli.finally(() => {
      exited = true
    })
    // the host's own ssh -G (the up-front config check resolves another name first)
    const isHostResolve = (pid: number) =>
      readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').join(' ').includes(`-- ${fleet.hosts[0]!.address}`)
    const resolving = await waitFor(
      () =>
        exited ||
        descendantPids(cli.pid!).some(pid => {
          try {
            return isHostResolve(pid)
          } catch {
            return false
          }
        }),
      30_000,
    )
    expect(resolving && !exited, "the run reached the host's ssh -G").toBe(true)
    const sshG = pidsWithCmdline(`slow-3.5s.ssh_config -- ${fleet.hosts[0]!.address}`)
    cli.kill('SIGINT')
    const result = await cli
    expect(result.signal, String(result.stderr)).toBeUndefined()
    expect(result.exitCode, String(result.stdout) + String(result.stderr)).toBe(2)
    expect(String(result.stderr)).toContain('SIGINT: stopping')
    expect(String(result.stderr)).not.toContain(LIVE_HANDLES_HEADER)
    const delay = /exited (\d+)ms after the run's last output/.exec(String(result.stderr))
    expect(Number(delay?.[1] ?? Infinity), String(result.stderr)).toBeLessThanOrEqual(EXIT_BOUND_MS)
    const json = readResult(work.dir, 'out-c/r.json')
    expect(json.interrupted).toBe('SIGINT')
    expect(json.hosts[0]!.checks[0]).toMatchObject({ status: 'error', errorKind: 'interrupted' })
    expect(readFileSync(path.join(work.dir, 'out-c/r.xml'), 'utf8')).toContain('interrupted')
    expect(sshG.filter(isAlive), 'ssh -G left running').toEqual([])
  })
})

describe('a connect timeout while a ProxyJump bastion stalls', () => {
  it('names the route, and the bastion connection in progress is destroyed with the run', async () => {
    const run = await runCli(['--hosts', 'behind', '-F', 'bastion.ssh_config', '--connect-timeout', '2', '--json', 'out-d/r.json'], {
      cwd: work.dir,
      timeoutMs: 60_000,
    })
    expect(run.exitCode, run.stdout + run.stderr).toBe(2)
    const host = readResult(work.dir, 'out-d/r.json').hosts[0]!
    expect(host.error).toMatchObject({ kind: 'timeout' })
    expect(host.error!.message).toMatch(/connect timed out after 2s while opening the route \(ProxyCommand or ProxyJump bastion\)/)
    expect(run.exitDelayMs, run.stderr).toBeLessThanOrEqual(EXIT_BOUND_MS)
  })
})

describe('a spec that leaves a timer running', () => {
  it("is named, with where the timer was set, and the process still exits within 2 s of its report with the run's code", async () => {
    const run = await runCli(['--hosts', 'near', '--specs', 'leaky/*.spec.ts'], {
      cwd: work.dir,
      timeoutMs: 60_000,
      allowLiveHandles: true,
    })
    expect(run.exitCode, run.stdout + run.stderr).toBe(0)
    expect(run.stderr).toMatch(
      /still running 1500ms after the report, held by what a spec \(or verify\) left open; exiting:\n {2}resources: Timeout\n {2}timer 600000ms, created at .*leaky\/timer\.spec\.ts:4:/,
    )
    expect(run.exitDelayMs).toBeGreaterThanOrEqual(1_500)
    expect(run.exitDelayMs).toBeLessThanOrEqual(EXIT_BOUND_MS)
  })
})
