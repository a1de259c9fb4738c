// Status pages of Apache mod_status (`?auto`) and Plack::Middleware::ServerStatus::Lite
// (text, or `?json`), typed so a spec can assert on counters after a restart.
import { currentHost, type HostContext } from '../../dsl/context.ts'
import { HttpError } from '../../errors.ts'
import { earlierRequests, http, type HttpOptions, type Via } from '../http/http.ts'
import { httpRequestTimes } from '../http/session.ts'
import { earlierRequestTimes, ledgerKey } from '../http/request-ledger.ts'

export interface ServerStatus {
  format: 'apache' | 'plack'
  /** Requests served since the (re)start; absent without Apache ExtendedStatus or Plack's counter_file. */
  totalAccesses?: number
  /** Traffic served: Apache counts KiB (`Total kBytes`), Plack counts 1000-byte units (`Total Kbytes`). */
  totalKBytes?: number
  /**
   * Seconds since the server (re)started: Apache's `ServerUptimeSeconds` (or `Uptime`), Plack's
   * printed duration; from Plack's start epoch alone (`?json`) it is measured on the runner's clock.
   */
  uptime?: number
  /** Plack only: the start time the page prints (`Uptime: <epoch>`), by the host's clock. */
  startedAt?: Date
  busyWorkers?: number
  idleWorkers?: number
  /** Every `Key: value` line of the page (Plack's process table excluded), as printed. */
  raw: Record<string, string>
  /**
   * verify's own requests to this origin (same vantage point) that the running server has
   * counted in `totalAccesses`: this run's earlier ones and earlier runs' (the request ledger),
   * those answered since the server's start by `uptime`; this page's request is not counted yet.
   * Without an uptime, this run's only. 0 from parseServerStatus.
   */
  verifyRequests: number
}

type Parsed = Omit<ServerStatus, 'verifyRequests'>

/** Keys that make a body a status page; anything else (HTML, a 404 text) is not one. */
const CORE_KEYS = ['total accesses', 'uptime', 'busyworkers', 'idleworkers']
const APACHE_ONLY_KEYS = ['serverversion', 'scoreboard', 'serveruptimeseconds']
/** An uptime this large is a start epoch (Plack), not seconds (Apache): 31 years of uptime. */
const EPOCH_THRESHOLD = 1_000_000_000
const DURATION_UNITS: Record<string, number> = { day: 86_400, hour: 3_600, minute: 60, second: 1 }

export async function serverStatus(url: string, options: HttpOptions = {}): Promise<ServerStatus> {
  const ctx = currentHost()
  const res = await http(url, options)
  // a missing or forbidden status page is not a count of zero
  if (res.status < 200 || res.status > 299) throw statusPageFailed(res.url, res.body, res.status)
  const parsed = tryParse(res.body)
  if (!parsed) throw notAStatusPage(res.url, res.body, res.status)
  const verifyRequests = countedOwnRequests(ctx, res.url, options.via ?? 'runner', Date.now(), parsed.uptime, earlierRequests(res))
  return { ...parsed, verifyRequests }
}

