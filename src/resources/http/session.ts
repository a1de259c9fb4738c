// One host run's HTTP session, owned by the host context and ended by the runner with the host:
// its pooled agents, and the requests verify made that got an answer (counts, answer times and
// requests in flight during a window derive from them; they go to the request ledger at the end).
import type { Dispatcher } from 'undici'
import { existingHostSession, hostSession, type HostContext, type HostSession } from '../../dsl/context.ts'
import { ledgerKey, recordRequestTimes } from './request-ledger.ts'
import type { Via } from './types.ts'

export interface HttpRequestCountFilter {
  /** An origin or any URL on it (`http://127.0.0.1:8080/server-status`). */
  origin?: string
  via?: Via
}

/** Agents and request counts of one host's run: a host session the runner ends with the host. */
export interface HttpState extends HostSession {
  agents: Map<string, Dispatcher>
  /**
   * Requests that got a response, keyed by `${via} ${origin}`, in the order they were answered:
   * when each was sent and answered (runner clock, ms). Counts, answer times (only those after an
   * app's restart count) and requests in flight during a window all derive from it.
   */
  answered: Map<string, AnsweredRequest[]>
  /** Summed duration of every request, answered or not (timings). */
  ms?: number
}

interface AnsweredRequest {
  sentAt: number
  answeredAt: number
}

const HTTP_SESSION = 'http'

/** Requests verify made on this host's run that got a response, optionally for one origin / vantage point. */
export function httpRequestCount(ctx: HostContext, filter: HttpRequestCountFilter = {}): number {
  return answeredRequests(ctx, filter).length
}

/** The answered requests of this host's run that pass the filter. */
function answeredRequests(ctx: HostContext, filter: HttpRequestCountFilter): AnsweredRequest[] {
  const answered = existingHostSession<HttpState>(ctx, HTTP_SESSION)?.answered
  if (!answered) return []
  const origin = filter.origin === undefined ? undefined : originOf(filter.origin)
  const out: AnsweredRequest[] = []
  for (const [key, list] of answered) {
    const [via, keyOrigin] = key.split(' ')
    if ((filter.via === undefined || filter.via === via) && (origin === undefined || origin === keyOrigin)) out.push(...list)
  }
  return out
}

function originOf(url: string): string {
  try {
    return new URL(url).origin
  } catch {
    return url
  }
}

export function stateFor(ctx: HostContext): HttpState {
  return hostSession<HttpState>(ctx, HTTP_SESSION, () => {
    const state: HttpState = {
      agents: new Map(),
      answered: new Map(),
      // When the host's run ends: its answered requests go to the request ledger (so later runs
      // can discount them from a status page's counter), then its pooled connections (tunnels
      // included) close; destroy, not close: a timed-out check may hold a request that never ends.
      async dispose() {
        if (state.answered.size > 0) {
          recordRequestTimes(
            [...state.answered].map(([key, list]) => {
              const [via, origin] = key.split(' ')
              return { key: ledgerKey(ctx.host.name, via!, origin!), times: list.map(r => r.answeredAt) }
            }),
          )
        }
        const agents = [...state.agents.values()]
        state.agents.clear()
        await Promise.all(agents.map(agent => agent.destroy().catch(() => undefined)))
      },
      figures() {
        const requests = [...state.answered.values()].reduce((n, list) => n + list.length, 0)
        return { ...(state.ms ? { httpMs: state.ms } : {}), ...(requests > 0 ? { httpRequests: requests } : {}) }
      },
    }
    return state
  })
}

/** Counts a response; returns how many the key has now, this one included. */
export function countRequest(ctx: HostContext, via: Via, origin: string, sentAt: number): number {
  const answered = stateFor(ctx).answered
  const key = `${via} ${origin}`
  let list = answered.get(key)
  if (!list) answered.set(key, (list = []))
  list.push({ sentAt, answeredAt: Date.now() })
  return list.length
}

/**
 * Requests counted by httpRequestCount that were in flight at some moment of [fromMs, toMs]
 * (runner clock): sent before its end, answered after its start. Whether a server counted such a
 * request inside the span depends on when it counts; this is the most it can have.
 */
export function httpRequestsDuring(ctx: HostContext, fromMs: number, toMs: number, filter: HttpRequestCountFilter = {}): number {
  return answeredRequests(ctx, filter).filter(r => r.sentAt <= toMs && r.answeredAt >= fromMs).length
}

/** Runner-clock times (ms) of the responses counted by httpRequestCount, oldest first. */
export function httpRequestTimes(ctx: HostContext, filter: HttpRequestCountFilter = {}): number[] {
  return answeredRequests(ctx, filter)
    .map(r => r.answeredAt)
    .sort((a, b) => a - b)
}
