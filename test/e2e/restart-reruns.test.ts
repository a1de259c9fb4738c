// Restart checks that stay green when run again and again on a quiet, out-of-rotation host:
// every run (and every --wait retry, and a snapshot) adds its own requests to the app's access
// counter; the request ledger (.verify/http-requests.jsonl) lets later runs discount them, and
// with a deploy time the page's uptime decides instead of the counter. Over the real sshd, the
// status pages tunnelled through each host: host-1 serves Apache ?auto, host-2 Plack's text.
import { existsSync } from 'node:fs'
import path from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import { afterAll, beforeAll, expect, it } from 'vitest'
import { startFleet, type Fleet } from '../support/sshd.ts'
import { startRestartableApp, type RestartableApp } from '../support/restartable-app.ts'
import { readResult, runCli, type Workdir } from '../support/workdir.ts'
import { makeFleetProject } from '../support/fleet-project.ts'
import { waitFor } from '../support/faults.ts'
import type { RunResult } from '../../src/model.ts'

let fleet: Fleet
let apps: RestartableApp[]
let work: Workdir

const MAX_ACCESSES = 5

const SPEC = `
import { describe, it, expect, restart, serverStatus, http } from 'postdeploy-verify'

describe('blog, out of rotation', ({ vars }) => {
  const app = 'http://127.0.0.1:' + vars.statusPort
  it('restarted since the deploy', async () => {
    const facts = await restart({ statusPage: { url: app + '/server-status?auto', via: 'host', maxAccesses: ${MAX_ACCESSES} } })
    expect(facts).toBeRestarted()
    // what decided, when the test says which it expects
    if (vars.decidedBy) expect(facts.statusPage?.decidedBy).toBe(vars.decidedBy)
  })
  it('few accesses besides verify\\'s own', async () => {
    const status = await serverStatus(app + '/server-status?auto', { via: 'host' })
    expect(status.totalAccesses! - status.verifyRequests).toBeLessThan(${MAX_ACCESSES})
  })
  it('answers its health check', async () => expect((await http(app + '/health', { via: 'host' })).status).toBe(200))
})
`

beforeAll(async () => {
  fleet = await startFleet({ hosts: 2, name: 'reruns' })
  apps = [await startRestartableApp(0, 'apache'), await startRestartableApp(0, 'plack')]
  work = makeFleetProject(fleet, { apps, files: { 'specs/restart.spec.ts': SPEC } })
})

afterAll(async () => {
  await Promise.all(apps?.map(a => a.close()) ?? [])
  await fleet?.stop()
  work?.remove()
})

function check(result: RunResult, host: number, title: string) {
  return result.hosts[host]!.checks.find(c => c.path.at(-1) === title)!
}

it('ten consecutive runs without a deploy time (the counter decides) stay green, with a snapshot in between', async () => {
  for (let run = 1; run <= 10; run++) {
    const done = await runCli(['--hosts', 'fleet', '--var', 'decidedBy=counter'], { cwd: work.dir })
    expect(done.exitCode, `run ${run}:\n${done.stdout}${done.stderr}`).toBe(0)
    if (run === 5) {
      const snap = await runCli(['snapshot', '--hosts', 'fleet', '-o', 'before.json'], { cwd: work.dir })
      expect(snap.exitCode, snap.stdout + snap.stderr).toBe(0)
    }
  }
  // 11 runs of 3 requests each: far beyond maxAccesses, all of them verify's own
  for (const app of apps) expect(app.accesses).toBeGreaterThanOrEqual(30)
  expect(existsSync(path.join(work.dir, '.verify/http-requests.jsonl'))).toBe(true)
}, 240_000)

it('with --since the uptime decides: green however busy the counter, red for an app up since before the deploy', async () => {
  const since = new Date(Math.min(...apps.map(a => a.startedAt)) - 5_000).toISOString()
  const green = await runCli(['--hosts', 'fleet', '--since', since, '--var', 'decidedBy=uptime'], { cwd: work.dir })
  expect(green.exitCode, green.stdout + green.stderr).toBe(0)
  // the app's uptime counts whole seconds with 1 s tolerance: a deploy time now must fall after its start (the clock is the point)
  await sleep(2_500)
  const red = await runCli(['--hosts', fleet.hosts[0]!.name, '--since', new Date().toISOString()], { cwd: work.dir })
  expect(red.exitCode, red.stdout + red.stderr).toBe(1)
  expect(red.stdout).toMatch(/has been up \d+s, since \S+, before the deploy began/)
}, 60_000)

it('a --wait retry loop through the restart goes green, with and without a deploy time', async () => {
  for (const since of [true, false]) {
    // the old process: busy, up since before the deploy
    for (const app of apps) app.accesses = 500
    // up since before the deploy, beyond the uptime's 1 s tolerance (the clock is the point)
    await sleep(1_500)
    const args = [
      '--hosts',
      'fleet',
      '--wait',
      '30s',
      '--json',
      'wait.json',
      '--var',
      `decidedBy=${since ? 'uptime' : 'counter'}`,
      ...(since ? ['--since', new Date().toISOString()] : []),
    ]
    const started = apps.map(a => a.accesses)
    const run = runCli(args, { cwd: work.dir })
    // restart once verify is checking, so its first attempts fail and are retried
    expect(await waitFor(() => apps.every((a, i) => a.accesses > started[i]!), 30_000), 'verify never reached the apps').toBe(true)
    // a few attempts against the old process before the restart: that timing is the point
    await sleep(1_500)
    for (const app of apps) await app.restart(300)
    const done = await run
    expect(done.exitCode, `${since ? 'with' : 'without'} --since:\n${done.stdout}${done.stderr}`).toBe(0)
    const result = readResult(work.dir, 'wait.json')
    for (const host of [0, 1]) {
      const restarted = check(result, host, 'restarted since the deploy')
      expect(restarted.status).toBe('passed')
      expect(restarted.attempts).toBeGreaterThan(1)
    }
  }
  // and the runs after the wait loops stay green too
  const after = await runCli(['--hosts', 'fleet'], { cwd: work.dir })
  expect(after.exitCode, after.stdout + after.stderr).toBe(0)
}, 180_000)
