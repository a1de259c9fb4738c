// SSH transport on ssh2: one connection per host, each fact batch one exec channel on it.
// ssh2 knows nothing of ~/.ssh, so key discovery and known_hosts checking happen here.
import { readFile } from 'node:fs/promises'
import { homedir, userInfo } from 'node:os'
import { join } from 'node:path'
import type { Duplex } from 'node:stream'
import ssh2 from 'ssh2'
import type { AnyAuthMethod, ClientChannel, ConnectConfig } from 'ssh2'
import { AuthError, HostKeyError, HostUnreachableError, TimeoutError, VerifyError } from '../errors.ts'
import type { HostSpec } from '../model.ts'
import {
  blobKeyType,
  checkHostKey,
  fingerprintSha256,
  hostKeyAlgorithmsFor,
  knownHostsName,
  knownTypesFor,
  parseKnownHosts,
  type HostKeyCheck,
  type KnownHostEntry,
} from './known-hosts.ts'
import type { ExecOptions, ExecResult, Transport } from './transport.ts'

export interface SshTransportOptions {
  host: HostSpec
  connectTimeoutMs: number
  keepaliveMs?: number
  /** Where SSH_AUTH_SOCK, VERIFY_KEY_PASSPHRASE and HOME come from (defaults to process.env). */
  env?: NodeJS.ProcessEnv
}

// OpenSSH's MaxSessions defaults to 10 per connection; stay below it with room for openTcp.
export const MAX_OPEN_CHANNELS = 8
const STDERR_CAP = 64 * 1024
const CHANNEL_OPEN_ATTEMPTS = 4
const CHANNEL_RETRY_BASE_MS = 50
const DEFAULT_KEEPALIVE_MS = 15_000
const KEEPALIVE_COUNT_MAX = 3
const CLOSE_GRACE_MS = 2_000
const DEFAULT_IDENTITIES = ['id_ed25519', 'id_ecdsa', 'id_rsa']
const UNREACHABLE_CODES = new Set(['ECONNREFUSED', 'EHOSTUNREACH', 'ENETUNREACH', 'ENOTFOUND', 'EAI_AGAIN', 'ECONNRESET', 'EHOSTDOWN', 'EPIPE'])
// SSH_OPEN_RESOURCE_SHORTAGE (RFC 4254): the server is busy, not refusing.
const OPEN_RESOURCE_SHORTAGE = 4

type Release = () => void

export class SshTransport implements Transport {
  readonly kind = 'ssh' as const
  private readonly host: HostSpec
  private readonly connectTimeoutMs: number
  private readonly keepaliveMs: number
  private readonly env: NodeJS.ProcessEnv
  private readonly user: string
  private readonly slots = new ChannelSlots(MAX_OPEN_CHANNELS)
  private client: ssh2.Client | undefined
  private connecting: Promise<void> | undefined
  private closing: Promise<void> | undefined
  private closedByUs = false
  /** Set once the connection is unusable; every later call rejects with it. */
  private lost: VerifyError | undefined
  /** The verdict of the host key check, since ssh2 only reports "verification failed". */
  private hostKeyFailure: HostKeyError | undefined
  private opened = 0

  constructor(options: SshTransportOptions) {
    this.host = options.host
    this.connectTimeoutMs = options.connectTimeoutMs
    this.keepaliveMs = options.keepaliveMs ?? DEFAULT_KEEPALIVE_MS
    this.env = options.env ?? process.env
    this.user = options.host.user ?? currentUser(this.env)
  }

  get execCount(): number {
    return this.opened
  }

  /** `user@address:port`, the way every message names the target. */
  get target(): string {
    return `${this.user}@${this.host.address}:${this.host.port}`
  }

  connect(): Promise<void> {
    this.connecting ??= this.establish()
    return this.connecting
  }

