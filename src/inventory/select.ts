// `--hosts` and `--var`: turns the command line into the list of hosts to verify.
import { isIPv4, isIPv6 } from 'node:net'
import { ConfigError } from '../errors.ts'
import type { HostSpec } from '../model.ts'
import type { Inventory } from './resolve.ts'
import { isPlainObject, mergeVars, setOwn, withVarSources } from './vars.ts'
import { sshSettings } from './ssh-settings.ts'

export const LOCAL_TARGET = 'local'

export interface SelectOptions {
  /** The inventory path, for the message when it was not found. Default `./hosts.yaml`. */
  inventoryPath?: string
}

type Resolved = { hosts: HostSpec[]; emptyGroup?: string } | { error: string }

/**
 * Resolves `--hosts` (comma-separated groups, host names, `local`, `[user@]address[:port]`)
 * to hosts in the order written, each once, with `overrideVars` merged over every var.
 */
export function selectHosts(
  inv: Inventory | undefined,
  hostsArg: string,
  overrideVars: Record<string, unknown>,
  options: SelectOptions = {},
): HostSpec[] {
  const targets = hostsArg
    .split(',')
    .map(t => t.trim())
    .filter(t => t !== '')
  const resolved = targets.map(target => resolveTarget(target, inv, options))
  const errors = resolved.flatMap(r => ('error' in r ? [r.error] : []))
  if (errors.length > 0) throw new ConfigError(errors.join('\n'))
  const hosts = dedupeByName(resolved.flatMap(r => ('hosts' in r ? r.hosts : [])))
  if (hosts.length === 0) throw new ConfigError(describeEmptySelection(hostsArg, resolved))
  return hosts.map(host => ({
    ...host,
    groups: [...host.groups],
    vars: mergeVars(host.vars, overrideVars),
    ...withVarSources(overrideSources(host.varSources ?? {}, overrideVars)),
  }))
}

/** The hosts.yaml sources, with every var that --var sets (and nothing under a map it replaces) traced to `--var`. */
function overrideSources(sources: Record<string, string>, overrideVars: Record<string, unknown>): Record<string, string> {
  const out: Record<string, string> = {}
  for (const [key, source] of Object.entries(sources)) setOwn(out, key, source)
  const visit = (value: Record<string, unknown>, path: string[]): void => {
    for (const [key, inner] of Object.entries(value)) {
      const at = [...path, key].join('.')
      setOwn(out, at, '--var')
      if (isPlainObject(inner)) visit(inner, [...path, key])
      else for (const stale of Object.keys(out)) if (stale.startsWith(`${at}.`)) delete out[stale]
    }
  }
  visit(overrideVars, [])
  return out
}

function resolveTarget(target: string, inv: Inventory | undefined, options: SelectOptions): Resolved {
  if (target === LOCAL_TARGET) return { hosts: [localHost()] }
  const isGroup = inv?.groups.has(target) ?? false
  const isHost = inv?.hosts.has(target) ?? false
  if (inv && isGroup && isHost) return { error: describeAmbiguousName(target, inv) }
  if (inv && isGroup) return selectGroup(target, inv)
  if (inv && isHost) return { hosts: [inv.hosts.get(target)!] }
  if (looksLikeAddress(target)) return parseAdHocTarget(target, inv)
  return { error: describeUnknownName(target, inv, options) }
}

function selectGroup(group: string, inv: Inventory): Resolved {
  const names = inv.groups.get(group)!
  return { hosts: names.map(name => inv.hosts.get(name)!), emptyGroup: names.length === 0 ? group : undefined }
}

function localHost(): HostSpec {
  // port is unused by the local transport; 0 says so rather than pretending to be sshd.
  return { name: LOCAL_TARGET, address: 'localhost', port: 0, transport: 'local', groups: [], vars: {} }
}

/** A plain word such as `web-3` is taken as a mistyped name, never silently as a DNS name to ssh to. */
function looksLikeAddress(target: string): boolean {
  return /[@:.[\]]/.test(target)
}

const USER_PATTERN = /^[A-Za-z0-9_][A-Za-z0-9_.-]*$/
const HOSTNAME_PATTERN = /^[A-Za-z0-9_](?:[A-Za-z0-9_-]*[A-Za-z0-9_])?(?:\.[A-Za-z0-9_](?:[A-Za-z0-9_-]*[A-Za-z0-9_])?)*\.?$/

/** `[user@]address[:port]`, address an IPv4, a hostname, `[v6]` or a bare v6 without port. */
function parseAdHocTarget(target: string, inv: Inventory | undefined): Resolved {
  const at = target.lastIndexOf('@')
  const user = at >= 0 ? target.slice(0, at) : undefined
  const hostPort = target.slice(at + 1)
  if (user !== undefined && !USER_PATTERN.test(user)) return { error: invalidAddress(target, `"${user}" is not a user name`) }
  const split = splitHostPort(hostPort)
  if ('reason' in split) return { error: invalidAddress(target, split.reason) }
  const addressProblem = checkAddress(split.address)
  if (addressProblem) return { error: invalidAddress(target, addressProblem) }
  const port = split.port === undefined ? (inv?.defaults.port ?? 22) : parsePort(split.port)
  if (port === undefined) return { error: invalidAddress(target, `port "${split.port}" must be an integer from 1 to 65535`) }
  const defaults = inv?.defaults ?? {}
  return {
    hosts: [
      {
        name: target,
        address: split.address,
        port,
        user: user ?? defaults.user,
        identityFile: defaults.identityFile,
        knownHosts: defaults.knownHosts,
        transport: 'ssh',
        groups: [],
        vars: {},
        // what the target spells out is explicit; the rest is defaulted and yields to ~/.ssh/config
        ...sshSettings(
          { address: split.address, ...(user !== undefined ? { user } : {}), ...(split.port !== undefined ? { port } : {}) },
          defaults,
        ),
      },
    ],
  }
}

