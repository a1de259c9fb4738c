// JUnit reporter: golden files, XSD validation with xmllint, and the rules Jenkins and GitLab
// apply to classname/name, checked on the parsed report rather than on strings.
import { execFileSync, spawnSync } from 'node:child_process'
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { XMLParser } from 'fast-xml-parser'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { exitCodeFor, SCHEMA_VERSION, summarize } from '../../src/model.ts'
import type { CheckResult, CheckStatus, HostResult, RunResult } from '../../src/model.ts'
import { junitClassname, junitHostId, junitSpecPath, renderJunit, writeJunit } from '../../src/reporters/junit.ts'

const HERE = dirname(fileURLToPath(import.meta.url))
const GOLDEN_DIR = join(HERE, 'golden')
const XSD = join(HERE, 'junit.xsd')
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

/** (b) one host fine, one unreachable before any check ran. */
function unreachable(): RunResult {
  return runOf([
    host('web-1.example.com', '10.0.0.11', [check(NGINX, ['nginx 1.24', 'listens on :443'], 'passed')]),
    host('db-1.example.com', '10.0.0.21', [], {
      status: 'error',
      error: { kind: 'unreachable', message: 'connect ECONNREFUSED 10.0.0.21:22' },
      timings: { connectMs: 3001, totalMs: 3001 },
      execChannels: 0,
    }),
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

/** CI starts from a fresh Debian image: install xmllint rather than skip validation. */
function ensureXmllint(): void {
  if (spawnSync('xmllint', ['--version']).status === 0) return
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' }
  execFileSync('apt-get', ['update'], { stdio: 'inherit', env })
  execFileSync('apt-get', ['install', '-y', 'libxml2-utils'], { stdio: 'inherit', env })
}

let workDir = ''

function validateWithXsd(xml: string, name: string): void {
  const file = join(workDir, name)
  writeFileSync(file, xml, 'utf8')
  const result = spawnSync('xmllint', ['--noout', '--schema', XSD, file], { encoding: 'utf8' })
  expect(result.error).toBeUndefined()
  expect(result.status, result.stderr).toBe(0)
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
  skipped?: unknown
  'system-out'?: string
}
interface ParsedSuite {
  name: string
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
  testsuites: { tests: string; failures: string; errors: string; skipped: string; testsuite?: ParsedSuite[] }
}

function parse(xml: string): ParsedReport {
  const parser = new XMLParser({
    ignoreAttributes: false,
    attributeNamePrefix: '',
    trimValues: false,
    parseAttributeValue: false,
    parseTagValue: false,
    isArray: (tag) => ['testsuite', 'testcase', 'property'].includes(tag),
  })
  return parser.parse(xml) as ParsedReport
}

function allCases(report: ParsedReport): ParsedCase[] {
  return (report.testsuites.testsuite ?? []).flatMap((suite) => suite.testcase ?? [])
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
const FORBIDDEN = /[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f-\u009f\ufffe\uffff]|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/

beforeAll(() => {
  ensureXmllint()
  workDir = mkdtempSync(join(tmpdir(), 'verify-junit-'))
}, 600_000)

afterAll(() => {
  if (workDir) rmSync(workDir, { recursive: true, force: true })
})

// ------------------------------------------------------------------ tests

describe('junit naming', () => {
  it('makes the host id Jenkins-safe and the spec path dot-free', () => {
    expect(junitHostId('web-1.example.com')).toBe('web-1_example_com')
    expect(junitSpecPath({ file: 'specs/v1.2/nginx.spec.ts', path: ['nginx 1.24', 'ssl', 'it'] })).toBe('specs/v1_2/nginx › nginx 1_24 › ssl')
    expect(junitClassname('web-1.example.com', { file: 'specs/app.spec.ts', path: ['only it'] })).toBe('web-1_example_com.specs/app')
  })
})

describe('renderJunit', () => {
  const scenarios: Array<[golden: string, build: () => RunResult]> = [
    ['two-hosts.xml', twoHosts],
    ['unreachable.xml', unreachable],
    ['hostile.xml', hostile],
    ['config-errors.xml', configErrors],
  ]

  for (const [golden, build] of scenarios) {
    it(`matches golden/${golden} and the XSD`, () => {
      const xml = renderJunit(build())
      expectGolden(golden, xml)
      validateWithXsd(xml, golden)
    })
  }

  it('is deterministic for the same run', () => {
    expect(renderJunit(twoHosts())).toBe(renderJunit(twoHosts()))
  })

  it('gives one suite per host and one case per check, with Jenkins and GitLab friendly names', () => {
    const report = parse(renderJunit(twoHosts()))
    const suites = report.testsuites.testsuite ?? []
    expect(suites.map((s) => s.name)).toEqual(['web-1.example.com', 'web-2.example.com'])
    expect(suites.map((s) => s.testcase?.length)).toEqual([3, 3])
    expect(suites.map((s) => [s.tests, s.failures, s.errors, s.skipped])).toEqual([
      ['3', '1', '1', '0'],
      ['3', '1', '0', '1'],
    ])
    expect(suites[0]?.timestamp).toBe('2025-03-04T05:06:07Z')
    expect(suites[0]?.time).toBe('1.235')
    expect(suites[0]?.properties?.property).toContainEqual({ name: 'hostname', value: 'web-1.example.com' })

    const cases = allCases(report)
    expect(cases.map((c) => c.classname)).toEqual([
      'web-1_example_com.specs/web/nginx › nginx 1_24',
      'web-1_example_com.specs/web/nginx › nginx 1_24',
      'web-1_example_com.specs/app › app › config',
      'web-2_example_com.specs/web/nginx › nginx 1_24',
      'web-2_example_com.specs/web/nginx › nginx 1_24',
      'web-2_example_com.specs/app › app › config',
    ])
    expect(cases[2]?.name).toBe('has release v2.3.1')
    expect(cases[1]?.file).toBe(NGINX)
    expect(cases[1]?.time).toBe('0.088')
  })

  it("follows Jenkins' rule: split at the last dot gives package = host id, class = spec path", () => {
    const run = twoHosts()
    const cases = allCases(parse(renderJunit(run)))
    const expected = run.hosts.flatMap((h) => h.checks.map((c) => ({ pkg: junitHostId(h.host.name), cls: junitSpecPath(c) })))
    expect(cases.map((c) => jenkinsSplit(c.classname))).toEqual(expected)
    expect(expected[0]).toEqual({ pkg: 'web-1_example_com', cls: 'specs/web/nginx › nginx 1_24' })
  })

  it("follows GitLab's rule: (classname, name) pairs are unique, so each host keeps its own rows", () => {
    const cases = allCases(parse(renderJunit(twoHosts())))
    const pairs = new Set(cases.map((c) => `${c.classname}\u0000${c.name}`))
    expect(pairs.size).toBe(cases.length)
  })

  it('writes failure, error and skipped the way CI reads them', () => {
    const [passed, failed, errored, , , skipped] = allCases(parse(renderJunit(twoHosts())))
    expect(passed).not.toHaveProperty('failure')
    expect(failed?.failure).toMatchObject({ message: 'expected 200, actual 503' })
    expect(textOf(failed?.failure)).toContain('Received: 503')
    expect(errored?.error).toMatchObject({ type: 'fact', message: 'could not read /etc/app/release: permission denied' })
    expect(skipped).toHaveProperty('skipped')
    expect(skipped?.['system-out']).toBe('skipped: canary hosts run another release')
  })

  it('shows an unreachable host as a suite with one errored case', () => {
    const report = parse(renderJunit(unreachable()))
    const db = report.testsuites.testsuite?.find((s) => s.name === 'db-1.example.com')
    expect(db?.testcase).toHaveLength(1)
    expect(db?.testcase?.[0]).toMatchObject({ classname: 'db-1_example_com.host', name: 'host unreachable' })
    expect(db?.testcase?.[0]?.error).toMatchObject({ type: 'unreachable', message: 'connect ECONNREFUSED 10.0.0.21:22' })
    expect(report.testsuites.errors).toBe('1')
  })

  it('keeps the host error case when a host errored after some checks ran', () => {
    const run = runOf([
      host('web-1.example.com', '10.0.0.11', [check(NGINX, ['nginx 1.24', 'listens on :443'], 'passed'), check(NGINX, ['nginx 1.24', 'serves /healthz with 200'], 'error', { errorKind: 'unreachable', message: 'connection lost' })], {
        status: 'error',
        error: { kind: 'unreachable', message: 'connection lost' },
      }),
    ])
    const cases = allCases(parse(renderJunit(run)))
    expect(cases.map((c) => c.name)).toEqual(['host unreachable', 'listens on :443', 'serves /healthz with 200'])
  })

  it('renders config errors as a `verify` suite with one errored case each', () => {
    const report = parse(renderJunit(configErrors()))
    const suites = report.testsuites.testsuite ?? []
    expect(suites.map((s) => s.name)).toEqual(['verify'])
    const cases = suites[0]?.testcase ?? []
    expect(cases.map((c) => c.name)).toEqual(['config error 1: hosts.yaml:12: group "web" is not defined', 'config error 2: specs/missing.spec.ts: no such file'])
    expect(textOf(cases[1]?.error)).toBe('specs/missing.spec.ts: no such file\n  (from --spec)')
  })

  it('keeps hostile output readable and the XML well-formed', () => {
    const xml = renderJunit(hostile())
    expect(xml).not.toMatch(FORBIDDEN)
    expect(xml).not.toContain('\x1b')

    const [failed, errored, skipped] = allCases(parse(xml))
    for (const text of [textOf(failed?.failure), textOf(errored?.error)]) {
      expect(text).not.toMatch(FORBIDDEN)
      // every `]]>` survives, though the library itself only splits the first
      expect(text).toContain('cdata[]]> and again ]]>]')
      expect(text).toContain('markup[<&> "double" \'single\']')
      expect(text).toContain('ansi[red link bold]')
      expect(text).toContain('utf8[ba\ufffd\ufffd(d]')
      expect(text).toContain('surrogates[\ufffd|\ufffd|😀]')
      expect(text).toContain('ctrl[\t\n')
    }
    expect(failed?.name).toBe('title with <&> "quotes" and nul')
    expect(failed?.classname).toBe('web-1_example_com.specs/hostile › bold describe')
    expect(failed?.failure).toMatchObject({ message: 'expected ok, actual ba\ufffd\ufffd(d\ufffd' })
    expect(skipped?.['system-out']).toBe('skipped: reason ]]> <&> \ufffd')
  })
})

describe('writeJunit', () => {
  it('creates parent directories and writes what renderJunit renders', () => {
    const file = join(workDir, 'nested', 'dir', 'junit.xml')
    writeJunit(twoHosts(), file)
    expect(readFileSync(file, 'utf8')).toBe(renderJunit(twoHosts()))
  })
})
