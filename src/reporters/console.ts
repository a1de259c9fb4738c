// Console view of a RunResult: every check on a few hosts, grouped failures on many,
// and always the summary and verdict lines a pipeline log is read for.
import type { CheckResult, CheckStatus, HostResult, RunResult } from '../model.ts'
import { sanitize, sanitizeLine, truncate } from './sanitize.ts'
import { attemptLines, gateLines, groupedRolloutLines, waitNote, warningLines } from './rollout-notes.ts'
import { truncationNote } from './truncation-note.ts'
import { headline, indent, LINE_WIDTH, markedBlock, messageLines, valueLines, VALUE_LINES, WRAP_WIDTH, wrapLine } from './console-text.ts'

export interface ConsoleOptions {
  color: boolean
  /** Above this many hosts, failures are grouped by check instead of listed per host. Default 10. */
  maxHostsDetailed?: number
}

const DEFAULT_MAX_HOSTS_DETAILED = 10
// bounds that keep a 500-host run readable: the JUnit and JSON reports hold everything
const HOSTS_LISTED = 10
const GROUPS_LISTED = 5
const SKIPS_LISTED = 3

const MARKERS: Record<CheckStatus, string> = { passed: '✓', failed: '✗', error: '!', skipped: '-', waived: '~' }

type Paint = (text: string) => string
interface Style {
  green: Paint
  red: Paint
  yellow: Paint
  dim: Paint
  bold: Paint
}

/** Colour only for a terminal; FORCE_COLOR wins over NO_COLOR, as in Node itself. */
export function shouldUseColor(stream: Pick<NodeJS.WriteStream, 'isTTY'>, env: NodeJS.ProcessEnv = process.env): boolean {
  const force = env.FORCE_COLOR
  if (force !== undefined) return force !== '0' && force !== 'false'
  // no-color.org: present and not empty
  if (env.NO_COLOR) return false
  if (env.NODE_DISABLE_COLORS !== undefined || env.TERM === 'dumb') return false
  return stream.isTTY === true
}

export function renderConsole(run: RunResult, opts: ConsoleOptions): string {
  const style = makeStyle(opts.color)
  const maxDetailed = opts.maxHostsDetailed ?? DEFAULT_MAX_HOSTS_DETAILED
  const lines: string[] = []
  if (run.configErrors.length > 0) lines.push(...configErrorLines(run.configErrors, style), '')
  const body = run.hosts.length <= maxDetailed ? detailedLines(run.hosts, style) : groupedLines(run.hosts, style)
  if (body.length > 0) lines.push(...body, '')
  lines.push(...waiverWarningLines(run, style), summaryLine(run), ...gateLines(run, style), verdictLine(run, style))
  return `${lines.join('\n')}\n`
}

function makeStyle(color: boolean): Style {
  const sgr = (open: number, close: number): Paint => (color ? text => `\u001b[${open}m${text}\u001b[${close}m` : text => text)
  return { green: sgr(32, 39), red: sgr(31, 39), yellow: sgr(33, 39), dim: sgr(2, 22), bold: sgr(1, 22) }
}

function configErrorLines(errors: string[], style: Style): string[] {
  const lines = [style.bold(style.red('Configuration errors:'))]
  for (const error of errors) lines.push(...markedBlock(style.red('!'), sanitize(error), '  '))
  return lines
}

// ---------------------------------------------------------------- few hosts: every check

function detailedLines(hosts: HostResult[], style: Style): string[] {
  return hosts.flatMap((host, i) => [...(i > 0 ? [''] : []), ...hostBlock(host, style)])
}

function hostBlock(host: HostResult, style: Style): string[] {
  const lines = [hostHeader(host, style)]
  if (host.error) lines.push(...markedBlock(style.yellow('!'), `${host.error.kind}: ${sanitize(host.error.message)}`, '  '))
  // checks that errored only because the host did: the error is stated once, above, with their count
  const notRun = host.checks.filter(check => repeatsHostError(check, host)).length
  if (notRun > 0) lines.push(`    ${style.dim(`(${plural(notRun, 'check')} not run because of it)`)}`)
  let file: string | undefined
  for (const run of collapseSkips(host.checks.filter(check => !repeatsHostError(check, host)))) {
    const check = run[0]!
    // a file line whenever the spec file changes, so equal describe titles stay distinguishable
    if (check.file !== file) lines.push(`  ${style.dim(sanitizeLine(check.file))}`)
    file = check.file
    if (run.length === 1) lines.push(...checkLines(check, host, style))
    else
      lines.push(`    ${statusMarker('skipped', style)} ${run.length} checks ${style.dim(`skipped: ${sanitizeLine(check.message ?? '')}`)}`)
  }
  return lines
}

