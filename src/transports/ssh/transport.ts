// SSH transport on ssh2: one connection per host, each fact batch one exec channel on it
// (channels.ts, at most MAX_OPEN_CHANNELS at once: channel-slots.ts). The host is resolved
// through ~/.ssh/config (config.ts, target.ts), reached directly, by ProxyCommand or through
// pooled bastions (bastion.ts), authenticated and host-key checked (connect.ts, known-hosts.ts);
// with `become` the probe's shell runs under sudo (become.ts).
import type { Duplex } from 'node:stream'
import type ssh2 from 'ssh2'
import type { ClientChannel } from 'ssh2'
import { userInfo } from 'node:os'
import { HostUnreachableError, TimeoutError, VerifyError } from '../../errors.ts'
import type { HostSpec } from '../../model.ts'
import { becomeFailure, becomeInvocation, scrub, type BecomeInvocation } from './become.ts'
import { forwardOut, type Route } from './bastion.ts'
import { connectSsh } from './connect.ts'
import { SshSession } from './session.ts'
import { configQueryFor, endpoint, targetForHost, type SshTarget } from './target.ts'
import { ChannelSlots } from './channel-slots.ts'
import { isChannelOpenFailure, isResourceShortage, openExecChannel, runScript, type IdleWatch } from './channels.ts'
import { seconds } from '../../lib/format.ts'
import { setTimeout as delay } from 'node:timers/promises'
import type { CloseOptions, ConnectStage, ConnectTimings, ExecOptions, ExecResult, Transport } from '../transport.ts'

export interface SshTransportOptions {
  host: HostSpec
  connectTimeoutMs: number
  keepaliveMs?: number
  /** Where SSH_AUTH_SOCK, key/password env vars and HOME come from (defaults to the session's, else process.env). */
  env?: NodeJS.ProcessEnv
  /** The run's shared ssh_config resolver and bastion pool; a private one when absent. */
  session?: SshSession
  /** How long the server may take to answer a channel open (`--timeout`): a stalled host costs a timeout, not a hang. */
  channelTimeoutMs?: number
}

// OpenSSH's MaxSessions defaults to 10 per connection; stay below it with room for openTcp.
export const MAX_OPEN_CHANNELS = 8
const CHANNEL_OPEN_ATTEMPTS = 4
const CHANNEL_RETRY_BASE_MS = 50
const CLOSE_GRACE_MS = 2_000
const DEFAULT_CHANNEL_TIMEOUT_MS = 10_000

type Release = () => void

export class SshTransport implements Transport {
  readonly kind = 'ssh' as const
  private readonly host: HostSpec
  private readonly connectTimeoutMs: number
  private readonly channelTimeoutMs: number
  private readonly session: SshSession
  private readonly ownSession: boolean
  private readonly env: NodeJS.ProcessEnv
  private readonly slots = new ChannelSlots(MAX_OPEN_CHANNELS)
  private resolved: SshTarget | undefined
  private route: Route | undefined
  private client: ssh2.Client | undefined
  private connecting: Promise<void> | undefined
  private closing: Promise<void> | undefined
  private closedByUs = false
  /** Set once the connection is unusable; every later call rejects with it. */
  private lost: VerifyError | undefined
  private opened = 0
  /** Aborted by close(): whatever establish() is waiting for is given up, and what it opened destroyed. */
  private readonly giveUp = new AbortController()
  /** Where connect() is: what a connect timeout blames. */
  connectStage: ConnectStage | undefined
  readonly connectTimings: ConnectTimings = {}

  constructor(options: SshTransportOptions) {
    this.host = options.host
    this.connectTimeoutMs = options.connectTimeoutMs
    this.channelTimeoutMs = options.channelTimeoutMs ?? DEFAULT_CHANNEL_TIMEOUT_MS
    this.ownSession = options.session === undefined
    this.session =
      options.session ??
      new SshSession({ ...(options.env ? { env: options.env } : {}), ...(options.keepaliveMs ? { keepaliveMs: options.keepaliveMs } : {}) })
    this.env = options.env ?? this.session.env
  }

  get execCount(): number {
    return this.opened
  }

  /** `user@hostname:port` once ssh_config is resolved (the inventory's view before), the way every message names the target. */
  get target(): string {
    if (this.resolved) return endpoint(this.resolved)
    return `${this.host.user ?? currentUser(this.env)}@${this.host.address}:${this.host.port}`
  }

  connect(): Promise<void> {
    this.connecting ??= this.establish().catch(async (err: unknown) => {
      this.lost ??= err instanceof VerifyError ? err : new HostUnreachableError(`${this.target}: ${(err as Error).message}`, { cause: err })
      // callers need not close() a transport that never connected: its private bastions end here
      if (this.ownSession) await this.session.close()
      throw this.lost
    })
    return this.connecting
  }

