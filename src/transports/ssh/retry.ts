// The connect path of a host: a transient handshake failure (an sshd over MaxStartups drops
// new connections before the banner; a moment later it accepts) is retried with jittered
// backoff, all inside the one --connect-timeout; every other failure counts at once, and each
// final error says what to check (connect-errors.ts).
import { TimeoutError } from '../../errors.ts'
import type { HostSpec } from '../../model.ts'
import { explainConnectError, isTransientConnectFailure, reservedNameError } from './connect-errors.ts'
import type { CloseOptions, ConnectStage, ConnectTimings, ExecOptions, ExecResult, Transport } from '../transport.ts'
import type { ConnectPacer } from './connect-pacer.ts'
import { setTimeout as delay } from 'node:timers/promises'

export interface RetryPolicy {
  /** Attempts in all, the first one included. */
  attempts: number
  /** Backoff before the first retry; doubles for each later one, up to maxDelayMs. */
  baseDelayMs: number
  maxDelayMs: number
  /** The whole connect, retries included, ends within this (the --connect-timeout). */
  deadlineMs: number
  /** The run's pacing of new handshakes (connect-pacer.ts); waiting for it is not part of the deadline. */
  pacer?: ConnectPacer
  /** For tests: the jitter source (0 ≤ x < 1) and the wait. */
  random?: () => number
  sleep?: (ms: number) => Promise<void>
}

export const DEFAULT_RETRY: Pick<RetryPolicy, 'attempts' | 'baseDelayMs' | 'maxDelayMs'> = {
  attempts: 4,
  baseDelayMs: 200,
  maxDelayMs: 2_000,
}
// An attempt with less time than this left would only turn a clear error into a timeout.
const MIN_ATTEMPT_MS = 500

const STAGE_WORDS: Record<ConnectStage, string> = {
  'ssh-config': ' while reading ssh_config (ssh -G)',
  route: ' while opening the route (ProxyCommand or ProxyJump bastion)',
  handshake: '',
}

/** Opens a fresh transport for one attempt, with this much time to connect. */
export type OpenTransport = (connectTimeoutMs: number) => Transport

export class RetryingTransport implements Transport {
  readonly kind: Transport['kind']
  /** Connection attempts made so far (1 when the first one worked). */
  attemptsMade = 0
  private current: Transport
  private connecting: Promise<void> | undefined
  /** close() was called: a retry still waiting must not open another connection. */
  private closed = false
  private queueMs: number | undefined

  constructor(
    private readonly host: Pick<HostSpec, 'address' | 'port' | 'source' | 'user'>,
    private readonly open: OpenTransport,
    private readonly policy: RetryPolicy,
  ) {
    // The first attempt's transport exists up front, so kind and execCount work before connect().
    this.current = open(policy.deadlineMs)
    this.kind = this.current.kind
  }

  get execCount(): number {
    return this.current.execCount
  }

  /** The last attempt's phases, plus the wait for a handshake slot and the attempts made. */
  get connectTimings(): ConnectTimings {
    return { ...(this.queueMs !== undefined ? { queueMs: this.queueMs } : {}), ...this.current.connectTimings, attempts: this.attemptsMade }
  }

  get connectStage(): ConnectStage | undefined {
    return this.current.connectStage
  }

  connect(): Promise<void> {
    this.connecting ??= this.pacedConnect()
    return this.connecting
  }

  /** Holds one handshake slot at the host's endpoint through every attempt (retries included). */
  private async pacedConnect(): Promise<void> {
    const { pacer } = this.policy
    const queued = performance.now()
    const release = pacer ? await pacer.acquire(`${this.host.address}:${this.host.port}`) : undefined
    if (pacer) this.queueMs = Math.round(performance.now() - queued)
    try {
      if (this.closed) throw new Error(`${this.host.address}:${this.host.port}: closed before connecting`)
      await this.withinDeadline(this.connectWithRetry())
    } finally {
      release?.()
    }
  }

  exec(options: ExecOptions): Promise<ExecResult> {
    return this.current.exec(options)
  }

  openTcp(host: string, port: number): ReturnType<Transport['openTcp']> {
    return this.current.openTcp(host, port)
  }

  close(options?: CloseOptions): Promise<void> {
    this.closed = true
    return this.current.close(options)
  }

  /**
   * The whole connect ends by the deadline, whatever step it is in: ssh2's own timer starts only
   * once ssh_config is resolved and a route (bastion, ProxyCommand) is open, which can take long.
   */
  private withinDeadline(connecting: Promise<void>): Promise<void> {
    let timer: NodeJS.Timeout | undefined
    const expired = new Promise<never>((_, reject) => {
      timer = setTimeout(() => {
        this.closed = true
        // read before closing: the close ends the stage
        const stage = this.current.connectStage
        // gives up the attempt wherever it is: a handshake finishing after this is destroyed
        void this.current.close({ graceMs: 0 }).catch(() => {})
        const who =
          (this.current as { target?: string }).target ??
          `${this.host.user ? `${this.host.user}@` : ''}${this.host.address}:${this.host.port}`
        const during = stage ? STAGE_WORDS[stage] : ''
        reject(
          explainConnectError(
            new TimeoutError(`${who}: connect timed out after ${Number((this.policy.deadlineMs / 1000).toFixed(1))}s${during}`, {
              cause: { stage },
            }),
            this.host,
          ),
        )
      }, this.policy.deadlineMs)
    })
    connecting.catch(() => {}) // settles unobserved once the deadline has won
    return Promise.race([connecting, expired]).finally(() => clearTimeout(timer))
  }

  private async connectWithRetry(): Promise<void> {
    const reserved = reservedNameError(this.host, `${this.host.user ? `${this.host.user}@` : ''}${this.host.address}:${this.host.port}`)
    if (reserved) throw reserved
    const { attempts, deadlineMs } = this.policy
    const sleep = this.policy.sleep ?? delay
    const started = performance.now()
    for (let attempt = 1; ; attempt++) {
      if (attempt > 1) this.current = this.open(Math.max(MIN_ATTEMPT_MS, deadlineMs - (performance.now() - started)))
      this.attemptsMade = attempt
      try {
        await this.current.connect()
        return
      } catch (error) {
        const wait = backoffMs(attempt, this.policy)
        const left = deadlineMs - (performance.now() - started) - wait
        if (this.closed || !isTransientConnectFailure(error) || attempt >= attempts || left < MIN_ATTEMPT_MS) {
          throw explainConnectError(error, this.host, attempt)
        }
        await this.current.close().catch(() => {})
        await sleep(wait)
        if (this.closed) throw explainConnectError(error, this.host, attempt)
      }
    }
  }
}

/** Equal jitter: half the exponential step for sure, half at random, so retrying clients spread out. */
export function backoffMs(attempt: number, policy: Pick<RetryPolicy, 'baseDelayMs' | 'maxDelayMs' | 'random'>): number {
  const step = Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** (attempt - 1))
  return Math.round(step / 2 + (policy.random ?? Math.random)() * (step / 2))
}
