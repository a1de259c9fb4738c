// ~/.ssh/config as OpenSSH itself reads it. The files are read once per run and evaluated
// in-process with OpenSSH's rules (config-eval.ts): no process per host. A config using what
// only OpenSSH can evaluate (Match exec, canonicalization, ${ENV}) is asked of `ssh -G <alias>`,
// which prints the resolved settings; the run's config check runs `ssh -G` once, for OpenSSH's
// own verdict on the files. Without an OpenSSH client, the `ssh-config` library computes a best effort.
import { readFile } from 'node:fs/promises'
import { homedir, hostname as localHostname, userInfo } from 'node:os'
import { join } from 'node:path'
import type { ResultPromise } from 'execa'
import { execFile } from 'node:child_process'
import SSHConfig from 'ssh-config'
import { ConfigError } from '../../errors.ts'
import { NeedsOpenSsh, SshConfigFiles } from './config-eval.ts'

export interface SshConfigQuery {
  /** What the user would type after `ssh`: the inventory address (an ssh_config alias or a real name). */
  alias: string
  /** Written explicitly in the inventory: passed as `-l` / `-p`, so `Match user` and `%r` see them. */
  user?: string
  port?: number
}

export type StrictHostKeyChecking = 'yes' | 'ask' | 'accept-new' | 'no'

/** The settings verify uses. Lists are empty and optionals undefined when ssh_config left OpenSSH's default. */
export interface ResolvedSshConfig {
  alias: string
  hostname: string
  port: number
  user: string
  /** True when `user` is only OpenSSH's default (the local user), not set by any config. */
  userDefaulted: boolean
  /** IdentityFile entries written in a config, `~` and `%` tokens expanded. */
  identityFiles: string[]
  identitiesOnly: boolean
  /** `none`, a socket path, or undefined for SSH_AUTH_SOCK. */
  identityAgent?: string
  /** Hops as written (`[user@]host[:port]`), first hop first; empty when none. */
  proxyJump: string[]
  /** Tokens expanded; undefined when none. */
  proxyCommand?: string
  /** UserKnownHostsFile entries when set in a config, else empty. */
  userKnownHostsFiles: string[]
  /** GlobalKnownHostsFile entries (OpenSSH's defaults included). */
  globalKnownHostsFiles: string[]
  strictHostKeyChecking: StrictHostKeyChecking
  hostKeyAlias?: string
  hashKnownHosts: boolean
}

export interface SshConfigResolverOptions {
  /** `-F`: a config file instead of ~/.ssh/config and /etc/ssh/ssh_config; `none` reads no file. */
  configFile?: string
  env?: NodeJS.ProcessEnv
  /** The OpenSSH client; `false` forces the library fallback (tests, machines without ssh). */
  sshBinary?: string | false
  /** false: every host through `ssh -G` (tests compare the two). */
  inProcess?: boolean
}

const DEFAULT_IDENTITY = /^~\/\.ssh\/id_(rsa|ecdsa|ecdsa_sk|ed25519|ed25519_sk|xmss|dsa)$/
const GLOBAL_KNOWN_HOSTS = ['/etc/ssh/ssh_known_hosts', '/etc/ssh/ssh_known_hosts2']
const SSH_G_TIMEOUT_MS = 10_000

/** Resolves aliases once per (alias, user, port): every host and hop of a run shares one resolver. */
export class SshConfigResolver {
  private readonly cache = new Map<string, Promise<ResolvedSshConfig>>()
  private readonly env: NodeJS.ProcessEnv
  private sshBinary: Promise<string | undefined> | undefined
  /** `ssh -G` children still running: the run's end must not wait for them (a slow Match exec). */
  private readonly running = new Set<ResultPromise>()
  private closed = false
  /** The files, read once; null when they need OpenSSH itself for every host. */
  private files: SshConfigFiles | null | undefined

  constructor(private readonly options: SshConfigResolverOptions = {}) {
    this.env = options.env ?? process.env
  }

  get configFile(): string | undefined {
    return this.options.configFile
  }

