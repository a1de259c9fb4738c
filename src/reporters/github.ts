// GitHub Actions dialect (`GITHUB_ACTIONS=true` or `--ci github`): workflow-command annotations
// on the failing spec lines, one per failing check (its hosts named), at most 10 per level
// (GitHub shows no more per step) and the rest summarised; and a Markdown job summary for
// $GITHUB_STEP_SUMMARY: the verdict, hosts × verdict, the top failures, kept under 1 MiB.
import { appendFileSync } from 'node:fs'
import type { CheckResult, HostResult, RunResult } from '../model.ts'
import { describeGate } from './rollout-notes.ts'
import { sanitizeLine, truncate } from './sanitize.ts'

export const CI_DIALECTS = ['github', 'none'] as const
export type CiDialect = (typeof CI_DIALECTS)[number]

/** `--ci` when given, else `github` under GitHub Actions. */
export function ciDialectFor(flag: CiDialect | undefined, env: NodeJS.ProcessEnv): CiDialect {
  return flag ?? (env.GITHUB_ACTIONS === 'true' ? 'github' : 'none')
}

/** GitHub shows at most 10 annotations of each level per step. */
export const ANNOTATIONS_PER_LEVEL = 10
/** GitHub refuses a step summary over 1 MiB; stay well under it. */
export const SUMMARY_MAX_BYTES = 1024 * 1024 - 64 * 1024

const VERDICTS: Record<number, string> = { 0: 'PASS', 1: 'FAIL', 2: 'ERROR', 3: 'CONFIG ERROR' }
const HOSTS_NAMED = 10

interface Finding {
  level: 'error' | 'warning'
  title: string
  file: string
  line?: number
  col?: number
  message: string
  hosts: string[]
}

/** Failing checks grouped by check (and how they failed), most widespread first; then warnings. */
function findings(run: RunResult): Finding[] {
  const byKey = new Map<string, Finding>()
  for (const host of run.hosts) {
    if (host.status === 'error' && host.error) {
      // one finding per kind of host error, not one per check it took down
      const key = `host\u0000${host.error.kind}`
      const name = sanitizeLine(host.host.name)
      const found = byKey.get(key)
      if (found) found.hosts.push(name)
      else
        byKey.set(key, {
          level: 'error',
          title: `verify ${host.error.kind}: hosts could not be verified`,
          file: '',
          message: `e.g. ${name}: ${truncate(sanitizeLine(host.error.message), 400)}`,
          hosts: [name],
        })
    }
    for (const check of host.checks) {
      if (
        host.status === 'error' &&
        host.error &&
        check.status === 'error' &&
        check.errorKind === host.error.kind &&
        check.message === host.error.message
      )
        continue
      const level = check.status === 'failed' || check.status === 'error' ? 'error' : check.warning ? 'warning' : undefined
      if (!level) continue
      const kind = check.status === 'failed' ? 'failed' : check.status === 'error' ? `error: ${check.errorKind ?? 'error'}` : 'warning'
      const key = `${check.id}\u0000${kind}`
      const name = sanitizeLine(host.host.name)
      const found = byKey.get(key)
      if (found) {
        found.hosts.push(name)
        continue
      }
      const at = check.failedAt
      byKey.set(key, {
        level,
        title: `verify ${kind}: ${sanitizeLine(check.path.join(' › '))}`,
        file: sanitizeLine(at?.file ?? check.file),
        ...((at?.line ?? check.line) !== undefined ? { line: at?.line ?? check.line } : {}),
        ...(at?.column !== undefined ? { col: at.column } : {}),
        message: describe(check),
        hosts: [name],
      })
    }
  }
  return [...byKey.values()].sort((a, b) => (a.level === b.level ? 0 : a.level === 'error' ? -1 : 1) || b.hosts.length - a.hosts.length)
}

function describe(check: CheckResult): string {
  const w = check.warning
  const expected = w ? w.expected : check.expected
  const actual = w ? w.actual : check.actual
  if (expected !== undefined || actual !== undefined)
    return `expected ${truncate(sanitizeLine(expected ?? '?'), 200)}, actual ${truncate(sanitizeLine(actual ?? '?'), 200)}`
  return truncate(sanitizeLine((w ? w.message : check.message) ?? check.status), 400)
}

