// restart(): "restarted since the deploy" as one check. Both signals are needed: a supervisor
// can restart workers while the app's status page shows an old server (old master), and the
// workers can be new while the app is not. Start times are compared in the host's own time:
// the deploy start (runner clock) is shifted by the host's clock offset, measured in the same
// probe batch as the process table. The status page's uptime decides when there is a deploy
// time; its access counter is the fallback, with every verify run's own requests discounted.
import { currentHost } from '../../dsl/context.ts'
import type { HttpOptions } from '../http/http.ts'
import { hostClock } from './clock.ts'
import { process as processes, type ProcessMatch } from '../system/process.ts'
import { serverStatus, uptimeMeasuredOnHost, type ServerStatus } from './server-status.ts'
import { baselineHost } from '../../app/snapshot/baseline.ts'
import type { HostSnapshot } from '../../app/snapshot/snapshot.ts'

export interface RestartOptions {
  /** Processes that must ALL have started after the deploy began: a name, or a process() match. */
  processes?: string | ProcessMatch
  /**
   * The app's status page. With a deploy time and an uptime on the page, the server must have
   * started after the deploy began; else its accesses since its start, verify's own requests
   * (this run's and earlier runs') discounted, must stay under maxAccesses.
   */
  statusPage?: HttpOptions & { url: string; maxAccesses?: number }
  /**
   * When the deploy began (runner/pipeline clock). Default: the deployStartedAt var, which
   * `--since` sets; else, under `--baseline`, the moment the snapshot was taken (by the host's
   * clock), and then a process whose pid and start time are in the snapshot counts as not restarted.
   */
  since?: Date | string | number
  /** Slack for the host's start-time granularity (boot time is kept to the second). Default 1000 ms. */
  toleranceMs?: number
}

export interface ProcessStart {
  pid: number
  name: string
  args: string
  /** Host clock. */
  startedAt: string
}

export interface RestartFacts {
  /** Every requested signal says restarted. */
  restarted: boolean
  /** Why not, one line each (empty when restarted). */
  problems: string[]
  /** The deploy start, runner clock (ISO). */
  since?: string
  /** The same instant on the host's clock (ISO): what start times are compared with. */
  sinceHostTime?: string
  /** host − runner, ms. */
  clockOffsetMs?: number
  processes?: { match: string; count: number; restarted: ProcessStart[]; stale: ProcessStart[] }
  statusPage?: {
    url: string
    /** What said restarted or not: the page's uptime against the deploy time, or the access counter (no deploy time or no uptime). */
    decidedBy: 'uptime' | 'counter'
    totalAccesses?: number
    /** Seconds since the app (re)started, by the page. */
    uptime?: number
    /** When the app started by the page (ISO), on the clock it was compared with the deploy start in (see the message). */
    serverStartedAt?: string
    /** verify's own requests to the page's origin since the app started (this run and earlier runs), discounted. */
    verifyRequests: number
    /** totalAccesses − verifyRequests: what others sent since the start. */
    accesses?: number
    maxAccesses?: number
  }
}

export const DEFAULT_TOLERANCE_MS = 1000

export async function restart(options: RestartOptions): Promise<RestartFacts> {
  if (!options.processes && !options.statusPage) throw new Error('restart(): give processes, statusPage, or both')
  const since = parseSince(options.since ?? currentHost().host.vars['deployStartedAt'])
  const before = since === undefined ? baselineHost() : undefined
  const reference: Reference | undefined =
    since !== undefined ? { since } : before?.hostTakenAt ? { sinceHost: Date.parse(before.hostTakenAt), before } : undefined
  const [procPart, statusPart] = await Promise.all([
    options.processes ? checkProcesses(options.processes, reference, options.toleranceMs ?? DEFAULT_TOLERANCE_MS) : undefined,
    options.statusPage ? checkStatusPage(options.statusPage, reference, options.toleranceMs ?? DEFAULT_TOLERANCE_MS) : undefined,
  ])
  const problems = [...(procPart?.problems ?? []), ...(statusPart?.problems ?? [])]
  return {
    restarted: problems.length === 0,
    problems,
    ...(since ? { since: new Date(since).toISOString() } : before?.takenAt ? { since: before.takenAt } : {}),
    ...(procPart?.facts ?? {}),
    ...(statusPart ? { statusPage: statusPart.facts } : {}),
  }
}

/** The deploy start on the runner's clock (--since), or a baseline snapshot's moment on the host's clock. */
type Reference = { since: number } | { sinceHost: number; before: HostSnapshot }

