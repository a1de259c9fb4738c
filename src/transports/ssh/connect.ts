// One SSH handshake with ssh2, for a target host or a bastion hop: host key checked against
// known_hosts (files and an env var), credentials offered in OpenSSH's order, failures typed.
// ssh2 knows nothing of ~/.ssh, so all of that happens here.
import { appendFile, mkdir, readFile } from 'node:fs/promises'
import { dirname, join } from 'node:path'
import type { Duplex } from 'node:stream'
import type ssh2 from 'ssh2'
import type { AnyAuthMethod, ConnectConfig, ParsedKey } from 'ssh2'
import { AuthError, HostKeyError, HostUnreachableError, TimeoutError, VerifyError } from '../../errors.ts'
import {
  blobKeyType,
  checkHostKey,
  fingerprintSha256,
  hostKeyAlgorithmsFor,
  knownHostsLine,
  knownTypesFor,
  lookupName,
  parseKnownHosts,
  type HostKeyCheck,
  type KnownHostEntry,
} from './known-hosts.ts'
import type { SshFileCache } from './file-cache.ts'
import { DEFAULT_IDENTITY_ENV, endpoint, type SshTarget } from './target.ts'
import { noteConnectAttempt, watchFirstByte } from '../first-contact.ts'
import { seconds } from '../../lib/format.ts'
import { Client, parseKey } from './ssh2-client.ts'

export interface ConnectOptions {
  env: NodeJS.ProcessEnv
  connectTimeoutMs: number
  keepaliveMs: number
  /** Told about what changed on disk (a host key recorded by accept-new). */
  notice?: (message: string) => void
  /** The bastion this connection runs through, for messages. */
  via?: string
  /** Called at once (synchronously) when a ready connection errors or closes, before channels settle. */
  onLost?: (err: Error | undefined) => void
  /** Gives up the connect: the client (and its socket) is destroyed and the call rejects with the reason. */
  signal?: AbortSignal
  /** The run's parsed known_hosts and identity files (each file read once while unchanged); absent: read for this connect. */
  files?: SshFileCache
}

/** Where a connect's time went, ms: TCP (or the route's stream) open, key exchange done, authenticated. */
export interface ConnectPhases {
  tcpMs?: number
  handshakeMs?: number
  authMs?: number
}

export interface SshConnection {
  client: ssh2.Client
  phases: ConnectPhases
  /** Resolves when the connection is gone, with the reason when it was not our own end(). */
  closed: Promise<Error | undefined>
}

const KEEPALIVE_COUNT_MAX = 3
const DEFAULT_IDENTITIES = ['id_ed25519', 'id_ecdsa', 'id_rsa']
const UNREACHABLE_CODES = new Set([
  'ECONNREFUSED',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ENOTFOUND',
  'EAI_AGAIN',
  'ECONNRESET',
  'EHOSTDOWN',
  'EPIPE',
])

interface SshError extends Error {
  level?: string
  code?: string
}

