// `verify serve` as a rollout controller meets it: a real sshd fleet, the CLI's serve in its own
// process, and an undici client playing Argo Rollouts' Web metric, polling the canary's gate while
// a deploy switches `current`: 503 while the old release is live, 200 once the new one is.
import path from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { execa, type ResultPromise } from 'execa'
import { request } from 'undici'
import { startFleet, type Fleet } from '../support/sshd.ts'
import { layDeploy, pointCurrent, RELEASES } from '../support/deploy-tree.ts'
import { makeFleetProject } from '../support/fleet-project.ts'
import { waitFor } from '../support/faults.ts'
import { REPO_ROOT, runCli, type Workdir } from '../support/workdir.ts'

let fleet: Fleet
let work: Workdir
let serve: ResultPromise | undefined
const started: ResultPromise[] = []
let serveLog = ''

const SPEC = `
import { describe, it, expect, release } from 'postdeploy-verify'
describe('blog', ({ vars }) => {
  it('current is the new release', async () => expect(await release(vars.appsRoot + '/blog')).toBeAtExpectedVersion())
})
`

beforeAll(async () => {
  fleet = await startFleet({ hosts: 2, name: 'serve' })
  for (const h of fleet.hosts) layDeploy(h.root)
  work = makeFleetProject(fleet, { groups: { canary: [0], stable: [1] }, files: { 'specs/blog.spec.ts': SPEC } })
})

afterAll(async () => {
  for (const child of started) {
    if (child.pid && child.exitCode === null) process.kill(child.pid, 'SIGTERM')
    await child.catch(() => undefined)
  }
  await fleet?.stop()
  work?.remove()
})

/** Starts `verify serve` and resolves with its URL once it listens. */
async function startServe(args: string[], env: Record<string, string> = {}): Promise<string> {
  serve = execa('node', [path.join(REPO_ROOT, 'bin/verify.mjs'), 'serve', ...args], {
    cwd: work.dir,
    env: { NO_COLOR: '1', ...env },
    reject: false,
  })
  started.push(serve)
  serve.stderr!.on('data', (chunk: Buffer) => {
    serveLog += chunk.toString()
  })
  return new Promise((resolve, reject) => {
    let out = ''
    serve!.stdout!.on('data', (chunk: Buffer) => {
      out += chunk.toString()
      const url = /listening on (http:\/\/\S+)/.exec(out)?.[1]
      if (url) resolve(url)
    })
    void serve!.then(r => reject(new Error(`serve exited ${r.exitCode}: ${out}${serveLog}`)))
  })
}

describe('verify serve', () => {
  it('refuses a non-loopback bind without a token (exit 3)', async () => {
    const run = await runCli(['serve', '--bind', '0.0.0.0', '--port', '0'], { cwd: work.dir })
    expect(run.exitCode).toBe(3)
    expect(run.stderr).toContain('binding beyond loopback needs a bearer token: set VERIFY_SERVE_TOKEN')
  })

  it('an Argo-style poller sees 503 during the deploy and 200 once current switches to the new release', async () => {
    const appRoot = path.join(fleet.hosts[0]!.root, 'apps/blog')
    // mid-deploy: the canary still runs the old release
    pointCurrent(appRoot, path.join(appRoot, 'releases', RELEASES[0]!))
    const url = await startServe(['--port', '0', '--cache', '0', '--expect-version', RELEASES[1]!])
    const polls: Array<{ status: number; verdict: string; failed: number }> = []
    for (let i = 0; i < 20; i++) {
      const res = await request(`${url}/v1/gate/canary`)
      const body = (await res.body.json()) as { verdict: string; summary: { failed: number } }
      // what Argo's jsonPath reads: {$.verdict}, {$.summary.failed}
      polls.push({ status: res.statusCode, verdict: body.verdict, failed: body.summary.failed })
      if (res.statusCode === 200) break
      // the deploy finishes after the second failed poll
      if (polls.length === 2) pointCurrent(appRoot, path.join(appRoot, 'releases', RELEASES[1]!))
      await new Promise(r => setTimeout(r, 500)) // the poller's interval: the point, not a wait for something
    }
    console.log(`polls of /v1/gate/canary: ${polls.map(p => `${p.status} ${p.verdict} failed=${p.failed}`).join(' → ')}`)
    expect(polls).toEqual([
      { status: 503, verdict: 'fail', failed: 1 },
      { status: 503, verdict: 'fail', failed: 1 },
      { status: 200, verdict: 'pass', failed: 0 },
    ])
    // ad-hoc addresses and unknown groups are refused; every request is in the log
    expect((await request(`${url}/v1/gate/${fleet.hosts[0]!.address}`)).statusCode).toBe(404)
    expect((await request(`${url}/v1/gate/local`)).statusCode).toBe(404)
    // the log line follows the answer: give the pipe a moment
    const logLines = () => serveLog.split('\n').filter(l => l.startsWith('{'))
    await waitFor(() => logLines().length >= 5, 5_000)
    const log = logLines().map(l => JSON.parse(l) as Record<string, unknown>)
    console.log(`serve's request log:\n${logLines().join('\n')}`)
    expect(log.map(l => l.status)).toEqual([503, 503, 200, 404, 404])
    expect(log[2]).toMatchObject({ remote: '127.0.0.1', selection: { names: ['canary'] }, verdict: 'pass', exitCode: 0 })
  })

  it('beyond loopback with VERIFY_SERVE_TOKEN: no token or a wrong one is 401, the right one runs the gate', async () => {
    serveLog = ''
    const url = (
      await startServe(['--bind', '0.0.0.0', '--port', '0', '--expect-version', RELEASES[1]!], { VERIFY_SERVE_TOKEN: 'e2e-token-9f8e' })
    ).replace('0.0.0.0', '127.0.0.1')
    expect((await request(`${url}/v1/gate/stable`)).statusCode).toBe(401)
    expect((await request(`${url}/v1/gate/stable`, { headers: { authorization: 'Bearer nope' } })).statusCode).toBe(401)
    const ok = await request(`${url}/v1/gate/stable`, { headers: { authorization: 'Bearer e2e-token-9f8e' } })
    expect(ok.statusCode).toBe(200)
    expect(((await ok.body.json()) as { verdict: string }).verdict).toBe('pass')
    await waitFor(() => serveLog.includes('"status":200'), 5_000)
    expect(serveLog).not.toContain('e2e-token-9f8e')
    expect(serveLog).toMatch(/"token":"sha256:[0-9a-f]{8}".*"status":200/)
  })
})
