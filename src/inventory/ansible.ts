// Ansible YAML inventories read as they are, as a layer: `all` / groups with `hosts`, `vars`,
// `children`, and host ranges (`web[01:20]`). The connection vars are checked where they are
// written (ansible-vars.ts); every problem is reported at once with its file:line:col.
import { isMap, isScalar, type Pair, type YAMLMap } from 'yaml'
import { checkVar } from './ansible-vars.ts'
import { NAME_PATTERN } from './schema.ts'
import type { InventoryLayer, LayerGroup, LayerHost } from './layer.ts'
import { label, YamlSource, type Problem } from './yaml-source.ts'

const GROUP_KEYS = new Set(['hosts', 'vars', 'children'])
const VERIFY_KEYS = new Set(['defaults', 'vars', 'hosts', 'groups'])
const MAX_RANGE_HOSTS = 10_000

/** By shape: top-level keys that are not hosts.yaml's, each a group map of hosts / vars / children. */
export function looksLikeAnsible(text: string): boolean {
  try {
    return isAnsibleShape(YamlSource.parse(text, '').toJS())
  } catch {
    return false
  }
}

/** looksLikeAnsible for a file already parsed. */
export function isAnsibleShape(data: unknown): boolean {
  if (data === null || typeof data !== 'object' || Array.isArray(data)) return false
  const entries = Object.entries(data as Record<string, unknown>)
  if (entries.length === 0 || entries.every(([key]) => VERIFY_KEYS.has(key))) return false
  return entries.every(
    ([, value]) =>
      value === null || (typeof value === 'object' && !Array.isArray(value) && Object.keys(value as object).every(k => GROUP_KEYS.has(k))),
  )
}

/** Reads a parsed Ansible YAML inventory into a layer; its problems go with the layer, to be reported with the resolver's. */
export function ansibleLayer(src: YamlSource): InventoryLayer {
  const file = src.file
  const problems: Problem[] = []
  const fail = (node: unknown, message: string) => problems.push({ at: src.of(node), message })
  const labelOf = (node: unknown) => label(src.of(node))

  const hosts: LayerHost[] = []
  const groups = new Map<string, LayerGroup>()
  const warnings: string[] = []
  let topVars: Record<string, unknown> = {}

  const groupNamed = (name: string, keyNode: unknown): LayerGroup => {
    let group = groups.get(name)
    if (!group) {
      group = { name, hosts: [], children: [], vars: { values: {} }, at: src.of(keyNode) }
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
    for (const pair of node.items) checkVar(pair, where, fail, warnings, labelOf)
    return (node.toJSON() ?? {}) as Record<string, unknown>
  }

  const visitGroup = (name: string, keyNode: unknown, node: unknown, parent: LayerGroup | undefined): void => {
    if (!NAME_PATTERN.test(name)) fail(keyNode, `group "${name}": a name may only contain letters, digits, "_", "." and "-"`)
    const group = groupNamed(name, keyNode)
    if (parent && !parent.children.some(c => c.name === name)) parent.children.push({ name, at: src.of(keyNode) })
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
        else group.vars = { values: { ...group.vars.values, ...vars } }
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
        hosts.push({ name, kind: 'defined', settings: {}, vars: { values: vars }, at: src.of(pair.key), group: group.name })
      }
    }
  }

  const root = src.doc.contents
  if (root !== null && !isMap(root)) fail(root, 'an Ansible inventory is a map of group name -> group')
  const all = groupNamed('all', root)
  for (const pair of isMap(root) ? (root.items as Array<Pair<unknown, unknown>>) : []) {
    const name = isScalar(pair.key) ? String(pair.key.value) : ''
    // every top-level group is a child of `all`, as in Ansible
    visitGroup(name, pair.key, pair.value, name === 'all' ? undefined : all)
  }
  addUngrouped(groups)
  return { file, format: 'ansible', defaults: {}, vars: { values: topVars }, hosts, groups: [...groups.values()], warnings, problems }
}

/** `ungrouped`: hosts of `all` that no other group names, as Ansible defines it. */
function addUngrouped(groups: Map<string, LayerGroup>): void {
  const all = groups.get('all')!
  const grouped = new Set([...groups.values()].filter(g => g.name !== 'all' && g.name !== 'ungrouped').flatMap(g => g.hosts))
  const ungrouped = all.hosts.filter(h => !grouped.has(h))
  const existing = groups.get('ungrouped')
  if (existing) {
    for (const h of ungrouped) if (!existing.hosts.includes(h)) existing.hosts.push(h)
  } else {
    groups.set('ungrouped', { name: 'ungrouped', hosts: ungrouped, children: [], vars: { values: {} }, at: all.at })
    all.children.push({ name: 'ungrouped', at: all.at })
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
  return items.flatMap(item => rest.map(r => `${head}${item}${r}`))
}