/** Connects and authenticates; rejects with a typed VerifyError naming the endpoint. */
export async function connectSsh(target: SshTarget, sock: Duplex | undefined, options: ConnectOptions): Promise<SshConnection> {
  const who = endpoint(target) + (options.via ? ` (via ${options.via})` : '')
  const files = options.files ?? uncached
  const knownHosts = await loadKnownHosts(target, options.env, who, files)
  const auth = await authMethods(target, options.env, who, files)
  const { signal } = options
  if (signal?.aborted) throw signal.reason
  const client = new Client()
  let hostKeyFailure: HostKeyError | undefined
  const verify = (key: Buffer, done: (ok: boolean) => void) => {
    checkPresentedKey(target, knownHosts, key, options, who).then(
      () => done(true),
      (err: unknown) => {
        hostKeyFailure = err instanceof HostKeyError ? err : new HostKeyError(`${who}: ${(err as Error).message}`, { cause: err })
        done(false)
      },
    )
  }
  const name = lookupName(target.hostname, target.port, target.hostKeyAlias)
  const config: ConnectConfig = {
    host: target.hostname,
    port: target.port,
    username: target.user,
    readyTimeout: options.connectTimeoutMs,
    keepaliveInterval: options.keepaliveMs,
    keepaliveCountMax: KEEPALIVE_COUNT_MAX,
    authHandler: auth.methods,
    algorithms: { serverHostKey: hostKeyAlgorithmsFor(knownTypesFor(knownHosts.entries, name, 22)) },
    hostVerifier: verify,
    ...(sock ? { sock } : {}),
  }
  let ready = false
  let resolveClosed!: (err: Error | undefined) => void
  const closed = new Promise<Error | undefined>(resolve => {
    resolveClosed = resolve
  })
  let lastError: Error | undefined
  const phases: ConnectPhases = {}
  const started = performance.now()
  await new Promise<void>((resolve, reject) => {
    const onAbort = () => fail(signal!.reason as Error)
    const fail = (err: Error) => {
      signal?.removeEventListener('abort', onAbort)
      client.destroy()
      reject(err)
    }
    // given up (a connect deadline, an interrupt): a handshake that would finish later must not
    signal?.addEventListener('abort', onAbort, { once: true })
    client.on('connect', () => {
      phases.tcpMs = since(started)
    })
    client.on('handshake', () => {
      phases.handshakeMs ??= since(started) - (phases.tcpMs ?? 0)
    })
    client.on('ready', () => {
      signal?.removeEventListener('abort', onAbort)
      ready = true
      phases.authMs = since(started) - (phases.tcpMs ?? 0) - (phases.handshakeMs ?? 0)
      resolve()
    })
    client.on('error', (err: SshError) => {
      if (ready) {
        lastError ??= err
        options.onLost?.(err)
      }
      // A missing or broken agent is not fatal: ssh2 moves on to the next method.
      else if (err.level !== 'agent') fail(hostKeyFailure ?? classify(err, who, auth.described, options.connectTimeoutMs))
    })
    client.on('close', () => {
      if (ready) options.onLost?.(lastError)
      resolveClosed(lastError)
      if (!ready) fail(hostKeyFailure ?? new HostUnreachableError(`${who}: connection closed during the SSH handshake`))
    })
    try {
      noteConnectAttempt()
      client.connect(config)
      // ssh2's socket (or the route's stream), whose first byte is the host's SSH banner
      watchFirstByte(sock ?? (client as unknown as { _sock?: Duplex })._sock)
    } catch (err) {
      fail(new HostUnreachableError(`${who}: ${(err as Error).message}`, { cause: err }))
    }
  })
  return { client, closed, phases }
}

function since(started: number): number {
  return Math.round(performance.now() - started)
}

function classify(err: SshError, who: string, triedAuth: string[], timeoutMs: number): VerifyError {
  if (err.level === 'client-timeout' || err.code === 'ETIMEDOUT') {
    return new TimeoutError(`${who}: connect timed out after ${seconds(timeoutMs)}`, { cause: err })
  }
  if (err.level === 'client-authentication') {
    return new AuthError(
      `${who}: authentication failed; the server accepted none of: ${triedAuth.join(', ')}. ` +
        `Check the user name and that the public key is in the user's authorized_keys.`,
      { cause: err },
    )
  }
  if (err.code && UNREACHABLE_CODES.has(err.code)) {
    return new HostUnreachableError(`${who}: cannot connect: ${err.message}`, { cause: err })
  }
  return new HostUnreachableError(`${who}: SSH connection failed: ${err.message}`, { cause: err })
}

// ---------------------------------------------------------------------------------------------
// Host keys.

interface KnownHosts {
  entries: KnownHostEntry[]
  /** What was consulted, in order, for messages: file paths and `$ENV_NAME`. */
  consulted: Array<{ source: string; exists: boolean }>
}

/** Reads the file every time: a connect made without a run's cache (tests, one-off connects). */
const uncached: Pick<SshFileCache, 'read'> = { read: async (path, parse) => parse(await readFile(path)) }
type Files = Pick<SshFileCache, 'read'>

async function loadKnownHosts(target: SshTarget, env: NodeJS.ProcessEnv, who: string, cache: Files): Promise<KnownHosts> {
  const entries: KnownHostEntry[] = []
  const consulted: KnownHosts['consulted'] = []
  const fromEnv = env[target.knownHostsEnv]
  if (fromEnv !== undefined && fromEnv.trim() !== '') {
    const source = `$${target.knownHostsEnv}`
    entries.push(...parseKnownHosts(fromEnv, source))
    consulted.push({ source, exists: true })
  }
  const files = [
    ...target.knownHostsFiles.map(path => ({ path, user: true })),
    ...target.globalKnownHostsFiles.map(path => ({ path, user: false })),
  ]
  for (const { path, user } of files) {
    try {
      entries.push(...(await cache.read(path, data => parseKnownHosts(data.toString('utf8'), path), 'known_hosts')))
      consulted.push({ source: path, exists: true })
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code
      if (code === 'ENOENT' || (!user && code === 'EACCES')) {
        if (user) consulted.push({ source: path, exists: false })
        continue
      }
      throw new HostKeyError(`${who}: cannot read known_hosts file ${path}: ${(err as Error).message}`, { cause: err })
    }
  }
  return { entries, consulted }
}

