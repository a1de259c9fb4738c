// Ansible YAML inventories read as they are: `all` / groups with `hosts`, `vars`, `children`,
// host ranges (`web[01:20]`), and the connection vars (ansible_host, ansible_port, ansible_user,
// ansible_ssh_private_key_file, ansible_become*, ansible_connection, -J/ProxyJump in the ssh
// args). Like Ansible, connection vars win over ~/.ssh/config wherever they are set. Secrets
// are only taken as `{{ lookup('env', 'NAME') }}`; anything else is an error at its line.
import { isMap, isScalar, isSeq, LineCounter, parseDocument, type Node, type Pair, type YAMLMap } from 'yaml'
import { InventoryError } from '../errors.ts'
import type { BecomeSetting, HostSettings } from './schema.ts'
import { expandHome, NAME_PATTERN } from './schema.ts'
import type { InventoryLayer, LayerGroup, LayerHost } from './layer.ts'

const GROUP_KEYS = new Set(['hosts', 'vars', 'children'])
const VERIFY_KEYS = new Set(['defaults', 'vars', 'hosts', 'groups'])
const PASSWORD_VARS = ['ansible_password', 'ansible_ssh_pass', 'ansible_ssh_password', 'ansible_become_password', 'ansible_become_pass']
const SSH_CONNECTIONS = new Set(['ssh', 'paramiko', 'smart'])
const ENV_LOOKUP = /^\{\{\s*lookup\(\s*['"]env['"]\s*,\s*['"]([A-Za-z_][A-Za-z0-9_]*)['"]\s*\)\s*\}\}$/
const MAX_RANGE_HOSTS = 10_000

/** By shape: top-level keys that are not hosts.yaml's, each a group map of hosts / vars / children. */
export function looksLikeAnsible(text: string): boolean {
  let data: unknown
  try {
    data = parseDocument(text).toJS()
  } catch {
    return false
  }
  if (data === null || typeof data !== 'object' || Array.isArray(data)) return false
  const entries = Object.entries(data as Record<string, unknown>)
  if (entries.length === 0 || entries.every(([key]) => VERIFY_KEYS.has(key))) return false
  return entries.every(([, value]) => value === null || (typeof value === 'object' && !Array.isArray(value) && Object.keys(value as object).every((k) => GROUP_KEYS.has(k))))
}

type Problem = { line: number; col: number; message: string }

/** Parses an Ansible YAML inventory into a layer; throws InventoryError listing every problem with file:line:col. */
export function ansibleLayer(text: string, file: string): InventoryLayer {
  const lines = new LineCounter()
  const doc = parseDocument(text, { lineCounter: lines, prettyErrors: false })
  const problems: Problem[] = []
  const pos = (node: unknown) => lines.linePos((node as Node | undefined)?.range?.[0] ?? 0)
  const fail = (node: unknown, message: string) => problems.push({ ...pos(node), message })
  const label = (node: unknown) => `${file}:${pos(node).line}`
  for (const err of doc.errors) problems.push({ ...lines.linePos(err.pos[0]), message: `YAML syntax error: ${err.message.split('\n')[0]}` })
  throwIfAny(file, problems)

  const hosts: LayerHost[] = []
  const groups = new Map<string, LayerGroup>()
  const warnings: string[] = []
  let topVars: Record<string, unknown> = {}

  const groupNamed = (name: string, keyNode: unknown): LayerGroup => {
    let group = groups.get(name)
    if (!group) {
      group = { name, hosts: [], children: [], vars: {}, source: label(keyNode) }
      groups.set(name, group)
    }
    return group
  }

  const readVars = (node: unknown, where: string): Record<string, unknown> => {
    if (node === null || node === undefined || (isScalar(node) && node.value === null)) return {}
    if (!isMap(node)) {
      fail(node, `${where}: vars must be a map of name -> value`)
      return {}
    }
    for (const pair of node.items) checkVar(pair, where, fail, warnings, label)
    return (node.toJSON() ?? {}) as Record<string, unknown>
  }

  const visitGroup = (name: string, keyNode: unknown, node: unknown, parent: LayerGroup | undefined): void => {
    if (!NAME_PATTERN.test(name)) fail(keyNode, `group "${name}": a name may only contain letters, digits, "_", "." and "-"`)
    const group = groupNamed(name, keyNode)
    if (parent && !parent.children.some((c) => c.name === name)) parent.children.push({ name, source: label(keyNode) })
    if (node === null || (isScalar(node) && node.value === null)) return
    if (!isMap(node)) return void fail(node, `group "${name}" must be a map with hosts, vars or children`)
    for (const pair of node.items as Array<Pair<unknown, unknown>>) {
      const key = isScalar(pair.key) ? String(pair.key.value) : ''
      if (key === 'hosts') visitHosts(group, pair.value)
      else if (key === 'vars') {
        const vars = readVars(pair.value, `group "${name}"`)
        const priority = vars.ansible_group_priority
        if (typeof priority === 'number') group.priority = priority
        if (name === 'all') topVars = { ...topVars, ...vars }
        else group.vars = { ...group.vars, ...vars }
      } else if (key === 'children') {
        if (pair.value === null || (isScalar(pair.value) && pair.value.value === null)) continue
        if (!isMap(pair.value)) {
          fail(pair.value, `group "${name}": children must be a map of group name -> group`)
          continue
        }
        for (const child of (pair.value as YAMLMap<unknown, unknown>).items) {
          const childName = isScalar(child.key) ? String(child.key.value) : ''
          visitGroup(childName, child.key, child.value, group)
        }
      } else fail(pair.key, `group "${name}": unknown key "${key}" (an Ansible group has hosts, vars and children)`)
    }
  }

  const visitHosts = (group: LayerGroup, node: unknown): void => {
    if (node === null || (isScalar(node) && node.value === null)) return
    if (!isMap(node)) return void fail(node, `group "${group.name}": hosts must be a map of host name -> vars`)
    for (const pair of (node as YAMLMap<unknown, unknown>).items) {
      const pattern = isScalar(pair.key) ? String(pair.key.value) : ''
      const names = expandHostRange(pattern)
      if (typeof names === 'string') {
        fail(pair.key, `host "${pattern}": ${names}`)
        continue
      }
      const vars = readVars(pair.value, `host "${pattern}"`)
      for (const name of names) {
        if (!NAME_PATTERN.test(name)) {
          fail(pair.key, `host "${name}": a name may only contain letters, digits, "_", "." and "-" (use ansible_host for the address)`)
          continue
        }
        if (!group.hosts.includes(name)) group.hosts.push(name)
        hosts.push({ name, settings: {}, vars, source: label(pair.key), defined: true })
      }
    }
  }

  const root = doc.contents
  if (root !== null && !isMap(root)) fail(root, 'an Ansible inventory is a map of group name -> group')
  const all = groupNamed('all', root)
  for (const pair of isMap(root) ? (root.items as Array<Pair<unknown, unknown>>) : []) {
    const name = isScalar(pair.key) ? String(pair.key.value) : ''
    // every top-level group is a child of `all`, as in Ansible
    visitGroup(name, pair.key, pair.value, name === 'all' ? undefined : all)
  }
  throwIfAny(file, problems)
  addUngrouped(groups)
  return { file, format: 'ansible', defaults: {}, vars: topVars, hosts, groups: [...groups.values()], warnings }
}

/** `ungrouped`: hosts of `all` that no other group names, as Ansible defines it. */
function addUngrouped(groups: Map<string, LayerGroup>): void {
  const all = groups.get('all')!
  const grouped = new Set([...groups.values()].filter((g) => g.name !== 'all' && g.name !== 'ungrouped').flatMap((g) => g.hosts))
  const ungrouped = all.hosts.filter((h) => !grouped.has(h))
  const existing = groups.get('ungrouped')
  if (existing) {
    for (const h of ungrouped) if (!existing.hosts.includes(h)) existing.hosts.push(h)
  } else {
    groups.set('ungrouped', { name: 'ungrouped', hosts: ungrouped, children: [], vars: {}, source: all.source })
    all.children.push({ name: 'ungrouped', source: all.source })
  }
}

/** `web[01:03].example.com` → web01…web03.example.com; `[a:c]` letters; `[0:10:5]` with a step. A string is the reason it is malformed. */
export function expandHostRange(pattern: string): string[] | string {
  const match = /^(.*?)\[([^\]]+)\](.*)$/.exec(pattern)
  if (!match) return [pattern]
  const [, head, range, tail] = match as unknown as [string, string, string, string]
  const parts = range.split(':')
  if (parts.length < 2 || parts.length > 3) return `range [${range}] must be [start:end] or [start:end:step]`
  const [start, end, stepText] = parts as [string, string, string | undefined]
  const step = stepText === undefined ? 1 : Number(stepText)
  if (!Number.isInteger(step) || step < 1) return `range [${range}]: the step must be a positive integer`
  let items: string[]
  if (/^\d+$/.test(start) && /^\d+$/.test(end)) {
    const from = Number(start)
    const to = Number(end)
    if (from > to) return `range [${range}] ends before it starts`
    if ((to - from) / step > MAX_RANGE_HOSTS) return `range [${range}] would make more than ${MAX_RANGE_HOSTS} hosts`
    const width = start.length > 1 && start.startsWith('0') ? start.length : 0
    items = []
    for (let n = from; n <= to; n += step) items.push(String(n).padStart(width, '0'))
  } else if (/^[a-z]$/.test(start) && /^[a-z]$/.test(end)) {
    if (start > end) return `range [${range}] ends before it starts`
    items = []
    for (let c = start.charCodeAt(0); c <= end.charCodeAt(0); c += step) items.push(String.fromCharCode(c))
  } else {
    return `range [${range}] must be numbers or single lower-case letters`
  }
  const rest = expandHostRange(tail)
  if (typeof rest === 'string') return rest
  return items.flatMap((item) => rest.map((r) => `${head}${item}${r}`))
}

/** Checks one var where it is written, so a bad connection var is reported with its line. */
function checkVar(pair: Pair<unknown, unknown>, where: string, fail: (node: unknown, message: string) => void, warnings: string[], label: (node: unknown) => string): void {
  const key = isScalar(pair.key) ? String(pair.key.value) : ''
  if (!key.startsWith('ansible_')) return
  const node = pair.value
  const value = isScalar(node) ? node.value : isMap(node) || isSeq(node) ? node.toJSON() : undefined
  const at = `${where}: ${key}`
  if (PASSWORD_VARS.includes(key)) {
    if (typeof value !== 'string' || !ENV_LOOKUP.test(value.trim())) {
      fail(node ?? pair.key, `${at}: verify takes passwords only from environment variables; write ${key}: "{{ lookup('env', 'NAME') }}" and set NAME (a literal or vaulted password is never read)`)
    }
    return
  }
  switch (key) {
    case 'ansible_port':
    case 'ansible_ssh_port': {
      const port = typeof value === 'string' && /^\d+$/.test(value) ? Number(value) : value
      if (typeof port !== 'number' || !Number.isInteger(port) || port < 1 || port > 65535) fail(node, `${at}: must be an integer from 1 to 65535, got ${JSON.stringify(value)}`)
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
      if (typeof value !== 'string' || !(SSH_CONNECTIONS.has(value) || value === 'local')) fail(node, `${at}: verify connects over ssh or local, got ${JSON.stringify(value)}`)
      return
    case 'ansible_ssh_common_args':
    case 'ansible_ssh_extra_args':
      if (typeof value === 'string' && stripProxyJump(value).trim() !== '') {
        warnings.push(`${label(node)}: ${at}: only -J / -o ProxyJump=… are used from the ssh args; put other options (ProxyCommand, …) in ~/.ssh/config or --ssh-config`)
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
  const jump = [text('ansible_ssh_common_args'), text('ansible_ssh_extra_args')].map((a) => (a ? PROXY_JUMP_ARG.exec(a)?.[1] : undefined)).find(Boolean)
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
    becomeFlag === undefined ? undefined : becomeFlag ? { user: text('ansible_become_user') ?? 'root', ...(becomePasswordEnv ? { passwordEnv: becomePasswordEnv } : {}) } : false
  const connection = text('ansible_connection')
  return { settings, ...(become !== undefined ? { become } : {}), ...(connection === 'local' ? { transport: 'local' as const } : {}) }
}

function throwIfAny(file: string, problems: Problem[]): void {
  if (problems.length === 0) return
  const sorted = [...problems].sort((a, b) => a.line - b.line || a.col - b.col)
  throw new InventoryError(sorted.map((p) => `${file}:${p.line}:${p.col}: ${p.message}`).join('\n'))
}
