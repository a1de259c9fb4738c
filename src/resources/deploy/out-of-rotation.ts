// outOfRotation(statusUrl): the seed's premise checked, not assumed. A host taken out of the load
// balancer serves (almost) no requests, which is what makes a low access counter mean "restarted".
// The counter is read twice, `window` apart; verify's own requests in between are not traffic.
import { durationMs } from '../../lib/duration.ts'
import { currentHost } from '../../dsl/context.ts'
import type { HttpOptions } from '../http/http.ts'
import { httpRequestsDuring } from '../http/session.ts'
import { serverStatus } from './server-status.ts'

export interface RotationOptions extends HttpOptions {
  /** How long to watch the counter: `5s` (default), `2s`, or seconds as a number. */
  window?: string | number
}

export interface RotationFacts {
  url: string
  windowMs: number
  /** Requests the server counted during the window, verify's own subtracted. */
  requests: number
  /** The counter at the first and second read. */
  before: number
  after: number
  /**
   * verify's own requests to that origin that may have been counted between the reads: every
   * one in flight at some moment from the first read's send to the second's answer (other
   * checks' included), less one of the two reads. An upper bound: verify's own traffic never
   * reads as the load balancer's.
   */
  ownRequests: number
  /** The counter went down or the uptime did: the server restarted between the reads, so nothing can be said. */
  restartedDuringWindow: boolean
}

const DEFAULT_WINDOW_MS = 5_000

export async function outOfRotation(statusUrl: string, options: RotationOptions = {}): Promise<RotationFacts> {
  const { window, ...http } = options
  const windowMs = window === undefined ? DEFAULT_WINDOW_MS : durationMs(window)
  const ctx = currentHost()
  const from = Date.now()
  const first = await serverStatus(statusUrl, http)
  await new Promise(resolve => setTimeout(resolve, windowMs))
  const second = await serverStatus(statusUrl, http)
  const to = Date.now()
  if (first.totalAccesses === undefined || second.totalAccesses === undefined) {
    throw new Error(
      `${statusUrl}: the status page has no access counter (Apache needs ExtendedStatus On; Plack ServerStatus::Lite a counter_file), so traffic cannot be measured`,
    )
  }
  // the two reads are among them; whenever a server counts, exactly one of them falls between its two answers
  const ownRequests = Math.max(0, httpRequestsDuring(ctx, from, to, { origin: statusUrl, via: http.via ?? 'runner' }) - 1)
  const restarted =
    second.totalAccesses < first.totalAccesses ||
    (first.uptime !== undefined && second.uptime !== undefined && second.uptime < first.uptime)
  return {
    url: statusUrl,
    windowMs,
    requests: Math.max(0, second.totalAccesses - first.totalAccesses - ownRequests),
    before: first.totalAccesses,
    after: second.totalAccesses,
    ownRequests,
    restartedDuringWindow: restarted,
  }
}
