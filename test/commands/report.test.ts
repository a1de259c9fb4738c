// `verify report result.json`: an earlier (or merged) JSON result rendered again, as a user runs it.
import { readFileSync, writeFileSync } from 'node:fs'
import path from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { renderJson } from '../../src/reporters/json.ts'
import { fleetResult } from '../support/fleet-result.ts'
import { junitSchemaErrors } from '../support/faults.ts'
import { makeWorkdir, runCli, type Workdir } from '../support/workdir.ts'

let work: Workdir
beforeAll(() => {
  work = makeWorkdir()
  writeFileSync(path.join(work.dir, 'result.json'), renderJson(fleetResult({ hosts: 30, checks: 12 })))
})
afterAll(() => work?.remove())

describe('verify report', () => {
  it('writes the HTML and JUnit views of a JSON result and exits with its exit code', async () => {
    const run = await runCli(['report', 'result.json', '--html', 'out/report.html', '--junit', 'out/junit.xml'], { cwd: work.dir })
    expect(run.exitCode, run.stderr).toBe(2)
    expect(run.stdout).toMatch(/30 hosts, 360 checks/)
    const html = readFileSync(path.join(work.dir, 'out/report.html'), 'utf8')
    expect(html).toMatch(/^<!doctype html>/)
    expect(html).toContain('<script type="application/json" id="verify-data">')
    // self-contained: nothing is loaded from anywhere
    expect(html).not.toMatch(/<(script|link|img)[^>]+(src|href)=/)
    expect(junitSchemaErrors(path.join(work.dir, 'out/junit.xml'))).toBe('')
  })

  it('refuses a file that is not a verify result (exit 3)', async () => {
    writeFileSync(path.join(work.dir, 'junk.json'), '{"hello": 1}')
    const run = await runCli(['report', 'junk.json', '--html', 'x.html'], { cwd: work.dir })
    expect(run.exitCode).toBe(3)
    expect(run.stderr).toContain('not a verify --json result')
  })
})