async function checkPresentedKey(
  target: SshTarget,
  knownHosts: KnownHosts,
  key: Buffer,
  options: ConnectOptions,
  who: string,
): Promise<void> {
  const name = lookupName(target.hostname, target.port, target.hostKeyAlias)
  const result = checkHostKey(knownHosts.entries, name, 22, key)
  if (result.status === 'match') return
  // TOFU only for a host we know nothing about: never for a changed, revoked or CA-vouched key.
  if (result.status === 'unknown' && target.hostKeyPolicy === 'accept-new') {
    await recordNewKey(target, name, key, options, who)
    return
  }
  throw new HostKeyError(hostKeyMessage(who, target, name, knownHosts, key, result))
}

async function recordNewKey(target: SshTarget, name: string, key: Buffer, options: ConnectOptions, who: string): Promise<void> {
  const file = target.knownHostsFiles[0]!
  try {
    await mkdir(dirname(file), { recursive: true, mode: 0o700 })
    await appendFile(file, `${knownHostsLine(name, key, target.hashKnownHosts)}\n`, { mode: 0o600 })
  } catch (err) {
    throw new HostKeyError(`${who}: cannot record the new host key in ${file}: ${(err as Error).message}`, { cause: err })
  }
  options.notice?.(
    `${who}: first contact, host key ${blobKeyType(key)} ${fingerprintSha256(key)} for ${name} added to ${file} (--accept-new-host-keys)`,
  )
}

function hostKeyMessage(who: string, target: SshTarget, name: string, knownHosts: KnownHosts, key: Buffer, result: HostKeyCheck): string {
  const presented = `${blobKeyType(key) ?? 'unknown-type'} key ${fingerprintSha256(key)}`
  const file = target.knownHostsFiles[0]!
  const at = result.line !== undefined ? `${result.source ?? file}:${result.line}` : file
  const scan = `ssh-keyscan ${target.port === 22 ? '' : `-p ${target.port} `}${target.hostname}`
  const add = `${scan} >> ${file}`
  switch (result.status) {
    case 'revoked':
      return `${who}: the host presented ${presented}, which is marked @revoked in ${at}; refusing to connect.`
    case 'mismatch':
      return (
        `${who}: HOST KEY CHANGED: the host presented ${presented}, but ${at} holds a different key for ${name}. ` +
        `Someone may be intercepting the connection, or the host was rebuilt. Confirm the new fingerprint out-of-band, ` +
        `then replace the entry: ssh-keygen -R '${name}' -f ${result.source?.startsWith('$') ? file : (result.source ?? file)} && ${add}`
      )
    case 'cert-authority-only':
      return (
        `${who}: ${at} has only a @cert-authority line for ${name}, and host certificates are not supported: ` +
        `verify's SSH library (ssh2) cannot negotiate *-cert-v01@openssh.com host keys, so a CA cannot vouch for the host. ` +
        `The host presented ${presented}; confirm it out-of-band, then add the plain key: ${add}`
      )
    default: {
      const sources = knownHosts.consulted.filter(c => c.exists).map(c => c.source)
      const where =
        sources.length > 0
          ? `is not in ${sources.join(', ')}`
          : `cannot be checked: ${file} does not exist and ${`$${target.knownHostsEnv}`} is not set`
      return (
        `${who}: host key for ${name} ${where}; the host presented ${presented}. Confirm that fingerprint out-of-band, then add it: ${add} ` +
        `(or put the line in $${target.knownHostsEnv}; --accept-new-host-keys records it on first contact)`
      )
    }
  }
}

// ---------------------------------------------------------------------------------------------
// Authentication.

