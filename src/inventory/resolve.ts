// The one inventory resolver: layers (hosts.yaml and Ansible files, in the order given) → hosts,
// groups and vars. One file is one layer; `--inventory` given several times layers later files
// over earlier ones.
//
// Merging layers, later over earlier: a host's settings field by field and its vars key by key;
// a group's members and child groups add up, its vars merge, its become and priority are the
// last ones set; `defaults:` field by field; top-level vars key by key.
//
// Precedence of a host's vars (one merge, vars.ts: later wins, maps key by key):
//   top-level vars < group vars < host vars   (then `--var`, select.ts)
// A host's groups apply by nesting depth (0 for a group no group contains, else 1 + the depth of
// its deepest container), then ansible_group_priority (default 1), then the order groups are
// first named: a contained, more specific group beats its container. Depth rather than "parents
// first, else file order", because those two rules can contradict each other (`staging` contains
// `web`, `edge` is unrelated and later than `web`, earlier than `staging`).
// Connection settings: the host's own (Ansible's connection vars, read after the merge, count as
// its own) > `defaults:` > port 22; `become`: the host's own > its groups' (in the order above) >
// `defaults:`.
//
// Every problem (each layer's own, reserved names, unknown groups, cycles) is reported at once,
// each at its file:line:col.
import type { HostSpec } from '../model.ts'
import { ansibleSettings } from './ansible-vars.ts'
import type { InventoryLayer, LayerGroup, LayerHost, LayerVars } from './layer.ts'
import type { BecomeSetting, ConnectionSettings, HostSettings } from './schema.ts'
import { sshSettings } from './ssh-settings.ts'
import { mergeVars, traceVarSources, withVarSources } from './vars.ts'
import { exactLabel, failWith, label, type Place, type Problem } from './yaml-source.ts'

/** Names an inventory may not define: `local` is the built-in local target of `--hosts`. */
export const RESERVED_NAMES: readonly string[] = ['local']

export interface Inventory {
  /** The file as shown in messages (relative to the working directory when inside it); `a + b` for layers. */
  file: string
  /** `defaults:` with `~` expanded; ad-hoc targets connect with these too. */
  defaults: ConnectionSettings
  /** Top-level `vars:`. */
  vars: Record<string, unknown>
  /** Every host, in the order it is first named. */
  hosts: Map<string, HostSpec>
  /** Group name -> its hosts, including those of the groups it contains, in host order. */
  groups: Map<string, string[]>
  /** Group name -> where it is defined: `hosts.yaml:LINE`. */
  groupSources: Map<string, string>
  /** Things worth telling the user that do not stop the run (a host listed but defined nowhere). */
  warnings: string[]
}

interface MergedHost {
  name: string
  settings: Omit<HostSettings, 'vars'>
  /** Its vars in every layer, in order. */
  vars: LayerVars[]
  /** Where it is defined (a later hosts.yaml definition moves it), else where it is first named. */
  at: Place
  defined: boolean
  /** Defined or declared somewhere, not only listed in a group. */
  named: boolean
  firstMention: LayerHost
  fromAnsible: boolean
}

interface MergedGroup {
  name: string
  order: number
  hosts: string[]
  children: Array<{ name: string; at: Place }>
  vars: LayerVars[]
  become?: BecomeSetting
  priority?: number
  at: Place
}

interface Merged {
  hosts: Map<string, MergedHost>
  groups: Map<string, MergedGroup>
  defaults: ConnectionSettings
  vars: LayerVars[]
}

