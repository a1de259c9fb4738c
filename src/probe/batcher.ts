// The DataLoader pattern for host facts: every fact requested in the same tick (all the
// concurrently running checks of a host) goes into one remote script, one exec channel.
// One batch is in flight at a time: facts asked while it runs (checks that read a fact to
// decide what to ask next) wait and go together in the next batch, so rounds grow with the
// depth of such chains, never with the number of checks.
import { randomBytes } from 'node:crypto'
import { ExpectationError, FactError, VerifyError } from '../errors.ts'
import type { Transport } from '../transports/transport.ts'
import type { FactGroup, FactRequest, RawFact } from './fact.ts'
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

  constructor(
    private readonly transport: Transport,
    private readonly options: BatcherOptions,
  ) {}

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
    const nonce = `V${randomBytes(16).toString('hex')}`
    const units = mergeGroups(batch, () => this.nextId++)
    const byId = new Map(units.map(u => [u.fact.id, u]))
    const settle = (id: number, fn: (u: Unit) => void) => {
      const u = byId.get(id)
      if (!u) return
      byId.delete(id)
      fn(u)
    }
    const answer = (u: Unit, raw: RawFact) => {
      // a timed-out group answers every member with the timeout itself
      if (!u.members || raw.timedOut) return u.pending.forEach(p => this.resolveWith(p, raw))
      let parts: RawFact[]
      try {
        parts = u.members.split(
          raw,
          u.pending.map(p => p.fact.request),
        )
      } catch (error) {
        for (const p of u.pending) p.reject(new FactError(`${u.fact.request.describe}: ${(error as Error).message}`, { cause: error }))
        return
      }
      u.pending.forEach((p, i) => this.resolveWith(p, parts[i] ?? raw))
    }
    // The runner times every fact from its S line; an overrun ends stdin, and the batch's watchdog
    // stops the batch on the host (script.ts). The channel itself is stopped if that did not work.
    const stdinHeld = new AbortController()
    const channelStop = new AbortController()
    const onOuterAbort = () => channelStop.abort()
    this.abort.signal.addEventListener('abort', onOuterAbort, { once: true })
    const timers = new Map<number, NodeJS.Timeout>()
    /** The fact the batch was stopped for: past its time, or past its byte cap. */
    let overrun: { id: number; cut: boolean } | undefined
    const stopFor = (id: number, cut: boolean) => {
      overrun ??= { id, cut }
      stdinHeld.abort()
      setTimeout(() => channelStop.abort(), STOP_GRACE_MS).unref()
    }
    const clearTimers = () => {
      for (const t of timers.values()) clearTimeout(t)
      timers.clear()
    }
    let fatal: string | undefined
    const parser = new FrameParser(nonce, new Map(units.map(u => [u.fact.id, u.fact.maxBytes])), {
      onStart: id => {
        const u = byId.get(id)
        if (!u) return
        timers.set(
          id,
          setTimeout(() => stopFor(id, false), u.fact.timeoutSec * 1000),
        )
      },
      // the host would go on sending what the cap throws away (`yes`): stop it, as `head -c` would
      onOverflow: id => stopFor(id, true),
      onFact: (id, raw) => {
        clearTimeout(timers.get(id))
        timers.delete(id)
        settle(id, u => {
          if (raw.truncated) for (const p of u.pending) this.truncated.set(p.fact.request.key, u.fact.maxBytes)
          answer(u, raw)
        })
      },
      onFatal: reason => {
        fatal = reason
      },
    })
    try {
      const result = await this.transport.exec({
        script: buildScript(
          nonce,
          units.map(u => u.fact),
        ),
        onStdout: chunk => parser.push(chunk),
        onStderr: chunk => parser.pushStderr(chunk),
        holdStdin: stdinHeld.signal,
        signal: channelStop.signal,
        idleTimeoutMs: idleTimeoutMs(batch),
      })
      parser.finish()
      if (overrun !== undefined) {
        const partial = parser.partial(overrun.id)
        // cut at the cap: what a writer stopped by SIGPIPE reports (141); else a timeout (124)
        const stopped = overrun.cut ? { exitCode: 141, timedOut: false } : { exitCode: 124, timedOut: true }
        settle(overrun.id, u => {
          if (partial?.truncated) for (const p of u.pending) this.truncated.set(p.fact.request.key, u.fact.maxBytes)
          answer(u, { stdout: Buffer.alloc(0), stderr: Buffer.alloc(0), truncated: false, ...partial, ...stopped })
        })
        // stopped for another fact's sake: the ones not run yet go in the next batch
        const started = new Set(parser.unfinished)
        for (const [id, u] of [...byId])
          if (!started.has(id)) {
            byId.delete(id)
            this.queue.unshift(...u.pending)
          }
      }
      const why =
        fatal ??
        (this.abort.signal.aborted
          ? 'the host run ended first'
          : `the probe exited ${result.exitCode}${result.stderr ? `: ${lastWords(result.stderr, nonce)}` : ''}`)
      for (const id of [...byId.keys()])
        settle(id, u => {
          for (const p of u.pending) p.reject(new FactError(`${p.fact.request.describe}: no answer (${why})`))
        })
    } catch (error) {
      for (const id of [...byId.keys()])
        settle(id, u => {
          for (const p of u.pending) p.reject(error)
        })
    } finally {
      clearTimers()
      stdinHeld.abort()
      this.abort.signal.removeEventListener('abort', onOuterAbort)
      this.probeDoneMs += performance.now() - started
      this.probeStartedAt = undefined
    }
  }

  private resolveWith(p: Pending, raw: RawFact): void {
    try {
      p.resolve(p.fact.request.parse(raw))
    } catch (error) {
      p.reject(
        error instanceof VerifyError || error instanceof ExpectationError
          ? error
          : new FactError(`${p.fact.request.describe}: ${(error as Error).message}`, { cause: error }),
      )
    }
  }
}