  /** The settings for `query`; `signal` stops this caller's wait (the `ssh -G` goes on for the others sharing it). */
  resolve(query: SshConfigQuery, signal?: AbortSignal): Promise<ResolvedSshConfig> {
    const key = JSON.stringify([query.alias, query.user ?? null, query.port ?? null])
    let resolved = this.cache.get(key)
    if (!resolved) {
      resolved = this.compute(query)
      // every caller may have stopped waiting by the time it fails (close() kills it)
      resolved.catch(() => {})
      this.cache.set(key, resolved)
    }
    return signal ? abortable(resolved, signal) : resolved
  }

  /** The run is over: kills every `ssh -G` still running (and what its Match exec started). */
  close(): void {
    this.closed = true
    for (const child of this.running) killGroup(child)
    this.running.clear()
  }

  /** Reads the config once so a syntax error stops the run before any host (ConfigError): OpenSSH's verdict when installed. */
  async validate(): Promise<void> {
    const ssh = await this.findSsh()
    if (ssh) await this.runSshG(ssh, { alias: 'verify-config-check.invalid' })
    await this.resolve({ alias: 'verify-config-check.invalid' })
  }

  private async compute(query: SshConfigQuery): Promise<ResolvedSshConfig> {
    const local = localContext(this.env)
    const evaluated = this.evaluateInProcess(query, local)
    if (evaluated !== undefined) return parseSshG(evaluated, query, local)
    const ssh = await this.findSsh()
    if (ssh) return parseSshG(await this.runSshG(ssh, query), query, local)
    return resolveWithLibrary(await this.readConfigText(), query, local)
  }

  /** `ssh -G`-like text from the files read once, or undefined where only OpenSSH can tell. */
  private evaluateInProcess(query: SshConfigQuery, local: LocalContext): string | undefined {
    if (this.options.inProcess === false || this.options.sshBinary === false || this.files === null) return undefined
    try {
      if (!this.files) {
        const file = this.options.configFile
        const list = file === 'none' ? [] : file ? [{ path: file, optional: false, userConfig: true }]
          : [{ path: join(local.home, '.ssh', 'config'), optional: true, userConfig: true }, { path: '/etc/ssh/ssh_config', optional: true, userConfig: false }]
        // OpenSSH finds ~/.ssh/config and relative Includes under the passwd home, not $HOME
        const home = safePasswdHome() ?? local.home
        this.files = new SshConfigFiles(file === 'none' || file ? list : list.map((f) => (f.userConfig ? { ...f, path: join(home, '.ssh', 'config') } : f)), { user: local.user, home })
      }
      return this.files.evaluate(query)
    } catch (err) {
      if (!(err instanceof NeedsOpenSsh)) throw err
      if (!this.files) this.files = null
      return undefined
    }
  }

  private findSsh(): Promise<string | undefined> {
    if (this.options.sshBinary === false) return Promise.resolve(undefined)
    const explicit = this.options.sshBinary
    this.sshBinary ??= (async () => {
      const probe = await run(explicit ?? 'ssh', ['-V'], this.env)
      return probe.exitCode === 0 ? (explicit ?? 'ssh') : undefined
    })()
    return this.sshBinary
  }

  private async runSshG(ssh: string, query: SshConfigQuery): Promise<string> {
    const args = ['-G']
    if (this.options.configFile) args.push('-F', this.options.configFile)
    if (query.user !== undefined) args.push('-l', query.user)
    if (query.port !== undefined) args.push('-p', String(query.port))
    // `--` so an alias can never be read as an option
    args.push('--', query.alias)
    if (this.closed) throw new ConfigError(`ssh_config: the run ended before \`ssh -G ${query.alias}\` ran`)
    // its own process group, so close() also ends the commands a Match exec started; execa loads
    // here, not at start-up (ssh -G runs only with a config that needs it)
    const { execa } = await import('execa')
    const child = execa(ssh, args, { reject: false, env: this.env, stdin: 'ignore', timeout: SSH_G_TIMEOUT_MS, detached: true })
    this.running.add(child)
    const result = await child.finally(() => this.running.delete(child))
    if (result.isTerminated && this.closed) throw new ConfigError(`ssh_config: \`ssh -G ${query.alias}\` stopped: the run ended`)
    if (result.exitCode !== 0) {
      const why = String(result.stderr).split('\n').filter((l) => l.trim() !== '' && !/Pseudo-terminal/.test(l)).join('; ')
      throw new ConfigError(`ssh_config${this.options.configFile ? ` (${this.options.configFile})` : ''}: \`ssh -G ${query.alias}\` failed: ${why || `exit ${result.exitCode}`}`)
    }
    return String(result.stdout)
  }