function hostNames(hosts: string[], of: number): string {
  const shown = hosts.slice(0, HOSTS_NAMED).join(', ')
  return `on ${hosts.length}/${of} ${of === 1 ? 'host' : 'hosts'}: ${shown}${hosts.length > HOSTS_NAMED ? `, … (+${hosts.length - HOSTS_NAMED} more)` : ''}`
}

/** `::error file=…,line=…,title=…::message` lines, ≤ 10 per level, then one notice for the rest. */
export function renderAnnotations(run: RunResult): string {
  const lines: string[] = []
  const all = findings(run)
  const left = { error: 0, warning: 0 }
  const used = { error: 0, warning: 0 }
  for (const f of all) {
    if (used[f.level] >= ANNOTATIONS_PER_LEVEL) {
      left[f.level]++
      continue
    }
    used[f.level]++
    const props = [
      ...(f.file ? [`file=${property(f.file)}`] : []),
      ...(f.line !== undefined ? [`line=${f.line}`] : []),
      ...(f.col !== undefined ? [`col=${f.col}`] : []),
      `title=${property(f.title)}`,
    ]
    lines.push(`::${f.level} ${props.join(',')}::${data(`${f.message}\n${hostNames(f.hosts, run.hosts.length)}`)}`)
  }
  for (const err of run.configErrors.slice(0, ANNOTATIONS_PER_LEVEL - used.error))
    lines.push(`::error title=verify configuration error::${data(err)}`)
  if (left.error + left.warning > 0) {
    const parts = [left.error ? `${left.error} more failing checks` : '', left.warning ? `${left.warning} more warnings` : ''].filter(
      Boolean,
    )
    lines.push(
      `::notice title=${property('verify: more findings than annotations')}::${data(`${parts.join(' and ')} not annotated (GitHub shows ${ANNOTATIONS_PER_LEVEL} per level): see the job summary or the JUnit/JSON report`)}`,
    )
  }
  return lines.length > 0 ? `${lines.join('\n')}\n` : ''
}

// workflow-command escaping, as @actions/core does it
function data(text: string): string {
  return text.replaceAll('%', '%25').replaceAll('\r', '%0D').replaceAll('\n', '%0A')
}
function property(text: string): string {
  return data(text).replaceAll(':', '%3A').replaceAll(',', '%2C')
}

// ------------------------------------------------------------------ job summary

