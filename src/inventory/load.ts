// Loads hosts.yaml (format: schema.ts) into resolved HostSpecs. Every problem names its
// file:line:col and all of them are reported at once, so a broken inventory is fixed in one pass.
import { readFile } from 'node:fs/promises'
import { isAbsolute, relative } from 'node:path'
import { isAlias, isMap, isNode, isScalar, isSeq, LineCounter, parseDocument, type Document, type Node } from 'yaml'
import type { z } from 'zod'
import { InventoryError } from '../errors.ts'
import type { HostSpec } from '../model.ts'
import { sshSettings } from './ssh-settings.ts'
import { InventoryFileSchema, type BecomeSetting, type ConnectionSettings, type HostSettings, type InventoryFile } from './schema.ts'

/** Names hosts.yaml may not define: `local` is the built-in local target of `--hosts`. */
export const RESERVED_NAMES: readonly string[] = ['local']

export interface Inventory {
  /** The file as shown in messages: relative to the working directory when inside it. */
  file: string
  /** `defaults:` with `~` expanded; ad-hoc targets connect with these too. */
  defaults: ConnectionSettings
  /** Top-level `vars:`. */
  vars: Record<string, unknown>
  /** Every host, in the order it is first named in the file. */
  hosts: Map<string, HostSpec>
  /** Group name -> its hosts, including those of the groups it contains, in host order. */
  groups: Map<string, string[]>
  /** Group name -> where it is defined: `hosts.yaml:LINE`. */
  groupSources: Map<string, string>
  /** Things worth telling the user that do not stop the run (a host listed but defined nowhere). */
  warnings: string[]
}

type DataPath = ReadonlyArray<string | number>

interface Position {
  line: number
  col: number
}

interface Problem extends Position {
  message: string
}

/** One place a host is named: with settings (defined), `name:` alone (declared), or in a list. */
interface Mention {
  host: string
  kind: 'defined' | 'declared' | 'listed'
  settings?: HostSettings
  group?: string
  pos: Position
}

interface GroupEntry {
  name: string
  order: number
  pos: Position
  hosts: string[]
  children: Array<{ name: string; pos: Position }>
  vars: Record<string, unknown>
  become?: BecomeSetting
}

/** Maps a path in the parsed data back to a position in the YAML source. */
class SourceMap {
  constructor(
    readonly file: string,
    private readonly doc: Document,
    private readonly lines: LineCounter,
  ) {}

  /** Position of the value at `path` (or of its key), else of the nearest ancestor that exists. */
  at(path: DataPath, options: { key?: boolean } = {}): Position {
    const node = findNode(this.doc, path, options.key ?? false)
    return this.positionOf(node?.range?.[0] ?? 0)
  }

  positionOf(offset: number): Position {
    return this.lines.linePos(offset)
  }

  label(pos: Position): string {
    return `${this.file}:${pos.line}`
  }
}

/** Reads and resolves an inventory; throws InventoryError listing every problem found. */
export async function loadInventory(path: string): Promise<Inventory> {
  const file = displayPath(path)
  const text = await readInventoryText(path, file)
  const { doc, src } = parseYaml(text, file)
  const data = validateSchema(doc, src)
  const groups = collectGroups(data, src)
  const mentions = collectMentions(data, src)
  throwIfProblems(src, checkStructure(groups, mentions))
  return resolveInventory(data, groups, mentions, src)
}

/** Like loadInventory, but a file that does not exist is no inventory rather than an error. */
export async function loadInventoryIfExists(path: string): Promise<Inventory | undefined> {
  try {
    return await loadInventory(path)
  } catch (err) {
    if (err instanceof InventoryError && (err.cause as NodeJS.ErrnoException | undefined)?.code === 'ENOENT') return undefined
    throw err
  }
}

function displayPath(path: string): string {
  const rel = relative(process.cwd(), path)
  return rel !== '' && !rel.startsWith('..') && !isAbsolute(rel) ? rel : path
}

async function readInventoryText(path: string, file: string): Promise<string> {
  try {
    return await readFile(path, 'utf8')
  } catch (err) {
    throw new InventoryError(`cannot read ${file}: ${(err as Error).message}`, { cause: err })
  }
}

function parseYaml(text: string, file: string): { doc: Document; src: SourceMap } {
  const lines = new LineCounter()
  const doc = parseDocument(text, { lineCounter: lines, prettyErrors: false })
  const src = new SourceMap(file, doc, lines)
  const problems = doc.errors.map((err) => ({
    ...src.positionOf(skipBlanks(text, err.pos[0])),
    message: `YAML syntax error: ${err.message.split('\n')[0]}`,
  }))
  throwIfProblems(src, problems)
  return { doc, src }
}