  private async readConfigText(): Promise<string> {
    const file = this.options.configFile
    if (file === 'none') return ''
    const files = file ? [file] : [join(homeOf(this.env), '.ssh', 'config'), '/etc/ssh/ssh_config']
    const texts: string[] = []
    for (const path of files) {
      try {
        texts.push(await readFile(path, 'utf8'))
      } catch (err) {
        const code = (err as NodeJS.ErrnoException).code
        // A named -F file must exist (as for ssh); the default ones may not.
        if (file || code !== 'ENOENT') throw new ConfigError(`ssh_config: cannot read ${path}: ${(err as Error).message}`, { cause: err })
      }
    }
    // First obtained value wins, so the user's file goes before the system one.
    return texts.join('\n')
  }
}

/** `promise`, or a rejection as soon as `signal` aborts (with its reason). */
function abortable<T>(promise: Promise<T>, signal: AbortSignal): Promise<T> {
  if (signal.aborted) return Promise.reject(signal.reason)
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(signal.reason)
    signal.addEventListener('abort', onAbort, { once: true })
    promise.then(resolve, reject).finally(() => signal.removeEventListener('abort', onAbort))
  })
}

function killGroup(child: ResultPromise): void {
  try {
    if (child.pid !== undefined) process.kill(-child.pid, 'SIGKILL')
  } catch {
    child.kill('SIGKILL') // the group is gone already
  }
}

interface LocalContext {
  user: string
  home: string
  uid: number
}

function localContext(env: NodeJS.ProcessEnv): LocalContext {
  let user = env.USER ?? env.LOGNAME ?? 'root'
  let uid = 0
  try {
    const info = userInfo()
    user = info.username
    uid = info.uid
  } catch {
    // no passwd entry (some containers): keep the environment's idea
  }
  return { user, home: homeOf(env), uid }
}

function homeOf(env: NodeJS.ProcessEnv): string {
  return env.HOME ?? homedir()
}

/** Parses `ssh -G` output: one `keyword value` per line, keywords lower-case, lists repeated or space-separated. */
export function parseSshG(output: string, query: SshConfigQuery, local: LocalContext): ResolvedSshConfig {
  const values = new Map<string, string[]>()
  for (const line of output.split('\n')) {
    const match = /^(\S+)\s+(.*)$/.exec(line.trim())
    if (!match) continue
    const key = match[1]!.toLowerCase()
    values.set(key, [...(values.get(key) ?? []), match[2]!])
  }
  const one = (key: string) => values.get(key)?.[0]
  const hostname = one('hostname') ?? query.alias
  const port = Number(one('port') ?? query.port ?? 22)
  const user = one('user') ?? query.user ?? local.user
  const tokens: TokenValues = { h: hostname, p: String(port), r: user, n: query.alias, u: local.user, d: local.home, i: String(local.uid) }
  const identities = values.get('identityfile') ?? []
  const defaultIdentities = identities.length > 1 && identities.every((f) => DEFAULT_IDENTITY.test(f))
  const userKnownHosts = splitList(one('userknownhostsfile'))
  const defaultKnownHosts = [join(local.home, '.ssh/known_hosts'), join(local.home, '.ssh/known_hosts2')]
  const passwdHome = safePasswdHome()
  const isDefaultKnownHosts =
    userKnownHosts.length === 0 ||
    sameList(userKnownHosts, defaultKnownHosts) ||
    (passwdHome !== undefined && sameList(userKnownHosts, [join(passwdHome, '.ssh/known_hosts'), join(passwdHome, '.ssh/known_hosts2')]))
  return finish({
    alias: query.alias,
    hostname,
    port,
    user,
    userDefaulted: query.user === undefined && user === local.user,
    identityFiles: defaultIdentities ? [] : identities.map((f) => expandPath(f, tokens, local.home)),
    identitiesOnly: one('identitiesonly') === 'yes',
    identityAgent: noneOrPath(one('identityagent'), tokens, local.home),
    proxyJump: parseProxyJump(one('proxyjump')),
    proxyCommand: noneOr(one('proxycommand'), (c) => expandTokens(c, tokens)),
    userKnownHostsFiles: isDefaultKnownHosts ? [] : userKnownHosts.map((f) => expandPath(f, tokens, local.home)),
    globalKnownHostsFiles: splitList(one('globalknownhostsfile') ?? GLOBAL_KNOWN_HOSTS.join(' ')).map((f) => expandPath(f, tokens, local.home)),
    strictHostKeyChecking: parseStrict(one('stricthostkeychecking')),
    hostKeyAlias: noneOr(one('hostkeyalias'), (a) => a),
    hashKnownHosts: one('hashknownhosts') === 'yes',
  })
}

