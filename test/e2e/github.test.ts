// A failing run under GitHub Actions, as a workflow step runs it: annotations on the failing
// spec line, the job summary appended to $GITHUB_STEP_SUMMARY, the JSON result alone on stdout
// (`--json -`), the console report on stderr, and JUnit + HTML files besides.
import { readFileSync } from 'node:fs'
import path from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { RunResult } from '../../src/model.ts'
import { junitSchemaErrors } from '../support/faults.ts'
import { makeWorkdir, runCli, type CliRun, type Workdir } from '../support/workdir.ts'

let work: Workdir
let run: CliRun
const SPEC = `import { describe, it, expect, file } from 'postdeploy-verify'
describe('release', () => {
  it('has its marker file', async () => {
    expect((await file('/nonexistent/verify-marker')).exists).toBe(true)
  })
  it('has /tmp', async () => {
    expect((await file('/tmp')).isDirectory).toBe(true)
  })
})
`

beforeAll(async () => {
  work = makeWorkdir({ 'hosts.yaml': 'hosts: {}\n', 'specs/release.spec.ts': SPEC })
  run = await runCli(['--hosts', 'local', '--json', '-', '--junit', 'out/junit.xml', '--html', 'out/report.html'], {
    cwd: work.dir,
    env: { GITHUB_ACTIONS: 'true', GITHUB_STEP_SUMMARY: path.join(work.dir, 'summary.md') },
  })
}, 120_000)
afterAll(() => work?.remove())

describe('verify under GitHub Actions', () => {
  it('exits 1 with the JSON result alone on stdout', () => {
    expect(run.exitCode, run.stderr).toBe(1)
    const result = JSON.parse(run.stdout) as RunResult
    expect(result.summary).toMatchObject({ checks: 2, passed: 1, failed: 1 })
  })

  it('annotates the failing check at its spec line, with the console report on stderr', () => {
    expect(run.stderr).toMatch(/FAIL \(exit 1\)/)
    expect(run.stderr).toMatch(
      /^::error file=specs\/release\.spec\.ts,line=\d+(,col=\d+)?,title=verify failed%3A release › has its marker file::expected true, actual false%0Aon 1\/1 host: local$/m,
    )
  })

  it('appends the job summary to $GITHUB_STEP_SUMMARY', () => {
    const md = readFileSync(path.join(work.dir, 'summary.md'), 'utf8')
    expect(md).toMatch(
      /^## ❌ verify: FAIL \(exit 1\)\n\n1 hosts: 0 passed, 1 failed, 0 could not be verified · 2 checks: 1 passed, 1 failed, 0 errors, 0 skipped/,
    )
    expect(md).toContain('| failed: release › has its marker file | 1: local | `specs/release.spec.ts:')
    expect(md).toMatch(/\| local \| ❌ failed \| 1 \| 0 \| 1 \| 0 \| \d+\.\ds \|/)
  })

  it('writes the JUnit and HTML files too', () => {
    expect(junitSchemaErrors(path.join(work.dir, 'out/junit.xml'))).toBe('')
    expect(readFileSync(path.join(work.dir, 'out/report.html'), 'utf8')).toContain('id="verify-data"')
  })

  it('refuses two reports on stdout (exit 3)', async () => {
    const twice = await runCli(['--hosts', 'local', '--json', '-', '--html', '-'], { cwd: work.dir })
    expect(twice.exitCode).toBe(3)
    expect(twice.stderr).toContain('only one report can go to stdout (-): --json -, --html -')
    expect(twice.stdout).toBe('')
  })
})
