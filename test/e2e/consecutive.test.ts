// --consecutive on a flapping check, through the CLI on the local target: the check reads a
// counter its own command bumps, so its outcomes are pass, fail, pass, pass, pass: green only at
// the fifth attempt, and the report shows the timeline.
import { afterAll, beforeAll, expect, it } from 'vitest'
import { makeWorkdir, readResult, runCli, type Workdir } from '../support/workdir.ts'

let work: Workdir

const SPEC = `
import { describe, it, expect, command } from 'postdeploy-verify'

describe('canary', () => {
  it('answers steadily', async () => {
    // attempt n (1, 2, …) fails only when n is 2: a flap right after a first good answer
    const r = await command('n=$(( $(cat counter 2>/dev/null || echo 0) + 1 )); echo $n > counter; echo $n')
    expect(Number(r.stdout.trim())).not.toBe(2)
  })
})
`

const STEADY = `
import { describe, it, expect, command } from 'postdeploy-verify'

describe('steady', () => {
  it('always answers', async () => expect((await command('echo ok')).stdout.trim()).toBe('ok'))
})
`

beforeAll(() => {
  work = makeWorkdir({ 'specs/canary.spec.ts': SPEC, 'steady/steady.spec.ts': STEADY })
})

afterAll(() => work?.remove())

it('--consecutive 3 is green only after three passes in a row; the console and JSON show every attempt', async () => {
  const run = await runCli(['--hosts', 'local', '--wait', '30s', '--consecutive', '3', '--interval', '200ms', '--json', 'result.json'], {
    cwd: work.dir,
  })
  expect(run.exitCode, run.stdout + run.stderr).toBe(0)
  const result = readResult(work.dir, 'result.json')
  const check = result.hosts[0]!.checks[0]!
  expect(check).toMatchObject({ status: 'passed', attempts: 5 })
  expect(check.attemptLog!.map(a => a.status)).toEqual(['passed', 'failed', 'passed', 'passed', 'passed'])
  expect(check.timeToGreenMs).toBeGreaterThanOrEqual(4 * 200)
  expect(run.stdout).toMatch(/attempts: ✓ 0\.0s · ✗ \d+\.\ds · ✓ \d+\.\ds · ✓ \d+\.\ds · ✓ \d+\.\ds/)
  expect(run.stdout).toMatch(/last not passing \(\d+\.\ds\): expect\(received\)\.not\.toBe\(expected\)/)
})

it('without enough attempts before --wait runs out, the check fails and says how far it got', async () => {
  // a check that always passes, but the budget ends before its third attempt (the pause is cut to the budget: two attempts)
  const run = await runCli(
    ['--hosts', 'local', '--specs', 'steady/*.spec.ts', '--wait', '500ms', '--consecutive', '3', '--interval', '2s'],
    { cwd: work.dir },
  )
  expect(run.exitCode, run.stdout + run.stderr).toBe(1)
  expect(run.stdout).toMatch(/passed [12] of the 3 consecutive attempts needed \(--consecutive 3\)/)
})
