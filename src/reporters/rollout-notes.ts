// What the console adds for rollouts: time-to-green under --wait, warn-severity failures,
// and the --max-failing-hosts verdict; kept apart so console.ts only calls in.
import type { CheckResult, HostResult, RunResult } from '../model.ts'
import { sanitizeLine, truncate } from './sanitize.ts'

type Paint = (text: string) => string
interface Paints {
  yellow: Paint
  dim: Paint
  green?: Paint
  red?: Paint
}

const LISTED = 5

/** ` green after 12.3s (4 attempts)` / ` not green after 60.0s (9 attempts)`, only when it waited. */
export function waitNote(check: CheckResult): string {
  if (check.attempts === undefined || check.attempts <= 1) return ''
  if (check.timeToGreenMs !== undefined) return `  green after ${seconds(check.timeToGreenMs)} (${check.attempts} attempts)`
  if (check.waitedMs !== undefined) return `  not green after ${seconds(check.waitedMs)} (${check.attempts} attempts)`
  return ''
}

/** The attempts timeline of a check tried more than once: `attempts: ✓ 0s · ✗ 1.0s · ✓ 2.0s …` (a failed one's reason once). */
export function attemptLines(check: CheckResult): string[] {
  const log = check.attemptLog
  if (!log || log.length <= 1) return []
  const shown = log.length > 20 ? [...log.slice(0, 10), undefined, ...log.slice(-9)] : log
  const marks = shown.map(a => (a ? `${a.status === 'passed' ? '✓' : a.status === 'failed' ? '✗' : '!'} ${seconds(a.atMs)}` : '…'))
  const lastFailure = [...log].reverse().find(a => a.status !== 'passed' && a.message)
  return [
    `attempts: ${marks.join(' · ')}`,
    ...(lastFailure ? [`  last not passing (${seconds(lastFailure.atMs)}): ${truncate(sanitizeLine(lastFailure.message!), 200)}`] : []),
  ]
}

/** A warn-severity check that failed: one line under it. */
export function warningLines(check: CheckResult): string[] {
  const w = check.warning
  if (!w) return []
  if (w.expected !== undefined || w.actual !== undefined) {
    return [`warning: expected ${sanitizeLine(w.expected ?? '?')}, actual ${sanitizeLine(w.actual ?? '?')}`]
  }
  return [`warning: ${truncate(sanitizeLine(w.message ?? 'failed'), 300)}`]
}

/** The threshold's verdict, when --max-failing-hosts was given. */
export function gateLines(run: RunResult, paint: Paints): string[] {
  const text = describeGate(run)
  if (!text) return []
  const gate = run.gate!
  const mark = gate.failingHosts.length === 0 ? '' : gate.tolerated ? paint.yellow('⚠ ') : ''
  return [mark + text]
}

/** For many hosts: warnings and slow warm-ups, grouped by check. */
export function groupedRolloutLines(hosts: HostResult[], paint: Paints): string[] {
  const lines: string[] = []
  const warned = groupBy(hosts, c => c.warning !== undefined)
  if (warned.size > 0) {
    lines.push('Warnings (not failing the gate):')
    for (const [id, entries] of [...warned].slice(0, LISTED)) {
      lines.push(`  ${paint.yellow('⚠')} ${sanitizeLine(id)}`)
      lines.push(
        `      on ${entries.length}: ${entries
          .slice(0, 10)
          .map(e => e.host)
          .join(', ')}${entries.length > 10 ? ', …' : ''}`,
      )
      lines.push(paint.dim(`      e.g. ${entries[0]!.host}: ${warningLines(entries[0]!.check)[0] ?? ''}`))
    }
  }
  const waited = groupBy(hosts, c => (c.attempts ?? 1) > 1)
  if (waited.size > 0) {
    lines.push('Time to green (--wait):')
    for (const [id, entries] of [...waited].slice(0, LISTED)) {
      const green = entries.filter(e => e.check.timeToGreenMs !== undefined).sort((a, b) => a.check.timeToGreenMs! - b.check.timeToGreenMs!)
      const never = entries.length - green.length
      const slowest = green.at(-1)
      const median = green[Math.floor((green.length - 1) / 2)]
      const parts = [
        green.length > 0
          ? `green on ${green.length} after waiting, median ${seconds(median!.check.timeToGreenMs!)}, slowest ${seconds(slowest!.check.timeToGreenMs!)} (${slowest!.host})`
          : '',
        never > 0 ? `never green on ${never}` : '',
      ].filter(p => p !== '')
      lines.push(`  ${sanitizeLine(id)}`)
      lines.push(paint.dim(`      ${parts.join('; ')}`))
    }
  }
  return lines
}

function groupBy(hosts: HostResult[], keep: (c: CheckResult) => boolean): Map<string, Array<{ host: string; check: CheckResult }>> {
  const groups = new Map<string, Array<{ host: string; check: CheckResult }>>()
  for (const host of hosts) {
    for (const check of host.checks) {
      if (!keep(check)) continue
      const list = groups.get(check.id) ?? []
      list.push({ host: sanitizeLine(host.host.name), check })
      groups.set(check.id, list)
    }
  }
  return new Map([...groups].sort((a, b) => b[1].length - a[1].length))
}

function seconds(ms: number): string {
  return `${(ms / 1000).toFixed(1)}s`
}

/** JUnit system-out of a passed case: `WARNING: …` for a warn-severity failure, and the wait. */
export function passedNotes(check: CheckResult): string | undefined {
  const lines: string[] = []
  const w = check.warning
  if (w) {
    lines.push(`WARNING (severity warn, does not fail the gate): ${w.message ?? 'failed'}`)
    if (w.expected !== undefined) lines.push(`expected: ${w.expected}`)
    if (w.actual !== undefined) lines.push(`actual:   ${w.actual}`)
  }
  const wait = waitNote(check).trim()
  if (wait) lines.push(wait)
  return lines.length > 0 ? lines.join('\n') : undefined
}

/** The verdict line for a run under a threshold. */
export function describeGate(run: RunResult): string | undefined {
  const gate = run.gate
  if (!gate) return undefined
  const n = gate.failingHosts.length
  const list = gate.failingHosts.slice(0, 10).join(', ') + (n > 10 ? `, … (+${n - 10} more)` : '')
  if (n === 0) return `--max-failing-hosts ${gate.maxFailingHosts}: no host failed`
  if (gate.tolerated)
    return `--max-failing-hosts ${gate.maxFailingHosts} tolerated ${n} failing host${n === 1 ? '' : 's'} of ${run.hosts.length} (allowed ${gate.allowed}): ${list}`
  return `--max-failing-hosts ${gate.maxFailingHosts}: ${n} failing host${n === 1 ? '' : 's'} of ${run.hosts.length} exceed${n === 1 ? 's' : ''} the ${gate.allowed} allowed: ${list}`
}