  async exec(options: ExecOptions): Promise<ExecResult> {
    const { signal, idleTimeoutMs } = options
    const client = await this.usableClient()
    const become = this.resolved?.become ? becomeInvocation(this.resolved.become, this.env) : undefined
    const release = await this.acquireSlot(signal)
    if (!release) return { exitCode: null, stderr: '' }
    let channel: ClientChannel
    try {
      // sshd answers an exec open at once: no answer means the connection or the host stalled
      channel = await this.openWithRetry(
        () => this.answeredWithin(client, openExecChannel(client, become?.command ?? '/bin/sh -s'), 'an exec channel (/bin/sh -s)', true),
        isChannelOpenFailure,
      )
    } catch (err) {
      release()
      throw err instanceof VerifyError
        ? err
        : new HostUnreachableError(`${this.target}: cannot start /bin/sh -s: ${(err as Error).message}`, { cause: err })
    }
    this.opened++
    channel.once('close', release)
    const onIdle = idleTimeoutMs
      ? {
          ms: idleTimeoutMs,
          stalled: () =>
            this.stalled(
              client,
              `the probe got no byte back for ${seconds(idleTimeoutMs)} (each fact is limited on the host to less than that)`,
            ),
        }
      : undefined
    if (!become) return runScript(channel, options, () => this.lost, onIdle)
    return this.runBecome(channel, become, options, onIdle)
  }

  async openTcp(host: string, port: number): Promise<Duplex> {
    const client = await this.usableClient()
    const release = (await this.acquireSlot())!
    try {
      // sshd answers once its own TCP connect to host:port is done: a late answer fails this tunnel, not the connection
      const stream = await this.openWithRetry(
        () => this.answeredWithin(client, forwardOut(client, host, port), `a direct-tcpip channel to ${host}:${port}`, false),
        isResourceShortage,
      )
      stream.once('close', release)
      return stream
    } catch (err) {
      release()
      throw err instanceof VerifyError ? err : this.tunnelError(host, port, err)
    }
  }

  close(options: CloseOptions = {}): Promise<void> {
    this.closing ??= this.shutdown(options.graceMs ?? CLOSE_GRACE_MS)
    return this.closing
  }

  // -------------------------------------------------------------------------------------------
  // Connecting.

  private async establish(): Promise<void> {
    const { signal } = this.giveUp
    let mark = performance.now()
    const lap = () => Math.round(-mark + (mark = performance.now()))
    this.connectStage = 'ssh-config'
    const config = await this.session.resolver.resolve(configQueryFor(this.host), signal)
    const target = targetForHost(this.host, config, { ...this.session.context, env: this.env })
    this.resolved = target
    this.connectTimings.resolveMs = lap()
    this.connectStage = target.proxyJump.length > 0 || target.proxyCommand ? 'route' : 'handshake'
    const route = await this.session.jumps.open(target, this.connectTimeoutMs, signal)
    this.route = route
    if (route.sock) this.connectTimings.routeMs = lap()
    this.connectStage = 'handshake'
    let connection
    try {
      connection = await connectSsh(target, route.sock, {
        env: this.env,
        connectTimeoutMs: this.connectTimeoutMs,
        keepaliveMs: this.session.keepaliveMs,
        signal,
        files: this.session.files,
        ...(this.session.notice ? { notice: this.session.notice } : {}),
        ...(route.via ? { via: route.via } : {}),
        onLost: err => this.markLost(err),
      })
    } catch (err) {
      route.release()
      const extra = route.explain()
      if (extra && err instanceof VerifyError) err.message = `${err.message} (${extra})`
      throw err
    }
    void connection.closed.then(() => route.release())
    if (signal.aborted) {
      // ready in the same tick as the close: it is given up all the same
      connection.client.destroy()
      throw signal.reason
    }
    this.client = connection.client
    this.connectStage = undefined
    Object.assign(this.connectTimings, connection.phases)
  }

  /**
   * The channel `opening` resolves to, or a TimeoutError once the server has not answered within
   * the channel timeout; a channel that arrives later is closed at once. `fatal`: the connection
   * is stalled, so it is given up and every other call on it fails with the same error.
   */
  private answeredWithin(client: ssh2.Client, opening: Promise<ClientChannel>, what: string, fatal: boolean): Promise<ClientChannel> {
    return new Promise((resolve, reject) => {
      let late = false
      const timer = setTimeout(() => {
        late = true
        const why = `the server did not answer the opening of ${what} within ${seconds(this.channelTimeoutMs)} (--timeout): it accepted the connection, then stopped answering`
        reject(fatal ? this.stalled(client, why) : new TimeoutError(`${this.target}: ${why}`))
      }, this.channelTimeoutMs)
      opening.then(
        channel => {
          clearTimeout(timer)
          if (late) channel.destroy()
          else resolve(channel)
        },
        (err: unknown) => {
          clearTimeout(timer)
          reject(err)
        },
      )
    })
  }

