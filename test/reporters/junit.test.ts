// JUnit reporter: golden files, XSD validation with xmllint, and the rules Jenkins and GitLab
// apply to classname/name, checked on the parsed report rather than on strings.
import { spawnSync } from 'node:child_process'
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { XMLParser } from 'fast-xml-parser'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { exitCodeFor, SCHEMA_VERSION, summarize } from '../../src/model.ts'
import type { CheckResult, CheckStatus, HostResult, RunResult } from '../../src/model.ts'
import {
  JUNIT_FLAVORS,
  junitClassname,
  junitFlavorFor,
  junitHostId,
  junitSpecPath,
  renderJunit,
  writeJunit,
  type JunitFlavor,
} from '../../src/reporters/junit.ts'
import { ensurePackages } from '../support/apt.ts'

const HERE = dirname(fileURLToPath(import.meta.url))
const GOLDEN_DIR = join(HERE, 'golden')
// the two schemas strict consumers validate with, byte-exact copies (see the README beside them)
const ANT_XSD = join(HERE, '../fixtures/junit-xsd/JUnit.xsd')
const JENKINS_XSD = join(HERE, '../fixtures/junit-xsd/junit-10.xsd')
const STARTED_AT = '2025-03-04T05:06:07.890Z'

// ------------------------------------------------------------------ fixtures

function check(file: string, path: string[], status: CheckStatus, extra: Partial<CheckResult> = {}): CheckResult {
  return { id: `${file}::${path.join(' › ')}`, file, path, status, durationMs: 42, facts: [], ...extra }
}

function host(name: string, address: string, checks: CheckResult[], extra: Partial<HostResult> = {}): HostResult {
  return {
    host: { name, address, port: 22, user: 'deploy', transport: 'ssh', groups: ['web'] },
    status: 'verified',
    checks,
    timings: { connectMs: 120, checksMs: 300, totalMs: 1234.5 },
    execChannels: 1,
    ...extra,
  }
}

function runOf(hosts: HostResult[], configErrors: string[] = []): RunResult {
  const summary = summarize(hosts)
  return {
    schemaVersion: SCHEMA_VERSION,
    tool: { name: 'postdeploy-verify', version: '0.0.0-test' },
    startedAt: STARTED_AT,
    finishedAt: '2025-03-04T05:06:10.000Z',
    durationMs: 2110,
    configErrors,
    hosts,
    summary,
    exitCode: exitCodeFor(summary, configErrors),
  }
}

const NGINX = 'specs/web/nginx.spec.ts'
const APP = 'specs/app.spec.ts'

/** (a) two dotted hosts × three checks, covering passed, failed, error and skipped. */
function twoHosts(): RunResult {
  const failed = (): CheckResult =>
    check(NGINX, ['nginx 1.24', 'serves /healthz with 200'], 'failed', {
      durationMs: 87.6,
      expected: '200',
      actual: '503',
      message: 'expect(received).toBe(expected)\n\nExpected: 200\nReceived: 503',
      failedAt: {
        file: NGINX,
        line: 14,
        column: 32,
        frame: '  13 |   const res = await http(url)\n> 14 |   expect(res.status).toBe(200)\n     |                      ^\n  15 | })',
      },
    })
  return runOf([
    host('web-1.example.com', '10.0.0.11', [
      check(NGINX, ['nginx 1.24', 'listens on :443'], 'passed', { durationMs: 3 }),
      failed(),
      check(APP, ['app', 'config', 'has release v2.3.1'], 'error', {
        errorKind: 'fact',
        message: 'could not read /etc/app/release: permission denied',
      }),
    ]),
    host('web-2.example.com', '10.0.0.12', [
      check(NGINX, ['nginx 1.24', 'listens on :443'], 'passed', { durationMs: 2 }),
      failed(),
      check(APP, ['app', 'config', 'has release v2.3.1'], 'skipped', { durationMs: 0, message: 'canary hosts run another release' }),
    ]),
  ])
}

