// outOfRotation() against a real HTTP status app: while a load loop sends it requests (the host
// is still in the load balancer) the guard fails and says so; once the loop stops it passes,
// verify's own requests to the page not counted as traffic.
import { afterAll, beforeAll, expect, it } from 'vitest'
import { startRestartableApp, type RestartableApp } from '../support/restartable-app.ts'
import { makeWorkdir, runCli, type Workdir } from '../support/workdir.ts'

let app: RestartableApp
let work: Workdir

beforeAll(async () => {
  app = await startRestartableApp(0)
  work = makeWorkdir({
    'specs/rotation.spec.ts': `
import { describe, it, expect, outOfRotation, serverStatus } from 'postdeploy-verify'

describe('app', () => {
  const page = 'http://127.0.0.1:${app.port}/server-status?auto'
  it('is out of rotation', async () => expect(await outOfRotation(page, { window: '1s' })).toBeOutOfRotation())
  // another check reading the same page meanwhile: verify's own requests are not traffic
  it('has a status page', async () => expect((await serverStatus(page)).format).toBe('apache'))
})
`,
  })
})

afterAll(async () => {
  await app?.close()
  work?.remove()
})

it('fails with "still receiving traffic" while requests arrive, and passes when they stop', async () => {
  const loop = setInterval(
    () =>
      void fetch(`http://127.0.0.1:${app.port}/health`).then(
        r => r.arrayBuffer(),
        () => undefined,
      ),
    50,
  )
  let busy
  try {
    busy = await runCli(['--hosts', 'local'], { cwd: work.dir })
  } finally {
    clearInterval(loop)
  }
  expect(busy.exitCode, busy.stdout + busy.stderr).toBe(1)
  expect(busy.stdout).toMatch(
    /still receiving traffic: \d+ requests in 1s \(besides verify's own \d+\), is the host out of the load balancer\?/,
  )

  await untilQuiet(app) // the loop's last requests land (late under load)
  const quiet = await runCli(['--hosts', 'local'], { cwd: work.dir })
  expect(quiet.exitCode, quiet.stdout + quiet.stderr).toBe(0)
})

/** Until the app's counter has not moved for half a second. */
async function untilQuiet(target: RestartableApp): Promise<void> {
  for (let last = -1; last !== target.accesses;) {
    last = target.accesses
    await new Promise(resolve => setTimeout(resolve, 500))
  }
}
