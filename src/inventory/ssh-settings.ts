// The SSH side of a resolved host (docs/ssh.md): which connection settings the inventory wrote
// for the host itself (those win over ~/.ssh/config; defaulted ones yield to it), the secrets'
// env var names, bastions, and `become` resolved through groups.
import type { BecomeSpec, ConnectionField, HostSpec } from '../model.ts'
import type { BecomeSetting, ConnectionSettings } from './schema.ts'

type SshFields = Pick<HostSpec, 'explicit' | 'identityEnv' | 'passphraseEnv' | 'passwordEnv' | 'knownHostsEnv' | 'proxyJump' | 'become'>

const EXPLICIT_CANDIDATES: ConnectionField[] = [
  'address',
  'port',
  'user',
  'identityFile',
  'knownHosts',
  'identityEnv',
  'passphraseEnv',
  'passwordEnv',
  'knownHostsEnv',
  'proxyJump',
]

/**
 * The host's SSH fields: its own settings over `defaults:`; `become` from the host, else the last
 * of its groups (in vars-merge order) that sets it, else `defaults:`.
 */
export function sshSettings(
  own: Partial<ConnectionSettings> & { address?: string },
  defaults: Partial<ConnectionSettings>,
  groupBecome: ReadonlyArray<BecomeSetting | undefined> = [],
): SshFields {
  const pick = <K extends 'identityEnv' | 'passphraseEnv' | 'passwordEnv' | 'knownHostsEnv' | 'proxyJump'>(key: K) => {
    const value = own[key] ?? defaults[key]
    return value === undefined ? {} : { [key]: value }
  }
  const become = resolveBecome([defaults.become, ...groupBecome, own.become])
  return {
    explicit: EXPLICIT_CANDIDATES.filter(field => own[field as keyof typeof own] !== undefined),
    ...pick('identityEnv'),
    ...pick('passphraseEnv'),
    ...pick('passwordEnv'),
    ...pick('knownHostsEnv'),
    ...pick('proxyJump'),
    ...(become ? { become } : {}),
  }
}

/** The last setting that says anything wins; `false` switches off what an earlier layer set. */
export function resolveBecome(layers: ReadonlyArray<BecomeSetting | undefined>): BecomeSpec | undefined {
  let current: BecomeSpec | undefined
  for (const layer of layers) {
    if (layer === undefined) continue
    if (layer === false) current = undefined
    else if (layer === true) current = { user: 'root' }
    else if (typeof layer === 'string') current = { user: layer }
    else current = { user: layer.user ?? 'root', ...(layer.passwordEnv ? { passwordEnv: layer.passwordEnv } : {}) }
  }
  return current
}