  /** The connection stopped answering: it is given up, and every call on it fails with this timeout. */
  private stalled(client: ssh2.Client, why: string): VerifyError {
    this.lost ??= new TimeoutError(`${this.target}: ${why}`)
    this.slots.wakeAll()
    client.destroy()
    return this.lost
  }

  /** Feeds password and marker ahead of the script; turns sudo's own refusal into a FactError, scrubbed of the password. */
  private async runBecome(channel: ClientChannel, become: BecomeInvocation, options: ExecOptions, onIdle?: IdleWatch): Promise<ExecResult> {
    let sawStdout = false
    const result = await runScript(
      channel,
      {
        ...options,
        script: become.stdinPrefix + options.script,
        onStdout: chunk => {
          sawStdout = true
          options.onStdout(chunk)
        },
      },
      () => this.lost,
      onIdle,
    )
    const stderr = scrub(result.stderr, become.secret)
    const refused = becomeFailure(become, result.exitCode, sawStdout, stderr)
    if (refused) throw refused
    return { exitCode: result.exitCode, stderr }
  }

  private markLost(err?: Error): void {
    if (this.lost) return
    const why = err ? `: ${err.message}` : ''
    this.lost = new HostUnreachableError(`${this.target}: connection ${this.closedByUs ? 'closed' : `lost${why}`}`, { cause: err })
    // Queued callers would otherwise wait for slots that only a still-open tunnel may hold.
    this.slots.wakeAll()
  }

  private async usableClient(): Promise<ssh2.Client> {
    if (!this.connecting) throw new Error(`SshTransport(${this.target}): call connect() first`)
    await this.connecting
    if (this.lost) throw this.lost
    return this.client!
  }

  private async shutdown(graceMs: number): Promise<void> {
    this.closedByUs = true
    // a connect still in progress stops where it is: no client may be created after this
    this.giveUp.abort(new HostUnreachableError(`${this.target}: connection given up before it was established`))
    const client = this.client
    try {
      if (!client || this.lost) {
        this.markLost()
        client?.destroy()
        return
      }
      const closed = new Promise<void>(resolve => client.once('close', () => resolve()))
      this.markLost()
      client.end()
      // A server that never answers the disconnect must not hold close() forever.
      const timer = setTimeout(() => client.destroy(), graceMs)
      await closed
      clearTimeout(timer)
    } finally {
      this.route?.release()
      if (this.ownSession) await this.session.close()
    }
  }

  // -------------------------------------------------------------------------------------------
  // Channels.

  /** Waits for one of the channel slots; undefined when the signal aborted the wait. */
  private async acquireSlot(signal?: AbortSignal): Promise<Release | undefined> {
    if (signal?.aborted) return undefined
    const granted = await this.slots.acquire(signal)
    if (!granted) return undefined
    const release = once(() => this.slots.release())
    if (this.lost) {
      release()
      throw this.lost
    }
    return release
  }

  /** A busy server refuses channels now and then; that is a reason to wait, not a failed check. */
  private async openWithRetry<T>(open: () => Promise<T>, retryable: (err: unknown) => boolean): Promise<T> {
    for (let attempt = 1; ; attempt++) {
      try {
        return await open()
      } catch (err) {
        if (this.lost) throw this.lost
        if (!retryable(err)) throw err
        if (attempt >= CHANNEL_OPEN_ATTEMPTS) {
          throw new HostUnreachableError(
            `${this.target}: could not open an SSH channel after ${attempt} attempts: ${(err as Error).message}`,
            { cause: err },
          )
        }
        await delay(CHANNEL_RETRY_BASE_MS * 2 ** (attempt - 1))
      }
    }
  }

  private tunnelError(host: string, port: number, err: unknown): Error {
    const description = (err as Error).message.replace(/^\(SSH\) Channel open failure: /, '')
    const hint = /prohibited/i.test(description) ? ' (sshd forbids it: AllowTcpForwarding)' : ''
    const error = new Error(`TCP ${host}:${port} through ${this.target}: ${description}${hint}`, { cause: err })
    // Look like net.connect's error, so callers treat a closed port the same for every transport.
    if (/refused/i.test(description)) Object.assign(error, { code: 'ECONNREFUSED' })
    return error
  }
}

function currentUser(env: NodeJS.ProcessEnv): string {
  try {
    return userInfo().username
  } catch {
    // No passwd entry for our uid (some containers): fall back to what the shell says.
    return env.USER ?? env.LOGNAME ?? 'root'
  }
}

function once(fn: () => void): () => void {
  let done = false
  return () => {
    if (done) return
    done = true
    fn()
  }
}
