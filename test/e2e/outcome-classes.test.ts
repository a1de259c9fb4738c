// The three outcomes a pipeline acts on differently, each through the real CLI: a broken deploy
// fails (exit 1: stop the rollout), a bug in the spec is a spec error with its file:line (exit 3:
// fix the job, never retried as a flaky host), and only a host that cannot be verified is an
// error (exit 2: retry or stop).
import { mkdirSync, symlinkSync } from 'node:fs'
import path from 'node:path'
import { afterAll, beforeAll, expect, it } from 'vitest'
import { makeWorkdir, readResult, runCli, type Workdir } from '../support/workdir.ts'

let work: Workdir

const SPEC = (body: string) => `import { describe, it, expect, file } from 'postdeploy-verify'

describe('blog', () => {
  const root = process.cwd() + '/apps/blog'
  it('current', async () => {
    const current = await file(root + '/current')
${body}
  })
})
`

beforeAll(() => {
  work = makeWorkdir({
    // current is missing: its linkTarget is undefined, which toMatch cannot take
    'broken/specs/a.spec.ts': SPEC('    expect(current.linkTarget).toMatch(/releases/)'),
    'typo/specs/a.spec.ts': SPEC('    expect(current).toBeSymLink()'),
    'unreachable/specs/a.spec.ts': SPEC('    expect(current).toBeSymlink()'),
  })
  for (const project of ['broken', 'typo', 'unreachable'])
    mkdirSync(path.join(work.dir, project, 'apps/blog/releases/1'), { recursive: true })
  symlinkSync('releases/1', path.join(work.dir, 'typo/apps/blog/current'))
})

afterAll(() => work?.remove())

const run = (project: string, hosts: string) =>
  runCli(['--hosts', hosts, '--specs', 'specs/*.spec.ts', '--json', 'r.json'], { cwd: path.join(work.dir, project) })
const checkOf = (project: string) => readResult(work.dir, project, 'r.json').hosts[0]!.checks[0]!

it('an assertion on a missing value fails (exit 1) with the expect line, never "could not be verified"', async () => {
  const result = await run('broken', 'local')
  expect(result.exitCode, result.stdout + result.stderr).toBe(1)
  expect(checkOf('broken')).toMatchObject({
    status: 'failed',
    expected: '/releases/',
    actual: 'undefined',
    failedAt: { file: 'specs/a.spec.ts', line: 7 },
  })
  expect(result.stdout).toMatch(/^ +> 7 \|     expect\(current\.linkTarget\)\.toMatch\(\/releases\/\)$/m)
  expect(result.stdout).toMatch(/FAIL \(exit 1\): 1 of 1 host failed a check/)
})

it('a mistyped matcher is a spec error (exit 3) with file:line and the fix', async () => {
  const result = await run('typo', 'local')
  expect(result.exitCode, result.stdout + result.stderr).toBe(3)
  expect(checkOf('typo')).toMatchObject({ status: 'error', errorKind: 'spec', failedAt: { file: 'specs/a.spec.ts', line: 7, column: 21 } })
  expect(result.stdout).toContain(
    'spec: specs/a.spec.ts:7:21: TypeError: expect(...).toBeSymLink is not a function (did you mean toBeSymlink?)',
  )
  expect(result.stdout).toMatch(/npx verify check/)
  expect(result.stdout).toMatch(/SPEC ERROR \(exit 3\)/)
})

it('a host that cannot be verified is an error (exit 2), stated once', async () => {
  const result = await run('unreachable', 'ci@127.0.0.1:1')
  expect(result.exitCode, result.stdout + result.stderr).toBe(2)
  // no key to offer on this machine (auth), or nothing listening (unreachable): the host's fault either way
  const check = checkOf('unreachable')
  expect(check.status).toBe('error')
  expect(['auth', 'unreachable']).toContain(check.errorKind)
  expect(result.stdout.split(check.message!.slice(0, 40))).toHaveLength(2)
  expect(result.stdout).toContain('(1 check not run because of it)')
})
