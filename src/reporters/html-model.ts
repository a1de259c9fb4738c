// The HTML report's data: the RunResult made compact enough for 500 hosts × 60 checks in one
// file. Columns are the checks (union over hosts, first seen first); each host is one status
// letter per column, its durations, and details only for the cells that need them.
import type { CheckResult, FailureLocation, HostResult, RunResult } from '../model.ts'
import { describeGate } from './rollout-notes.ts'
import { sanitize, sanitizeLine } from './sanitize.ts'

/** p passed, f failed, e error, s skipped, w passed with a warning (severity warn), space: not on this host. */
export type CellCode = 'p' | 'f' | 'e' | 's' | 'w' | ' '

export interface HtmlColumn {
  id: string
  title: string
  file: string
  line?: number
  /** Facts most hosts read for this check (indexes into facts); a cell lists its own only when they differ. */
  facts: number[]
}

export interface HtmlCellDetail {
  message?: string
  expected?: string
  actual?: string
  kind?: string
  at?: FailureLocation
  timeToGreenMs?: number
  waitedMs?: number
  attempts?: number
  facts?: number[]
  truncatedFacts?: string[]
}

export interface HtmlHost {
  name: string
  address: string
  groups: string[]
  /** One CellCode per column. */
  cells: string
  /** Duration per column, ms (0 where not on this host). */
  ms: number[]
  totalMs: number
  error?: { kind: string; message: string }
  /** Column index → detail, for every cell that is not a plain pass. */
  details: Record<number, HtmlCellDetail>
}

export interface HtmlData {
  header: {
    verdict: string
    exitCode: number
    startedAt: string
    durationMs: number
    tool: string
    gate?: string
    summary: RunResult['summary']
    target?: RunResult['target']
    selection?: RunResult['selection']
    interrupted?: string
    configErrors: string[]
  }
  columns: HtmlColumn[]
  facts: string[]
  hosts: HtmlHost[]
}

const VERDICTS: Record<number, string> = { 0: 'PASS', 1: 'FAIL', 2: 'ERROR', 3: 'CONFIG ERROR' }

export function htmlData(run: RunResult): HtmlData {
  const columns: HtmlColumn[] = []
  const byId = new Map<string, number>()
  const facts: string[] = []
  const factIndex = new Map<string, number>()
  const intern = (key: string) => {
    let i = factIndex.get(key)
    if (i === undefined) factIndex.set(key, (i = facts.push(sanitizeLine(key)) - 1))
    return i
  }
  for (const host of run.hosts) {
    for (const check of host.checks) {
      if (byId.has(check.id)) continue
      byId.set(check.id, columns.length)
      columns.push({
        id: sanitizeLine(check.id),
        title: sanitizeLine(check.path.join(' › ')),
        file: sanitizeLine(check.file),
        ...(check.line === undefined ? {} : { line: check.line }),
        facts: [],
      })
    }
  }
  // a column's facts: those of its first run (not skipped) cell; most hosts read the same
  const seen = new Set<number>()
  for (const host of run.hosts) {
    for (const check of host.checks) {
      const col = byId.get(check.id)!
      if (seen.has(col) || check.status === 'skipped' || check.facts.length === 0) continue
      seen.add(col)
      columns[col]!.facts = check.facts.map(intern)
    }
  }
  const hosts = run.hosts.map(host => hostData(host, byId, columns, intern))
  return {
    header: {
      verdict: VERDICTS[run.exitCode] ?? `exit ${run.exitCode}`,
      exitCode: run.exitCode,
      startedAt: run.startedAt,
      durationMs: run.durationMs,
      tool: `${run.tool.name} ${run.tool.version}`,
      ...(describeGate(run) ? { gate: sanitizeLine(describeGate(run)!) } : {}),
      summary: run.summary,
      ...(run.target ? { target: run.target } : {}),
      ...(run.selection ? { selection: run.selection } : {}),
      ...(run.interrupted ? { interrupted: run.interrupted } : {}),
      configErrors: run.configErrors.map(sanitize),
    },
    columns,
    facts,
    hosts,
  }
}

function hostData(host: HostResult, byId: Map<string, number>, columns: HtmlColumn[], intern: (key: string) => number): HtmlHost {
  const cells: CellCode[] = Array.from({ length: columns.length }, () => ' ')
  const ms: number[] = Array.from({ length: columns.length }, () => 0)
  const details: Record<number, HtmlCellDetail> = {}
  for (const check of host.checks) {
    const col = byId.get(check.id)!
    cells[col] = code(check)
    ms[col] = Math.round(check.durationMs)
    const detail = cellDetail(check, columns[col]!, intern)
    if (detail) details[col] = detail
  }
  const { name, address, port, transport, groups } = host.host
  return {
    name: sanitizeLine(name),
    address: transport === 'local' ? 'local' : `${sanitizeLine(address)}:${port}`,
    groups: groups.map(sanitizeLine),
    cells: cells.join(''),
    ms,
    totalMs: Math.round(host.timings.totalMs),
    ...(host.error ? { error: { kind: host.error.kind, message: sanitize(host.error.message) } } : {}),
    details,
  }
}

function code(check: CheckResult): CellCode {
  if (check.status === 'passed') return check.warning ? 'w' : 'p'
  if (check.status === 'failed') return 'f'
  if (check.status === 'error') return 'e'
  // a waived failure: accepted for now, shown like a warning (its detail names the waiver)
  if (check.status === 'waived') return 'w'
  return 's'
}

function cellDetail(check: CheckResult, column: HtmlColumn, intern: (key: string) => number): HtmlCellDetail | undefined {
  const ownFacts = check.facts.map(intern)
  const sameFacts = ownFacts.length === column.facts.length && ownFacts.every((f, i) => f === column.facts[i])
  // the common case, a plain pass reading what the column reads, has nothing to add
  if (
    sameFacts &&
    check.status === 'passed' &&
    !check.warning &&
    (check.attempts ?? 1) <= 1 &&
    !check.truncatedFacts?.length &&
    !check.message
  )
    return undefined
  const warning = check.warning
  const detail: HtmlCellDetail = {
    ...text('message', warning ? `warning: ${warning.message ?? ''}` : check.message),
    ...text('expected', warning?.expected ?? check.expected),
    ...text('actual', warning?.actual ?? check.actual),
    ...(check.errorKind ? { kind: check.errorKind } : {}),
    ...(check.failedAt
      ? {
          at: {
            ...check.failedAt,
            file: sanitizeLine(check.failedAt.file),
            ...(check.failedAt.frame ? { frame: sanitize(check.failedAt.frame) } : {}),
          },
        }
      : {}),
    ...(check.timeToGreenMs !== undefined ? { timeToGreenMs: Math.round(check.timeToGreenMs) } : {}),
    ...(check.waitedMs !== undefined ? { waitedMs: Math.round(check.waitedMs) } : {}),
    ...(check.attempts !== undefined && check.attempts > 1 ? { attempts: check.attempts } : {}),
    ...(sameFacts ? {} : { facts: ownFacts }),
    ...(check.truncatedFacts?.length ? { truncatedFacts: check.truncatedFacts.map(sanitizeLine) } : {}),
  }
  return Object.keys(detail).length > 0 ? detail : undefined
}

// long texts are capped: the JSON result keeps them whole
function text<K extends string>(key: K, value: string | undefined): Partial<Record<K, string>> {
  if (value === undefined || value === '') return {}
  const clean = sanitize(value)
  return { [key]: clean.length > 4000 ? `${clean.slice(0, 4000)}… [cut; the JSON result has it all]` : clean } as Partial<Record<K, string>>
}
