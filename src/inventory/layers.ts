// `--inventory` given several times (a shared base plus staging/production), and Ansible YAML
// inventories: each file becomes a layer (hosts, groups, vars, defaults, with file:line), the
// layers merge in order (later wins), and one resolver turns them into the same Inventory the
// single-file loader gives. A single verify-format file still goes through load.ts alone.
//
// Merge rules, later file over earlier: a host's settings field by field and its vars key by key;
// a group's members and child groups are the union, its vars merge, its become is the last one;
// `defaults:` field by field; top-level vars key by key. Resolution is then as in schema.ts:
// top-level vars < group vars (by nesting depth, then ansible_group_priority, then order) <
// host vars, and connection settings written for the host win over ~/.ssh/config.
import { readFile } from 'node:fs/promises'
import { isAbsolute, relative } from 'node:path'
import { isMap, isScalar, LineCounter, parseDocument, type Document, type Node } from 'yaml'
import { InventoryError } from '../errors.ts'
import type { HostSpec } from '../model.ts'
import { ansibleLayer, ansibleSettings, looksLikeAnsible } from './ansible.ts'
import { loadInventory, mergeVars, RESERVED_NAMES, type Inventory } from './load.ts'
import { InventoryFileSchema, type BecomeSetting, type ConnectionSettings, type HostSettings } from './schema.ts'
import { sshSettings } from './ssh-settings.ts'
import type { InventoryLayer, LayerGroup, LayerHost } from './layer.ts'

export type InventoryFormat = 'auto' | 'verify' | 'ansible'

export type { InventoryLayer, LayerGroup, LayerHost } from './layer.ts'

/** Loads one or more inventories; undefined when none of the files exists (as with one missing hosts.yaml). */
export async function loadInventories(paths: readonly string[], format: InventoryFormat = 'auto'): Promise<Inventory | undefined> {
  if (paths.length === 1 && format !== 'ansible') {
    const text = await readText(paths[0]!)
    if (text === undefined) return undefined
    if (format === 'verify' || !looksLikeAnsible(text)) return loadInventory(paths[0]!)
  }
  const layers: InventoryLayer[] = []
  for (const path of paths) {
    const text = await readText(path)
    if (text === undefined) {
      if (paths.length === 1) return undefined
      throw new InventoryError(`cannot read ${displayPath(path)}: no such file (every --inventory must exist when several are given)`)
    }
    const useAnsible = format === 'ansible' || (format === 'auto' && looksLikeAnsible(text))
    layers.push(useAnsible ? ansibleLayer(text, displayPath(path)) : await nativeLayer(path, text))
  }
  return resolveLayers(layers)
}

async function readText(path: string): Promise<string | undefined> {
  try {
    return await readFile(path, 'utf8')
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined
    throw new InventoryError(`cannot read ${displayPath(path)}: ${(err as Error).message}`, { cause: err })
  }
}

export function displayPath(path: string): string {
  const rel = relative(process.cwd(), path)
  return rel !== '' && !rel.startsWith('..') && !isAbsolute(rel) ? rel : path
}

// ---------------------------------------------------------------- verify-format files as layers

const UNKNOWN_GROUP = /includes unknown group "/

/**
 * A hosts.yaml as a layer. The single-file loader checks it first (syntax, schema, duplicates,
 * cycles, all with file:line); only "unknown group" is left to the merge, since a staging file
 * may name groups the base file defines.
 */
async function nativeLayer(path: string, text: string): Promise<InventoryLayer> {
  let warnings: string[] = []
  try {
    warnings = (await loadInventory(path)).warnings
  } catch (err) {
    if (!(err instanceof InventoryError)) throw err
    const remaining = err.message.split('\n').filter((line) => !UNKNOWN_GROUP.test(line))
    if (remaining.length > 0) throw new InventoryError(remaining.join('\n'), { cause: err })
  }
  const file = displayPath(path)
  const lines = new LineCounter()
  const doc = parseDocument(text, { lineCounter: lines })
  const data = InventoryFileSchema.parse(doc.toJS() ?? {})
  const at = (...keys: string[]) => `${file}:${keyLine(doc, lines, keys)}`
  const hosts: LayerHost[] = []
  const mention = (name: string, settings: HostSettings | null | undefined, source: string) => {
    const { vars, ...connection } = settings ?? {}
    hosts.push({ name, settings: connection, vars: vars ?? {}, source, defined: settings !== undefined && settings !== null })
  }
  for (const [name, settings] of Object.entries(data.hosts ?? {})) mention(name, settings, at('hosts', name))
  const groups: LayerGroup[] = []
  for (const [name, group] of Object.entries(data.groups ?? {})) {
    const members = Array.isArray(group?.hosts) ? group.hosts : Object.keys(group?.hosts ?? {})
    if (group?.hosts && !Array.isArray(group.hosts)) {
      for (const [host, settings] of Object.entries(group.hosts)) mention(host, settings, at('groups', name, 'hosts', host))
    } else {
      for (const host of members) mention(host, undefined, at('groups', name))
    }
    groups.push({
      name,
      hosts: [...members],
      children: (group?.groups ?? []).map((child) => ({ name: child, source: at('groups', name, 'groups') })),
      vars: group?.vars ?? {},
      ...(group?.become !== undefined ? { become: group.become } : {}),
      source: at('groups', name),
    })
  }
  // the per-file note about listed-only hosts is re-decided once all layers are known
  const otherWarnings = warnings.filter((w) => !/is listed in group .* but defined nowhere/.test(w))
  return { file, format: 'verify', defaults: data.defaults ?? {}, vars: data.vars ?? {}, hosts, groups, warnings: otherWarnings }
}