  async exec({ script, onStdout, signal }: ExecOptions): Promise<ExecResult> {
    const client = await this.usableClient()
    const release = await this.acquireSlot(signal)
    if (!release) return { exitCode: null, stderr: '' }
    let channel: ClientChannel
    try {
      channel = await this.openWithRetry(() => openExecChannel(client), isChannelOpenFailure)
    } catch (err) {
      release()
      throw err instanceof VerifyError ? err : new HostUnreachableError(`${this.target}: cannot start /bin/sh -s: ${(err as Error).message}`, { cause: err })
    }
    this.opened++
    channel.once('close', release)
    return runScript(channel, { script, onStdout, signal }, () => this.lost)
  }

  async openTcp(host: string, port: number): Promise<Duplex> {
    const client = await this.usableClient()
    const release = (await this.acquireSlot())!
    try {
      const stream = await this.openWithRetry(() => forwardOut(client, host, port), isResourceShortage)
      stream.once('close', release)
      return stream
    } catch (err) {
      release()
      throw err instanceof VerifyError ? err : this.tunnelError(host, port, err)
    }
  }

  close(): Promise<void> {
    this.closing ??= this.shutdown()
    return this.closing
  }

  // -------------------------------------------------------------------------------------------
  // Connecting.

  private async establish(): Promise<void> {
    const knownHosts = await this.loadKnownHosts()
    const auth = await this.authMethods()
    const client = new ssh2.Client()
    this.client = client
    const config = this.connectConfig(knownHosts, auth.methods)
    await new Promise<void>((resolve, reject) => {
      let ready = false
      const fail = (err: VerifyError) => {
        this.lost ??= err
        client.destroy()
        reject(err)
      }
      client.on('ready', () => { ready = true; resolve() })
      client.on('error', (err: SshError) => {
        if (ready) this.markLost(err)
        // A missing or broken agent is not fatal: ssh2 moves on to the next method.
        else if (err.level !== 'agent') fail(this.classify(err, auth.described))
      })
      client.on('close', () => {
        if (ready) this.markLost()
        else fail(new HostUnreachableError(`${this.target}: connection closed during the SSH handshake`))
      })
      try {
        client.connect(config)
      } catch (err) {
        fail(new HostUnreachableError(`${this.target}: ${(err as Error).message}`, { cause: err }))
      }
    })
  }

  private connectConfig(knownHosts: KnownHostsFile, methods: AnyAuthMethod[]): ConnectConfig {
    const knownTypes = knownTypesFor(knownHosts.entries, this.host.address, this.host.port)
    return {
      host: this.host.address,
      port: this.host.port,
      username: this.user,
      readyTimeout: this.connectTimeoutMs,
      keepaliveInterval: this.keepaliveMs,
      keepaliveCountMax: KEEPALIVE_COUNT_MAX,
      authHandler: methods,
      algorithms: { serverHostKey: hostKeyAlgorithmsFor(knownTypes) },
      hostVerifier: (key: Buffer) => this.verifyHostKey(knownHosts, key),
    }
  }

  private classify(err: SshError, triedAuth: string[]): VerifyError {
    if (this.hostKeyFailure) return this.hostKeyFailure
    if (err.level === 'client-timeout' || err.code === 'ETIMEDOUT') {
      return new TimeoutError(`${this.target}: connect timed out after ${seconds(this.connectTimeoutMs)}`, { cause: err })
    }
    if (err.level === 'client-authentication') {
      return new AuthError(
        `${this.target}: authentication failed; the server accepted none of: ${triedAuth.join(', ')}. ` +
          `Check the user name and that the public key is in the user's authorized_keys.`,
        { cause: err },
      )
    }
    if (err.code && UNREACHABLE_CODES.has(err.code)) {
      return new HostUnreachableError(`${this.target}: cannot connect: ${err.message}`, { cause: err })
    }
    return new HostUnreachableError(`${this.target}: SSH connection failed: ${err.message}`, { cause: err })
  }