/** yaml places some errors on the line break before the token; point at the token (or the last one). */
function skipBlanks(text: string, offset: number): number {
  const next = text.slice(offset).search(/\S/)
  if (next >= 0) return offset + next
  return Math.max(0, text.trimEnd().length - 1)
}

function validateSchema(doc: Document, src: SourceMap): InventoryFile {
  const raw = convertToJs(doc, src)
  const result = InventoryFileSchema.safeParse(raw)
  if (!result.success) failWith(src, describeIssues(result.error.issues, raw, [], src))
  return result.data
}

function convertToJs(doc: Document, src: SourceMap): unknown {
  try {
    // An empty file is an empty inventory, not a type error.
    return doc.toJS() ?? {}
  } catch (err) {
    // toJS throws on alias bombs (too many alias expansions).
    return failWith(src, [{ line: 1, col: 1, message: `cannot read YAML: ${(err as Error).message}` }])
  }
}

function throwIfProblems(src: SourceMap, problems: Problem[]): void {
  if (problems.length > 0) failWith(src, problems)
}

function failWith(src: SourceMap, problems: Problem[]): never {
  const sorted = [...problems].sort((a, b) => a.line - b.line || a.col - b.col)
  throw new InventoryError(sorted.map((p) => `${src.file}:${p.line}:${p.col}: ${p.message}`).join('\n'))
}

// ---------------------------------------------------------------- schema issues -> source lines

function describeIssues(issues: readonly z.core.$ZodIssue[], data: unknown, base: DataPath, src: SourceMap): Problem[] {
  return issues.flatMap((issue) => describeIssue(issue, data, [...base, ...(issue.path as Array<string | number>)], src))
}

function describeIssue(issue: z.core.$ZodIssue, data: unknown, path: DataPath, src: SourceMap): Problem[] {
  if (issue.code === 'invalid_union') return describeUnionIssue(issue, data, path, src)
  if (issue.code === 'unrecognized_keys') {
    return issue.keys.map((key) => ({
      ...src.at([...path, key], { key: true }),
      message: `${prefixFor(path)}unknown key "${key}" (${issue.message})`,
    }))
  }
  if (issue.code === 'invalid_key') {
    const name = String(path[path.length - 1])
    const reason = issue.issues[0]?.message ?? issue.message
    return [{ ...src.at(path, { key: true }), message: `${prefixFor(path.slice(0, -1))}invalid name "${name}": ${reason}` }]
  }
  return [{ ...src.at(path), message: `${prefixFor(path)}${issue.message}${describeActual(issue, valueAt(data, path))}` }]
}

/** A union (group `hosts:`) fails in each branch; report the branch whose type matched, if one did. */
function describeUnionIssue(issue: z.core.$ZodIssueInvalidUnion, data: unknown, path: DataPath, src: SourceMap): Problem[] {
  const matched = issue.errors.filter((branch) => !isTypeMismatch(branch))
  if (matched.length === 1) return describeIssues(matched[0]!, data, path, src)
  return [{ ...src.at(path), message: `${prefixFor(path)}${issue.message}${describeActual(issue, valueAt(data, path))}` }]
}

function isTypeMismatch(branch: readonly z.core.$ZodIssue[]): boolean {
  return branch.length === 1 && branch[0]!.code === 'invalid_type' && branch[0]!.path.length === 0
}

function prefixFor(path: DataPath): string {
  if (path.length === 0) return ''
  return path.map((seg, i) => (typeof seg === 'number' ? `[${seg}]` : i === 0 ? seg : `.${seg}`)).join('') + ': '
}

function describeActual(issue: z.core.$ZodIssue, value: unknown): string {
  const showsValue = ['invalid_type', 'invalid_union', 'too_small', 'too_big', 'invalid_format'].includes(issue.code)
  if (!showsValue || value === undefined) return ''
  const text = JSON.stringify(value) ?? String(value)
  return `, got ${text.length > 40 ? `${text.slice(0, 37)}...` : text}`
}

function valueAt(data: unknown, path: DataPath): unknown {
  let value = data
  for (const seg of path) {
    if (value === null || typeof value !== 'object') return undefined
    value = (value as Record<string | number, unknown>)[seg]
  }
  return value
}