/** The fallback when no OpenSSH client is installed: Host/Match blocks through the `ssh-config` library. */
export function resolveWithLibrary(text: string, query: SshConfigQuery, local: LocalContext): ResolvedSshConfig {
  const config = SSHConfig.parse(text)
  const computed = config.compute({ Host: query.alias, ...(query.user !== undefined ? { User: query.user } : {}) }, { ignoreCase: true })
  const list = (key: string): string[] => {
    const value = computed[key]
    if (value === undefined) return []
    return (Array.isArray(value) ? value : [value]).flatMap(splitList)
  }
  const one = (key: string): string | undefined => {
    const value = computed[key]
    return Array.isArray(value) ? value[0] : value
  }
  const configuredUser = one('user')
  const user = query.user ?? configuredUser ?? local.user
  const port = query.port ?? Number(one('port') ?? 22)
  // HostName may itself use %h (the alias)
  const hostname = expandTokens(one('hostname') ?? query.alias, { h: query.alias, n: query.alias }).toLowerCase()
  const tokens: TokenValues = { h: hostname, p: String(port), r: user, n: query.alias, u: local.user, d: local.home, i: String(local.uid) }
  const identities = computed.identityfile === undefined ? [] : Array.isArray(computed.identityfile) ? computed.identityfile : [computed.identityfile]
  return finish({
    alias: query.alias,
    hostname,
    port,
    user,
    userDefaulted: query.user === undefined && configuredUser === undefined,
    identityFiles: identities.map((f) => expandPath(unquote(f), tokens, local.home)),
    identitiesOnly: one('identitiesonly')?.toLowerCase() === 'yes',
    identityAgent: noneOrPath(one('identityagent'), tokens, local.home),
    proxyJump: parseProxyJump(one('proxyjump')),
    proxyCommand: noneOr(one('proxycommand'), (c) => expandTokens(c, tokens)),
    userKnownHostsFiles: list('userknownhostsfile').map((f) => expandPath(f, tokens, local.home)),
    globalKnownHostsFiles: (list('globalknownhostsfile').length > 0 ? list('globalknownhostsfile') : GLOBAL_KNOWN_HOSTS).map((f) => expandPath(f, tokens, local.home)),
    strictHostKeyChecking: parseStrict(one('stricthostkeychecking')?.toLowerCase()),
    hostKeyAlias: noneOr(one('hostkeyalias'), (a) => a),
    hashKnownHosts: one('hashknownhosts')?.toLowerCase() === 'yes',
  })
}

function finish(config: ResolvedSshConfig): ResolvedSshConfig {
  if (!Number.isInteger(config.port) || config.port < 1 || config.port > 65535) {
    throw new ConfigError(`ssh_config: port for ${config.alias} is not a port number: ${config.port}`)
  }
  return config
}

/** `ProxyJump a,b` → [a, b]; `none` → []. */
export function parseProxyJump(value: string | undefined): string[] {
  if (value === undefined || value.toLowerCase() === 'none') return []
  return value.split(',').map((h) => h.trim()).filter((h) => h !== '')
}