function splitHostPort(hostPort: string): { address: string; port?: string } | { reason: string } {
  if (hostPort.startsWith('[')) {
    const match = /^\[([^\]]*)\](?::(.*))?$/.exec(hostPort)
    if (!match || !isIPv6(match[1]!)) return { reason: 'expected [IPv6 address] or [IPv6 address]:port' }
    return { address: match[1]!, port: match[2] }
  }
  if (isIPv6(hostPort)) return { address: hostPort }
  const colon = hostPort.lastIndexOf(':')
  if (colon < 0) return { address: hostPort }
  if (hostPort.indexOf(':') !== colon) return { reason: 'write an IPv6 address with a port as [address]:port' }
  return { address: hostPort.slice(0, colon), port: hostPort.slice(colon + 1) }
}

function checkAddress(address: string): string | undefined {
  if (address === '') return 'the address is empty'
  if (isIPv6(address) || isIPv4(address)) return undefined
  if (/^[\d.]+$/.test(address)) return `"${address}" is not an IPv4 address`
  if (!HOSTNAME_PATTERN.test(address)) return `"${address}" is not a hostname or IP address`
  return undefined
}

function parsePort(text: string): number | undefined {
  const port = /^\d{1,5}$/.test(text) ? Number(text) : NaN
  return port >= 1 && port <= 65535 ? port : undefined
}

function invalidAddress(target: string, reason: string): string {
  return `--hosts "${target}" is not a host, group or valid address: ${reason}`
}

function describeAmbiguousName(name: string, inv: Inventory): string {
  const hostAt = inv.hosts.get(name)?.source ?? inv.file
  const groupAt = inv.groupSources.get(name) ?? inv.file
  return `"${name}" is both a host (${hostAt}) and a group (${groupAt}) in ${inv.file}; rename one of them so --hosts can tell which you mean`
}

function describeUnknownName(name: string, inv: Inventory | undefined, options: SelectOptions): string {
  if (!inv) {
    const path = options.inventoryPath ?? './hosts.yaml'
    return `no inventory: ${path} not found, and "${name}" is not an address (give an address such as user@${name}, ${name}:22 or 10.0.0.5, or "local")`
  }
  const groups = [...inv.groups.keys()]
  const known = groups.length > 0 ? `known groups: ${groups.join(', ')}` : `${inv.file} defines no groups`
  return `unknown host or group "${name}" in ${inv.file} (${known}); to reach a machine that is not in the inventory, write it as user@${name} or ${name}:22`
}

function describeEmptySelection(hostsArg: string, resolved: Resolved[]): string {
  const empty = resolved.flatMap(r => ('emptyGroup' in r && r.emptyGroup ? [r.emptyGroup] : []))
  if (empty.length > 0) return `--hosts "${hostsArg}" selects no hosts: group ${empty.map(g => `"${g}"`).join(', ')} has no hosts`
  return `--hosts "${hostsArg}" selects no hosts; give a group, a host name, an address or "local"`
}

function dedupeByName(hosts: HostSpec[]): HostSpec[] {
  const seen = new Set<string>()
  return hosts.filter(h => {
    if (seen.has(h.name)) return false
    seen.add(h.name)
    return true
  })
}

// ---------------------------------------------------------------- --var

const VAR_KEY_PATTERN = /^[A-Za-z_][A-Za-z0-9_]*$/

/** Parses repeated `--var key=value` (later wins; `a.b=1` sets a nested key); throws ConfigError listing every bad item. */
export function parseVarArgs(list: string[]): Record<string, unknown> {
  const vars: Record<string, unknown> = {}
  const problems = list.flatMap(item => {
    const problem = applyVarArg(vars, item)
    return problem ? [`--var ${item}: ${problem}`] : []
  })
  if (problems.length > 0) throw new ConfigError(problems.join('\n'))
  return vars
}

function applyVarArg(vars: Record<string, unknown>, item: string): string | undefined {
  const eq = item.indexOf('=')
  if (eq < 0) return 'expected key=value'
  const keys = item.slice(0, eq).split('.')
  const bad = keys.find(k => !VAR_KEY_PATTERN.test(k))
  if (bad !== undefined) {
    return `"${item.slice(0, eq)}" is not a var name (letters, digits and _, not starting with a digit; dots for nested keys)`
  }
  let target = vars
  for (const [i, key] of keys.slice(0, -1).entries()) {
    const current = Object.hasOwn(target, key) ? target[key] : undefined
    if (current === undefined) setOwn(target, key, {})
    else if (!isPlainObject(current)) return `"${keys.slice(0, i + 1).join('.')}" is already set to ${JSON.stringify(current)}, not a map`
    target = target[key] as Record<string, unknown>
  }
  setOwn(target, keys[keys.length - 1]!, parseVarValue(item.slice(eq + 1)))
  return undefined
}

/** JSON when it parses, else the text; a number that would not print back the same (`1.10`, `1e3`) stays text. */
function parseVarValue(text: string): unknown {
  try {
    const value: unknown = JSON.parse(text)
    if (typeof value === 'number' && String(value) !== text) return text
    return value
  } catch {
    return text
  }
}
