// Fact-by-fact difference between two hosts that ran the same specs: the migration parity
// report. Facts are paired by key after each host's own name and address are replaced by
// placeholders; values are compared field by field, leaving out what is expected to differ
// per host (pids, start times, counters: DEFAULT_IGNORES, changeable by the user).
// Modes, owners and mtimes ARE compared: a new deploy method changing them is the point.
import type { HostResult } from '../../model.ts'

/** Fields and fact keys expected to differ from host to host. */
export const DEFAULT_IGNORES: readonly string[] = [
  // process identity and age
  'pid',
  'ppid',
  'pids',
  'startedAt',
  'elapsedSeconds',
  'excludedPids',
  'sessionId',
  // clocks and run timing
  'clockOffsetMs',
  'hostNowMs',
  'runnerReceivedMs',
  'sinceHostTime',
  'elapsedMs',
  'uptime',
  // traffic counters
  'totalAccesses',
  'totalKBytes',
  'busyWorkers',
  'idleWorkers',
  'verifyRequests',
  // whole facts that are per host by nature
  'process-table',
  'host-clock',
]

export interface Difference {
  /** The fact key, host name and address replaced by `{host}` / `{address}`. */
  fact: string
  /** Field path inside the answer (`mode`, `entries[nginx.conf].mtime`); '' for the whole fact. */
  field: string
  old?: unknown
  new?: unknown
  /** `only-old` / `only-new`: the fact was read on one host only (its checks asked different things). */
  kind: 'changed' | 'only-old' | 'only-new'
}

export interface CheckDifference {
  id: string
  old?: string
  new?: string
}

export interface PairDiff {
  old: string
  new: string
  differences: Difference[]
  checks: CheckDifference[]
  /** A host of the pair could not be verified: its facts are incomplete. */
  errors: string[]
}

export interface DiffOptions {
  ignore: readonly string[]
}

export function diffHosts(a: HostResult, b: HostResult, options: DiffOptions): PairDiff {
  const norm = (h: HostResult, other: HostResult) => normalizer(h, other)
  const na = norm(a, b)
  const nb = norm(b, a)
  const factsA = normalizeFacts(a.recordedFacts ?? {}, na)
  const factsB = normalizeFacts(b.recordedFacts ?? {}, nb)
  const ignore = new Set(options.ignore)
  const globs = options.ignore.filter(i => i.includes('*')).map(globRegExp)
  const ignoredKey = (key: string) => ignore.has(key) || ignore.has(key.split(':')[0]!) || globs.some(g => g.test(key))
  const differences: Difference[] = []
  for (const key of [...new Set([...factsA.keys(), ...factsB.keys()])].sort()) {
    if (ignoredKey(key)) continue
    const inA = factsA.has(key)
    const inB = factsB.has(key)
    if (!inA || !inB) {
      differences.push({
        fact: key,
        field: '',
        kind: inA ? 'only-old' : 'only-new',
        ...(inA ? { old: factsA.get(key) } : { new: factsB.get(key) }),
      })
      continue
    }
    diffValue(
      factsA.get(key),
      factsB.get(key),
      '',
      (field, old, now) => differences.push({ fact: key, field, old, new: now, kind: 'changed' }),
      ignore,
    )
  }
  const statusA = new Map(a.checks.map(c => [c.id, c.status]))
  const statusB = new Map(b.checks.map(c => [c.id, c.status]))
  const checks: CheckDifference[] = []
  for (const id of [...new Set([...statusA.keys(), ...statusB.keys()])]) {
    if (statusA.get(id) !== statusB.get(id)) checks.push({ id, old: statusA.get(id), new: statusB.get(id) })
  }
  const errors = [a, b].filter(h => h.status === 'error').map(h => `${h.host.name}: ${h.error?.message ?? 'could not be verified'}`)
  return { old: a.host.name, new: b.host.name, differences, checks, errors }
}

type Normalize = (text: string) => string