/** Consecutive skipped checks of one file with one reason: shown as one line when more than SKIPS_LISTED. */
function collapseSkips(checks: CheckResult[]): CheckResult[][] {
  const runs: CheckResult[][] = []
  for (const check of checks) {
    const last = runs.at(-1)
    const same =
      last &&
      check.status === 'skipped' &&
      last[0]!.status === 'skipped' &&
      last[0]!.file === check.file &&
      last[0]!.message === check.message
    if (same) last.push(check)
    else runs.push([check])
  }
  return runs.flatMap(run => (run.length > SKIPS_LISTED ? [run] : run.map(c => [c])))
}

function hostHeader(host: HostResult, style: Style): string {
  if (host.noChecksApply) {
    const counts = `  ${style.dim(checkCounts(host.checks))}`
    return `${style.yellow('-')} ${style.bold(sanitizeLine(host.host.name))} ${style.dim(`(${hostAddress(host)})`)} ${style.yellow('NO CHECKS APPLY')}${counts}`
  }
  const verdict = hostVerdict(host)
  const word = { passed: style.green('PASSED'), failed: style.red('FAILED'), error: style.yellow('ERROR') }[verdict]
  const marker = { passed: style.green('✓'), failed: style.red('✗'), error: style.yellow('!') }[verdict]
  const counts = host.checks.length > 0 ? `  ${style.dim(checkCounts(host.checks))}` : ''
  return `${marker} ${style.bold(sanitizeLine(host.host.name))} ${style.dim(`(${hostAddress(host)})`)} ${word}${counts}`
}

function noteLine(note: string, style: Style): string[] {
  return note ? [style.dim(truncate(note, LINE_WIDTH))] : []
}

function checkLines(check: CheckResult, _host: HostResult, style: Style): string[] {
  const title = sanitizeLine(check.path.join(' › ') || check.id)
  // a skipped check took no time: no duration to show
  const time = check.status === 'skipped' ? '' : ` ${style.dim(formatMs(check.durationMs))}`
  const marker = check.warning ? style.yellow('⚠') : statusMarker(check.status, style)
  const head = `    ${marker} ${title}${time}${style.dim(waitNote(check))}`
  if (check.status === 'passed')
    return [head, ...indent([...warningLines(check), ...attemptLines(check), ...noteLine(truncationNote(check), style)], '        ')]
  if (check.status === 'skipped') return [`${head}${check.message ? style.dim(`  skipped: ${sanitizeLine(check.message)}`) : ''}`]
  if (check.status === 'waived')
    return [`${head}  ${style.yellow(`waived: ${waiverText(check)}`)}`, ...indent(problemDetail(check).map(style.dim), '        ')]
  return [head, ...indent([...problemDetail(check), ...codeFrameLines(check, style), ...attemptLines(check)], '        ')]
}

/** expected/actual then the message for a failure; kind and message for an error. */
function problemDetail(check: CheckResult): string[] {
  const lines: string[] = []
  if (check.status === 'failed' || check.status === 'waived') {
    // wrapped, then capped: a 1 MiB actual value would otherwise be a 1 MiB console line
    if (check.expected !== undefined) lines.push(...valueLines('expected: ', check.expected))
    if (check.actual !== undefined) lines.push(...valueLines('actual:   ', check.actual))
    if (check.message) lines.push(...messageLines(check.message))
    return lines
  }
  const [first = '', ...rest] = messageLines(check.message ?? 'error')
  return [`${check.errorKind ?? 'error'}: ${first}`, ...rest]
}

/** Where the failing expect (or the throwing spec line) is, with the source around it, as Vitest shows it. */
function codeFrameLines(check: CheckResult, style: Style): string[] {
  const at = check.failedAt
  if (!at || (check.status !== 'failed' && check.errorKind !== 'spec')) return []
  const where = `at ${sanitizeLine(at.file)}:${at.line}${at.column === undefined ? '' : `:${at.column}`}`
  const frame = at.frame
    ? sanitize(at.frame)
        .split('\n')
        .map(line => (line.startsWith('>') ? style.red(line) : style.dim(line)))
    : []
  // a spec error's message already starts with file:line
  return [...(check.errorKind === 'spec' ? [] : [style.dim(where)]), ...frame]
}

// ---------------------------------------------------------------- many hosts: grouped

interface Group {
  title: string
  hosts: string[]
  /** Hosts on which the check ran: the denominator of "failed on 37/500". */
  of?: number
  /** One host's actual message; left out when the title already says it all. */
  example?: string
  /** file:line of the failing expect, when known. */
  at?: string
}

