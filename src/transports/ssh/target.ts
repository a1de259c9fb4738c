// Where and how to connect, once the inventory and ~/.ssh/config have both had their say.
// Precedence per setting: written for the host in the inventory > ssh_config > inventory
// `defaults:` > built-in default. So a defaulted address or user never hides a HostName or User.
import { homedir } from 'node:os'
import { join } from 'node:path'
import type { BecomeSpec, ConnectionField, HostSpec } from '../../model.ts'
import { parseProxyJump, type ResolvedSshConfig } from './config-settings.ts'

export const DEFAULT_KNOWN_HOSTS_ENV = 'VERIFY_KNOWN_HOSTS'
export const DEFAULT_PASSPHRASE_ENV = 'VERIFY_KEY_PASSPHRASE'
/** A private key's content in this env var is offered without any configuration (CI secrets). */
export const DEFAULT_IDENTITY_ENV = 'VERIFY_SSH_KEY'

export type HostKeyPolicy = 'strict' | 'accept-new'

/** One SSH endpoint, a target host or a bastion hop, fully resolved. */
export interface SshTarget {
  /** The name as the user wrote it (inventory host, hop alias), for messages. */
  label: string
  hostname: string
  port: number
  user: string
  /** Keys named in the inventory (must be usable) or in ssh_config (skipped when missing, as ssh does). */
  identityFiles: Array<{ path: string; required: boolean }>
  identityEnv?: string
  passphraseEnv: string
  passwordEnv?: string
  /** `none` disables the agent; undefined means SSH_AUTH_SOCK. */
  identityAgent?: string
  /** known_hosts files to read; the first is where --accept-new-host-keys records a new key. */
  knownHostsFiles: string[]
  globalKnownHostsFiles: string[]
  knownHostsEnv: string
  /** The name looked up in known_hosts instead of hostname (HostKeyAlias). */
  hostKeyAlias?: string
  hashKnownHosts: boolean
  hostKeyPolicy: HostKeyPolicy
  /** Bastions, first hop first. */
  proxyJump: string[]
  proxyCommand?: string
  become?: BecomeSpec
}

export interface TargetContext {
  env: NodeJS.ProcessEnv
  /** --accept-new-host-keys */
  acceptNewHostKeys: boolean
}

/** Whether the inventory wrote this setting for the host itself (undefined `explicit` = all set fields). */
export function isExplicit(host: HostSpec, field: ConnectionField): boolean {
  if (host[field] === undefined) return false
  return host.explicit === undefined || host.explicit.includes(field)
}

/** The ssh_config query for an inventory host: its address as alias, explicit user and port passed on. */
export function configQueryFor(host: HostSpec): { alias: string; user?: string; port?: number } {
  return {
    alias: host.address,
    ...(isExplicit(host, 'user') ? { user: host.user! } : {}),
    ...(isExplicit(host, 'port') ? { port: host.port } : {}),
  }
}