/** 1-based line of the key at `keys` (or of the nearest ancestor found). */
export function keyLine(doc: Document, lines: LineCounter, keys: readonly string[]): number {
  let node: unknown = doc.contents
  let offset = 0
  for (const key of keys) {
    if (!isMap(node)) break
    const pair = node.items.find((p) => isScalar(p.key) && String(p.key.value) === key)
    if (!pair) break
    offset = (pair.key as Node).range?.[0] ?? offset
    node = pair.value
  }
  return lines.linePos(offset).line
}

// ---------------------------------------------------------------- merging and resolving

interface MergedHost {
  name: string
  settings: Omit<HostSettings, 'vars'>
  vars: Record<string, unknown>
  source: string
  defined: boolean
  transport: 'ssh' | 'local'
  fromAnsible: boolean
}

interface MergedGroup extends LayerGroup {
  order: number
  childNames: Set<string>
}

export function resolveLayers(layers: readonly InventoryLayer[]): Inventory {
  const hosts = new Map<string, MergedHost>()
  const groups = new Map<string, MergedGroup>()
  let defaults: ConnectionSettings = {}
  let vars: Record<string, unknown> = {}
  for (const layer of layers) {
    defaults = { ...defaults, ...definedFields(layer.defaults) }
    vars = mergeVars(vars, layer.vars)
    for (const h of layer.hosts) {
      const known = hosts.get(h.name)
      if (!known) {
        hosts.set(h.name, { ...h, settings: { ...h.settings }, vars: mergeVars(h.vars), transport: h.transport ?? 'ssh', fromAnsible: layer.format === 'ansible' })
        continue
      }
      known.settings = { ...known.settings, ...definedFields(h.settings) }
      known.vars = mergeVars(known.vars, h.vars)
      if (h.defined && (!known.defined || layer.format === 'verify')) known.source = h.source
      known.defined ||= h.defined
      if (h.transport) known.transport = h.transport
      known.fromAnsible ||= layer.format === 'ansible'
    }
    for (const g of layer.groups) {
      const known = groups.get(g.name)
      if (!known) {
        groups.set(g.name, { ...g, hosts: [...g.hosts], children: [...g.children], order: groups.size, childNames: new Set(g.children.map((c) => c.name)) })
        continue
      }
      for (const host of g.hosts) if (!known.hosts.includes(host)) known.hosts.push(host)
      for (const child of g.children) if (!known.childNames.has(child.name)) { known.children.push(child); known.childNames.add(child.name) }
      known.vars = mergeVars(known.vars, g.vars)
      if (g.become !== undefined) known.become = g.become
      if (g.priority !== undefined) known.priority = g.priority
    }
  }
  checkMerged(hosts, groups)
  const members = groupMembers(groups, hosts)
  const depths = groupDepths(groups)
  const resolved = new Map<string, HostSpec>()
  for (const host of hosts.values()) {
    const hostGroups = [...groups.values()]
      .filter((g) => members.get(g.name)!.includes(host.name))
      .sort((a, b) => depths.get(a.name)! - depths.get(b.name)! || (a.priority ?? 1) - (b.priority ?? 1) || a.order - b.order)
    resolved.set(host.name, buildHost(host, hostGroups, defaults, vars))
  }
  const file = layers.map((l) => l.file).join(' + ')
  return {
    file,
    defaults,
    vars,
    hosts: resolved,
    groups: members,
    groupSources: new Map([...groups.values()].map((g) => [g.name, g.source])),
    warnings: [...layers.flatMap((l) => l.warnings), ...listedOnly(hosts)],
  }
}

