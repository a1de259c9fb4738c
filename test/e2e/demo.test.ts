// The README's first command: `verify demo` lays out a sample deploy, verifies it with the
// example specs through the real pipeline, passes, and writes JUnit.
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { afterAll, expect, it } from 'vitest'
import { runCli } from '../support/workdir.ts'

const cwd = mkdtempSync(path.join(os.tmpdir(), 'verify-demo-test-'))
afterAll(() => rmSync(cwd, { recursive: true, force: true }))

it('verify demo passes from any directory and writes JUnit', async () => {
  const run = await runCli(['demo', '--junit', 'demo.xml', '--json', 'demo.json'], { cwd })
  expect(run.exitCode, run.stdout + run.stderr).toBe(0)
  expect(run.stdout).toMatch(/PASS \(exit 0\)/)
  const xml = readFileSync(path.join(cwd, 'demo.xml'), 'utf8')
  expect(xml).toMatch(/<testsuite name="local"/)
  expect(xml).not.toMatch(/<failure|<error/)
  const result = JSON.parse(readFileSync(path.join(cwd, 'demo.json'), 'utf8'))
  expect(result.summary.passed).toBeGreaterThanOrEqual(7)
  // the sample deploy is removed afterwards
  const tree = /laid out in (\S+)/.exec(run.stdout)?.[1]
  expect(tree && existsSync(tree)).toBe(false)
})
