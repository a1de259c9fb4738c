// Broken inputs, end to end through the CLI: what stops the run before it starts is a clear
// error with file:line and exit 3 (no host is contacted, the reports still say why); a throw
// inside one check errors that check only. (Wrong types, unknown --hosts groups and spec
// syntax errors are covered in test/e2e/cli.test.ts; every schema rule in test/inventory/.)
import path from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { junitSchemaErrors } from '../../support/faults.ts'
import { makeWorkdir, readResult, runCli, type CliRun, type Workdir } from '../../support/workdir.ts'

let work: Workdir

const GOOD_SPEC = `import { describe, it, expect, command } from 'postdeploy-verify'
describe('app', () => {
  it('answers', async () => { expect((await command('echo ok')).stdout).toBe('ok\\n') })
})
`

interface Case {
  name: string
  files: Record<string, string>
  args: string[]
  stderr: RegExp
}

// Each case is a project of its own (hosts.yaml and specs); the runs go in parallel.
const CASES: Case[] = [
  {
    name: 'hosts.yaml that is not YAML',
    files: { 'hosts.yaml': 'hosts:\n  web-1: { address: 10.0.0.1\n  web-2: [\n', 'specs/a.spec.ts': GOOD_SPEC },
    args: ['--hosts', 'web-1'],
    stderr: /hosts\.yaml:3:\d+: YAML syntax error/,
  },
  {
    name: 'an unknown key in hosts.yaml',
    files: { 'hosts.yaml': 'hosts:\n  web-1: { adress: 10.0.0.1 }\n', 'specs/a.spec.ts': GOOD_SPEC },
    args: ['--hosts', 'web-1'],
    stderr: /hosts\.yaml:2:\d+: hosts\.web-1: unknown key "adress" \(allowed keys: address,/,
  },
  {
    name: 'the same host name twice in one map',
    files: { 'hosts.yaml': 'hosts:\n  web-1: { address: 10.0.0.1 }\n  web-1: { address: 10.0.0.2 }\n', 'specs/a.spec.ts': GOOD_SPEC },
    args: ['--hosts', 'web-1'],
    stderr: /hosts\.yaml:3:\d+: YAML syntax error: Map keys must be unique/,
  },
  {
    name: 'the same host defined in two places',
    files: {
      'hosts.yaml': 'hosts:\n  web-1: { address: 10.0.0.1 }\ngroups:\n  web:\n    hosts:\n      web-1: { address: 10.0.0.2 }\n',
      'specs/a.spec.ts': GOOD_SPEC,
    },
    args: ['--hosts', 'web'],
    stderr: /hosts\.yaml:6:\d+: host "web-1" is defined twice, at lines 2 and 6/,
  },
  {
    name: 'a spec that throws while it loads',
    files: {
      'specs/settings.spec.ts': `import { describe, it } from 'postdeploy-verify'\n\nconst settings = JSON.parse('{"port": ')\ndescribe('app', () => { it('x', () => { void settings }) })\n`,
    },
    args: ['--hosts', 'local'],
    stderr: /specs\/settings\.spec\.ts:3:\d+: SyntaxError: .*JSON/,
  },
  {
    name: 'a module imported by a spec that throws while it loads',
    files: {
      'specs/lib/config.ts': `export const config = load()\nfunction load(): { port: number } {\n  throw new Error('config.json is missing')\n}\n`,
      'specs/uses-config.spec.ts': `import { describe, it } from 'postdeploy-verify'\nimport { config } from './lib/config.ts'\ndescribe('app', () => { it('x', () => { void config }) })\n`,
    },
    args: ['--hosts', 'local'],
    stderr: /specs\/uses-config\.spec\.ts: config\.json is missing \(at specs\/lib\/config\.ts:3:\d+\)/,
  },
]

const runs = new Map<string, CliRun>()

beforeAll(async () => {
  work = makeWorkdir()
  await Promise.all(
    CASES.map(async (c, i) => {
      const dir = `case-${i}`
      for (const [file, content] of Object.entries(c.files)) work.write(path.join(dir, file), content)
      runs.set(c.name, await runCli([...c.args, '--junit', 'out/r.xml', '--json', 'out/r.json'], { cwd: path.join(work.dir, dir) }))
    }),
  )
})

afterAll(() => work?.remove())

describe('what stops the run before it starts: exit 3, file:line, nothing contacted', () => {
  it.each(CASES.map((c, i) => [c.name, i] as const))('%s', (name, i) => {
    const run = runs.get(name)!
    const c = CASES[i]!
    expect(run.exitCode, run.stdout + run.stderr).toBe(3)
    expect(run.stderr).toMatch(c.stderr)
    expect(run.stderr).toMatch(/CONFIG ERROR \(exit 3\)/)
    // the reports exist and say why, so a CI job shows the reason rather than a missing file
    const result = readResult(work.dir, `case-${i}`, 'out/r.json')
    expect(result.hosts).toEqual([])
    expect(result.configErrors.join('\n')).toMatch(c.stderr)
    expect(junitSchemaErrors(path.join(work.dir, `case-${i}`, 'out/r.xml'))).toBe('')
  })
})

describe('what breaks one check or one describe: that part is a spec error, the rest runs (exit 3)', () => {
  it('a throw inside a check, and a describe body that throws', async () => {
    work.write(
      'broken-parts/specs/parts.spec.ts',
      `import { describe, it, expect, command } from 'postdeploy-verify'
describe('healthy', () => {
  it('answers', async () => { expect((await command('echo ok')).stdout).toBe('ok\\n') })
  it('throws', async () => {
    const r = await command('echo ok')
    ;(r as any).missing.field
  })
})
describe('broken describe', ({ vars }) => {
  const port: number = (vars as any).app.port
  it('never collected', () => { void port })
})
`,
    )
    const run = await runCli(['--hosts', 'local', '--json', 'out/r.json'], { cwd: path.join(work.dir, 'broken-parts') })
    expect(run.exitCode, run.stdout + run.stderr).toBe(3)
    const checks = readResult(work.dir, 'broken-parts/out/r.json').hosts[0]!.checks
    const byPath = new Map(checks.map(c => [c.path.join(' › '), c]))
    expect([...byPath.keys()].sort()).toEqual(['broken describe', 'healthy › answers', 'healthy › throws'])
    expect(byPath.get('healthy › answers')!.status).toBe('passed')
    expect(byPath.get('healthy › throws')).toMatchObject({
      status: 'error',
      errorKind: 'spec',
      failedAt: { file: 'specs/parts.spec.ts', line: 6 },
    })
    expect(byPath.get('healthy › throws')!.message).toMatch(/^specs\/parts\.spec\.ts:6:\d+: TypeError: .*'field'/)
    expect(byPath.get('broken describe')).toMatchObject({ status: 'error', errorKind: 'spec', line: 9 })
    expect(byPath.get('broken describe')!.message).toMatch(
      /describe body threw while collecting checks: specs\/parts\.spec\.ts:10:\d+: TypeError: .*'port'/,
    )
  })
})
