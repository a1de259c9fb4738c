// GitHub Actions dialect: annotations (≤ 10 per level, the rest summarised, escaped so output
// cannot forge a command) and the job summary (verdict, hosts × verdict, top failures, < 1 MiB).
import { describe, expect, it } from 'vitest'
import { exitCodeFor, summarize, type RunResult } from '../../src/model.ts'
import { ANNOTATIONS_PER_LEVEL, ciDialectFor, renderAnnotations, renderGithubSummary } from '../../src/reporters/github.ts'
import { fleetResult } from '../support/fleet-result.ts'

function withHostile(run: RunResult): RunResult {
  const host = run.hosts[3]!
  host.checks[4] = {
    ...host.checks[4]!,
    expected: 'a | b <script>alert(1)</script>',
    actual: '100% done\n::error::forged\r\n::warning file=x::y',
  }
  run.summary = summarize(run.hosts)
  run.exitCode = exitCodeFor(run.summary, [])
  return run
}

describe('GitHub annotations', () => {
  const run = withHostile(fleetResult({ hosts: 500, checks: 60 }))
  const lines = renderAnnotations(run).trimEnd().split('\n')

  it('gives one annotation per failing check (its hosts named), at most 10 per level, then one notice for the rest', () => {
    const errors = lines.filter(l => l.startsWith('::error '))
    const warnings = lines.filter(l => l.startsWith('::warning '))
    expect(errors.length).toBeLessThanOrEqual(ANNOTATIONS_PER_LEVEL)
    expect(warnings.length).toBeLessThanOrEqual(ANNOTATIONS_PER_LEVEL)
    expect(errors[0]).toMatch(
      /^::error file=specs\/shop\.spec\.ts,line=15,col=5,title=verify failed%3A suite 1 › check 5 reads its facts::expected .*%0Aon 20\/500 hosts: web-004\.prod\.example\.com, /,
    )
    expect(lines).toContainEqual(
      expect.stringMatching(
        /^::error title=verify unreachable%3A hosts could not be verified::e\.g\. web-014\.prod\.example\.com: connect ECONNREFUSED .*%0Aon 6\/500 hosts/,
      ),
    )
    expect(lines).toContainEqual(
      expect.stringMatching(/^::warning file=specs\/blog-release\.spec\.ts,line=19,title=verify warning%3A .*::expected < 90, actual 91/),
    )
  })

  it('summarises what did not fit in one notice', () => {
    const many = fleetResult({ hosts: 60, checks: 30 })
    // every host fails a check of its own: 60 distinct failing checks
    many.hosts.forEach((h, i) => {
      h.checks[i % 30] = { ...h.checks[i % 30]!, id: `x::${i}`, path: ['x', `own check ${i}`], status: 'failed', message: 'no' }
    })
    many.summary = summarize(many.hosts)
    const out = renderAnnotations(many).trimEnd().split('\n')
    expect(out.filter(l => l.startsWith('::error ')).length).toBe(ANNOTATIONS_PER_LEVEL)
    expect(out.at(-1)).toMatch(/^::notice title=verify%3A more findings than annotations::\d+ more failing checks not annotated/)
  })

  it('escapes host output so it can never start a workflow command of its own', () => {
    for (const line of lines) expect(line).toMatch(/^::(error|warning|notice) /)
    const hostile = lines.find(l => l.includes('forged'))!
    expect(hostile).toContain('100%25 done ::error::forged ::warning file=x::y')
  })

  it('is on under GITHUB_ACTIONS=true or --ci github, off otherwise', () => {
    expect(ciDialectFor(undefined, { GITHUB_ACTIONS: 'true' })).toBe('github')
    expect(ciDialectFor(undefined, {})).toBe('none')
    expect(ciDialectFor('github', {})).toBe('github')
    expect(ciDialectFor('none', { GITHUB_ACTIONS: 'true' })).toBe('none')
  })
})

describe('GitHub job summary', () => {
  it('has the verdict, the top failures and a hosts × verdict table, with table-breaking text escaped', () => {
    const md = renderGithubSummary(withHostile(fleetResult({ hosts: 500, checks: 60 })))
    expect(md).toMatch(/^## ⚠️ verify: ERROR \(exit 2\)\n\n500 hosts: 462 passed, 20 failed, 18 could not be verified/)
    expect(md).toContain('| check | hosts | where | what |')
    expect(md).toContain('| failed: suite 1 › check 5 reads its facts | 20: web-004.prod.example.com')
    expect(md).toContain('| web-462.prod.example.com | 🟡 passed with warnings |')
    expect(md).toContain('| web-014.prod.example.com | ⚠️ error (unreachable) | 0 | 60 | 0 | 0 |')
    expect(md).toContain('| 452 hosts | ✅ passed |')
    expect(md).toContain('<details><summary>452 hosts passed every check</summary>')
    expect(md).toContain('a \\| b \\<script\\>alert(1)\\</script\\>')
    expect(md).not.toContain('<script>')
  })

  it('stays under 1 MiB for 15000 failing hosts, saying what it left out', () => {
    const big = fleetResult({ hosts: 15000, checks: 4 })
    big.hosts.forEach((h, i) => {
      h.checks[0] = {
        ...h.checks[0]!,
        id: `x::${i}`,
        status: 'failed',
        message: 'x'.repeat(500),
        expected: 'y'.repeat(300),
        actual: 'z'.repeat(300),
      }
    })
    big.summary = summarize(big.hosts)
    const md = renderGithubSummary(big)
    expect(Buffer.byteLength(md)).toBeLessThan(1024 * 1024)
    expect(md).toMatch(/\n… \d+ more failing hosts left out to keep this summary under 1 MiB \(JUnit\/JSON report\)\./)
  })
})
