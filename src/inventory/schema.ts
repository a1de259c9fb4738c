// hosts.yaml, the inventory: which hosts exist, how to reach them, and their vars.
//
//   defaults:                  # connection settings for every host (all optional)
//     user: deploy
//     port: 22
//     identityFile: ~/.ssh/id_ed25519
//     knownHosts: ~/.ssh/known_hosts
//   vars: { app: blog }        # vars of every inventory host
//   hosts:                     # name -> settings, or nothing (the address is then the name)
//     web-1: { address: 10.0.0.11, port: 2222, user: deploy, vars: { weight: 2 } }
//     db-1:
//   groups:
//     web:
//       hosts: [web-1, web-2]  # a list of names, or a map name -> settings like `hosts:` above
//       vars: { role: web }
//     staging:
//       groups: [web, worker]  # a group may contain groups (never itself, even indirectly)
//       vars: { env: staging }
//
// Rules:
// - Unknown keys are errors. Host and group names match [A-Za-z0-9_.-]+; `local` is reserved
//   for the built-in local target.
// - A host gets settings in one place only (`hosts:` or one group's `hosts:` map); naming it
//   elsewhere (a list, or `name:` with no settings) is fine. A host that is only listed
//   is still a host: its address is its name.
// - A leading `~` in identityFile / knownHosts is the home directory.
// - Connection settings: the host's own, else `defaults`, else port 22. With ~/.ssh/config
//   (docs/ssh.md): the host's own settings > ssh_config > `defaults` (a defaulted address or user
//   never hides a HostName or User). `become` (sudo): the host's own > its groups' (same order
//   as vars) > `defaults`. Secrets (keys, passwords) are only ever named by env var.
// - Vars merge, later wins; maps merge key by key, lists and scalars are replaced:
//       top-level vars < group vars < host vars < --var
//   Among a host's groups, vars apply by nesting depth, then in file order: a group's depth is 0
//   when no group contains it, else 1 + the depth of its deepest container. So a contained
//   (more specific) group beats its container, and of two groups at the same depth the one
//   defined later in the file wins.
import { homedir } from 'node:os'
import { z } from 'zod'

export const NAME_PATTERN = /^[A-Za-z0-9_.-]+$/

/** Expands a leading `~` the way a shell would for the current user. */
export function expandHome(path: string): string {
  if (path === '~') return homedir()
  if (path.startsWith('~/')) return homedir() + path.slice(1)
  return path
}

/** A strict object whose type and unknown-key errors name what it is and which keys it takes. */
function strictMap<T extends z.ZodRawShape>(shape: T, what: string) {
  const allowed = Object.keys(shape).join(', ')
  return z.strictObject(shape, {
    error: issue => {
      if (issue.code === 'unrecognized_keys') return `allowed keys: ${allowed}`
      if (issue.code === 'invalid_type') return `must be ${what} (keys: ${allowed})`
      return undefined
    },
  })
}

const Name = z
  .string({ error: 'must be a name' })
  .regex(NAME_PATTERN, { error: 'a name may only contain letters, digits, "_", "." and "-"' })

const portError = 'must be an integer from 1 to 65535'
const Port = z.int({ error: portError }).min(1, { error: portError }).max(65535, { error: portError })

const Path = z.string({ error: 'must be a path' }).min(1, { error: 'must not be empty' }).transform(expandHome)

const Text = z.string({ error: 'must be a string' }).min(1, { error: 'must not be empty' })

const Vars = z.record(z.string(), z.unknown(), { error: 'must be a map of var name -> value' })

const EnvName = z
  .string({ error: 'must be an environment variable name' })
  .regex(/^[A-Za-z_][A-Za-z0-9_]*$/, { error: 'must be an environment variable name (letters, digits, _)' })

/** `become: true` (root), `become: appuser`, `become: { user, passwordEnv }`, or `false` to switch an inherited one off. */
export const BecomeSchema = z.union(
  [z.boolean(), Text, strictMap({ user: Text.optional(), passwordEnv: EnvName.optional() }, 'a map with user and passwordEnv')],
  { error: 'must be true, false, a user name, or a map with user and passwordEnv' },
)

const connectionShape = {
  user: Text.optional(),
  port: Port.optional(),
  identityFile: Path.optional(),
  knownHosts: Path.optional(),
  // SSH set-up (docs/ssh.md): secrets only ever by env var name
  identityEnv: EnvName.optional(),
  passphraseEnv: EnvName.optional(),
  passwordEnv: EnvName.optional(),
  knownHostsEnv: EnvName.optional(),
  proxyJump: Text.optional(),
  become: BecomeSchema.optional(),
}

export const ConnectionSettingsSchema = strictMap(connectionShape, 'a map of connection settings')

export const HostSettingsSchema = strictMap(
  { address: Text.optional(), ...connectionShape, vars: Vars.optional() },
  'a map of host settings, or empty',
)

const HostMap = z.record(Name, HostSettingsSchema.nullable())

export const GroupSchema = strictMap(
  {
    hosts: z.union([z.array(Name), HostMap], { error: 'must be a list of host names or a map of host name -> settings' }).optional(),
    groups: z.array(Name, { error: 'must be a list of group names' }).optional(),
    vars: Vars.optional(),
    become: BecomeSchema.optional(),
  },
  'a map with hosts, groups, vars or become, or empty',
)

export const InventoryFileSchema = strictMap(
  {
    defaults: ConnectionSettingsSchema.nullish(),
    vars: Vars.nullish(),
    hosts: HostMap.nullish(),
    groups: z.record(Name, GroupSchema.nullable()).nullish(),
  },
  'a map with defaults, vars, hosts or groups',
)

export type ConnectionSettings = z.infer<typeof ConnectionSettingsSchema>
export type HostSettings = z.infer<typeof HostSettingsSchema>
export type GroupSettings = z.infer<typeof GroupSchema>
export type InventoryFile = z.infer<typeof InventoryFileSchema>
export type BecomeSetting = z.infer<typeof BecomeSchema>