async function checkProcesses(match: string | ProcessMatch, reference: Reference | undefined, toleranceMs: number) {
  // one batch: the process table and the clock are read in the same round trip
  const [list, clock] = await Promise.all([processes(match), hostClock()])
  const problems: string[] = []
  const sinceHost = reference === undefined ? undefined : 'since' in reference ? reference.since + clock.offsetMs : reference.sinceHost
  const starts = list.processes.map(p => ({
    pid: p.pid,
    name: p.name,
    args: p.args,
    startedAt: p.startedAt.toISOString(),
    ms: p.startedAt.getTime(),
  }))
  const stale = sinceHost === undefined ? [] : startedBefore(starts, sinceHost, 0, toleranceMs)
  if (reference && 'before' in reference) {
    // the same pid with the same start time: the very process the snapshot saw
    const seen = new Set(reference.before.processes.map(p => `${p.pid} ${p.startedAt}`))
    for (const p of starts) if (seen.has(`${p.pid} ${p.startedAt}`) && !stale.includes(p)) stale.push(p)
  }
  if (list.count === 0) problems.push(`no process matches ${list.match}: nothing restarted`)
  if (sinceHost === undefined)
    problems.push('no deploy start time to compare with: pass --since (or --baseline), set the deployStartedAt var, or restart({ since })')
  else if (stale.length > 0) {
    const shown = stale
      .slice(0, 5)
      .map(p => `pid ${p.pid} (${p.name}) started ${p.startedAt}`)
      .join(', ')
    problems.push(
      `${stale.length} of ${list.count} processes matching ${list.match} started before the deploy (${new Date(sinceHost).toISOString()} host time, clock offset ${formatOffset(clock.offsetMs)}): ${shown}${stale.length > 5 ? ', …' : ''}`,
    )
  }
  const strip = ({ ms: _ms, ...p }: (typeof starts)[number]): ProcessStart => p
  return {
    problems,
    facts: {
      ...(sinceHost === undefined ? {} : { sinceHostTime: new Date(sinceHost).toISOString() }),
      clockOffsetMs: clock.offsetMs,
      processes: {
        match: list.match,
        count: list.count,
        restarted: starts.filter(p => !stale.includes(p)).map(strip),
        stale: stale.map(strip),
      },
    },
  }
}

/**
 * Processes (start times by the host's clock) that started before `sinceMs` (runner clock):
 * the deploy start is moved onto the host's clock by `offsetMs` (host − runner) first.
 */
export function startedBefore<T extends { ms: number }>(
  starts: readonly T[],
  sinceMs: number,
  offsetMs: number,
  toleranceMs = DEFAULT_TOLERANCE_MS,
): T[] {
  const sinceHost = sinceMs + offsetMs
  return starts.filter(p => p.ms < sinceHost - toleranceMs)
}

async function checkStatusPage(page: NonNullable<RestartOptions['statusPage']>, reference: Reference | undefined, toleranceMs: number) {
  const { url, maxAccesses, ...httpOptions } = page
  const status = await serverStatus(url, httpOptions)
  const answeredAt = Date.now()
  const ours = status.verifyRequests
  const accesses = status.totalAccesses === undefined ? undefined : Math.max(0, status.totalAccesses - ours)
  const counted = {
    url,
    totalAccesses: status.totalAccesses,
    uptime: status.uptime,
    verifyRequests: ours,
    accesses,
    ...(maxAccesses === undefined ? {} : { maxAccesses }),
  }
  const problems: string[] = []
  if (reference !== undefined && status.uptime !== undefined) {
    // rerun-safe: a server that started after the deploy began was restarted, however many requests it has served since
    const start = await serverStart(status, status.uptime, reference, answeredAt)
    if (start.ms < start.sinceMs - toleranceMs) {
      problems.push(
        `${url} has been up ${status.uptime}s, since ${new Date(start.ms).toISOString()}, before the deploy began (${new Date(start.sinceMs).toISOString()}${start.clock}): the app was not restarted`,
      )
    }
    return { problems, facts: { ...counted, decidedBy: 'uptime' as const, serverStartedAt: new Date(start.ms).toISOString() } }
  }
  const why = reference === undefined ? 'no deploy start time (--since, --baseline or since)' : `${url} reports no uptime`
  if (maxAccesses === undefined)
    problems.push(`${why}, and no maxAccesses to judge the access counter by: cannot tell a restart from the status page`)
  else if (accesses === undefined) problems.push(`${url} reports no access counter (Apache needs ExtendedStatus On; Plack a counter_file)`)
  else if (accesses >= maxAccesses)
    problems.push(
      `${url} counted ${accesses} accesses since its start besides verify's ${ours} (at most ${maxAccesses - 1} expected): not restarted, or already taking traffic`,
    )
  return { problems, facts: { ...counted, decidedBy: 'counter' as const } }
}

/**
 * When the server started and when the deploy began, on one clock. An uptime measured on the
 * host against a deploy time on the runner's clock needs no clock: both are durations back from
 * now. A start epoch (Plack `?json`) or a baseline's moment (host time) goes through the host's clock.
 */
async function serverStart(
  status: ServerStatus,
  uptimeSec: number,
  reference: Reference,
  answeredAt: number,
): Promise<{ ms: number; sinceMs: number; clock: string }> {
  if ('since' in reference && uptimeMeasuredOnHost(status)) {
    const ms = answeredAt - uptimeSec * 1000
    return { ms, sinceMs: reference.since, clock: '' }
  }
  const clock = await hostClock()
  const hostMs = status.startedAt?.getTime() ?? answeredAt + clock.offsetMs - uptimeSec * 1000
  const sinceHost = 'since' in reference ? reference.since + clock.offsetMs : reference.sinceHost
  return { ms: hostMs, sinceMs: sinceHost, clock: ` host time, clock offset ${formatOffset(clock.offsetMs)}` }
}

/** Date, epoch seconds or ms, ISO 8601 text or digits. */
export function parseSince(value: unknown): number | undefined {
  if (value === undefined || value === null || value === '') return undefined
  if (value instanceof Date) return value.getTime()
  if (typeof value === 'number') return value < 1e12 ? value * 1000 : value
  if (typeof value === 'string') {
    if (/^\d+(\.\d+)?$/.test(value.trim())) return parseSince(Number(value.trim()))
    const ms = Date.parse(value)
    if (!Number.isNaN(ms)) return ms
  }
  throw new Error(`not a time: ${JSON.stringify(value)} (give an ISO 8601 time such as 2026-11-25T12:00:00Z, or epoch seconds)`)
}

function formatOffset(ms: number): string {
  return `${ms >= 0 ? '+' : '−'}${(Math.abs(ms) / 1000).toFixed(1)}s vs the runner`
}
