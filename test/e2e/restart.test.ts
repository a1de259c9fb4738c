// restart() over a real sshd with --since: both signals, per host. host-1 restarted properly;
// host-2's workers restarted but its app did not (up since before the deploy, the old master still serves);
// host-3's app restarted but one worker is from before the deploy.
import { spawn, type ChildProcess } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { setTimeout as sleep } from 'node:timers/promises'
import { afterAll, beforeAll, expect, it } from 'vitest'
import { startFleet, type Fleet } from '../support/sshd.ts'
import { startRestartableApp, type RestartableApp } from '../support/restartable-app.ts'
import { readResult, runCli, type Workdir } from '../support/workdir.ts'
import { makeFleetProject } from '../support/fleet-project.ts'
import { killTree, untilExited, untilRunning } from '../support/faults.ts'

let fleet: Fleet
let apps: RestartableApp[]
let work: Workdir
const children: ChildProcess[] = []
const NONCE = randomBytes(4).toString('hex')

const SPEC = `
import { describe, it, expect, restart } from 'postdeploy-verify'

describe('blog', ({ host, vars }) => {
  it('restarted since the deploy', async () => {
    const facts = await restart({
      processes: { args: 'verify-e2e-worker-${NONCE}-' + host.name + ' ' },
      statusPage: { url: 'http://127.0.0.1:' + vars.statusPort + '/server-status?auto', via: 'host', maxAccesses: 10 },
    })
    expect(facts).toBeRestarted()
  })
})
`

/** Two workers of the host's app: `sh -c … <tag>` carries the tag in its command line. */
function startWorker(host: string): ChildProcess {
  // the trailing space in the spec's pattern keeps host-1 from matching host-10
  const child = spawn('sh', ['-c', 'sleep 600; :', `verify-e2e-worker-${NONCE}-${host}`, 'x'], { stdio: 'ignore' })
  children.push(child)
  return child
}

beforeAll(async () => {
  fleet = await startFleet({ hosts: 3, name: 'restart' })
  apps = await Promise.all(fleet.hosts.map(() => startRestartableApp(500)))
  work = makeFleetProject(fleet, { apps, files: { 'specs/restart.spec.ts': SPEC } })
})

afterAll(async () => {
  for (const c of children) killTree(c)
  await Promise.all(apps?.map(a => a.close()) ?? [])
  await fleet?.stop()
  work?.remove()
})

it("passes only where every worker started after --since and the status counter dropped, discounting verify's own requests", async () => {
  const old = fleet.hosts.map(h => [startWorker(h.name), startWorker(h.name)])
  // the apps' uptime counts whole seconds and a second of tolerance applies: start them well before
  // the deploy (the clock is the point: fixed waits)
  await sleep(3000)
  const since = new Date()
  await sleep(1200)
  // the deploy: host-1 all restarted; host-2 workers only; host-3 app and one worker
  const killed = [...old[0]!, ...old[1]!, old[2]![0]!]
  for (const w of killed) killTree(w)
  const fresh = [0, 0, 1, 1, 2].map(h => startWorker(fleet.hosts[h]!.name))
  await apps[0]!.restart(100)
  await apps[2]!.restart(100)
  // the old workers are gone and the new ones run under their tag
  for (const w of killed) await untilExited(w.pid)
  for (const w of fresh) await untilRunning(w.pid, w.spawnargs)

  const run = await runCli(['--hosts', 'fleet', '--since', since.toISOString(), '--json', 'restart.json'], { cwd: work.dir })
  expect(run.exitCode, run.stdout + run.stderr).toBe(1)
  const json = readResult(work.dir, 'restart.json')
  const [h1, h2, h3] = json.hosts.map(h => h.checks[0]!)
  expect(h1!.status).toBe('passed')
  expect(h2!.status).toBe('failed')
  // with --since the page's uptime decides: host-2's app has been up since before the deploy
  expect(h2!.message).toMatch(/server-status\?auto has been up \d+s, since \S+, before the deploy began \(\S+\): the app was not restarted/)
  expect(h2!.message).not.toMatch(/started before the deploy/)
  expect(h3!.status).toBe('failed')
  expect(h3!.message).toMatch(
    new RegExp(
      `1 of 2 processes matching args "verify-e2e-worker-${NONCE}-host-3 " started before the deploy \\(.*host time, clock offset [+−]\\d+\\.\\ds vs the runner\\): pid ${old[2]![1]!.pid} \\(sh\\)`,
    ),
  )
  expect(h3!.message).not.toMatch(/accesses|has been up/)
  // the report says how many requests verify made to each host's app
  expect(json.hosts.map(h => h.httpRequests)).toEqual([1, 1, 1])
  expect(json.hosts.every(h => h.execChannels === 1)).toBe(true)
})

it('without --since the process half cannot pass', async () => {
  const run = await runCli(['--hosts', fleet.hosts[0]!.name], { cwd: work.dir })
  expect(run.exitCode).toBe(1)
  expect(run.stdout).toMatch(/no deploy start time to compare with: pass --since/)
})
