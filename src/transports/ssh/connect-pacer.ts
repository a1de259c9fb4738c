// Paces new SSH connections for a whole run: at most `ratePerSec` handshakes start per second
// across every host, and at most `maxPerEndpoint` are in progress at once against one sshd
// (one address:port). A real fleet has one sshd per host, but a bastion, or many aliases of one
// machine, is one sshd: OpenSSH drops connections that are still unauthenticated beyond its
// MaxStartups (10:30:100 by default) before they even see a banner. Staying under that avoids
// the drops; retry.ts still retries the ones another client causes.
import { setTimeout as sleep } from 'node:timers/promises'

export interface PacerOptions {
  /** New handshakes per second across the run, after the first `burst`; 0 = no pacing. */
  ratePerSec: number
  /** Handshakes that may start at once before the rate applies (default 20): small fleets never wait. */
  burst?: number
  /** Handshakes in progress at once per endpoint; 0 = no limit. */
  maxPerEndpoint: number
}

// 8 stays under OpenSSH's default MaxStartups start of 10; the rate only spreads a storm out.
export const DEFAULT_PACING: PacerOptions = { ratePerSec: 100, maxPerEndpoint: 8 }
const DEFAULT_BURST = 20

export type Release = () => void

export class ConnectPacer {
  /** When the next start is due if nobody had started early (GCRA's theoretical arrival time). */
  private dueAt = 0
  private readonly endpoints = new Map<string, { active: number; waiting: Array<() => void> }>()

  constructor(private readonly options: PacerOptions = DEFAULT_PACING) {}

  /** Waits for a handshake slot at `endpoint` and for the run's next start time; call the release when the handshake ends. */
  async acquire(endpoint: string): Promise<Release> {
    await this.endpointSlot(endpoint)
    const { ratePerSec } = this.options
    if (ratePerSec > 0) {
      // generic cell rate algorithm: one start every 1000/rate ms on average, `burst` of them at once
      const interval = 1000 / ratePerSec
      const now = performance.now()
      const due = Math.max(now, this.dueAt)
      const at = Math.max(now, due - ((this.options.burst ?? DEFAULT_BURST) - 1) * interval)
      this.dueAt = due + interval
      if (at > now) await sleep(at - now)
    }
    let released = false
    return () => {
      if (released) return
      released = true
      this.releaseSlot(endpoint)
    }
  }

  /** Handshakes in progress at an endpoint (for tests and timings). */
  active(endpoint: string): number {
    return this.endpoints.get(endpoint)?.active ?? 0
  }

  private endpointSlot(endpoint: string): Promise<void> {
    const { maxPerEndpoint } = this.options
    let state = this.endpoints.get(endpoint)
    if (!state) this.endpoints.set(endpoint, (state = { active: 0, waiting: [] }))
    if (maxPerEndpoint <= 0 || state.active < maxPerEndpoint) {
      state.active++
      return Promise.resolve()
    }
    // the releasing handshake hands its slot straight to the next in line (active stays the same)
    return new Promise(resolve => state.waiting.push(resolve))
  }

  private releaseSlot(endpoint: string): void {
    const state = this.endpoints.get(endpoint)
    if (!state) return
    const next = state.waiting.shift()
    if (next) return next()
    state.active--
    if (state.active === 0) this.endpoints.delete(endpoint)
  }
}
