// --wait over a real sshd, during a simulated deploy: verify starts while the hosts still run
// the old release with a busy app; mid-wait each host gets the new release (current switched)
// and its app restarts (down for a moment, counter back to zero); the run goes green.
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import path from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import { afterAll, beforeAll, expect, it } from 'vitest'
import { startFleet, type Fleet } from '../support/sshd.ts'
import { layDeploy, pointCurrent } from '../support/deploy-tree.ts'
import { startRestartableApp, type RestartableApp } from '../support/restartable-app.ts'
import { readResult, runCli, type Workdir } from '../support/workdir.ts'
import { makeFleetProject } from '../support/fleet-project.ts'
import { waitFor } from '../support/faults.ts'

let fleet: Fleet
let apps: RestartableApp[]
let work: Workdir

const NEW_RELEASE = '20261125T120000'
const NEW_REVISION = '9e8d7c6'

const SPEC = `
import { describe, it, expect, release, serverStatus, http } from 'postdeploy-verify'

describe('deploy', ({ vars }) => {
  const root = vars.appsRoot + '/blog'
  const app = 'http://127.0.0.1:' + vars.statusPort
  it('current is the new release', async () => expect(await release(root, { revisionFile: 'REVISION' })).toBeAtExpectedVersion())
  it('the app restarted (few accesses besides ours)', async () => {
    const s = await serverStatus(app + '/server-status?auto', { via: 'host' })
    expect(s.totalAccesses! - s.verifyRequests).toBeLessThan(10)
  })
  it('answers its health check', async () => expect((await http(app + '/health', { via: 'host' })).status).toBe(200))
})
`

const SLOW_SPEC = `
import { describe, it, expect, file } from 'postdeploy-verify'

describe('never ready', ({ vars }) => {
  it('a marker that never appears', { wait: '2s' }, async () => expect(await file(vars.appsRoot + '/never')).toExist())
})
`

beforeAll(async () => {
  fleet = await startFleet({ hosts: 2, name: 'wait' })
  apps = await Promise.all(fleet.hosts.map(() => startRestartableApp(500)))
  for (const h of fleet.hosts) layDeploy(h.root)
  work = makeFleetProject(fleet, { apps, files: { 'specs/deploy.spec.ts': SPEC, 'slow/never.spec.ts': SLOW_SPEC } })
})

afterAll(async () => {
  await Promise.all(apps?.map(a => a.close()) ?? [])
  await fleet?.stop()
  work?.remove()
})

/** What the deploy tool does on one host: unpack the release, switch current, restart the app. */
async function deploy(i: number): Promise<void> {
  const appRoot = path.join(fleet.hosts[i]!.root, 'apps/blog')
  const release = path.join(appRoot, 'releases', NEW_RELEASE)
  mkdirSync(path.join(release, 'public'), { recursive: true })
  writeFileSync(path.join(release, 'REVISION'), `${NEW_REVISION}\n`)
  pointCurrent(appRoot, release)
  await apps[i]!.restart(400)
}

it('waits through a deploy: current switched and app restarted mid-wait, every check goes green, time-to-green reported', async () => {
  const started = performance.now()
  const run = runCli(
    ['--hosts', 'fleet', '--expect-version', NEW_REVISION, '--wait', '30s', '--json', 'wait.json', '--junit', 'wait.xml'],
    { cwd: work.dir },
  )
  // deploy only once verify is checking (its first status request reached the app), whatever the machine's load
  expect(await waitFor(() => apps.every(a => a.accesses > 500), 30_000), 'timed out waiting for verify to start checking').toBe(true)
  // the deploy's own timing is the point: host-1 mid-wait, host-2 well after it
  await sleep(700)
  await deploy(0)
  await sleep(1500)
  await deploy(1)
  const done = await run
  const wall = performance.now() - started
  expect(done.exitCode, done.stdout + done.stderr).toBe(0)
  const json = readResult(work.dir, 'wait.json')
  const byHost = json.hosts.map(h => Object.fromEntries(h.checks.map(c => [c.path.at(-1)!, c])))
  for (const checks of byHost) {
    for (const c of Object.values(checks)) expect(c.status).toBe('passed')
    const version = checks['current is the new release']!
    expect(version.attempts).toBeGreaterThan(1)
    expect(version.timeToGreenMs).toBeGreaterThan(500)
    expect(checks['the app restarted (few accesses besides ours)']!.attempts).toBeGreaterThan(1)
  }
  // host-2 was deployed later, so it went green later
  expect(byHost[1]!['current is the new release']!.timeToGreenMs!).toBeGreaterThan(byHost[0]!['current is the new release']!.timeToGreenMs!)
  expect(done.stdout).toMatch(/current is the new release \S+ +green after \d+\.\ds \(\d+ attempts\)/)
  expect(readFileSync(path.join(work.dir, 'wait.xml'), 'utf8')).toMatch(/green after \d+\.\ds/)
  // the closing note quotes this report
  process.stdout.write(`\n--- time-to-green report (wall ${Math.round(wall)} ms) ---\n${done.stdout}\n`)
}, 60_000)

it('a check with its own wait budget retries without --wait, then fails saying how long it waited', async () => {
  const run = await runCli(['--hosts', fleet.hosts[0]!.name, '--specs', 'slow/*.spec.ts', '--json', 'slow.json'], { cwd: work.dir })
  expect(run.exitCode, run.stdout + run.stderr).toBe(1)
  expect(run.stdout).toMatch(/a marker that never appears \S+ +not green after 2\.\ds \(\d+ attempts\)/)
  const check = readResult(work.dir, 'slow.json').hosts[0]!.checks[0]!
  expect(check.attempts).toBeGreaterThanOrEqual(3)
  expect(check.waitedMs).toBeGreaterThanOrEqual(2000)
})