  private markLost(err?: SshError): void {
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

  private async shutdown(): Promise<void> {
    this.closedByUs = true
    const client = this.client
    if (!client || this.lost) {
      this.markLost()
      return
    }
    const closed = new Promise<void>((resolve) => client.once('close', () => resolve()))
    this.markLost()
    client.end()
    // A server that never answers the disconnect must not hold close() forever.
    const timer = setTimeout(() => client.destroy(), CLOSE_GRACE_MS)
    await closed
    clearTimeout(timer)
  }

  // -------------------------------------------------------------------------------------------
  // Host key.

  private async loadKnownHosts(): Promise<KnownHostsFile> {
    const path = expandHome(this.host.knownHosts ?? '~/.ssh/known_hosts', this.env)
    try {
      return { path, exists: true, entries: parseKnownHosts(await readFile(path, 'utf8'), path) }
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return { path, exists: false, entries: [] }
      throw new HostKeyError(`${this.target}: cannot read known_hosts file ${path}: ${(err as Error).message}`, { cause: err })
    }
  }

  private verifyHostKey(knownHosts: KnownHostsFile, key: Buffer): boolean {
    const result = checkHostKey(knownHosts.entries, this.host.address, this.host.port, key)
    if (result.status === 'match') return true
    this.hostKeyFailure = new HostKeyError(hostKeyMessage(this.target, this.host, knownHosts, key, result))
    return false
  }

  // -------------------------------------------------------------------------------------------
  // Authentication.

  /** Explicit key first, then the agent, then default keys, as OpenSSH would offer them. */
  private async authMethods(): Promise<{ methods: AnyAuthMethod[]; described: string[] }> {
    const methods: AnyAuthMethod[] = []
    const described: string[] = []
    const passphrase = this.env.VERIFY_KEY_PASSPHRASE
    if (this.host.identityFile) {
      const file = expandHome(this.host.identityFile, this.env)
      methods.push(await this.explicitKey(file, passphrase))
      described.push(`identity file ${file}`)
    }
    const agent = this.env.SSH_AUTH_SOCK
    if (agent) {
      methods.push({ type: 'agent', username: this.user, agent })
      described.push(`ssh-agent keys (SSH_AUTH_SOCK=${agent})`)
    }
    if (!this.host.identityFile) {
      for (const name of DEFAULT_IDENTITIES) {
        const file = join(homeOf(this.env), '.ssh', name)
        const key = await readUsableKey(file, passphrase)
        if (key) {
          methods.push({ type: 'publickey', username: this.user, key, ...(passphrase ? { passphrase } : {}) })
          described.push(`identity file ${file}`)
        }
      }
    }
    if (methods.length === 0) {
      throw new AuthError(
        `${this.target}: no credentials to offer: no identityFile for the host, SSH_AUTH_SOCK is not set, ` +
          `and none of ~/.ssh/${DEFAULT_IDENTITIES.join(', ')} is a readable unencrypted key (or set VERIFY_KEY_PASSPHRASE)`,
      )
    }
    return { methods, described }
  }

  /** A configured key that cannot be used is a configuration error worth stopping for. */
  private async explicitKey(file: string, passphrase: string | undefined): Promise<AnyAuthMethod> {
    let data: Buffer
    try {
      data = await readFile(file)
    } catch (err) {
      throw new AuthError(`${this.target}: cannot read identity file ${file}: ${(err as Error).message}`, { cause: err })
    }
    const problem = keyProblem(data, passphrase)
    if (problem) throw new AuthError(`${this.target}: identity file ${file}: ${problem}`)
    return { type: 'publickey', username: this.user, key: data, ...(passphrase ? { passphrase } : {}) }
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
          throw new HostUnreachableError(`${this.target}: could not open an SSH channel after ${attempt} attempts: ${(err as Error).message}`, { cause: err })
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

// ---------------------------------------------------------------------------------------------
// Helpers without transport state.

interface SshError extends Error {
  level?: string
  code?: string
  reason?: number | string
}

interface KnownHostsFile {
  path: string
  exists: boolean
  entries: KnownHostEntry[]
}

/** Counting semaphore that hands a freed slot straight to the longest waiter. */
class ChannelSlots {
  private free: number
  private readonly waiters: Array<() => void> = []

  constructor(size: number) {
    this.free = size
  }

  acquire(signal?: AbortSignal): Promise<boolean> {
    if (this.free > 0) {
      this.free--
      return Promise.resolve(true)
    }
    return new Promise((resolve) => {
      const grant = () => {
        signal?.removeEventListener('abort', onAbort)
        resolve(true)
      }
      const onAbort = () => {
        this.waiters.splice(this.waiters.indexOf(grant), 1)
        resolve(false)
      }
      this.waiters.push(grant)
      signal?.addEventListener('abort', onAbort, { once: true })
    })
  }

  release(): void {
    const next = this.waiters.shift()
    if (next) next()
    else this.free++
  }

  /** Grants every waiter at once: only for a dead connection, where each will see the loss and give up. */
  wakeAll(): void {
    for (const grant of this.waiters.splice(0)) grant()
  }
}

function openExecChannel(client: ssh2.Client): Promise<ClientChannel> {
  return new Promise((resolve, reject) => {
    try {
      client.exec('/bin/sh -s', (err, channel) => (err ? reject(err) : resolve(channel)))
    } catch (err) {
      reject(err)
    }
  })
}

function forwardOut(client: ssh2.Client, host: string, port: number): Promise<ClientChannel> {
  return new Promise((resolve, reject) => {
    try {
      client.forwardOut('127.0.0.1', 0, host, port, (err, channel) => (err ? reject(err) : resolve(channel)))
    } catch (err) {
      reject(err)
    }
  })
}

/** Feeds the script to the channel's stdin and settles when the channel closes (or on abort). */
function runScript(channel: ClientChannel, options: ExecOptions, lostReason: () => VerifyError | undefined): Promise<ExecResult> {
  const { script, onStdout, signal } = options
  return new Promise((resolve, reject) => {
    let exitCode: number | null = null
    let settled = false
    const stderr = cappedCollector(STDERR_CAP)
    const settle = (action: () => void) => {
      if (settled) return
      settled = true
      signal?.removeEventListener('abort', onAbort)
      action()
    }
    const onAbort = () => {
      settle(() => resolve({ exitCode: null, stderr: stderr.text() }))
      stopChannel(channel)
    }
    // Keep reading after settling: ssh2 only emits 'close' once stdout has been drained.
    channel.on('data', (chunk: Buffer) => {
      if (settled) return
      try {
        onStdout(chunk)
      } catch (err) {
        settle(() => reject(err))
        stopChannel(channel)
      }
    })
    channel.stderr.on('data', (chunk: Buffer) => stderr.push(chunk))
    channel.on('exit', (code: number | null) => { exitCode = typeof code === 'number' ? code : null })
    channel.on('error', () => {}) // the 'close' that follows carries the outcome
    channel.on('close', () => {
      const lost = exitCode === null ? lostReason() : undefined
      settle(() => (lost ? reject(lost) : resolve({ exitCode, stderr: stderr.text() })))
    })
    signal?.addEventListener('abort', onAbort, { once: true })
    if (signal?.aborted) onAbort()
    else channel.end(script)
  })
}

/** TERM the remote process group (sshd killpg()s it), then close: closing alone leaves it running. */
function stopChannel(channel: ClientChannel): void {
  try {
    signalAfterEof(channel, 'TERM')
    channel.close()
  } catch {
    // already closing
  }
}

interface ChannelInternals {
  outgoing?: { id?: number; state?: string }
  _client?: { _protocol?: { signal?(id: number, signal: string): void } }
}

/** ssh2's channel.signal() is a no-op once stdin has ended, though RFC 4254 allows requests after EOF. */
function signalAfterEof(channel: ClientChannel, signal: string): void {
  const { outgoing, _client } = channel as unknown as ChannelInternals
  if (outgoing?.id === undefined || (outgoing.state !== 'open' && outgoing.state !== 'eof')) return
  _client?._protocol?.signal?.(outgoing.id, signal)
}

function cappedCollector(cap: number): { push(chunk: Buffer): void; text(): string } {
  const chunks: Buffer[] = []
  let size = 0
  let dropped = 0
  return {
    push(chunk) {
      const take = Math.min(chunk.length, cap - size)
      if (take > 0) chunks.push(chunk.subarray(0, take))
      size += take
      dropped += chunk.length - take
    },
    text() {
      const text = Buffer.concat(chunks).toString('utf8')
      return dropped > 0 ? `${text}\n[stderr truncated: ${dropped} more bytes]` : text
    },
  }
}

function isChannelOpenFailure(err: unknown): boolean {
  return /Channel open failure|No free channels/.test((err as Error).message ?? '')
}

function isResourceShortage(err: unknown): boolean {
  return (err as SshError).reason === OPEN_RESOURCE_SHORTAGE
}

/** Why ssh2 could not use this private key, or undefined when it can. */
function keyProblem(data: Buffer, passphrase: string | undefined): string | undefined {
  const parsed = ssh2.utils.parseKey(data, passphrase)
  if (parsed instanceof Error) {
    const hint = /encrypted|passphrase/i.test(parsed.message) && !passphrase ? ' (set VERIFY_KEY_PASSPHRASE)' : ''
    return `${parsed.message}${hint}`
  }
  const key = Array.isArray(parsed) ? parsed[0] : parsed
  if (!key?.isPrivateKey()) return 'not a private key (point identityFile at the private half, not the .pub)'
  return undefined
}

/** Default keys are tried only when usable; an unusable one is silently passed over, as ssh does. */
async function readUsableKey(file: string, passphrase: string | undefined): Promise<Buffer | undefined> {
  try {
    const data = await readFile(file)
    return keyProblem(data, passphrase) ? undefined : data
  } catch {
    return undefined
  }
}

function hostKeyMessage(target: string, host: HostSpec, knownHosts: KnownHostsFile, key: Buffer, result: HostKeyCheck): string {
  const presented = `${blobKeyType(key) ?? 'unknown-type'} key ${fingerprintSha256(key)}`
  const name = knownHostsName(host.address, host.port)
  const file = knownHosts.path
  const at = result.line !== undefined ? `${file}:${result.line}` : file
  const add = `ssh-keyscan ${host.port === 22 ? '' : `-p ${host.port} `}${host.address} >> ${file}`
  switch (result.status) {
    case 'revoked':
      return `${target}: the host presented ${presented}, which is marked @revoked in ${at}; refusing to connect.`
    case 'mismatch':
      return (
        `${target}: HOST KEY CHANGED: the host presented ${presented}, but ${at} holds a different key for ${name}. ` +
        `Someone may be intercepting the connection, or the host was rebuilt. Confirm the new fingerprint out-of-band, ` +
        `then replace the entry: ssh-keygen -R '${name}' -f ${file} && ${add}`
      )
    case 'cert-authority-only':
      return (
        `${target}: ${at} only has a @cert-authority line for ${name}, and host certificates are not supported; ` +
        `the host presented ${presented}. Confirm it out-of-band, then add the plain key: ${add}`
      )
    default: {
      const where = knownHosts.exists ? `is not in ${file}` : `cannot be checked: ${file} does not exist`
      return `${target}: host key for ${name} ${where}; the host presented ${presented}. Confirm that fingerprint out-of-band, then add it: ${add}`
    }
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

function homeOf(env: NodeJS.ProcessEnv): string {
  return env.HOME ?? homedir()
}

function expandHome(path: string, env: NodeJS.ProcessEnv): string {
  return path === '~' || path.startsWith('~/') ? join(homeOf(env), path.slice(1)) : path
}

function seconds(ms: number): string {
  return `${Number((ms / 1000).toFixed(1))}s`
}

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms))
}

function once(fn: () => void): () => void {
  let done = false
  return () => {
    if (done) return
    done = true
    fn()
  }
}
