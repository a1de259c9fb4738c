// Ansible's connection vars (ansible_host, ansible_port, ansible_user, ansible_ssh_private_key_file,
// ansible_become*, ansible_connection, -J/ProxyJump in the ssh args): checked where they are
// written, and turned into connection settings once a host's vars are merged. Like Ansible,
// they win over ~/.ssh/config wherever they are set. Secrets are only taken as
// `{{ lookup('env', 'NAME') }}`; anything else is an error at its line.
import { isMap, isScalar, isSeq, type Pair } from 'yaml'
import { expandHome, type BecomeSetting, type HostSettings } from './schema.ts'

const PASSWORD_VARS = ['ansible_password', 'ansible_ssh_pass', 'ansible_ssh_password', 'ansible_become_password', 'ansible_become_pass']
const SSH_CONNECTIONS = new Set(['ssh', 'paramiko', 'smart'])
const ENV_LOOKUP = /^\{\{\s*lookup\(\s*['"]env['"]\s*,\s*['"]([A-Za-z_][A-Za-z0-9_]*)['"]\s*\)\s*\}\}$/

/** Checks one var where it is written, so a bad connection var is reported with its line. */
export function checkVar(
  pair: Pair<unknown, unknown>,
  where: string,
  fail: (node: unknown, message: string) => void,
  warnings: string[],
  label: (node: unknown) => string,
): void {
  const key = isScalar(pair.key) ? String(pair.key.value) : ''
  if (!key.startsWith('ansible_')) return
  const node = pair.value
  const value = isScalar(node) ? node.value : isMap(node) || isSeq(node) ? node.toJSON() : undefined
  const at = `${where}: ${key}`
  if (PASSWORD_VARS.includes(key)) {
    if (typeof value !== 'string' || !ENV_LOOKUP.test(value.trim())) {
      fail(
        node ?? pair.key,
        `${at}: verify takes passwords only from environment variables; write ${key}: "{{ lookup('env', 'NAME') }}" and set NAME (a literal or vaulted password is never read)`,
      )
    }
    return
  }
  switch (key) {
    case 'ansible_port':
    case 'ansible_ssh_port': {
      const port = typeof value === 'string' && /^\d+$/.test(value) ? Number(value) : value
      if (typeof port !== 'number' || !Number.isInteger(port) || port < 1 || port > 65535)
        fail(node, `${at}: must be an integer from 1 to 65535, got ${JSON.stringify(value)}`)
      return
    }
    case 'ansible_host':
    case 'ansible_user':
    case 'ansible_ssh_user':
    case 'ansible_ssh_private_key_file':
    case 'ansible_become_user':
      if (typeof value !== 'string' || value === '') fail(node, `${at}: must be a non-empty string`)
      else if (value.includes('{{')) fail(node, `${at}: Jinja templates are not evaluated by verify; write the value itself`)
      return
    case 'ansible_become':
      if (parseBool(value) === undefined) fail(node, `${at}: must be true or false, got ${JSON.stringify(value)}`)
      return
    case 'ansible_become_method':
      if (value !== 'sudo') fail(node, `${at}: only sudo is supported, got ${JSON.stringify(value)}`)
      return
    case 'ansible_connection':
      if (typeof value !== 'string' || !(SSH_CONNECTIONS.has(value) || value === 'local'))
        fail(node, `${at}: verify connects over ssh or local, got ${JSON.stringify(value)}`)
      return
    case 'ansible_ssh_common_args':
    case 'ansible_ssh_extra_args':
      if (typeof value === 'string' && stripProxyJump(value).trim() !== '') {
        warnings.push(
          `${label(node)}: ${at}: only -J / -o ProxyJump=… are used from the ssh args; put other options (ProxyCommand, …) in ~/.ssh/config or --ssh-config`,
        )
      }
      return
  }
}

function parseBool(value: unknown): boolean | undefined {
  if (typeof value === 'boolean') return value
  if (typeof value !== 'string') return undefined
  const v = value.toLowerCase()
  if (['yes', 'true', 'on', '1'].includes(v)) return true
  if (['no', 'false', 'off', '0'].includes(v)) return false
  return undefined
}

const PROXY_JUMP_ARG = /(?:^|\s)(?:-J\s*|-o\s*['"]?ProxyJump[=\s]+)([^\s'"]+)['"]?/i

function stripProxyJump(args: string): string {
  return args.replace(PROXY_JUMP_ARG, ' ')
}

/** Connection settings from a host's merged vars (checked already where they were written). */
export function ansibleSettings(vars: Record<string, unknown>): {
  settings: Omit<HostSettings, 'vars'>
  become?: BecomeSetting
  transport?: 'ssh' | 'local'
} {
  const text = (key: string) => (typeof vars[key] === 'string' && vars[key] !== '' ? (vars[key] as string) : undefined)
  const envName = (key: string) => ENV_LOOKUP.exec(String(vars[key] ?? '').trim())?.[1]
  const portValue = vars.ansible_port ?? vars.ansible_ssh_port
  const port = portValue === undefined ? undefined : Number(portValue)
  const jump = [text('ansible_ssh_common_args'), text('ansible_ssh_extra_args')]
    .map(a => (a ? PROXY_JUMP_ARG.exec(a)?.[1] : undefined))
    .find(Boolean)
  const user = text('ansible_user') ?? text('ansible_ssh_user')
  const key = text('ansible_ssh_private_key_file')
  const passwordEnv = envName('ansible_password') ?? envName('ansible_ssh_pass') ?? envName('ansible_ssh_password')
  const settings: Omit<HostSettings, 'vars'> = {
    ...(text('ansible_host') ? { address: text('ansible_host')! } : {}),
    ...(port !== undefined && Number.isInteger(port) ? { port } : {}),
    ...(user ? { user } : {}),
    ...(key ? { identityFile: expandHome(key) } : {}),
    ...(passwordEnv ? { passwordEnv } : {}),
    ...(jump ? { proxyJump: jump } : {}),
  }
  const becomeFlag = parseBool(vars.ansible_become)
  const becomePasswordEnv = envName('ansible_become_password') ?? envName('ansible_become_pass')
  const become: BecomeSetting | undefined =
    becomeFlag === undefined
      ? undefined
      : becomeFlag
        ? { user: text('ansible_become_user') ?? 'root', ...(becomePasswordEnv ? { passwordEnv: becomePasswordEnv } : {}) }
        : false
  const connection = text('ansible_connection')
  return { settings, ...(become !== undefined ? { become } : {}), ...(connection === 'local' ? { transport: 'local' as const } : {}) }
}