function buildHost(host: MergedHost, hostGroups: MergedGroup[], defaults: ConnectionSettings, topVars: Record<string, unknown>): HostSpec {
  const vars = mergeVars(topVars, ...hostGroups.map((g) => g.vars), host.vars)
  // Ansible's connection vars are vars: they apply after the merge, and like Ansible's they are explicit.
  const conn = host.fromAnsible ? ansibleSettings(vars) : undefined
  const own = { ...host.settings, ...conn?.settings, ...(conn?.become !== undefined ? { become: conn.become } : {}) }
  return {
    name: host.name,
    address: own.address ?? host.name,
    port: own.port ?? defaults.port ?? 22,
    user: own.user ?? defaults.user,
    identityFile: own.identityFile ?? defaults.identityFile,
    knownHosts: own.knownHosts ?? defaults.knownHosts,
    transport: conn?.transport ?? host.transport,
    groups: hostGroups.map((g) => g.name),
    vars,
    source: host.source,
    ...sshSettings(own, defaults, hostGroups.map((g) => g.become)),
  }
}

/** Copies only the fields that are set, so a later layer's missing field never erases an earlier one. */
function definedFields<T extends object>(value: T): Partial<T> {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as Partial<T>
}

function checkMerged(hosts: Map<string, MergedHost>, groups: Map<string, MergedGroup>): void {
  const problems: string[] = []
  for (const g of groups.values()) {
    if (RESERVED_NAMES.includes(g.name)) problems.push(`${g.source}: "${g.name}" is reserved for the built-in local target (--hosts ${g.name}); rename this group`)
    for (const child of g.children) {
      if (groups.has(child.name)) continue
      problems.push(
        hosts.has(child.name)
          ? `${child.source}: group "${g.name}" includes "${child.name}" under its child groups, but "${child.name}" is a host`
          : `${child.source}: group "${g.name}" includes unknown group "${child.name}" (known groups: ${[...groups.keys()].join(', ') || 'none'})`,
      )
    }
  }
  for (const h of hosts.values()) if (RESERVED_NAMES.includes(h.name)) problems.push(`${h.source}: "${h.name}" is reserved for the built-in local target (--hosts ${h.name}); rename this host`)
  problems.push(...findCycles(groups))
  if (problems.length > 0) throw new InventoryError(problems.join('\n'))
}

/** Each cycle once, reported where its closing reference is. */
function findCycles(groups: Map<string, MergedGroup>): string[] {
  const state = new Map<string, 'visiting' | 'done'>()
  const stack: string[] = []
  const problems: string[] = []
  const visit = (group: MergedGroup): void => {
    state.set(group.name, 'visiting')
    stack.push(group.name)
    for (const child of group.children) {
      const next = groups.get(child.name)
      if (!next) continue
      if (state.get(child.name) === 'visiting') problems.push(`${child.source}: group cycle: ${[...stack.slice(stack.indexOf(child.name)), child.name].join(' -> ')}`)
      else if (!state.has(child.name)) visit(next)
    }
    stack.pop()
    state.set(group.name, 'done')
  }
  for (const g of groups.values()) if (!state.has(g.name)) visit(g)
  return problems
}

function groupMembers(groups: Map<string, MergedGroup>, hosts: Map<string, MergedHost>): Map<string, string[]> {
  const order = new Map([...hosts.keys()].map((name, i) => [name, i]))
  const memo = new Map<string, string[]>()
  const membersOf = (g: MergedGroup): string[] => {
    const cached = memo.get(g.name)
    if (cached) return cached
    const all = new Set([...g.hosts, ...g.children.flatMap((c) => membersOf(groups.get(c.name)!))])
    const sorted = [...all].sort((a, b) => order.get(a)! - order.get(b)!)
    memo.set(g.name, sorted)
    return sorted
  }
  return new Map([...groups.values()].map((g) => [g.name, membersOf(g)]))
}

function groupDepths(groups: Map<string, MergedGroup>): Map<string, number> {
  const parents = new Map<string, MergedGroup[]>([...groups.keys()].map((name) => [name, []]))
  for (const g of groups.values()) for (const c of g.children) parents.get(c.name)?.push(g)
  const depths = new Map<string, number>()
  const depthOf = (g: MergedGroup): number => {
    const known = depths.get(g.name)
    if (known !== undefined) return known
    const depth = Math.max(-1, ...parents.get(g.name)!.map(depthOf)) + 1
    depths.set(g.name, depth)
    return depth
  }
  for (const g of groups.values()) depthOf(g)
  return depths
}

function listedOnly(hosts: Map<string, MergedHost>): string[] {
  return [...hosts.values()]
    .filter((h) => !h.defined && !h.fromAnsible)
    .map((h) => `${h.source}: host "${h.name}" is listed in a group but defined in no inventory file; connecting to "${h.name}" as its address`)
}
