// SIGINT / SIGTERM in the middle of a run over the real sshd (plus the local host): the run
// stops at once, the reports still get written with what finished and what did not, every
// connection is closed, nothing is left running here or on the hosts, exit 2.
import { readFileSync } from 'node:fs'
import path from 'node:path'
import { execa } from 'execa'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startFleet, type Fleet } from '../../support/sshd.ts'
import { descendantPids, isAlive, junitSchemaErrors, pidsRunning, waitFor } from '../../support/faults.ts'
import { makeWorkdir, readResult, REPO_ROOT, type Workdir } from '../../support/workdir.ts'

// the run must end this soon after the signal: closing SSH connections waits at most 2 s each, in
// parallel; the rest is slack for a loaded CI machine (verify's own hard limit is 10 s)
const STOP_BOUND_MS = 8_000

let fleet: Fleet
let work: Workdir

beforeAll(async () => {
  fleet = await startFleet({ hosts: 2, name: 'faults-signals' })
  work = makeWorkdir()
  work.write(
    'hosts.yaml',
    `defaults:
  port: ${fleet.port}
  user: ${fleet.user}
  identityFile: ${fleet.identityFile}
  knownHosts: ${fleet.knownHosts}
hosts:
${fleet.hosts.map(h => `  ${h.name}: { address: ${h.address} }`).join('\n')}
groups:
  fleet:
    hosts: [${fleet.hosts.map(h => h.name).join(', ')}]
`,
  )
})

afterAll(async () => {
  await fleet?.stop()
  work?.remove()
})

/** Ports of the SSH connections the fleet's sshd accepted, and of those that have ended. */
function sshdConnections(): { accepted: Set<string>; ended: Set<string> } {
  const log = readFileSync(fleet.logFile, 'utf8')
  const accepted = new Set([...log.matchAll(/Accepted publickey for \S+ from \S+ port (\d+)/g)].map(m => m[1]!))
  const ended = new Set(
    [
      ...log.matchAll(/(?:Disconnected from user \S+|Received disconnect from|Connection closed by|Connection reset by) \S+ port (\d+)/g),
    ].map(m => m[1]!),
  )
  return { accepted, ended }
}

describe.each(['SIGINT', 'SIGTERM'] as const)('%s during a run', signal => {
  // a sleep no other test runs, so /proc tells exactly which processes are ours
  const marker = signal === 'SIGINT' ? '7301' : '7302'
  let exitCode: number | undefined
  let stderr = ''
  let stopMs = 0
  let seen = new Set<number>()
  let acceptedBefore = new Set<string>()

  beforeAll(async () => {
    work.write(
      `specs-${signal}/slow.spec.ts`,
      `
import { describe, it, expect, command } from 'postdeploy-verify'
describe('deploy', () => {
  it('answers at once', async () => { expect((await command('echo ok')).stdout).toBe('ok\\n') })
  it('never ends', async () => { expect((await command('sleep ${marker}')).exitStatus).toBe(0) })
})
`,
    )
    acceptedBefore = sshdConnections().accepted
    const cli = execa(
      'node',
      [
        path.join(REPO_ROOT, 'bin/verify.mjs'),
        '--hosts',
        'fleet,local',
        '--specs',
        `specs-${signal}/*.spec.ts`,
        '--timeout',
        '120',
        '--json',
        `out-${signal}/r.json`,
        '--junit',
        `out-${signal}/r.xml`,
      ],
      {
        cwd: work.dir,
        env: { NO_COLOR: '1' },
        reject: false,
        stdin: 'ignore',
        timeout: 60_000,
      },
    )
    let exited = false
    void cli.finally(() => {
      exited = true
    })
    // every host (two over SSH, one local) is inside its never-ending fact
    const running = await waitFor(() => {
      for (const pid of descendantPids(cli.pid!)) seen.add(pid)
      return exited || pidsRunning(['sleep', marker]).length >= 3
    }, 30_000)
    if (exited || !running) {
      cli.kill('SIGKILL')
      const early = await cli
      throw new Error(
        `the three sleeps never started (${pidsRunning(['sleep', marker])}); verify exited ${early.exitCode}:\n${early.stdout}\n${early.stderr}`,
      )
    }
    for (const pid of descendantPids(cli.pid!)) seen.add(pid)
    const signalled = performance.now()
    cli.kill(signal)
    const result = await cli
    stopMs = performance.now() - signalled
    exitCode = result.exitCode
    stderr = String(result.stderr)
  })

  afterAll(() => {
    // only if the test failed: stop what it left, by pid
    for (const pid of pidsRunning(['sleep', marker])) process.kill(pid, 'SIGKILL')
  })

  it('exits 2 promptly, saying what it does', () => {
    expect(exitCode, stderr).toBe(2)
    expect(stopMs).toBeLessThan(STOP_BOUND_MS)
    expect(stderr).toContain(`verify: ${signal}: stopping; unfinished checks are reported as interrupted`)
  })

  it('writes the JSON report: finished checks as they were, unfinished ones interrupted', () => {
    const result = readResult(work.dir, `out-${signal}/r.json`)
    expect(result.interrupted).toBe(signal)
    expect(result.exitCode).toBe(2)
    expect(result.hosts.map(h => h.host.name)).toEqual(['host-1', 'host-2', 'local'])
    for (const host of result.hosts) {
      expect(host.status).toBe('error')
      expect(host.error).toMatchObject({ kind: 'interrupted', message: `run interrupted by ${signal} before this check finished` })
      expect(host.checks.map(c => [c.path.at(-1), c.status, c.errorKind])).toEqual([
        ['answers at once', 'passed', undefined],
        ['never ends', 'error', 'interrupted'],
      ])
    }
  })

  it('writes a valid JUnit report with the unfinished checks as errors', () => {
    const file = path.join(work.dir, `out-${signal}/r.xml`)
    expect(junitSchemaErrors(file)).toBe('')
    const xml = readFileSync(file, 'utf8')
    expect(xml.match(/<error [^>]*type="interrupted"/g)).toHaveLength(3) // per host: the check (the host's error is in its suite's system-err)
    expect(xml).toContain(`run interrupted by ${signal} before this check finished`)
  })

  it('leaves no process behind, here or on the hosts', async () => {
    expect(seen.size).toBeGreaterThan(0) // the local host's shell and its fact
    const gone = await waitFor(() => [...seen].every(pid => !isAlive(pid)) && pidsRunning(['sleep', marker]).length === 0, 5_000)
    expect(gone, `still running: ${[...seen].filter(isAlive)} / sleeps ${pidsRunning(['sleep', marker])}`).toBe(true)
  })

  it('closed its SSH connections', async () => {
    const closed = await waitFor(() => {
      const { accepted, ended } = sshdConnections()
      const ours = [...accepted].filter(port => !acceptedBefore.has(port))
      return ours.length === 2 && ours.every(port => ended.has(port))
    }, 5_000)
    expect(closed, readFileSync(fleet.logFile, 'utf8').split('\n').slice(-30).join('\n')).toBe(true)
  })
})