/** The YAML node at `path`, or the nearest ancestor that exists (aliases are followed). */
function findNode(doc: Document, path: DataPath, wantKey: boolean): Node | undefined {
  let node: unknown = doc.contents
  let found = isNode(node) ? node : undefined
  for (const [i, seg] of path.entries()) {
    if (isAlias(node)) node = node.resolve(doc)
    if (isMap(node)) {
      const pair = node.items.find((p) => isScalar(p.key) && String(p.key.value) === String(seg))
      if (!pair) return found
      const key = isNode(pair.key) ? pair.key : undefined
      if (i === path.length - 1 && wantKey) return key ?? found
      // `name:` with nothing after it has an empty value node; its key is the better place to point at.
      node = isEmptyScalar(pair.value) ? key : pair.value
    } else if (isSeq(node) && typeof seg === 'number') {
      node = node.items[seg]
    } else {
      return found
    }
    if (!isNode(node)) return found
    found = node
  }
  return found
}

function isEmptyScalar(node: unknown): boolean {
  return node === null || (isScalar(node) && node.value === null && node.range?.[0] === node.range?.[1])
}

// ---------------------------------------------------------------- structure

function collectGroups(data: InventoryFile, src: SourceMap): GroupEntry[] {
  return Object.entries(data.groups ?? {}).map(([name, group], order) => ({
    name,
    order,
    pos: src.at(['groups', name], { key: true }),
    hosts: Array.isArray(group?.hosts) ? [...group.hosts] : Object.keys(group?.hosts ?? {}),
    children: (group?.groups ?? []).map((child, i) => ({ name: child, pos: src.at(['groups', name, 'groups', i]) })),
    vars: group?.vars ?? {},
    ...(group?.become !== undefined ? { become: group.become } : {}),
  }))
}

function collectMentions(data: InventoryFile, src: SourceMap): Mention[] {
  const mentions: Mention[] = Object.entries(data.hosts ?? {}).map(([host, settings]) =>
    mentionWithSettings(host, settings, undefined, src.at(['hosts', host], { key: true })),
  )
  for (const [group, settings] of Object.entries(data.groups ?? {})) {
    const hosts = settings?.hosts
    if (Array.isArray(hosts)) {
      hosts.forEach((host, i) => mentions.push({ host, kind: 'listed', group, pos: src.at(['groups', group, 'hosts', i]) }))
    } else {
      for (const [host, hostSettings] of Object.entries(hosts ?? {})) {
        mentions.push(mentionWithSettings(host, hostSettings, group, src.at(['groups', group, 'hosts', host], { key: true })))
      }
    }
  }
  return mentions.sort((a, b) => comparePositions(a.pos, b.pos))
}

function mentionWithSettings(host: string, settings: HostSettings | null, group: string | undefined, pos: Position): Mention {
  return settings ? { host, kind: 'defined', settings, group, pos } : { host, kind: 'declared', group, pos }
}

function comparePositions(a: Position, b: Position): number {
  return a.line - b.line || a.col - b.col
}

function checkStructure(groups: GroupEntry[], mentions: Mention[]): Problem[] {
  return [
    ...findReservedNames(groups, mentions),
    ...findDuplicateDefinitions(mentions),
    ...findUnknownGroups(groups, mentions),
    ...findGroupCycles(groups),
  ]
}

function findReservedNames(groups: GroupEntry[], mentions: Mention[]): Problem[] {
  const reserved = (name: string, what: string) => `"${name}" is reserved for the built-in local target (--hosts ${name}); rename this ${what}`
  return [
    ...groups.filter((g) => RESERVED_NAMES.includes(g.name)).map((g) => ({ ...g.pos, message: reserved(g.name, 'group') })),
    ...mentions.filter((m) => RESERVED_NAMES.includes(m.host)).map((m) => ({ ...m.pos, message: reserved(m.host, 'host') })),
  ]
}

function findDuplicateDefinitions(mentions: Mention[]): Problem[] {
  const first = new Map<string, Mention>()
  const problems: Problem[] = []
  for (const m of mentions.filter((m) => m.kind === 'defined')) {
    const earlier = first.get(m.host)
    if (!earlier) first.set(m.host, m)
    else {
      problems.push({
        ...m.pos,
        message: `host "${m.host}" is defined twice, at lines ${earlier.pos.line} and ${m.pos.line}; give it settings in one place and list it by name elsewhere`,
      })
    }
  }
  return problems
}