/** A passing run: two hosts, every check green (one after waiting). */
function passing(): RunResult {
  return runOf([
    host('web-1.example.com', '10.0.0.11', [
      check(NGINX, ['nginx 1.24', 'listens on :443'], 'passed'),
      check(APP, ['app', 'has release v2.3.1'], 'passed', { attempts: 3, timeToGreenMs: 4200 }),
    ]),
    host('web-2.example.com', '10.0.0.12', [
      check(NGINX, ['nginx 1.24', 'listens on :443'], 'passed'),
      check(APP, ['app', 'has release v2.3.1'], 'passed'),
    ]),
  ])
}

/** (b) one host fine, one unreachable: its checks errored as the runner reports them. */
function unreachable(): RunResult {
  const down = { errorKind: 'unreachable' as const, message: 'connect ECONNREFUSED 10.0.0.21:22', durationMs: 0 }
  return runOf([
    host('web-1.example.com', '10.0.0.11', [check(NGINX, ['nginx 1.24', 'listens on :443'], 'passed')]),
    host(
      'db-1.example.com',
      '10.0.0.21',
      [check(NGINX, ['nginx 1.24', 'listens on :443'], 'error', down), check(APP, ['app', 'has release v2.3.1'], 'error', down)],
      {
        status: 'error',
        error: { kind: 'unreachable', message: 'connect ECONNREFUSED 10.0.0.21:22' },
        timings: { connectMs: 3001, totalMs: 3001 },
        execChannels: 0,
      },
    ),
  ])
}

const CONTROL_BYTES = String.fromCharCode(...Array.from({ length: 32 }, (_, i) => i)) + '\x7f'
const INVALID_UTF8 = Buffer.from([0x62, 0x61, 0xff, 0xc3, 0x28, 0x64]).toString('utf8')
const HOSTILE_OUTPUT = [
  `ctrl[${CONTROL_BYTES}]`,
  `utf8[${INVALID_UTF8}]`,
  'surrogates[\ud800|\udfff|😀]',
  'ansi[\x1b[31mred\x1b[0m \x1b]8;;https://example.com\x07link\x1b]8;;\x07 \x1b[1;4mbold\x1b[m]',
  'cdata[]]> and again ]]>]',
  'c1[\u009bkept after the C1 CSI]',
  'markup[<&> "double" \'single\']',
].join('\n')

/** (c) command output that tries every way to break XML or a terminal. */
function hostile(): RunResult {
  return runOf([
    host('web-1.example.com', '10.0.0.11', [
      check('specs/hostile.spec.ts', ['\x1b[1mbold\x1b[0m describe', 'title with <&> "quotes" and \x00nul'], 'failed', {
        expected: 'ok\x1b[32m\x00',
        actual: `${INVALID_UTF8}\ud800`,
        message: HOSTILE_OUTPUT,
      }),
      check('specs/hostile.spec.ts', ['\x1b[1mbold\x1b[0m describe', 'errors with hostile output'], 'error', {
        errorKind: 'crash',
        message: HOSTILE_OUTPUT,
      }),
      check('specs/hostile.spec.ts', ['\x1b[1mbold\x1b[0m describe', 'skips with hostile reason'], 'skipped', {
        message: 'reason ]]> \x1b[2m<&>\x1b[0m \ud800',
      }),
    ]),
  ])
}

/** (d) a run stopped by configuration errors (exit 3). */
function configErrors(): RunResult {
  return runOf([], ['hosts.yaml:12: group "web" is not defined', 'specs/missing.spec.ts: no such file\n  (from --spec)'])
}

// ------------------------------------------------------------------ helpers

let workDir = ''

/** xmllint's complaints about `xml` under `xsd`: '' when valid. */
function schemaErrors(xml: string, name: string, xsd: string): string {
  const file = join(workDir, name)
  writeFileSync(file, xml, 'utf8')
  const result = spawnSync('xmllint', ['--noout', '--schema', xsd, file], { encoding: 'utf8' })
  expect(result.error).toBeUndefined()
  return result.status === 0 ? '' : result.stderr
}