/** Replaces the host's own name and address (where they differ from the partner's) with placeholders. */
function normalizer(h: HostResult, other: HostResult): Normalize {
  const pairs: Array<[string, string]> = []
  if (h.host.address !== other.host.address && h.host.address.length >= 3) pairs.push([h.host.address, '{address}'])
  if (h.host.name !== other.host.name && h.host.name.length >= 3) pairs.push([h.host.name, '{host}'])
  // longest first, so a name that contains the address is replaced whole
  pairs.sort((x, y) => y[0].length - x[0].length)
  return text => pairs.reduce((t, [from, to]) => t.split(from).join(to), text)
}

function normalizeFacts(facts: Record<string, unknown>, norm: Normalize): Map<string, unknown> {
  return new Map(Object.entries(facts).map(([key, value]) => [norm(key), normalizeValue(value, norm)]))
}

function normalizeValue(value: unknown, norm: Normalize): unknown {
  if (typeof value === 'string') return norm(value)
  if (Array.isArray(value)) return value.map(v => normalizeValue(v, norm))
  if (value && typeof value === 'object') return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, normalizeValue(v, norm)]))
  return value
}

/** Reports each differing leaf; arrays of records with a `path` or `name` are matched by it, not by position. */
function diffValue(
  a: unknown,
  b: unknown,
  field: string,
  report: (field: string, old: unknown, now: unknown) => void,
  ignore: ReadonlySet<string>,
): void {
  if (Object.is(a, b)) return
  if (Array.isArray(a) && Array.isArray(b)) return diffArrays(a, b, field, report, ignore)
  if (isRecord(a) && isRecord(b)) {
    for (const k of [...new Set([...Object.keys(a), ...Object.keys(b)])].sort()) {
      if (ignore.has(k)) continue
      const sub = field ? `${field}.${k}` : k
      if (ignore.has(sub)) continue
      diffValue(a[k], b[k], sub, report, ignore)
    }
    return
  }
  if (JSON.stringify(a) !== JSON.stringify(b)) report(field, a, b)
}

function diffArrays(
  a: unknown[],
  b: unknown[],
  field: string,
  report: (field: string, old: unknown, now: unknown) => void,
  ignore: ReadonlySet<string>,
): void {
  const keyOf = recordKey(a) ?? recordKey(b)
  if (keyOf) {
    const ma = new Map(a.map(x => [keyOf(x), x]))
    const mb = new Map(b.map(x => [keyOf(x), x]))
    for (const k of [...new Set([...ma.keys(), ...mb.keys()])].sort()) diffValue(ma.get(k), mb.get(k), `${field}[${k}]`, report, ignore)
    return
  }
  if (a.every(isPrimitive) && b.every(isPrimitive)) {
    const sa = new Set(a.map(x => JSON.stringify(x)))
    const sb = new Set(b.map(x => JSON.stringify(x)))
    const removed = a.filter(x => !sb.has(JSON.stringify(x)))
    const added = b.filter(x => !sa.has(JSON.stringify(x)))
    if (removed.length > 0 || added.length > 0)
      report(field, removed.length > 0 ? removed : undefined, added.length > 0 ? added : undefined)
    else if (JSON.stringify(a) !== JSON.stringify(b)) report(`${field} (order)`, a, b)
    return
  }
  const n = Math.max(a.length, b.length)
  for (let i = 0; i < n; i++) diffValue(a[i], b[i], `${field}[${i}]`, report, ignore)
}

/** `path` or `name` when every element is a record carrying one, unique. */
function recordKey(list: unknown[]): ((x: unknown) => string) | undefined {
  if (list.length === 0 || !list.every(isRecord)) return undefined
  for (const prop of ['path', 'name']) {
    const keys = list.map(x => (x as Record<string, unknown>)[prop])
    if (keys.every(k => typeof k === 'string') && new Set(keys).size === keys.length)
      return x => String((x as Record<string, unknown>)[prop])
  }
  return undefined
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}

function isPrimitive(value: unknown): boolean {
  return value === null || (typeof value !== 'object' && typeof value !== 'function')
}

function globRegExp(glob: string): RegExp {
  return new RegExp(
    `^${glob
      .split('*')
      .map(p => p.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'))
      .join('.*')}$`,
  )
}