/** The job summary in GitHub-flavoured Markdown, cut to stay under SUMMARY_MAX_BYTES. */
export function renderGithubSummary(run: RunResult): string {
  const s = run.summary
  const verdict = VERDICTS[run.exitCode] ?? `exit ${run.exitCode}`
  const icon = run.exitCode === 0 ? '✅' : run.exitCode === 1 ? '❌' : '⚠️'
  const hostsPassed = s.hosts - s.hostsFailed - s.hostsErrored
  const out: string[] = [
    `## ${icon} verify: ${verdict} (exit ${run.exitCode})`,
    '',
    `${s.hosts} hosts: ${hostsPassed} passed, ${s.hostsFailed} failed, ${s.hostsErrored} could not be verified · ${s.checks} checks: ${s.passed} passed, ${s.failed} failed, ${s.errors} errors, ${s.skipped} skipped${s.warnings ? `, ${s.warnings} warnings` : ''} · ${(run.durationMs / 1000).toFixed(1)}s`,
  ]
  const gate = describeGate(run)
  if (gate) out.push('', `Gate: ${md(gate)}`)
  const sel = [
    run.target?.hosts ? `--hosts ${run.target.hosts}` : '',
    run.selection?.limit ? `--limit ${run.selection.limit}` : '',
    run.selection?.shard ? `--shard ${run.selection.shard}` : '',
    run.target?.expectVersion ? `--expect-version ${run.target.expectVersion}` : '',
    run.selection?.mergedFrom ? `merged from ${run.selection.mergedFrom.length} results` : '',
  ]
    .filter(Boolean)
    .map(t => `\`${code(t)}\``)
  if (sel.length > 0) out.push('', `Run: ${sel.join(' ')}`)
  for (const err of run.configErrors) out.push('', '```', err.replaceAll('```', "'''"), '```')

  const top = findings(run).filter(f => f.level === 'error')
  if (top.length > 0) {
    out.push('', '### Top failures', '', '| check | hosts | where | what |', '|---|---|---|---|')
    for (const f of top.slice(0, 20))
      out.push(
        `| ${md(f.title.replace(/^verify /, ''))} | ${f.hosts.length}: ${md(f.hosts.slice(0, 5).join(', '))}${f.hosts.length > 5 ? ', …' : ''} | ${f.file ? `\`${code(`${f.file}${f.line !== undefined ? `:${f.line}` : ''}`)}\`` : ''} | ${md(f.message)} |`,
      )
    if (top.length > 20) out.push('', `… and ${top.length - 20} more failing checks (JUnit/JSON report).`)
  }

  const rows = run.hosts.map(h => ({ h, v: verdictOf(h) })).sort((a, b) => RANK[a.v] - RANK[b.v])
  const bad = rows.filter(r => r.v !== 'passed')
  const good = rows.filter(r => r.v === 'passed')
  out.push('', '### Hosts', '', '| host | verdict | failed | errors | passed | skipped | time |', '|---|---|--:|--:|--:|--:|--:|')
  let body = out.join('\n')
  const rowsOut: string[] = []
  let bytes = Buffer.byteLength(body)
  let cut = 0
  for (const { h, v } of bad) {
    const line = hostRow(h, v)
    const size = Buffer.byteLength(line) + 1
    // room kept for the passing hosts' line and list
    if (bytes + size > SUMMARY_MAX_BYTES - 64 * 1024) {
      cut++
      continue
    }
    bytes += size
    rowsOut.push(line)
  }
  if (good.length > 0) rowsOut.push(`| ${good.length} ${good.length === 1 ? 'host' : 'hosts'} | ✅ passed | 0 | 0 | | | |`)
  body += `\n${rowsOut.join('\n')}`
  if (cut > 0) body += `\n\n… ${cut} more failing hosts left out to keep this summary under 1 MiB (JUnit/JSON report).`
  if (good.length > 0) {
    const names = good.map(r => md(sanitizeLine(r.h.host.name)))
    let list = names.join(', ')
    const room = SUMMARY_MAX_BYTES - Buffer.byteLength(body) - 256
    if (Buffer.byteLength(list) > room) list = `${truncate(list, Math.max(0, Math.floor(room / 4)))} (list cut)`
    body += `\n\n<details><summary>${good.length} hosts passed every check</summary>\n\n${list}\n\n</details>`
  }
  return `${body}\n`
}

type Verdict = 'error' | 'failed' | 'warned' | 'passed'
const RANK: Record<Verdict, number> = { error: 0, failed: 1, warned: 2, passed: 3 }
const VERDICT_CELL: Record<Verdict, string> = {
  error: '⚠️ error',
  failed: '❌ failed',
  warned: '🟡 passed with warnings',
  passed: '✅ passed',
}

function verdictOf(h: HostResult): Verdict {
  if (h.status === 'error' || h.checks.some(c => c.status === 'error')) return 'error'
  if (h.checks.some(c => c.status === 'failed')) return 'failed'
  return h.checks.some(c => c.warning) ? 'warned' : 'passed'
}

function hostRow(h: HostResult, v: Verdict): string {
  const n = (status: CheckResult['status']) => h.checks.filter(c => c.status === status).length
  const why = h.error ? ` (${md(h.error.kind)})` : ''
  return `| ${md(sanitizeLine(h.host.name))} | ${VERDICT_CELL[v]}${why} | ${n('failed')} | ${n('error')} | ${n('passed')} | ${n('skipped')} | ${(h.timings.totalMs / 1000).toFixed(1)}s |`
}

/** Text made inert in a Markdown table cell: no HTML, no pipes, no line breaks. */
function md(text: string): string {
  return truncate(sanitizeLine(text), 300).replace(/[\\`*_[\]<>|]/g, c => `\\${c}`)
}
function code(text: string): string {
  return sanitizeLine(text).replaceAll('`', "'")
}

/** Under the GitHub dialect: annotations to `out` (stdout), and the summary appended to $GITHUB_STEP_SUMMARY when set. */
export function writeGithub(run: RunResult, env: NodeJS.ProcessEnv, out: NodeJS.WritableStream): void {
  out.write(renderAnnotations(run))
  if (env.GITHUB_STEP_SUMMARY) appendFileSync(env.GITHUB_STEP_SUMMARY, renderGithubSummary(run), 'utf8')
}