function groupedLines(hosts: HostResult[], style: Style): string[] {
  const lines: string[] = []
  const ranOn = countHostsPerCheck(hosts)
  const failed = groupChecks(hosts, 'failed', ranOn)
  const errored = groupChecks(hosts, 'error', ranOn)
  const hostErrors = groupHostErrors(hosts)
  lines.push(...section('Failed checks', failed, 'failed on', style.red('✗'), style))
  lines.push(...section('Errored checks', errored, 'errored on', style.yellow('!'), style))
  lines.push(...section('Hosts that could not be verified', hostErrors, 'on', style.yellow('!'), style))
  const unchecked = hosts.filter(host => host.noChecksApply).map(host => sanitizeLine(host.host.name))
  if (unchecked.length > 0)
    lines.push(
      `${style.yellow('-')} no check applies on ${unchecked.length} ${unchecked.length === 1 ? 'host' : 'hosts'}: ${hostList(unchecked)}`,
    )
  lines.push(...groupedRolloutLines(hosts, style))
  const passing = hosts.filter(host => hostVerdict(host) === 'passed' && !host.noChecksApply).length
  lines.push(`${style.green('✓')} ${passing}/${hosts.length} hosts passed every check`)
  return lines
}

function section(title: string, groups: Group[], verb: string, marker: string, style: Style): string[] {
  if (groups.length === 0) return []
  const lines = [style.bold(`${title}:`)]
  for (const group of groups.slice(0, GROUPS_LISTED)) {
    const ratio = group.of === undefined ? `${group.hosts.length} hosts` : `${group.hosts.length}/${group.of}`
    const [title = '', ...more] = wrapLine(group.title, WRAP_WIDTH)
    lines.push(`  ${marker} ${title}`, ...indent(more, '    '))
    if (group.at) lines.push(style.dim(`      at ${group.at}`))
    lines.push(`      ${verb} ${ratio}: ${hostList(group.hosts)}`)
    if (group.example)
      lines.push(...wrapLine(`e.g. ${group.example}`, WRAP_WIDTH).map((line, i) => style.dim(`${i === 0 ? '      ' : '        '}${line}`)))
  }
  const hidden = groups.length - GROUPS_LISTED
  if (hidden > 0) lines.push(style.dim(`  … and ${hidden} more (see the JUnit or JSON report)`))
  return lines
}

/** Failed or errored checks by check id, most widespread first. */
function groupChecks(hosts: HostResult[], status: 'failed' | 'error', ranOn: Map<string, number>): Group[] {
  const groups = new Map<string, Group>()
  for (const host of hosts) {
    for (const check of host.checks) {
      if (check.status !== status || (status === 'error' && repeatsHostError(check, host))) continue
      const name = sanitizeLine(host.host.name)
      const group = groups.get(check.id)
      if (group) group.hosts.push(name)
      else
        groups.set(check.id, {
          title: sanitizeLine(check.id),
          hosts: [name],
          of: ranOn.get(check.id),
          example: `${name}: ${checkSummary(check)}`,
          ...(check.failedAt ? { at: `${sanitizeLine(check.failedAt.file)}:${check.failedAt.line}` } : {}),
        })
    }
  }
  return sortGroups([...groups.values()])
}

/** Host-level errors by kind and message, with the host's own name and address masked so they group. */
function groupHostErrors(hosts: HostResult[]): Group[] {
  const groups = new Map<string, Group>()
  for (const host of hosts) {
    if (host.status !== 'error') continue
    const name = sanitizeLine(host.host.name)
    const message = headline(host.error?.message ?? 'could not be verified', Infinity)
    const masked = maskHost(message, host)
    const key = `${host.error?.kind ?? 'error'}: ${masked}`
    const group = groups.get(key)
    if (group) group.hosts.push(name)
    else groups.set(key, { title: key, hosts: [name], example: masked === message ? undefined : `${name}: ${message}` })
  }
  return sortGroups([...groups.values()])
}

function sortGroups(groups: Group[]): Group[] {
  return groups.sort((a, b) => b.hosts.length - a.hosts.length || a.title.localeCompare(b.title))
}

function countHostsPerCheck(hosts: HostResult[]): Map<string, number> {
  const counts = new Map<string, number>()
  for (const host of hosts) for (const check of host.checks) counts.set(check.id, (counts.get(check.id) ?? 0) + 1)
  return counts
}

function hostList(names: string[]): string {
  const shown = names.slice(0, HOSTS_LISTED).join(', ')
  const more = names.length - HOSTS_LISTED
  return more > 0 ? `${shown}, … (+${more} more)` : shown
}

function maskHost(message: string, host: HostResult): string {
  const needles = [host.host.address, host.host.name].map(sanitizeLine).filter(s => s.length > 0)
  // longest first, so a name that contains the address is masked whole
  needles.sort((a, b) => b.length - a.length)
  return needles.reduce((text, needle) => text.replaceAll(needle, '<host>'), message)
}

// ---------------------------------------------------------------- summary and verdict