function expectGolden(name: string, actual: string): void {
  const file = join(GOLDEN_DIR, name)
  if (process.env.UPDATE_GOLDEN === '1') {
    mkdirSync(GOLDEN_DIR, { recursive: true })
    writeFileSync(file, actual, 'utf8')
  }
  if (!existsSync(file)) {
    throw new Error(`golden file ${file} is missing: create it with UPDATE_GOLDEN=1 npx vitest run test/reporters, then review it`)
  }
  expect(actual).toBe(readFileSync(file, 'utf8'))
}

interface ParsedCase {
  classname: string
  name: string
  time?: string
  file?: string
  failure?: { message?: string; '#text'?: string } | string
  error?: { message?: string; type?: string; '#text'?: string } | string
  skipped?: { message?: string } | string
  'system-out'?: string
}
interface ParsedSuite {
  name: string
  package?: string
  id?: string
  hostname?: string
  'system-out'?: string
  'system-err'?: string
  tests: string
  failures: string
  errors: string
  skipped: string
  time?: string
  timestamp?: string
  properties?: { property: Array<{ name: string; value: string }> }
  testcase?: ParsedCase[]
}
interface ParsedReport {
  testsuites: { name?: string; tests?: string; failures?: string; errors?: string; time?: string; testsuite?: ParsedSuite[] }
}

function parse(xml: string): ParsedReport {
  const parser = new XMLParser({
    ignoreAttributes: false,
    attributeNamePrefix: '',
    trimValues: false,
    parseAttributeValue: false,
    parseTagValue: false,
    isArray: tag => ['testsuite', 'testcase', 'property'].includes(tag),
  })
  return parser.parse(xml) as ParsedReport
}

function allCases(report: ParsedReport): ParsedCase[] {
  return (report.testsuites.testsuite ?? []).flatMap(suite => suite.testcase ?? [])
}

/** Jenkins' junit plugin: package is the classname up to its last dot, class the rest. */
function jenkinsSplit(classname: string): { pkg: string; cls: string } {
  const dot = classname.lastIndexOf('.')
  return { pkg: classname.slice(0, dot), cls: classname.slice(dot + 1) }
}

function textOf(node: { '#text'?: string } | string | undefined): string {
  return typeof node === 'string' ? node : (node?.['#text'] ?? '')
}

// Everything XML 1.0 forbids, plus what we strip for terminals' sake (ESC, DEL, C1).
const FORBIDDEN =
  /[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f-\u009f\ufffe\uffff]|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/

beforeAll(() => {
  // CI starts from a fresh Debian image: install xmllint rather than skip validation
  ensurePackages({ xmllint: 'libxml2-utils' })
  workDir = mkdtempSync(join(tmpdir(), 'verify-junit-'))
}, 600_000)

afterAll(() => {
  if (workDir) rmSync(workDir, { recursive: true, force: true })
})

// ------------------------------------------------------------------ tests

describe('junit naming', () => {
  it('makes the host id Jenkins-safe and the spec path dot-free', () => {
    expect(junitHostId('web-1.example.com')).toBe('web-1_example_com')
    expect(junitSpecPath({ file: 'specs/v1.2/nginx.spec.ts', path: ['nginx 1.24', 'ssl', 'it'] })).toBe(
      'specs/v1_2/nginx › nginx 1_24 › ssl',
    )
    expect(junitClassname('web-1.example.com', { file: 'specs/app.spec.ts', path: ['only it'] })).toBe('web-1_example_com.specs/app')
  })
})

