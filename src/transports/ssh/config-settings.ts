// ssh_config's answer as the settings verify uses: `ssh -G`'s output (or what the `ssh-config`
// library computed, without OpenSSH) turned into one ResolvedSshConfig, with OpenSSH's defaults
// told apart from what a config set, `~` and `%` tokens expanded, ProxyJump hops parsed.
import { hostname as localHostname, userInfo } from 'node:os'
import { join } from 'node:path'
import SSHConfig from 'ssh-config'
import { ConfigError } from '../../errors.ts'

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

const DEFAULT_IDENTITY = /^~\/\.ssh\/id_(rsa|ecdsa|ecdsa_sk|ed25519|ed25519_sk|xmss|dsa)$/
const GLOBAL_KNOWN_HOSTS = ['/etc/ssh/ssh_known_hosts', '/etc/ssh/ssh_known_hosts2']

/** The local user, home and uid: what `%u`, `%d`, `%i` and a defaulted User mean. */
export interface LocalContext {
  user: string
  home: string
  uid: number
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
  const defaultIdentities = identities.length > 1 && identities.every(f => DEFAULT_IDENTITY.test(f))
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
    identityFiles: defaultIdentities ? [] : identities.map(f => expandPath(f, tokens, local.home)),
    identitiesOnly: one('identitiesonly') === 'yes',
    identityAgent: noneOrPath(one('identityagent'), tokens, local.home),
    proxyJump: parseProxyJump(one('proxyjump')),
    proxyCommand: noneOr(one('proxycommand'), c => expandTokens(c, tokens)),
    userKnownHostsFiles: isDefaultKnownHosts ? [] : userKnownHosts.map(f => expandPath(f, tokens, local.home)),
    globalKnownHostsFiles: splitList(one('globalknownhostsfile') ?? GLOBAL_KNOWN_HOSTS.join(' ')).map(f =>
      expandPath(f, tokens, local.home),
    ),
    strictHostKeyChecking: parseStrict(one('stricthostkeychecking')),
    hostKeyAlias: noneOr(one('hostkeyalias'), a => a),
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
  const identities =
    computed.identityfile === undefined ? [] : Array.isArray(computed.identityfile) ? computed.identityfile : [computed.identityfile]
  return finish({
    alias: query.alias,
    hostname,
    port,
    user,
    userDefaulted: query.user === undefined && configuredUser === undefined,
    identityFiles: identities.map(f => expandPath(unquote(f), tokens, local.home)),
    identitiesOnly: one('identitiesonly')?.toLowerCase() === 'yes',
    identityAgent: noneOrPath(one('identityagent'), tokens, local.home),
    proxyJump: parseProxyJump(one('proxyjump')),
    proxyCommand: noneOr(one('proxycommand'), c => expandTokens(c, tokens)),
    userKnownHostsFiles: list('userknownhostsfile').map(f => expandPath(f, tokens, local.home)),
    globalKnownHostsFiles: (list('globalknownhostsfile').length > 0 ? list('globalknownhostsfile') : GLOBAL_KNOWN_HOSTS).map(f =>
      expandPath(f, tokens, local.home),
    ),
    strictHostKeyChecking: parseStrict(one('stricthostkeychecking')?.toLowerCase()),
    hostKeyAlias: noneOr(one('hostkeyalias'), a => a),
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
  return value
    .split(',')
    .map(h => h.trim())
    .filter(h => h !== '')
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
  if (hostPort === '' || (port !== undefined && (port < 1 || port > 65535)))
    throw new ConfigError(`ProxyJump hop "${text}" is not [user@]host[:port]`)
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
  return value === undefined
    ? []
    : value
        .split(/\s+/)
        .map(unquote)
        .filter(v => v !== '')
}

function unquote(value: string): string {
  return value.length >= 2 && value.startsWith('"') && value.endsWith('"') ? value.slice(1, -1) : value
}

function sameList(a: string[], b: string[]): boolean {
  return a.length === b.length && a.every((v, i) => v === b[i])
}

/** The passwd entry's home (OpenSSH finds ~/.ssh there, not under $HOME); undefined without one. */
export function safePasswdHome(): string | undefined {
  try {
    return userInfo().homedir
  } catch {
    return undefined
  }
}