/** A `[user@]host[:port]` hop (or `ssh://[user@]host[:port]`), as ProxyJump writes it. */
export function parseHop(text: string): { alias: string; user?: string; port?: number } {
  const bare = text.replace(/^ssh:\/\//, '')
  const at = bare.lastIndexOf('@')
  const user = at >= 0 ? bare.slice(0, at) : undefined
  let hostPort = bare.slice(at + 1)
  let port: number | undefined
  const bracketed = /^\[([^\]]+)\](?::(\d+))?$/.exec(hostPort)
  if (bracketed) {
    hostPort = bracketed[1]!
    port = bracketed[2] !== undefined ? Number(bracketed[2]) : undefined
  } else {
    const colon = hostPort.lastIndexOf(':')
    if (colon >= 0 && hostPort.indexOf(':') === colon && /^\d+$/.test(hostPort.slice(colon + 1))) {
      port = Number(hostPort.slice(colon + 1))
      hostPort = hostPort.slice(0, colon)
    }
  }
  if (hostPort === '' || (port !== undefined && (port < 1 || port > 65535))) throw new ConfigError(`ProxyJump hop "${text}" is not [user@]host[:port]`)
  return { alias: hostPort, ...(user ? { user } : {}), ...(port !== undefined ? { port } : {}) }
}

function parseStrict(value: string | undefined): StrictHostKeyChecking {
  switch (value) {
    case 'accept-new':
      return 'accept-new'
    case 'no':
    case 'false':
    case 'off':
      return 'no'
    case 'ask':
    case undefined:
      return 'ask'
    default:
      return 'yes'
  }
}

type TokenValues = Partial<Record<'h' | 'p' | 'r' | 'n' | 'u' | 'd' | 'i', string>>

/** OpenSSH's `%` tokens that make sense here; `%%` is a literal percent, unknown ones stay as written. */
export function expandTokens(text: string, values: TokenValues): string {
  return text.replace(/%([%a-zA-Z])/g, (whole, token: string) => {
    if (token === '%') return '%'
    if (token === 'l') return localHostname()
    if (token === 'L') return localHostname().split('.')[0]!
    return values[token as keyof TokenValues] ?? whole
  })
}

function expandPath(path: string, tokens: TokenValues, home: string): string {
  const expanded = expandTokens(path, tokens)
  return expanded === '~' ? home : expanded.startsWith('~/') ? join(home, expanded.slice(2)) : expanded
}

function noneOr<T>(value: string | undefined, map: (v: string) => T): T | undefined {
  return value === undefined || value.toLowerCase() === 'none' ? undefined : map(value)
}

function noneOrPath(value: string | undefined, tokens: TokenValues, home: string): string | undefined {
  if (value === undefined) return undefined
  if (value.toLowerCase() === 'none') return 'none'
  // SSH_AUTH_SOCK as a value means "the default": leave it to the environment
  if (value === 'SSH_AUTH_SOCK' || value === '$SSH_AUTH_SOCK') return undefined
  return expandPath(value, tokens, home)
}

function splitList(value: string | undefined): string[] {
  return value === undefined ? [] : value.split(/\s+/).map(unquote).filter((v) => v !== '')
}

function unquote(value: string): string {
  return value.length >= 2 && value.startsWith('"') && value.endsWith('"') ? value.slice(1, -1) : value
}

function sameList(a: string[], b: string[]): boolean {
  return a.length === b.length && a.every((v, i) => v === b[i])
}

function safePasswdHome(): string | undefined {
  try {
    return userInfo().homedir
  } catch {
    return undefined
  }
}

/** A command's exit code (null when it could not start, or was killed) and output; never rejects. node:child_process, not execa: this is on every SSH run's start-up path. */
function run(command: string, args: string[], env: NodeJS.ProcessEnv, timeout = 0): Promise<{ exitCode: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = execFile(command, args, { env: { ...process.env, ...env }, timeout, maxBuffer: 16 * 1024 * 1024 }, (error, stdout, stderr) => {
      const code = (error as (Error & { code?: unknown }) | null)?.code
      resolve({ exitCode: error ? (typeof code === 'number' ? code : null) : 0, stdout, stderr })
    })
    child.stdin?.end()
  })
}
