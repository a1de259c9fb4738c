// The gate's runs: at most `maxRuns` at once (others queue), one run per selection at a time
// (requests for a selection already running share its run), and a finished result kept for
// `cacheMs` so a controller polling every few seconds does not start a run per poll.
export interface Outcome<T> {
  value: T
  /** When the run finished. */
  finishedAt: number
  /** This request got a result another request started (running or cached). */
  shared: boolean
}

/** More selections waiting for a run slot than the queue holds: the caller answers 429. */
export class GateBusyError extends Error {}

export class GateRuns<T> {
  private readonly running = new Map<string, Promise<{ value: T; finishedAt: number }>>()
  private readonly cache = new Map<string, { value: T; finishedAt: number }>()
  private active = 0
  private readonly queue: Array<() => void> = []
  /** Runs started, for tests and the log. */
  started = 0

  constructor(
    private readonly maxRuns: number,
    private readonly cacheMs: number,
    private readonly now: () => number = Date.now,
    /** Runs waiting for a slot, at most; more are refused rather than piling up. */
    private readonly maxQueued = 16,
  ) {}

  async get(key: string, run: () => Promise<T>): Promise<Outcome<T>> {
    const cached = this.cache.get(key)
    if (cached && this.now() - cached.finishedAt < this.cacheMs) return { ...cached, shared: true }
    const inFlight = this.running.get(key)
    if (inFlight) return { ...(await inFlight), shared: true }
    const promise = this.limited(run).then(value => {
      const done = { value, finishedAt: this.now() }
      if (this.cacheMs > 0) this.cache.set(key, done)
      return done
    })
    this.running.set(key, promise)
    try {
      return { ...(await promise), shared: false }
    } finally {
      this.running.delete(key)
    }
  }

  private async limited(run: () => Promise<T>): Promise<T> {
    if (this.active >= this.maxRuns) {
      if (this.queue.length >= this.maxQueued) throw new GateBusyError(`${this.active} runs going and ${this.queue.length} waiting`)
      await new Promise<void>(resolve => this.queue.push(resolve))
    }
    this.active++
    this.started++
    try {
      return await run()
    } finally {
      this.active--
      this.queue.shift()?.()
    }
  }
}