/** Resolves layers into an Inventory; throws an InventoryError listing every problem found. */
export function resolveLayers(layers: readonly InventoryLayer[]): Inventory {
  const merged = mergeLayers(layers)
  const problems = [
    ...layers.flatMap(l => l.problems),
    ...findReservedNames(layers),
    ...findUnknownGroups(layers, merged),
    ...findGroupCycles(merged.groups),
  ]
  if (problems.length > 0)
    failWith(
      problems,
      layers.map(l => l.file),
    )
  const members = resolveGroupMembers(merged)
  const depths = measureGroupDepths(merged.groups)
  const hosts = new Map<string, HostSpec>()
  for (const host of merged.hosts.values()) {
    const hostGroups = [...merged.groups.values()]
      .filter(g => members.get(g.name)!.includes(host.name))
      .sort((a, b) => depths.get(a.name)! - depths.get(b.name)! || (a.priority ?? 1) - (b.priority ?? 1) || a.order - b.order)
    hosts.set(host.name, buildHostSpec(host, hostGroups, merged))
  }
  return {
    file: layers.map(l => l.file).join(' + '),
    defaults: merged.defaults,
    vars: mergeVars(...merged.vars.map(v => v.values)),
    hosts,
    groups: members,
    groupSources: new Map([...merged.groups.values()].map(g => [g.name, label(g.at)])),
    warnings: [...layers.flatMap(l => l.warnings), ...noteUndefinedHosts(merged.hosts)],
  }
}

// ---------------------------------------------------------------- merging

function mergeLayers(layers: readonly InventoryLayer[]): Merged {
  const merged: Merged = { hosts: new Map(), groups: new Map(), defaults: {}, vars: [] }
  for (const layer of layers) {
    merged.defaults = { ...merged.defaults, ...definedFields(layer.defaults) }
    merged.vars.push(layer.vars)
    for (const mention of layer.hosts) mergeHost(merged.hosts, mention, layer.format)
    for (const group of layer.groups) mergeGroup(merged.groups, group)
  }
  return merged
}

function mergeHost(hosts: Map<string, MergedHost>, m: LayerHost, format: InventoryLayer['format']): void {
  let host = hosts.get(m.name)
  if (!host) {
    host = { name: m.name, settings: {}, vars: [], at: m.at, defined: false, named: false, firstMention: m, fromAnsible: false }
    hosts.set(m.name, host)
  }
  host.settings = { ...host.settings, ...definedFields(m.settings) }
  host.vars.push(m.vars)
  // An Ansible file names a host wherever it lists it: the first definition stays its place.
  if (m.kind === 'defined' && (!host.defined || format === 'verify')) host.at = m.at
  host.defined ||= m.kind === 'defined'
  host.named ||= m.kind !== 'listed'
  host.fromAnsible ||= format === 'ansible'
}

function mergeGroup(groups: Map<string, MergedGroup>, g: LayerGroup): void {
  const group = groups.get(g.name)
  if (!group) {
    groups.set(g.name, { ...g, order: groups.size, hosts: [...g.hosts], children: dedupeByName(g.children), vars: [g.vars] })
    return
  }
  for (const host of g.hosts) if (!group.hosts.includes(host)) group.hosts.push(host)
  group.children = dedupeByName([...group.children, ...g.children])
  group.vars.push(g.vars)
  if (g.become !== undefined) group.become = g.become
  if (g.priority !== undefined) group.priority = g.priority
}

function dedupeByName<T extends { name: string }>(items: readonly T[]): T[] {
  const seen = new Set<string>()
  return items.filter(item => !seen.has(item.name) && seen.add(item.name))
}

/** Copies only the fields that are set, so a later layer's missing field never erases an earlier one. */
function definedFields<T extends object>(value: T): Partial<T> {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as Partial<T>
}

// ---------------------------------------------------------------- checks

function findReservedNames(layers: readonly InventoryLayer[]): Problem[] {
  const reserved = (name: string, what: string) =>
    `"${name}" is reserved for the built-in local target (--hosts ${name}); rename this ${what}`
  return layers.flatMap(layer => [
    ...layer.groups.filter(g => RESERVED_NAMES.includes(g.name)).map(g => ({ at: g.at, message: reserved(g.name, 'group') })),
    ...layer.hosts.filter(h => RESERVED_NAMES.includes(h.name)).map(h => ({ at: h.at, message: reserved(h.name, 'host') })),
  ])
}

/** Every reference to a group no layer defines, where it is written. */
function findUnknownGroups(layers: readonly InventoryLayer[], merged: Merged): Problem[] {
  const knownList = [...merged.groups.keys()].join(', ') || 'none'
  return layers.flatMap(layer =>
    layer.groups.flatMap(g =>
      g.children
        .filter(child => !merged.groups.has(child.name))
        .map(child => ({
          at: child.at,
          message: merged.hosts.has(child.name)
            ? `group "${g.name}" includes "${child.name}" under groups:, but "${child.name}" is a host; list it under hosts:`
            : `group "${g.name}" includes unknown group "${child.name}" (known groups: ${knownList})`,
        })),
    ),
  )
}