export function targetForHost(host: HostSpec, config: ResolvedSshConfig, ctx: TargetContext): SshTarget {
  const explicit = (field: ConnectionField) => isExplicit(host, field)
  const user = explicit('user') ? host.user! : !config.userDefaulted ? config.user : (host.user ?? config.user)
  // ssh -G reports 22 when nothing set a port: then a defaulted inventory port applies
  const port = explicit('port') ? host.port : config.port !== 22 ? config.port : host.port || 22
  const identityFiles = explicit('identityFile')
    ? [{ path: expandHome(host.identityFile!, ctx.env), required: true }]
    : config.identityFiles.length > 0
      ? config.identityFiles.map(path => ({ path, required: false }))
      : host.identityFile
        ? [{ path: expandHome(host.identityFile, ctx.env), required: true }]
        : []
  const knownHostsFiles = explicit('knownHosts')
    ? [expandHome(host.knownHosts!, ctx.env)]
    : config.userKnownHostsFiles.length > 0
      ? config.userKnownHostsFiles
      : [expandHome(host.knownHosts ?? '~/.ssh/known_hosts', ctx.env)]
  const proxyJump = explicit('proxyJump')
    ? parseProxyJump(host.proxyJump)
    : config.proxyJump.length > 0 || config.proxyCommand
      ? config.proxyJump
      : parseProxyJump(host.proxyJump)
  return {
    label: host.name,
    hostname: config.hostname,
    port,
    user,
    identityFiles,
    ...(host.identityEnv ? { identityEnv: host.identityEnv } : {}),
    passphraseEnv: host.passphraseEnv ?? DEFAULT_PASSPHRASE_ENV,
    ...(host.passwordEnv ? { passwordEnv: host.passwordEnv } : {}),
    ...(config.identityAgent ? { identityAgent: config.identityAgent } : {}),
    knownHostsFiles,
    globalKnownHostsFiles: config.globalKnownHostsFiles,
    knownHostsEnv: host.knownHostsEnv ?? DEFAULT_KNOWN_HOSTS_ENV,
    ...(config.hostKeyAlias ? { hostKeyAlias: config.hostKeyAlias } : {}),
    hashKnownHosts: config.hashKnownHosts,
    hostKeyPolicy: hostKeyPolicy(config, ctx),
    proxyJump,
    // An inventory proxyJump (even `none`) replaces ssh_config's ProxyCommand too, as -J would.
    ...(config.proxyCommand && proxyJump.length === 0 && !explicit('proxyJump') ? { proxyCommand: config.proxyCommand } : {}),
    ...(host.become ? { become: host.become } : {}),
  }
}

/**
 * A bastion: everything from ssh_config, with the inventory's env-var names for secrets inherited
 * from the target (in CI the key that reaches the hosts usually reaches their bastion too).
 */
export function targetForHop(
  label: string,
  config: ResolvedSshConfig,
  ctx: TargetContext,
  inherit: Pick<SshTarget, 'knownHostsEnv' | 'passphraseEnv' | 'identityEnv'>,
): SshTarget {
  return {
    label,
    hostname: config.hostname,
    port: config.port,
    user: config.user,
    identityFiles: config.identityFiles.map(path => ({ path, required: false })),
    ...(inherit.identityEnv ? { identityEnv: inherit.identityEnv } : {}),
    passphraseEnv: inherit.passphraseEnv,
    ...(config.identityAgent ? { identityAgent: config.identityAgent } : {}),
    knownHostsFiles: config.userKnownHostsFiles.length > 0 ? config.userKnownHostsFiles : [expandHome('~/.ssh/known_hosts', ctx.env)],
    globalKnownHostsFiles: config.globalKnownHostsFiles,
    knownHostsEnv: inherit.knownHostsEnv,
    ...(config.hostKeyAlias ? { hostKeyAlias: config.hostKeyAlias } : {}),
    hashKnownHosts: config.hashKnownHosts,
    hostKeyPolicy: hostKeyPolicy(config, ctx),
    proxyJump: config.proxyJump,
    ...(config.proxyCommand && config.proxyJump.length === 0 ? { proxyCommand: config.proxyCommand } : {}),
  }
}

/**
 * accept-new from the flag or from StrictHostKeyChecking accept-new/no. `no` is taken as
 * accept-new on purpose: a changed key is always refused, whatever ssh_config says.
 */
function hostKeyPolicy(config: ResolvedSshConfig, ctx: TargetContext): HostKeyPolicy {
  if (ctx.acceptNewHostKeys) return 'accept-new'
  return config.strictHostKeyChecking === 'accept-new' || config.strictHostKeyChecking === 'no' ? 'accept-new' : 'strict'
}

/** `user@hostname:port`, the way every message names an endpoint. */
export function endpoint(target: Pick<SshTarget, 'user' | 'hostname' | 'port'>): string {
  return `${target.user}@${target.hostname}:${target.port}`
}

export function expandHome(path: string, env: NodeJS.ProcessEnv): string {
  const home = env.HOME ?? homedir()
  return path === '~' ? home : path.startsWith('~/') ? join(home, path.slice(2)) : path
}