function findUnknownGroups(groups: GroupEntry[], mentions: Mention[]): Problem[] {
  const known = new Set(groups.map((g) => g.name))
  const hosts = new Set(mentions.map((m) => m.host))
  const knownList = groups.map((g) => g.name).join(', ') || 'none'
  return groups.flatMap((g) =>
    g.children
      .filter((child) => !known.has(child.name))
      .map((child) => ({
        ...child.pos,
        message: hosts.has(child.name)
          ? `group "${g.name}" includes "${child.name}" under groups:, but "${child.name}" is a host; list it under hosts:`
          : `group "${g.name}" includes unknown group "${child.name}" (known groups: ${knownList})`,
      })),
  )
}

/** Depth-first search; each back edge closes one cycle, reported where the closing reference is. */
function findGroupCycles(groups: GroupEntry[]): Problem[] {
  const byName = new Map(groups.map((g) => [g.name, g]))
  const state = new Map<string, 'visiting' | 'done'>()
  const stack: string[] = []
  const problems: Problem[] = []
  const visit = (group: GroupEntry): void => {
    state.set(group.name, 'visiting')
    stack.push(group.name)
    for (const child of group.children) {
      const childGroup = byName.get(child.name)
      if (!childGroup) continue
      if (state.get(child.name) === 'visiting') {
        const cycle = [...stack.slice(stack.indexOf(child.name)), child.name]
        problems.push({ ...child.pos, message: `group cycle: ${cycle.join(' -> ')}` })
      } else if (!state.has(child.name)) {
        visit(childGroup)
      }
    }
    stack.pop()
    state.set(group.name, 'done')
  }
  for (const group of groups) if (!state.has(group.name)) visit(group)
  return problems
}

// ---------------------------------------------------------------- resolution

function resolveInventory(data: InventoryFile, groups: GroupEntry[], mentions: Mention[], src: SourceMap): Inventory {
  const defaults = data.defaults ?? {}
  const vars = data.vars ?? {}
  const hostOrder = orderHosts(mentions)
  const members = resolveGroupMembers(groups, hostOrder)
  const depths = measureGroupDepths(groups)
  const hosts = new Map<string, HostSpec>()
  for (const name of hostOrder.keys()) {
    const own = mentions.filter((m) => m.host === name)
    const definition = own.find((m) => m.kind === 'defined') ?? own[0]!
    const hostGroups = orderGroupsForMerge(groups.filter((g) => members.get(g.name)!.includes(name)), depths)
    hosts.set(name, buildHostSpec(name, definition, hostGroups, defaults, vars, src))
  }
  return {
    file: src.file,
    defaults,
    vars,
    hosts,
    groups: members,
    groupSources: new Map(groups.map((g) => [g.name, src.label(g.pos)])),
    warnings: noteUndefinedHosts(mentions, src),
  }
}

/** Host name -> rank, by where the host is first named. */
function orderHosts(mentions: Mention[]): Map<string, number> {
  const order = new Map<string, number>()
  for (const m of mentions) if (!order.has(m.host)) order.set(m.host, order.size)
  return order
}

function resolveGroupMembers(groups: GroupEntry[], hostOrder: Map<string, number>): Map<string, string[]> {
  const byName = new Map(groups.map((g) => [g.name, g]))
  const memo = new Map<string, string[]>()
  const membersOf = (group: GroupEntry): string[] => {
    const cached = memo.get(group.name)
    if (cached) return cached
    const all = new Set([...group.hosts, ...group.children.flatMap((c) => membersOf(byName.get(c.name)!))])
    const sorted = [...all].sort((a, b) => hostOrder.get(a)! - hostOrder.get(b)!)
    memo.set(group.name, sorted)
    return sorted
  }
  return new Map(groups.map((g) => [g.name, membersOf(g)]))
}

/**
 * Merge order of a host's groups: by nesting depth, then file order (later entries win the merge).
 * Depth, not "parents first, else file order", because those two rules can contradict each other
 * (`staging` contains `web`, `edge` is unrelated and later than `web`, earlier than `staging`).
 */
function orderGroupsForMerge(hostGroups: GroupEntry[], depths: Map<string, number>): GroupEntry[] {
  return [...hostGroups].sort((a, b) => depths.get(a.name)! - depths.get(b.name)! || a.order - b.order)
}

/** 0 for a group no other group contains, else 1 + the depth of its deepest container. */
function measureGroupDepths(groups: GroupEntry[]): Map<string, number> {
  const parents = new Map<string, GroupEntry[]>(groups.map((g) => [g.name, []]))
  for (const g of groups) for (const c of g.children) parents.get(c.name)?.push(g)
  const depths = new Map<string, number>()
  const depthOf = (g: GroupEntry): number => {
    const known = depths.get(g.name)
    if (known !== undefined) return known
    const depth = Math.max(-1, ...parents.get(g.name)!.map(depthOf)) + 1
    depths.set(g.name, depth)
    return depth
  }
  for (const g of groups) depthOf(g)
  return depths
}