/** Explicit keys first, then VERIFY_SSH_KEY, the agent, default keys, and a password last, as OpenSSH orders them. */
async function authMethods(
  target: SshTarget,
  env: NodeJS.ProcessEnv,
  who: string,
  files: Files,
): Promise<{ methods: AnyAuthMethod[]; described: string[] }> {
  const methods: AnyAuthMethod[] = []
  const described: string[] = []
  const username = target.user
  const passphrase = nonEmpty(env[target.passphraseEnv])
  const passphraseHint = ` (set ${target.passphraseEnv})`
  if (target.identityEnv) {
    const data = keyFromEnv(env, target.identityEnv)
    if (!data) throw new AuthError(`${who}: identityEnv ${target.identityEnv} is not set or empty in verify's environment`)
    const key = parsePrivateKey(data, passphrase, passphraseHint)
    if (typeof key === 'string') throw new AuthError(`${who}: the private key in $${target.identityEnv}: ${key}`)
    methods.push({ type: 'publickey', username, key })
    described.push(`the key in $${target.identityEnv}`)
  }
  for (const { path, required } of target.identityFiles) {
    const key = required ? await requiredKey(path, passphrase, passphraseHint, who, files) : await usableKey(path, passphrase, files)
    if (!key) continue
    methods.push({ type: 'publickey', username, key })
    described.push(`identity file ${path}`)
  }
  if (target.identityEnv !== DEFAULT_IDENTITY_ENV) {
    const data = keyFromEnv(env, DEFAULT_IDENTITY_ENV)
    const key = data ? parsePrivateKey(data, passphrase, '') : undefined
    if (key && typeof key !== 'string') {
      methods.push({ type: 'publickey', username, key })
      described.push(`the key in $${DEFAULT_IDENTITY_ENV}`)
    }
  }
  const agent = target.identityAgent === 'none' ? undefined : (target.identityAgent ?? nonEmpty(env.SSH_AUTH_SOCK))
  if (agent) {
    methods.push({ type: 'agent', username, agent })
    described.push(`ssh-agent keys (${agent})`)
  }
  if (target.identityFiles.length === 0 && !target.identityEnv) {
    for (const name of DEFAULT_IDENTITIES) {
      const file = join(env.HOME ?? '', '.ssh', name)
      const key = env.HOME ? await usableKey(file, passphrase, files) : undefined
      if (!key) continue
      methods.push({ type: 'publickey', username, key })
      described.push(`identity file ${file}`)
    }
  }
  if (target.passwordEnv) {
    const password = env[target.passwordEnv]
    if (!password) throw new AuthError(`${who}: passwordEnv ${target.passwordEnv} is not set or empty in verify's environment`)
    methods.push({ type: 'password', username, password })
    // PAM-backed servers ask for the same password through keyboard-interactive
    methods.push({
      type: 'keyboard-interactive',
      username,
      prompt: (_name, _instructions, _lang, prompts, finish) => finish(prompts.map(p => (!p.echo ? password : ''))),
    })
    described.push(`the password in $${target.passwordEnv}`)
  }
  if (methods.length === 0) {
    throw new AuthError(
      `${who}: no credentials to offer: no identity file or identityEnv for the host, $${DEFAULT_IDENTITY_ENV} and SSH_AUTH_SOCK are not set, ` +
        `and none of ~/.ssh/${DEFAULT_IDENTITIES.join(', ')} is a readable key${passphraseHint.replace(' (', ' (or ')}`,
    )
  }
  return { methods, described }
}

/** A key pasted into a CI variable sometimes arrives with literal `\n`s; either way it stays in memory only. */
function keyFromEnv(env: NodeJS.ProcessEnv, name: string): Buffer | undefined {
  const text = nonEmpty(env[name])
  if (!text) return undefined
  const normalized = !text.includes('\n') && text.includes('\\n') ? text.replaceAll('\\n', '\n') : text
  return Buffer.from(normalized.endsWith('\n') ? normalized : `${normalized}\n`)
}

/** A key the inventory names must be usable: that is a configuration error worth stopping for. */
async function requiredKey(file: string, passphrase: string | undefined, hint: string, who: string, files: Files): Promise<ParsedKey> {
  let key: ParsedKey | string
  try {
    key = await files.read(file, data => parsePrivateKey(data, passphrase, hint), keyVariant(passphrase, hint))
  } catch (err) {
    throw new AuthError(`${who}: cannot read identity file ${file}: ${(err as Error).message}`, { cause: err })
  }
  if (typeof key === 'string') throw new AuthError(`${who}: identity file ${file}: ${key}`)
  return key
}

/** Keys from ssh_config or the defaults are tried only when usable, as ssh skips missing ones. */
async function usableKey(file: string, passphrase: string | undefined, files: Files): Promise<ParsedKey | undefined> {
  try {
    const key = await files.read(file, data => parsePrivateKey(data, passphrase, ''), keyVariant(passphrase, ''))
    return typeof key === 'string' ? undefined : key
  } catch {
    return undefined
  }
}

/** A parse of a key file depends on the passphrase tried (and the hint its message carries). */
function keyVariant(passphrase: string | undefined, hint: string): string {
  return `key${passphrase === undefined ? '' : `+${passphrase}`}${hint}`
}

/** The key parsed (and decrypted) once, for ssh2 to use as is; else why ssh2 cannot use it. */
function parsePrivateKey(data: Buffer, passphrase: string | undefined, hint: string): ParsedKey | string {
  const parsed = parseKey(data, passphrase)
  if (parsed instanceof Error) {
    const needsPassphrase = /encrypted|passphrase/i.test(parsed.message) && !passphrase
    return `${parsed.message}${needsPassphrase ? hint : ''}`
  }
  const key = Array.isArray(parsed) ? parsed[0] : parsed
  if (!key?.isPrivateKey()) return 'not a private key (point identityFile at the private half, not the .pub)'
  return key
}

function nonEmpty(value: string | undefined): string | undefined {
  return value === undefined || value === '' ? undefined : value
}
