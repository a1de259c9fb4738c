// Skipped checks and hosts nothing verified, in every view: the reason on the console, in
// JSON and as JUnit <skipped message>; a host on which no check applies is flagged; a run
// in which every check was skipped verified nothing (exit 3). And secret redaction.
import { describe, expect, it } from 'vitest'
import { XMLParser } from 'fast-xml-parser'
import { exitCodeFor, SCHEMA_VERSION, summarize } from '../../src/model.ts'
import type { CheckResult, CheckStatus, HostResult, RunResult } from '../../src/model.ts'
import { renderConsole } from '../../src/reporters/console.ts'
import { renderJunit } from '../../src/reporters/junit.ts'
import { renderJson } from '../../src/reporters/json.ts'
import { makeRedactor, redactRun } from '../../src/reporters/redact.ts'

const FILE = 'specs/shop.spec.ts'
const check = (path: string[], status: CheckStatus, extra: Partial<CheckResult> = {}): CheckResult => ({
  id: `${FILE}::${path.join(' › ')}`,
  file: FILE,
  path,
  status,
  durationMs: status === 'skipped' ? 0 : 12,
  facts: [],
  ...extra,
})
const host = (name: string, checks: CheckResult[], extra: Partial<HostResult> = {}): HostResult => ({
  host: { name, address: '10.0.0.1', port: 22, transport: 'ssh', groups: ['web'] },
  status: 'verified',
  checks,
  timings: { totalMs: 100 },
  execChannels: 1,
  ...extra,
})
const runOf = (hosts: HostResult[]): RunResult => {
  const summary = summarize(hosts)
  return {
    schemaVersion: SCHEMA_VERSION,
    tool: { name: 'postdeploy-verify', version: '0' },
    startedAt: '2025-01-01T00:00:00Z',
    finishedAt: '2025-01-01T00:00:01Z',
    durationMs: 1000,
    configErrors: [],
    hosts,
    summary,
    exitCode: exitCodeFor(summary, []),
  }
}

const mixed = (): RunResult =>
  runOf([
    host('shop-1', [
      check(['Shop', 'storefront', 'GET /'], 'passed', { tags: ['smoke'] }),
      check(['Shop', 'job runner'], 'skipped', { message: 'host is not in group shop-workers' }),
    ]),
    host('db-1', [check(['Shop'], 'skipped', { message: 'var app is not "shop"' })], {
      noChecksApply: true,
      execChannels: 0,
      timings: { totalMs: 0 },
    }),
  ])

describe('skipped checks and unverified hosts', () => {
  it('console: the reason next to the check, the host flagged, the summary says it', () => {
    const out = renderConsole(mixed(), { color: false })
    expect(out).toContain('    - Shop › job runner  skipped: host is not in group shop-workers')
    expect(out).toMatch(/^- db-1 \(10\.0\.0\.1:22\) NO CHECKS APPLY  1 check: 1 skipped$/m)
    expect(out).toMatch(/2 hosts, 3 checks: 1 passed, 0 failed, 0 errors, 2 skipped in 1\.0s; no check applies on 1 host\nPASS \(exit 0\)/)
  })

  it('console: a long run of skips with one reason is one line', () => {
    const many = Array.from({ length: 6 }, (_, i) => check(['Shop', `c${i}`], 'skipped', { message: 'not tagged smoke (--tags)' }))
    const out = renderConsole(runOf([host('shop-1', [check(['Shop', 'GET /'], 'passed'), ...many])]), { color: false })
    expect(out).toContain('    - 6 checks skipped: not tagged smoke (--tags)')
    expect(out).not.toContain('c3')
  })

  it('console, many hosts: the unverified ones are listed', () => {
    const hosts = Array.from({ length: 12 }, (_, i) =>
      i < 2
        ? host(`db-${i}`, [check(['Shop'], 'skipped', { message: 'x' })], { noChecksApply: true })
        : host(`web-${i}`, [check(['Shop', 'GET /'], 'passed')]),
    )
    expect(renderConsole(runOf(hosts), { color: false })).toContain('- no check applies on 2 hosts: db-0, db-1')
  })

  it('JUnit: <skipped message>, and a host nothing verified flagged (property, system-out) without an extra row', () => {
    const xml = new XMLParser({ ignoreAttributes: false, attributeNamePrefix: '' }).parse(renderJunit(mixed()))
    const [shop, db] = xml.testsuites.testsuite
    expect(shop.testcase[1].skipped).toEqual({ message: 'host is not in group shop-workers' })
    // as many rows as checks, so JUnit counts what the console and the JSON count
    expect(db.skipped).toBe(String(mixed().hosts[1]!.checks.length))
    expect(db.tests).toBe(db.skipped)
    expect(db['system-out']).toMatch(/no check applies to this host: every check was skipped/)
    expect(db.properties.property).toContainEqual({ name: 'noChecksApply', value: 'true' })
  })

  it('JSON: status skipped with the reason as message, the host flag, the summary count', () => {
    const json = JSON.parse(renderJson(mixed())) as RunResult
    expect(json.hosts[0]!.checks[1]).toMatchObject({ status: 'skipped', message: 'host is not in group shop-workers' })
    expect(json.hosts[0]!.checks[0]!.tags).toEqual(['smoke'])
    expect(json.hosts[1]!.noChecksApply).toBe(true)
    expect(json.summary.hostsWithNoChecks).toBe(1)
  })

  it('every check skipped verifies nothing: exit 3', () => {
    expect(runOf([host('db-1', [check(['Shop'], 'skipped')], { noChecksApply: true })]).exitCode).toBe(3)
  })
})

describe('redaction', () => {
  const SECRET = 's3cr"et-Ω'
  const redact = makeRedactor([
    { name: 'db.password', value: SECRET },
    { name: 'token', value: 'tok' },
    { name: 'empty', value: '' },
  ])

  it('replaces the value, and its JSON-escaped form, wherever it appears', () => {
    expect(redact(`pw=${SECRET} json=${JSON.stringify(SECRET)} tok tokens`)).toBe(
      'pw=[secret:db.password] json="[secret:db.password]" [secret:token] [secret:token]ens',
    )
  })

  it('covers every string of a run, so every report', () => {
    const run = runOf([
      host(
        `web-${SECRET}`,
        [
          check(['uses', SECRET], 'failed', {
            expected: JSON.stringify(SECRET),
            actual: '"x"',
            message: `expected ${SECRET}`,
            facts: [`command:echo ${SECRET}`],
          }),
        ],
        {
          error: { kind: 'fact', message: SECRET },
        },
      ),
    ])
    const redacted = redactRun({ ...run, configErrors: [`bad ${SECRET}`] }, redact)
    for (const text of [renderConsole(redacted, { color: false }), renderJson(redacted), renderJunit(redacted)]) {
      expect(text).not.toContain('s3cr')
      expect(text).toContain('[secret:db.password]')
    }
  })

  it('is the identity with no secrets', () => {
    expect(makeRedactor([])('anything')).toBe('anything')
  })
})
