// What every SSH connection of one run shares: the ssh_config resolver (each alias resolved
// once), the bastion pool, the host-key policy and where notices go. The CLI makes one per run
// and closes it at the end, which ends the bastion connections.
import type { HostSpec } from '../../model.ts'
import { JumpPool } from './bastion.ts'
import { SshConfigResolver } from './config.ts'
import { SshFileCache } from './file-cache.ts'
import { DEFAULT_IDENTITY_ENV, DEFAULT_PASSPHRASE_ENV, type TargetContext } from './target.ts'

export interface SshSessionOptions {
  /** `--ssh-config PATH` (`-F`): this file instead of ~/.ssh/config and /etc/ssh/ssh_config; `none` for no file. */
  configFile?: string
  /** `--accept-new-host-keys`: record the key of a host never seen before (a changed key still fails). */
  acceptNewHostKeys?: boolean
  /** Where credentials, SSH_AUTH_SOCK and HOME come from (default process.env). */
  env?: NodeJS.ProcessEnv
  /** Told about keys recorded on first contact. */
  notice?: (message: string) => void
  /** For tests: the OpenSSH client, or false to use the ssh-config library. */
  sshBinary?: string | false
  keepaliveMs?: number
}

const DEFAULT_KEEPALIVE_MS = 15_000

export class SshSession {
  readonly resolver: SshConfigResolver
  readonly jumps: JumpPool
  readonly env: NodeJS.ProcessEnv
  readonly context: TargetContext
  readonly keepaliveMs: number
  readonly notice: ((message: string) => void) | undefined
  /** known_hosts and identity files, parsed once per run while unchanged (not once per host). */
  readonly files = new SshFileCache()

  constructor(options: SshSessionOptions = {}) {
    this.env = options.env ?? process.env
    this.keepaliveMs = options.keepaliveMs ?? DEFAULT_KEEPALIVE_MS
    this.notice = options.notice
    this.resolver = new SshConfigResolver({
      env: this.env,
      ...(options.configFile !== undefined ? { configFile: options.configFile } : {}),
      ...(options.sshBinary !== undefined ? { sshBinary: options.sshBinary } : {}),
    })
    this.context = { env: this.env, acceptNewHostKeys: options.acceptNewHostKeys ?? false }
    this.jumps = new JumpPool(this.resolver, this.context, {
      env: this.env,
      keepaliveMs: this.keepaliveMs,
      files: this.files,
      ...(options.notice ? { notice: options.notice } : {}),
    })
  }

  /** Fails with a ConfigError when the ssh_config file cannot be read or parsed (before any host runs). */
  validate(): Promise<void> {
    return this.resolver.validate()
  }

  /** Ends the bastion connections (destroyed after `graceMs` without a goodbye) and any `ssh -G` still running. */
  close(options: { graceMs?: number } = {}): Promise<void> {
    this.resolver.close()
    return this.jumps.close(options.graceMs)
  }
}

/** The SSH flags of a run (cli.ts). */
export interface SshRunFlags {
  sshConfig?: string
  acceptNewHostKeys?: boolean
}

/**
 * The run's session; the ssh_config file is read up front when any host goes over SSH, so a
 * broken config stops the run before it starts (ConfigError, exit 3). Close it when the run ends.
 */
export async function startSshSession(
  flags: SshRunFlags,
  hosts: ReadonlyArray<Pick<HostSpec, 'transport'>>,
  notice = (message: string) => void process.stderr.write(`note: ${message}\n`),
): Promise<SshSession> {
  const { session, validated } = openSshSession(flags, hosts, notice)
  await validated
  return session
}

/**
 * The run's session at once, and its ssh_config check under way: the run awaits `validated` where
 * startSshSession would have, and meanwhile loads its specs (the check is one `ssh -G`, on the
 * way to the first host). `validated` never counts as unhandled; close the session if unused.
 */
export function openSshSession(
  flags: SshRunFlags,
  hosts: ReadonlyArray<Pick<HostSpec, 'transport'>>,
  notice = (message: string) => void process.stderr.write(`note: ${message}\n`),
): { session: SshSession; validated: Promise<void> } {
  const session = new SshSession({
    ...(flags.sshConfig !== undefined ? { configFile: flags.sshConfig } : {}),
    acceptNewHostKeys: flags.acceptNewHostKeys ?? false,
    notice,
  })
  const validated = hosts.some(h => h.transport === 'ssh') ? session.validate() : Promise.resolve()
  validated.catch(() => {})
  return { session, validated }
}

/**
 * The values of the SSH secrets the hosts name by env var (passwords, passphrases, keys given
 * as content), for the report redactor: they never reach a report, even if something echoed one.
 */
export function sshSecrets(hosts: readonly HostSpec[], env: NodeJS.ProcessEnv = process.env): Array<{ name: string; value: string }> {
  const names = new Set<string>([DEFAULT_PASSPHRASE_ENV, DEFAULT_IDENTITY_ENV])
  for (const h of hosts) {
    for (const name of [h.passwordEnv, h.passphraseEnv, h.identityEnv, h.become?.passwordEnv]) if (name) names.add(name)
  }
  return [...names].flatMap(name => {
    const value = env[name]
    return value ? [{ name, value }] : []
  })
}