/** After ending stdin for an overrun, how long the watchdog gets before the channel is stopped. */
const STOP_GRACE_MS = 5000

/** One fact on the wire: a request, or a group's members answered by one snippet run. */
interface Unit {
  fact: ScriptFact
  pending: Pending[]
  members?: FactGroup
}

/** Requests of the same group become one fact whose args are every member's args in turn. */
function mergeGroups(batch: Pending[], nextId: () => number): Unit[] {
  const units: Unit[] = []
  const groups = new Map<string, Unit>()
  for (const p of batch) {
    const group = p.fact.request.group
    if (!group) {
      units.push({ fact: p.fact, pending: [p] })
      continue
    }
    const unit = groups.get(group.name)
    if (unit) {
      unit.pending.push(p)
      unit.fact.timeoutSec = Math.max(unit.fact.timeoutSec, p.fact.timeoutSec)
      continue
    }
    const merged: Unit = { fact: { ...p.fact }, pending: [p], members: group }
    groups.set(group.name, merged)
    units.push(merged)
  }
  for (const unit of groups.values()) {
    const members = unit.pending.map(p => p.fact.request)
    // a group of one still runs the group's snippet: its answer has the group's shape
    unit.fact = {
      ...unit.fact,
      id: nextId(),
      request: {
        key: `group:${unit.members!.name}`,
        describe: unit.members!.describe(members.length),
        script: unit.members!.script,
        inline: true,
        args: members.flatMap(m => m.args),
        parse: raw => raw,
      },
      maxBytes: unit.pending.reduce((sum, p) => sum + p.fact.maxBytes, 0),
    }
  }
  return units
}

/** The probe's stderr for a message, without the frame lines. */
function lastWords(stderr: string, nonce: string): string {
  return stderr
    .split('\n')
    .filter(l => l.trim() !== '' && !l.startsWith(`${nonce} `))
    .join('\n')
    .trim()
    .slice(-300)
}

// Facts run in turn on the host, each under `timeout -k 2`: a frame arrives at least that often.
const IDLE_SLACK_MS = 5_000

/** How long the probe may be silent before the host or connection counts as stalled. */
function idleTimeoutMs(batch: readonly Pending[]): number {
  return (Math.max(...batch.map(p => p.fact.timeoutSec)) + 2) * 1000 + IDLE_SLACK_MS
}
