// The DataLoader pattern for host facts: every fact requested in the same tick (all the
// concurrently running checks of a host) goes into one remote script, one exec channel.
// One batch is in flight at a time: facts asked while it runs (checks that read a fact to
// decide what to ask next) wait and go together in the next batch, so rounds grow with the
// depth of such chains, never with the number of checks.
import { randomBytes } from 'node:crypto'
import { ExpectationError, FactError, VerifyError } from '../errors.ts'
import type { Transport } from '../transports/transport.ts'
import type { FactRequest } from './fact.ts'
import { FrameParser } from './frames.ts'
import { buildScript, type ScriptFact } from './script.ts'

export interface BatcherOptions {
  /** Default per-fact time limit on the host, in seconds (`--timeout`). */
  timeoutSec: number
  /** Default cap on each fact's stdout and stderr, in bytes. */
  maxBytes: number
}

interface Pending {
  fact: ScriptFact
  resolve(value: unknown): void
  reject(error: unknown): void
}

export class FactBatcher {
  private readonly cache = new Map<string, Promise<unknown>>()
  private queue: Pending[] = []
  private scheduled = false
  private inFlight = false
  private nextId = 0
  private readonly abort = new AbortController()
  /** Batches sent: round trips to the host. */
  rounds = 0
  private probeDoneMs = 0
  private probeStartedAt: number | undefined
  /** Facts whose stdout or stderr hit the byte cap, with that cap: the report says so. */
  readonly truncated = new Map<string, number>()

  constructor(private readonly transport: Transport, private readonly options: BatcherOptions) {}

  /**
   * Time in round trips to the host so far (exec channel open → probe exit), ms. A batch still
   * running counts up to now: its checks may all be answered before the channel closes.
   */
  get probeMs(): number {
    return this.probeDoneMs + (this.probeStartedAt === undefined ? 0 : performance.now() - this.probeStartedAt)
  }

  get<T>(request: FactRequest<T>): Promise<T> {
    const cached = this.cache.get(request.key)
    if (cached) return cached as Promise<T>
    const promise = new Promise<T>((resolve, reject) => {
      const fact: ScriptFact = {
        id: this.nextId++,
        request: request as FactRequest<unknown>,
        timeoutSec: request.timeoutSec ?? this.options.timeoutSec,
        maxBytes: request.maxBytes ?? this.options.maxBytes,
      }
      this.queue.push({ fact, resolve: resolve as (v: unknown) => void, reject })
    })
    this.cache.set(request.key, promise)
    this.schedule()
    return promise
  }

  /** Drops cached answers so the next read asks the host again (a check retried under --wait). */
  forget(keys: Iterable<string>): void {
    for (const key of keys) this.cache.delete(key)
  }

  /** Stops any batch still running (the host's checks are over). */
  close(): void {
    this.abort.abort()
  }

  private schedule(): void {
    if (this.scheduled || this.inFlight) return
    this.scheduled = true
    // setImmediate runs after every pending microtask: all checks have reached their first await
    setImmediate(() => {
      this.scheduled = false
      const batch = this.queue
      this.queue = []
      if (batch.length > 0) void this.flush(batch)
    })
  }

  private async flush(batch: Pending[]): Promise<void> {
    this.inFlight = true
    try {
      await this.send(batch)
    } finally {
      this.inFlight = false
      if (this.queue.length > 0) this.schedule()
    }
  }

  private async send(batch: Pending[]): Promise<void> {
    this.rounds++
    const started = (this.probeStartedAt = performance.now())
    const nonce = `V${randomBytes(9).toString('hex')}`
    const byId = new Map(batch.map((p) => [p.fact.id, p]))
    const settle = (id: number, fn: (p: Pending) => void) => {
      const p = byId.get(id)
      if (!p) return
      byId.delete(id)
      fn(p)
    }
    let fatal: string | undefined
    const parser = new FrameParser(nonce, new Map(batch.map((p) => [p.fact.id, p.fact.maxBytes])), {
      onFact: (id, raw) =>
        settle(id, (p) => {
          if (raw.truncated) this.truncated.set(p.fact.request.key, p.fact.maxBytes)
          try {
            p.resolve(p.fact.request.parse(raw))
          } catch (error) {
            p.reject(error instanceof VerifyError || error instanceof ExpectationError ? error : new FactError(`${p.fact.request.describe}: ${(error as Error).message}`, { cause: error }))
          }
        }),
      onFatal: (reason) => { fatal = reason },
    })
    try {
      const result = await this.transport.exec({
        script: buildScript(nonce, batch.map((p) => p.fact)),
        onStdout: (chunk) => parser.push(chunk),
        signal: this.abort.signal,
        idleTimeoutMs: idleTimeoutMs(batch),
      })
      const why = fatal ?? (this.abort.signal.aborted ? 'the host run ended first' : `the probe exited ${result.exitCode}${result.stderr ? `: ${result.stderr.trim().slice(-300)}` : ''}`)
      for (const id of [...byId.keys()]) settle(id, (p) => p.reject(new FactError(`${p.fact.request.describe}: no answer (${why})`)))
    } catch (error) {
      for (const id of [...byId.keys()]) settle(id, (p) => p.reject(error))
    } finally {
      this.probeDoneMs += performance.now() - started
      this.probeStartedAt = undefined
    }
  }
}

// Facts run in turn on the host, each under `timeout -k 2`: a frame arrives at least that often.
const IDLE_SLACK_MS = 5_000

/** How long the probe may be silent before the host or connection counts as stalled. */
function idleTimeoutMs(batch: readonly Pending[]): number {
  return (Math.max(...batch.map((p) => p.fact.timeoutSec)) + 2) * 1000 + IDLE_SLACK_MS
}