/** Plack's `?json` (and old text pages) give only a start epoch: its uptime carries the clock offset between runner and host. */
export function uptimeMeasuredOnHost(status: Pick<ServerStatus, 'format' | 'raw'>): boolean {
  return status.format === 'apache' || /\(/.test(status.raw['Uptime'] ?? '')
}

/**
 * verify's requests to the page's origin that the running server counted: answered after it
 * started (a second of slack for the uptime's rounding), from this run and earlier runs. This
 * run's are those answered before the page's own request (fixed when its headers came, so a
 * concurrent check's answer arriving meanwhile is not counted); servers count the page's own
 * request after writing the page.
 */
function countedOwnRequests(
  ctx: HostContext,
  url: string,
  via: Via,
  answeredAt: number,
  uptimeSec: number | undefined,
  earlier: number | undefined,
): number {
  const answered = httpRequestTimes(ctx, { origin: url, via })
  const thisRun = answered.slice(0, earlier ?? answered.length - 1)
  // without an uptime, an earlier run's requests may have gone to the process before a restart
  if (uptimeSec === undefined) return thisRun.length
  const startedAt = answeredAt - (uptimeSec + 1) * 1000
  const previous = earlierRequestTimes(ledgerKey(ctx.host.name, via, new URL(url).origin))
  return [...previous, ...thisRun].filter(t => t >= startedAt).length
}

/** Parses a status page body; throws HttpError naming the url when it is neither format. */
export function parseServerStatus(body: string, url = '(server-status body)'): ServerStatus {
  const parsed = tryParse(body)
  if (!parsed) throw notAStatusPage(url, body)
  return { ...parsed, verifyRequests: 0 }
}

function tryParse(body: string): Parsed | undefined {
  return body.trimStart().startsWith('{') ? parseJsonStatus(body) : parseTextStatus(body)
}

function parseTextStatus(body: string): Parsed | undefined {
  const { raw, hasProcessTable } = readKeyValues(body)
  if (!CORE_KEYS.some(key => field(raw, key) !== undefined)) return undefined
  const format = detectFormat(raw, hasProcessTable)
  const uptime =
    format === 'plack' ? plackUptime(field(raw, 'uptime')) : toNumber(field(raw, 'serveruptimeseconds') ?? field(raw, 'uptime'))
  const startEpoch = format === 'plack' ? toNumber(/^\s*(\d+)/.exec(field(raw, 'uptime') ?? '')?.[1]) : undefined
  return {
    format,
    ...(startEpoch === undefined ? {} : { startedAt: new Date(startEpoch * 1000) }),
    totalAccesses: toNumber(field(raw, 'total accesses')),
    // same key, different case: Apache prints `Total kBytes`, Plack `Total Kbytes`
    totalKBytes: toNumber(field(raw, 'total kbytes')),
    uptime,
    busyWorkers: toNumber(field(raw, 'busyworkers')),
    idleWorkers: toNumber(field(raw, 'idleworkers')),
    raw,
  }
}

/** `Key: value` lines up to Plack's `--` separator; Apache's first line (the server name) has no colon. */
function readKeyValues(body: string): { raw: Record<string, string>; hasProcessTable: boolean } {
  const raw: Record<string, string> = {}
  for (const line of body.split(/\r?\n/)) {
    if (line.trim() === '--') return { raw, hasProcessTable: true }
    const match = /^([A-Za-z][A-Za-z0-9 _-]*?):\s*(.*)$/.exec(line)
    if (match) raw[match[1]!] = match[2]!.trim()
  }
  return { raw, hasProcessTable: false }
}

function detectFormat(raw: Record<string, string>, hasProcessTable: boolean): ServerStatus['format'] {
  if (APACHE_ONLY_KEYS.some(key => field(raw, key) !== undefined) || 'Total kBytes' in raw) return 'apache'
  if (hasProcessTable || 'Total Kbytes' in raw || 'WARN' in raw) return 'plack'
  const uptime = field(raw, 'uptime') ?? ''
  // Plack prints `Uptime: <start epoch> (<human duration>)`
  if (/^\d+\s*\(/.test(uptime) || Number(uptime) >= EPOCH_THRESHOLD) return 'plack'
  return 'apache'
}

/**
 * Plack's Uptime is the start time as an epoch. The duration in parentheses was computed on the
 * host, so it is preferred over `now - start`, which would carry the clock skew between machines.
 */
function plackUptime(value: string | undefined): number | undefined {
  const match = /^(\d+)(?:\s*\(([^)]*)\))?/.exec(value ?? '')
  if (!match) return undefined
  const fromDuration = match[2] === undefined ? undefined : parseDuration(match[2])
  return fromDuration ?? secondsSince(Number(match[1]))
}

/** `2 days, 3 hours, 4 minutes, 5 seconds` → seconds. */
function parseDuration(text: string): number | undefined {
  let total = 0
  let matched = false
  for (const [, count, unit] of text.matchAll(/(\d+)\s*(day|hour|minute|second)s?/g)) {
    total += Number(count) * DURATION_UNITS[unit!]!
    matched = true
  }
  return matched ? total : undefined
}

function secondsSince(epochSeconds: number): number {
  return Math.max(0, Math.round(Date.now() / 1000 - epochSeconds))
}

/** Plack's `?json` variant: `{"Uptime":"…","TotalAccesses":…,"BusyWorkers":"2",…,"stats":[…]}`. */
function parseJsonStatus(body: string): Parsed | undefined {
  let data: unknown
  try {
    data = JSON.parse(body)
  } catch {
    return undefined
  }
  if (typeof data !== 'object' || data === null || !('Uptime' in data)) return undefined
  const raw = scalarEntries(data as Record<string, unknown>)
  const start = toNumber(raw['Uptime'])
  return {
    format: 'plack',
    totalAccesses: toNumber(raw['TotalAccesses']),
    totalKBytes: toNumber(raw['TotalKbytes']),
    uptime: start === undefined ? undefined : secondsSince(start),
    ...(start === undefined ? {} : { startedAt: new Date(start * 1000) }),
    busyWorkers: toNumber(raw['BusyWorkers']),
    idleWorkers: toNumber(raw['IdleWorkers']),
    raw,
  }
}

function scalarEntries(data: Record<string, unknown>): Record<string, string> {
  const raw: Record<string, string> = {}
  for (const [key, value] of Object.entries(data)) {
    if (typeof value === 'string' || typeof value === 'number') raw[key] = String(value)
  }
  return raw
}

/** Case-insensitive lookup: the two servers disagree on case (`kBytes` / `Kbytes`). */
function field(raw: Record<string, string>, lowerKey: string): string | undefined {
  for (const [key, value] of Object.entries(raw)) if (key.toLowerCase() === lowerKey) return value
  return undefined
}

function toNumber(value: string | undefined): number | undefined {
  if (value === undefined || value.trim() === '') return undefined
  const n = Number(value.trim())
  return Number.isFinite(n) ? n : undefined
}

function notAStatusPage(url: string, body: string, status?: number): HttpError {
  const answered = status === undefined ? '' : ` (HTTP ${status})`
  return new HttpError(
    `${url}${answered} is not an Apache mod_status ?auto or Plack ServerStatus::Lite page; first line: ${describeFirstLine(body)}`,
  )
}

function statusPageFailed(url: string, body: string, status: number): HttpError {
  return new HttpError(`server-status ${url} answered HTTP ${status}; first line: ${describeFirstLine(body)}`)
}

function describeFirstLine(body: string): string {
  if (body.trim() === '') return '(empty body)'
  return JSON.stringify(body.trimStart().split(/\r?\n/, 1)[0]!.slice(0, 200))
}
