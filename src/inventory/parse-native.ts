// hosts.yaml (format: schema.ts) as a layer: the schema checked with every problem at its
// file:line:col, each mention of a host and each group with its place, and the one problem a
// file has on its own (a host given settings twice). What names refer to is the resolver's.
import { describeIssues } from './schema-issues.ts'
import { InventoryFileSchema, type HostSettings, type InventoryFile } from './schema.ts'
import type { InventoryLayer, LayerGroup, LayerHost, LayerVars } from './layer.ts'
import { comparePlaces, failWith, type DataPath, type Place, type Problem, type YamlSource } from './yaml-source.ts'

/** Reads a parsed hosts.yaml into a layer; a schema problem throws an InventoryError listing all of them. */
export function nativeLayer(src: YamlSource): InventoryLayer {
  const data = validateSchema(src)
  const hosts = collectMentions(data, src)
  return {
    file: src.file,
    format: 'verify',
    defaults: data.defaults ?? {},
    vars: varsAt(data.vars ?? {}, ['vars'], src),
    hosts,
    groups: collectGroups(data, src),
    warnings: [],
    problems: findDuplicateDefinitions(hosts),
  }
}

function validateSchema(src: YamlSource): InventoryFile {
  const raw = src.toJS()
  // parsed once per run: zod's compiled fast path (new Function per object shape) would cost more than it saves
  const result = InventoryFileSchema.safeParse(raw, { jitless: true })
  if (!result.success) failWith(describeIssues(result.error.issues, raw, [], src))
  return result.data
}

function varsAt(values: Record<string, unknown>, base: DataPath, src: YamlSource): LayerVars {
  return { values, locate: path => src.at([...base, ...path], { key: true }) }
}

function collectGroups(data: InventoryFile, src: YamlSource): LayerGroup[] {
  return Object.entries(data.groups ?? {}).map(([name, group]) => ({
    name,
    at: src.at(['groups', name], { key: true }),
    hosts: Array.isArray(group?.hosts) ? [...group.hosts] : Object.keys(group?.hosts ?? {}),
    children: (group?.groups ?? []).map((child, i) => ({ name: child, at: src.at(['groups', name, 'groups', i]) })),
    vars: varsAt(group?.vars ?? {}, ['groups', name, 'vars'], src),
    ...(group?.become !== undefined ? { become: group.become } : {}),
  }))
}

/** Every place a host is named, in file order (which is the order of hosts everywhere after). */
function collectMentions(data: InventoryFile, src: YamlSource): LayerHost[] {
  const mentions: LayerHost[] = Object.entries(data.hosts ?? {}).map(([host, settings]) =>
    mention(host, settings, undefined, ['hosts', host], src),
  )
  for (const [group, settings] of Object.entries(data.groups ?? {})) {
    const hosts = settings?.hosts
    if (Array.isArray(hosts)) {
      hosts.forEach((host, i) => {
        mentions.push({ name: host, kind: 'listed', settings: {}, vars: { values: {} }, group, at: src.at(['groups', group, 'hosts', i]) })
      })
    } else {
      for (const [host, hostSettings] of Object.entries(hosts ?? {}))
        mentions.push(mention(host, hostSettings, group, ['groups', group, 'hosts', host], src))
    }
  }
  return mentions.sort((a, b) => comparePlaces(a.at, b.at))
}

function mention(name: string, settings: HostSettings | null, group: string | undefined, path: DataPath, src: YamlSource): LayerHost {
  const { vars, ...connection } = settings ?? {}
  return {
    name,
    kind: settings ? 'defined' : 'declared',
    settings: connection,
    vars: varsAt(vars ?? {}, [...path, 'vars'], src),
    at: src.at(path, { key: true }),
    ...(group !== undefined ? { group } : {}),
  }
}

function findDuplicateDefinitions(mentions: LayerHost[]): Problem[] {
  const first = new Map<string, Place>()
  const problems: Problem[] = []
  for (const m of mentions.filter(m => m.kind === 'defined')) {
    const earlier = first.get(m.name)
    if (!earlier) first.set(m.name, m.at)
    else {
      problems.push({
        at: m.at,
        message: `host "${m.name}" is defined twice, at lines ${earlier.line} and ${m.at.line}; give it settings in one place and list it by name elsewhere`,
      })
    }
  }
  return problems
}
