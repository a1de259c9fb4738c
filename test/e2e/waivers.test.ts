// Expiring waivers end to end, as an operator runs them on `--hosts local`: a known failure waived
// until a date passes the gate (JUnit skipped, JSON `waived`) before that date and fails it after,
// saying the waiver expired; `verify check` names the stale and broken entries at their lines.
import { readFileSync } from 'node:fs'
import path from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { makeWorkdir, readResult, runCli, type Workdir } from '../support/workdir.ts'

let work: Workdir

const SPEC = `import { describe, it, expect, file } from 'postdeploy-verify'
describe('app', () => {
  it('has its config', async () => { expect(await file('/etc/verify-e2e-no-such.conf')).toExist() })
  it('has passwd', async () => { expect(await file('/etc/passwd')).toExist() })
})
`
const WAIVERS = `waivers:
  - check: "app › has its config"
    hosts: [local]
    justification: "config moves to /etc/app in 2.4 (OPS-123)"
    expires: 2026-12-31
  - check: "app › retired*"
    justification: gone with 2.3
    expires: 2027-06-30
`

beforeAll(() => {
  work = makeWorkdir({ 'specs/app.spec.ts': SPEC, 'waivers.yaml': WAIVERS })
})
afterAll(() => work?.remove())

describe('waivers', () => {
  it('before its expiry a waived failure passes the gate: console, JUnit skipped, JSON waived; an unmatched waiver warns', async () => {
    const run = await runCli(['--hosts', 'local', '--junit', 'before.xml', '--json', 'before.json'], {
      cwd: work.dir,
      env: { VERIFY_NOW: '2026-12-31T23:00:00Z' },
    })
    expect(run.exitCode, run.stdout + run.stderr).toBe(0)
    expect(run.stdout).toContain('~ app › has its config')
    expect(run.stdout).toContain('waived: config moves to /etc/app in 2.4 (OPS-123) (until 2026-12-31, waivers.yaml:2)')
    expect(run.stdout).toContain('warning: waivers.yaml:6: waiver for "app › retired*" matches no check of this run')
    expect(run.stdout).toMatch(/1 passed, 0 failed, 1 waived, 0 errors/)
    expect(readFileSync(path.join(work.dir, 'before.xml'), 'utf8')).toContain(
      '<skipped message="waived: config moves to /etc/app in 2.4 (OPS-123) (until 2026-12-31)"/>',
    )
    const result = readResult(work.dir, 'before.json')
    expect(result.summary).toMatchObject({ failed: 0, waived: 1, passed: 1 })
    expect(result.hosts[0]!.checks[0]).toMatchObject({
      status: 'waived',
      waiver: { justification: 'config moves to /etc/app in 2.4 (OPS-123)', expires: '2026-12-31', source: 'waivers.yaml:2' },
    })
  })

  it('after its expiry the failure fails the gate and says the waiver expired', async () => {
    const run = await runCli(['--hosts', 'local', '--json', 'after.json'], { cwd: work.dir, env: { VERIFY_NOW: '2027-01-01T00:00:00Z' } })
    expect(run.exitCode, run.stdout + run.stderr).toBe(1)
    expect(run.stdout).toContain('✗ app › has its config')
    expect(run.stdout).toContain('waiver expired on 2026-12-31: config moves to /etc/app in 2.4 (OPS-123)')
    expect(readResult(work.dir, 'after.json').hosts[0]!.checks[0]).toMatchObject({ status: 'failed', waiver: { expired: true } })
  })

  it('verify check names an unknown check, an expired waiver and a missing justification at their lines', async () => {
    work.write(
      'stale.yaml',
      `waivers:
  - check: "app › has its config"
    justification: old
    expires: 2026-01-31
  - check: "app › nope"
    justification: typo
    expires: 2027-01-31
  - check: "app › has passwd"
    expires: 2027-01-31
`,
    )
    const run = await runCli(['check', '--hosts', 'local', '--waivers', 'stale.yaml'], {
      cwd: work.dir,
      env: { VERIFY_NOW: '2026-12-07T12:00:00Z' },
    })
    expect(run.exitCode, run.stdout + run.stderr).toBe(3)
    expect(run.stderr).toContain('stale.yaml:8: waiver without justification')
    expect(run.stderr).toContain('stale.yaml:2: waiver for "app › has its config" expired on 2026-01-31: old')
    expect(run.stderr).toContain('stale.yaml:5: waiver for "app › nope": no such check in the specs')
  })
})