function summaryLine(run: RunResult): string {
  const s = run.summary
  const secs = (Math.max(0, run.durationMs) / 1000).toFixed(1)
  const unchecked = s.hostsWithNoChecks ? `; no check applies on ${plural(s.hostsWithNoChecks, 'host')}` : ''
  const warned = s.warnings ? ` (${s.warnings} with warnings)` : ''
  const waived = s.waived ? `, ${s.waived} waived` : ''
  return `${plural(s.hosts, 'host')}, ${plural(s.checks, 'check')}: ${s.passed} passed${warned}, ${s.failed} failed${waived}, ${plural(s.errors, 'error')}, ${s.skipped} skipped in ${secs}s${unchecked}`
}

/** `justification (until DATE, waivers.yaml:3)`. */
function waiverText(check: CheckResult): string {
  const w = check.waiver
  return w ? sanitizeLine(`${w.justification} (until ${w.expires}, ${w.source})`) : ''
}

/** A waiver that matched no check: probably a renamed check or a retired host, worth cleaning up. */
function waiverWarningLines(run: RunResult, style: Style): string[] {
  return (run.waivers?.unmatched ?? []).map(text => style.yellow(`warning: ${sanitizeLine(text)}`))
}

function verdictLine(run: RunResult, style: Style): string {
  const code = run.exitCode
  if (code === 0) return style.bold(style.green('PASS (exit 0)'))
  const of = `of ${plural(run.summary.hosts, 'host')}`
  if (code === 1) return style.bold(style.red(`FAIL (exit 1)`)) + `: ${run.summary.hostsFailed} ${of} failed a check`
  if (code === 2) return style.bold(style.yellow('ERROR (exit 2)')) + `: ${run.summary.hostsErrored} ${of} could not be fully verified`
  const bugs = run.summary.specErrors ?? 0
  if (bugs > 0 && run.configErrors.length === 0) {
    return (
      style.bold(style.red(`SPEC ERROR (exit ${code})`)) +
      `: ${plural(bugs, 'check')} hit a bug in the spec (above, with file:line): fix the spec; \`npx verify check\` finds most of these without a host`
    )
  }
  const why = run.configErrors.length > 0 ? 'CONFIG ERROR' : 'NOTHING VERIFIED'
  return style.bold(style.red(`${why} (exit ${code})`))
}

// ---------------------------------------------------------------- helpers

function hostVerdict(host: HostResult): 'passed' | 'failed' | 'error' {
  if (host.status === 'error' || host.checks.some(c => c.status === 'error')) return 'error'
  return host.checks.some(c => c.status === 'failed') ? 'failed' : 'passed'
}

function hostAddress(host: HostResult): string {
  if (host.host.transport === 'local') return 'local'
  const user = host.host.user ? `${sanitizeLine(host.host.user)}@` : ''
  return `${user}${sanitizeLine(host.host.address)}:${host.host.port}`
}

/** `3 checks: 1 passed, 1 failed, 1 error` with zero counts left out. */
function checkCounts(checks: CheckResult[]): string {
  const count = (status: CheckStatus) => checks.filter(c => c.status === status).length
  const parts = (['passed', 'failed', 'waived', 'error', 'skipped'] as const)
    .map(status => [count(status), status] as const)
    .filter(([n]) => n > 0)
    .map(([n, status]) => (status === 'error' ? plural(n, 'error') : `${n} ${status}`))
  return `${plural(checks.length, 'check')}: ${parts.join(', ')}`
}

/** `1 host`, `2 hosts`. */
function plural(n: number, noun: string): string {
  return `${n} ${n === 1 ? noun : `${noun}s`}`
}

/** A check that errored only because its host did: shown once, under the host. */
function repeatsHostError(check: CheckResult, host: HostResult): boolean {
  return host.error !== undefined && check.status === 'error' && (check.message ?? '') === host.error.message
}

function checkSummary(check: CheckResult): string {
  if (check.status === 'failed' && (check.expected !== undefined || check.actual !== undefined)) {
    return truncate(
      `expected ${sanitizeLine(check.expected ?? '?')}, actual ${sanitizeLine(check.actual ?? '?')}`,
      LINE_WIDTH * VALUE_LINES,
    )
  }
  const prefix = check.status === 'error' ? `${check.errorKind ?? 'error'}: ` : ''
  return prefix + headline(check.message ?? check.status)
}

function statusMarker(status: CheckStatus, style: Style): string {
  const paint = { passed: style.green, failed: style.red, error: style.yellow, skipped: style.dim, waived: style.yellow }[status]
  return paint(MARKERS[status])
}

function formatMs(ms: number): string {
  if (!Number.isFinite(ms) || ms < 0) return ''
  return ms < 1000 ? `${Math.round(ms)}ms` : `${(ms / 1000).toFixed(1)}s`
}