describe('renderJunit', () => {
  const scenarios: Array<[name: string, build: () => RunResult]> = [
    ['passing', passing],
    ['two-hosts', twoHosts],
    ['unreachable', unreachable],
    ['hostile', hostile],
    ['config-errors', configErrors],
  ]

  for (const [name, build] of scenarios) {
    it(`${name}: matches golden/${name}.xml, valid against Ant's JUnit.xsd and Jenkins xUnit's junit-10.xsd`, () => {
      const xml = renderJunit(build())
      expectGolden(`${name}.xml`, xml)
      expect(schemaErrors(xml, `${name}.ant.xml`, ANT_XSD)).toBe('')
      expect(schemaErrors(xml, `${name}.jenkins10.xml`, JENKINS_XSD)).toBe('')
    })

    it(`${name}: the jenkins flavour is valid against junit-10.xsd; the gitlab flavour differs from it only by testcase/@file`, () => {
      expect(schemaErrors(renderJunit(build(), { flavor: 'jenkins' }), `${name}.jenkins.xml`, JENKINS_XSD)).toBe('')
      const gitlab = schemaErrors(renderJunit(build(), { flavor: 'gitlab' }), `${name}.gitlab.xml`, JENKINS_XSD)
      const complaints = gitlab.split('\n').filter(line => line.includes('validity error') || line.includes('Schemas validity'))
      for (const line of complaints) expect(line).toMatch(/The attribute 'file' is not allowed|fails to validate/)
    })

    it(`${name}: counts the same checks as the console and the JSON (summary.checks)`, () => {
      const run = build()
      for (const flavor of JUNIT_FLAVORS) {
        const report = parse(renderJunit(run, { flavor }))
        const suites = report.testsuites.testsuite ?? []
        const cases = allCases(report)
        const expected = run.configErrors.length > 0 ? run.configErrors.length : run.summary.checks
        expect(cases).toHaveLength(expected)
        expect(suites.reduce((n, s) => n + Number(s.tests), 0)).toBe(expected)
        expect(suites.reduce((n, s) => n + Number(s.failures), 0)).toBe(run.summary.failed)
        expect(suites.reduce((n, s) => n + Number(s.errors), 0)).toBe(
          run.configErrors.length > 0 ? run.configErrors.length : run.summary.errors,
        )
        expect(suites.reduce((n, s) => n + Number(s.skipped), 0)).toBe(run.summary.skipped)
      }
    })
  }

  it('golden files of the jenkins and gitlab flavours for a failing run', () => {
    expectGolden('two-hosts.jenkins.xml', renderJunit(twoHosts(), { flavor: 'jenkins' }))
    expectGolden('two-hosts.gitlab.xml', renderJunit(twoHosts(), { flavor: 'gitlab' }))
  })

  it('picks gitlab under GITLAB_CI, ant otherwise, and the flag over both', () => {
    expect(junitFlavorFor(undefined, {})).toBe('ant')
    expect(junitFlavorFor(undefined, { GITLAB_CI: 'true' })).toBe('gitlab')
    expect(junitFlavorFor('jenkins', { GITLAB_CI: 'true' })).toBe('jenkins')
  })

  it('is deterministic for the same run', () => {
    expect(renderJunit(twoHosts())).toBe(renderJunit(twoHosts()))
  })

  it('gives one suite per host and one case per check, with the attributes Ant requires', () => {
    const report = parse(renderJunit(twoHosts()))
    expect(Object.keys(report.testsuites).filter(k => k !== 'testsuite' && k !== '#text')).toEqual([])
    const suites = report.testsuites.testsuite ?? []
    expect(suites.map(s => s.name)).toEqual(['web-1.example.com', 'web-2.example.com'])
    expect(suites.map(s => s.testcase?.length)).toEqual([3, 3])
    expect(suites.map(s => [s.tests, s.failures, s.errors, s.skipped])).toEqual([
      ['3', '1', '1', '0'],
      ['3', '1', '0', '1'],
    ])
    expect(suites.map(s => [s.package, s.id, s.hostname])).toEqual([
      ['web-1_example_com', '0', 'web-1.example.com'],
      ['web-2_example_com', '1', 'web-2.example.com'],
    ])
    expect(suites[0]?.timestamp).toBe('2025-03-04T05:06:07')
    expect(suites[0]?.time).toBe('1.235')
    expect(suites[0]?.properties?.property).toContainEqual({ name: 'hostname', value: 'web-1.example.com' })

    const cases = allCases(report)
    expect(cases.map(c => c.classname)).toEqual([
      'web-1_example_com.specs/web/nginx › nginx 1_24',
      'web-1_example_com.specs/web/nginx › nginx 1_24',
      'web-1_example_com.specs/app › app › config',
      'web-2_example_com.specs/web/nginx › nginx 1_24',
      'web-2_example_com.specs/web/nginx › nginx 1_24',
      'web-2_example_com.specs/app › app › config',
    ])
    expect(cases[2]?.name).toBe('has release v2.3.1')
    expect(cases[1]).not.toHaveProperty('file')
    expect(cases[1]?.time).toBe('0.088')
  })

  it('jenkins flavour: run totals on <testsuites> (no skipped), Z timestamps, output inside each case', () => {
    const report = parse(renderJunit(twoHosts(), { flavor: 'jenkins' }))
    expect(report.testsuites).toMatchObject({ name: 'verify', tests: '6', failures: '2', errors: '1', time: '2.11' })
    expect(report.testsuites).not.toHaveProperty('skipped')
    expect(report.testsuites.testsuite?.[0]?.timestamp).toBe('2025-03-04T05:06:07Z')
    const [, failed, , , , skipped] = allCases(report)
    expect(failed?.['system-out']).toContain('at specs/web/nginx.spec.ts:14:32\n  13 |')
    expect(skipped?.['system-out']).toBe('skipped: canary hosts run another release')
  })

  it("gitlab flavour: what GitLab's parser reads (suite name, classname, name, file, time, status, failure text)", () => {
    // Gitlab::Ci::Parsers::Test::Junit: testcases under testsuites/testsuite; status from failure/error/skipped
    const cases = (parse(renderJunit(twoHosts(), { flavor: 'gitlab' })).testsuites.testsuite ?? []).flatMap(suite =>
      (suite.testcase ?? []).map(c => ({
        suite: suite.name,
        classname: c.classname,
        name: c.name,
        file: c.file,
        time: c.time,
        status: c.failure ? 'failed' : c.error ? 'error' : c.skipped !== undefined ? 'skipped' : 'success',
        output: textOf(c.failure ?? c.error),
      })),
    )
    expect(cases.map(c => c.status)).toEqual(['success', 'failed', 'error', 'success', 'failed', 'skipped'])
    expect(cases[0]).toMatchObject({ suite: 'web-1.example.com', file: NGINX, time: '0.003' })
    expect(cases[1]?.output).toContain('Received: 503')
    expect(cases[1]?.output).toContain('> 14 |   expect(res.status).toBe(200)')
  })

  it("follows Jenkins' rule: split at the last dot gives package = host id, class = spec path", () => {
    const run = twoHosts()
    const cases = allCases(parse(renderJunit(run)))
    const expected = run.hosts.flatMap(h => h.checks.map(c => ({ pkg: junitHostId(h.host.name), cls: junitSpecPath(c) })))
    expect(cases.map(c => jenkinsSplit(c.classname))).toEqual(expected)
    expect(expected[0]).toEqual({ pkg: 'web-1_example_com', cls: 'specs/web/nginx › nginx 1_24' })
  })

  it("follows GitLab's rule: (classname, name) pairs are unique, so each host keeps its own rows", () => {
    const cases = allCases(parse(renderJunit(twoHosts())))
    const pairs = new Set(cases.map(c => `${c.classname}\u0000${c.name}`))
    expect(pairs.size).toBe(cases.length)
  })

  it('writes failure (with type and where it failed), error and skipped the way CI reads them', () => {
    const report = parse(renderJunit(twoHosts()))
    const [passed, failed, errored, , , skipped] = allCases(report)
    expect(passed).not.toHaveProperty('failure')
    expect(failed?.failure).toMatchObject({ message: 'expected 200, actual 503 (at specs/web/nginx.spec.ts:14:32)', type: 'assertion' })
    expect(textOf(failed?.failure)).toContain('Received: 503')
    expect(textOf(failed?.failure)).toContain('at specs/web/nginx.spec.ts:14:32\n  13 |   const res = await http(url)\n> 14 |')
    expect(errored?.error).toMatchObject({ type: 'fact', message: 'could not read /etc/app/release: permission denied' })
    expect(skipped).toHaveProperty('skipped')
    // Ant allows no output inside a case: it is gathered in the suite's system-out, under the case's name
    const web2 = report.testsuites.testsuite?.[1]
    expect(web2?.['system-out']).toContain('[has release v2.3.1]\nskipped: canary hosts run another release')
    expect(report.testsuites.testsuite?.[0]?.['system-out']).toContain('[serves /healthz with 200]\nat specs/web/nginx.spec.ts:14:32')
  })

  it("folds an unreachable host into its checks' errors: no extra case, the host's error in system-err", () => {
    const report = parse(renderJunit(unreachable()))
    const db = report.testsuites.testsuite?.find(s => s.name === 'db-1.example.com')
    expect(db?.testcase?.map(c => c.name)).toEqual(['listens on :443', 'has release v2.3.1'])
    expect(db?.testcase?.[0]?.error).toMatchObject({ type: 'unreachable', message: 'connect ECONNREFUSED 10.0.0.21:22' })
    expect(db).toMatchObject({ tests: '2', errors: '2' })
    expect(db?.['system-err']).toBe('host unreachable: connect ECONNREFUSED 10.0.0.21:22')
  })

  it('gives a host that errored with no check at all one errored case, so CI still turns red', () => {
    const run = runOf([
      host('db-1.example.com', '10.0.0.21', [], {
        status: 'error',
        error: { kind: 'unreachable', message: 'connect ECONNREFUSED 10.0.0.21:22' },
        timings: { connectMs: 3001, totalMs: 3001 },
      }),
    ])
    const cases = allCases(parse(renderJunit(run)))
    expect(cases.map(c => [c.classname, c.name])).toEqual([['db-1_example_com.host', 'host unreachable']])
    expect(schemaErrors(renderJunit(run), 'no-checks.xml', ANT_XSD)).toBe('')
  })

  it('renders config errors as a `verify` suite with one errored case each', () => {
    const report = parse(renderJunit(configErrors()))
    const suites = report.testsuites.testsuite ?? []
    expect(suites.map(s => s.name)).toEqual(['verify'])
    const cases = suites[0]?.testcase ?? []
    expect(cases.map(c => c.name)).toEqual([
      'config error 1: hosts.yaml:12: group "web" is not defined',
      'config error 2: specs/missing.spec.ts: no such file',
    ])
    expect(textOf(cases[1]?.error)).toBe('specs/missing.spec.ts: no such file\n  (from --spec)')
  })

  it('keeps hostile output readable and the XML well-formed', () => {
    for (const flavor of JUNIT_FLAVORS) {
      const xml = renderJunit(hostile(), { flavor })
      expect(xml).not.toMatch(FORBIDDEN)
      expect(xml).not.toContain('\x1b')

      const [failed, errored, skipped] = allCases(parse(xml))
      for (const text of [textOf(failed?.failure), textOf(errored?.error)]) {
        expect(text).not.toMatch(FORBIDDEN)
        // every `]]>` survives
        expect(text).toContain('cdata[]]> and again ]]>]')
        expect(text).toContain('markup[<&> "double" \'single\']')
        expect(text).toContain('ansi[red link bold]')
        expect(text).toContain('utf8[ba\ufffd\ufffd(d]')
        expect(text).toContain('surrogates[\ufffd|\ufffd|😀]')
        expect(text).toContain('ctrl[\t\n')
        // U+009B goes alone: the text after it is kept
        expect(text).toContain('c1[kept after the C1 CSI]')
      }
      expect(failed?.name).toBe('title with <&> "quotes" and nul')
      expect(failed?.classname).toBe('web-1_example_com.specs/hostile › bold describe')
      expect(failed?.failure).toMatchObject({ message: 'expected ok, actual ba\ufffd\ufffd(d\ufffd' })
      expect(skipped?.skipped).toMatchObject({ message: 'reason ]]> <&> \ufffd' })
    }
  })
})

describe('writeJunit', () => {
  it('creates parent directories and writes what renderJunit renders', () => {
    const file = join(workDir, 'nested', 'dir', 'junit.xml')
    writeJunit(twoHosts(), file)
    expect(readFileSync(file, 'utf8')).toBe(renderJunit(twoHosts()))
  })
})