/**
 * Depth-first search; each back edge closes one cycle, reported once where the closing reference
 * is. A cycle through several files also names where its other steps are written.
 */
function findGroupCycles(groups: Map<string, MergedGroup>): Problem[] {
  const state = new Map<string, 'visiting' | 'done'>()
  const stack: Array<{ name: string; at?: Place }> = []
  const problems: Problem[] = []
  const visit = (group: MergedGroup, at?: Place): void => {
    state.set(group.name, 'visiting')
    stack.push({ name: group.name, ...(at ? { at } : {}) })
    for (const child of group.children) {
      const next = groups.get(child.name)
      if (!next) continue
      if (state.get(child.name) === 'visiting') {
        const steps = stack.slice(stack.findIndex(s => s.name === child.name))
        const names = [...steps.map(s => s.name), child.name]
        const elsewhere = steps.flatMap((s, i) =>
          i > 0 && s.at && s.at.file !== child.at.file ? [`${names[i - 1]} -> ${s.name} at ${exactLabel(s.at)}`] : [],
        )
        problems.push({
          at: child.at,
          message: `group cycle: ${names.join(' -> ')}${elsewhere.length > 0 ? ` (${elsewhere.join(', ')})` : ''}`,
        })
      } else if (!state.has(child.name)) {
        visit(next, child.at)
      }
    }
    stack.pop()
    state.set(group.name, 'done')
  }
  for (const group of groups.values()) if (!state.has(group.name)) visit(group)
  return problems
}

// ---------------------------------------------------------------- resolution

function resolveGroupMembers(merged: Merged): Map<string, string[]> {
  const order = new Map([...merged.hosts.keys()].map((name, i) => [name, i]))
  const memo = new Map<string, string[]>()
  const membersOf = (group: MergedGroup): string[] => {
    const cached = memo.get(group.name)
    if (cached) return cached
    const all = new Set([...group.hosts, ...group.children.flatMap(c => membersOf(merged.groups.get(c.name)!))])
    const sorted = [...all].sort((a, b) => order.get(a)! - order.get(b)!)
    memo.set(group.name, sorted)
    return sorted
  }
  return new Map([...merged.groups.values()].map(g => [g.name, membersOf(g)]))
}

/** 0 for a group no other group contains, else 1 + the depth of its deepest container. */
function measureGroupDepths(groups: Map<string, MergedGroup>): Map<string, number> {
  const parents = new Map<string, MergedGroup[]>([...groups.keys()].map(name => [name, []]))
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

function buildHostSpec(host: MergedHost, groups: MergedGroup[], merged: Merged): HostSpec {
  const varLayers = [...merged.vars, ...groups.flatMap(g => g.vars), ...host.vars]
  const vars = mergeVars(...varLayers.map(l => l.values))
  const conn = host.fromAnsible ? ansibleSettings(vars) : undefined
  const own = { ...host.settings, ...conn?.settings, ...(conn?.become !== undefined ? { become: conn.become } : {}) }
  const defaults = merged.defaults
  return {
    name: host.name,
    address: own.address ?? host.name,
    port: own.port ?? defaults.port ?? 22,
    user: own.user ?? defaults.user,
    identityFile: own.identityFile ?? defaults.identityFile,
    knownHosts: own.knownHosts ?? defaults.knownHosts,
    transport: conn?.transport ?? 'ssh',
    groups: groups.map(g => g.name),
    vars,
    source: label(host.at),
    ...withVarSources(traceVarSources(vars, varLayers)),
    ...sshSettings(
      own,
      defaults,
      groups.map(g => g.become),
    ),
  }
}

function noteUndefinedHosts(hosts: Map<string, MergedHost>): string[] {
  return [...hosts.values()]
    .filter(h => !h.named)
    .map(({ name, firstMention: { at, group } }) => {
      return `${exactLabel(at)}: host "${name}" is listed in group "${group}" but defined nowhere; connecting to "${name}" as its address`
    })
}