function buildHostSpec(
  name: string,
  definition: Mention,
  groups: GroupEntry[],
  defaults: ConnectionSettings,
  vars: Record<string, unknown>,
  src: SourceMap,
): HostSpec {
  const own = definition.settings ?? {}
  const ownBase: DataPath = definition.group ? ['groups', definition.group, 'hosts', name, 'vars'] : ['hosts', name, 'vars']
  const layers: VarLayer[] = [
    { vars, base: ['vars'] },
    ...groups.map((g) => ({ vars: g.vars, base: ['groups', g.name, 'vars'] })),
    { vars: own.vars ?? {}, base: ownBase },
  ]
  const merged = mergeVars(...layers.map((l) => l.vars))
  return {
    name,
    address: own.address ?? name,
    port: own.port ?? defaults.port ?? 22,
    user: own.user ?? defaults.user,
    identityFile: own.identityFile ?? defaults.identityFile,
    knownHosts: own.knownHosts ?? defaults.knownHosts,
    transport: 'ssh',
    groups: groups.map((g) => g.name),
    vars: merged,
    source: src.label(definition.pos),
    ...withVarSources(traceVarSources(merged, layers, src)),
    ...sshSettings(own, defaults, groups.map((g) => g.become)),
  }
}

export function withVarSources(varSources: Record<string, string>): { varSources?: Record<string, string> } {
  return Object.keys(varSources).length > 0 ? { varSources } : {}
}

interface VarLayer {
  vars: Record<string, unknown>
  /** Where the layer's map is in the file. */
  base: DataPath
}

/** `hosts.yaml:LINE` of the layer that set each merged var (every dotted path, maps included): the last one that has it. */
function traceVarSources(merged: Record<string, unknown>, layers: VarLayer[], src: SourceMap): Record<string, string> {
  const sources: Record<string, string> = {}
  const visit = (value: Record<string, unknown>, path: string[]): void => {
    for (const [key, inner] of Object.entries(value)) {
      const at = [...path, key]
      const layer = [...layers].reverse().find((l) => hasPath(l.vars, at))
      if (layer) setOwn(sources, at.join('.'), src.label(src.at([...layer.base, ...at], { key: true })))
      if (isPlainObject(inner)) visit(inner, at)
    }
  }
  visit(merged, [])
  return sources
}

function hasPath(vars: Record<string, unknown>, path: string[]): boolean {
  let value: unknown = vars
  for (const seg of path) {
    if (!isPlainObject(value) || !Object.hasOwn(value, seg)) return false
    value = value[seg]
  }
  return true
}

function noteUndefinedHosts(mentions: Mention[], src: SourceMap): string[] {
  const named = new Set(mentions.filter((m) => m.kind !== 'listed').map((m) => m.host))
  const noted = new Set<string>()
  const notes: string[] = []
  for (const m of mentions) {
    if (named.has(m.host) || noted.has(m.host)) continue
    noted.add(m.host)
    notes.push(`${src.file}:${m.pos.line}:${m.pos.col}: host "${m.host}" is listed in group "${m.group}" but defined nowhere; connecting to "${m.host}" as its address`)
  }
  return notes
}

// ---------------------------------------------------------------- vars

/** Merges var layers, later wins; maps merge key by key, anything else is replaced. Never mutates a layer. */
export function mergeVars(...layers: Array<Record<string, unknown> | undefined>): Record<string, unknown> {
  const merged: Record<string, unknown> = {}
  for (const layer of layers) if (layer) mergeInto(merged, layer)
  return merged
}

function mergeInto(target: Record<string, unknown>, source: Record<string, unknown>): void {
  for (const [key, value] of Object.entries(source)) {
    const current = Object.hasOwn(target, key) ? target[key] : undefined
    if (isPlainObject(current) && isPlainObject(value)) mergeInto(current, value)
    else setOwn(target, key, copyValue(value))
  }
}

function copyValue(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(copyValue)
  if (!isPlainObject(value)) return value
  const copy: Record<string, unknown> = {}
  mergeInto(copy, value)
  return copy
}

export function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return false
  const proto = Object.getPrototypeOf(value)
  return proto === Object.prototype || proto === null
}

/** Defines an own property, so a key such as `__proto__` is data and never a prototype. */
export function setOwn(target: Record<string, unknown>, key: string, value: unknown): void {
  Object.defineProperty(target, key, { value, enumerable: true, writable: true, configurable: true })
}
