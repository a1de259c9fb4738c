// tree(path): everything under a directory, bounded: relative names, types, modes, owners,
// sizes, mtimes, link targets and (up to a size) SHA-256 of files, in one fact. Something
// explicit for "nothing else under /etc changed" against a snapshot, or for comparing the
// trees two deploy methods leave. Walks with sh globs (no GNU find), never follows symlinks.
import { readFact } from '../../dsl/context.ts'
import { FactError } from '../../errors.ts'
import { defineFact, type FactRequest } from '../../probe/fact.ts'
import { snippet } from '../../probe/snippet.ts'
import { parseStatFields, type FileType } from '../system/file.ts'

export interface TreeOptions {
  /** Entries read at most; more makes the fact an error rather than a silently partial tree. Default 2000. */
  maxEntries?: number
  /** Directory levels below the root. Default 10. */
  maxDepth?: number
  /** Files up to this size get a sha256. Default 1 MiB; 0 for none. */
  hashUpTo?: number
}

export interface TreeEntry {
  /** Relative to the tree's root, `/`-separated. */
  path: string
  type: FileType
  /** Four octal digits. */
  mode: string
  uid: number
  gid: number
  owner: string
  group: string
  size: number
  /** ISO 8601, to the second. */
  mtime: string
  linkTarget?: string
  /** Regular files up to hashUpTo. */
  sha256?: string
}

export interface TreeFacts {
  path: string
  exists: boolean
  /** Sorted by path. */
  entries: TreeEntry[]
  /** Directories the verifying user could not list (their content is unknown). */
  unreadable: string[]
}

export const TREE_DEFAULTS = { maxEntries: 2000, maxDepth: 10, hashUpTo: 1024 * 1024 }

const TREE_SCRIPT = snippet(import.meta.url, 'tree.sh')

/** `tree:/etc/nginx`, with the limits appended only when they are not the defaults. */
export function treeKey(path: string, options: TreeOptions = {}): string {
  const o = { ...TREE_DEFAULTS, ...options }
  const limits =
    o.maxEntries === TREE_DEFAULTS.maxEntries && o.maxDepth === TREE_DEFAULTS.maxDepth && o.hashUpTo === TREE_DEFAULTS.hashUpTo
      ? ''
      : `\u0000${o.maxEntries}\u0000${o.maxDepth}\u0000${o.hashUpTo}`
  return `tree:${treeRoot(path)}${limits}`
}

function treeRoot(path: string): string {
  return path.length > 1 ? path.replace(/\/+$/, '') : path
}

export function treeFact(path: string, options: TreeOptions = {}): FactRequest<TreeFacts> {
  const o = { ...TREE_DEFAULTS, ...options }
  const root = treeRoot(path)
  return defineFact({
    key: treeKey(path, options),
    describe: `tree ${root}`,
    script: TREE_SCRIPT,
    args: [root, String(o.maxEntries), String(o.maxDepth), String(o.hashUpTo)],
    // a few hundred bytes per entry
    maxBytes: Math.max(1024 * 1024, o.maxEntries * 1024),
    cut: 'output exceeded the cap',
    parse: raw => parseTreeOutput(root, raw.stdout.toString('utf8'), o.maxEntries),
  })
}

export function parseTreeOutput(root: string, out: string, maxEntries: number): TreeFacts {
  const fields = out.split('\0')
  if (fields[0] === 'missing') return { path: root, exists: false, entries: [], unreadable: [] }
  if (fields[0] !== 'ok') throw new Error(`unexpected tree output: ${JSON.stringify(out.slice(0, 120))}`)
  const entries: TreeEntry[] = []
  const unreadable: string[] = []
  for (let i = 1; i < fields.length;) {
    const kind = fields[i]
    if (kind === 'E') {
      const [rel = '', stat = '', target = '', hash = ''] = fields.slice(i + 1, i + 5)
      entries.push(toEntry(rel, stat, target, hash))
      i += 5
    } else if (kind === 'D') {
      unreadable.push(fields[i + 1] === root ? '.' : (fields[i + 1] ?? ''))
      i += 2
    } else if (kind === 'L') {
      throw new FactError(`tree ${root}: more than ${maxEntries} entries; narrow the path or raise tree(path, { maxEntries })`)
    } else if (kind === '') {
      i++
    } else throw new Error(`unexpected tree record ${JSON.stringify(kind)}`)
  }
  entries.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0))
  return { path: root, exists: true, entries, unreadable: unreadable.sort() }
}

function toEntry(rel: string, stat: string, target: string, hash: string): TreeEntry {
  const { type, mode, uid, gid, owner, group, size, mtime } = parseStatFields(stat)
  return {
    path: rel,
    type,
    mode,
    uid,
    gid,
    owner,
    group,
    size,
    mtime: mtime.toISOString(),
    ...(type === 'symlink' ? { linkTarget: target } : {}),
    ...(/^[0-9a-f]{64}$/.test(hash) ? { sha256: hash } : {}),
  }
}

export function tree(path: string, options?: TreeOptions): Promise<TreeFacts> {
  return readFact(treeFact(path, options))
}

export interface TreeChange {
  path: string
  /** Field → [before, after]. */
  fields: Record<string, [unknown, unknown]>
}

export interface TreeDiff {
  added: string[]
  removed: string[]
  changed: TreeChange[]
  /** No entry added, removed or changed. */
  same: boolean
}

const COMPARED: Array<keyof TreeEntry> = ['type', 'mode', 'uid', 'gid', 'owner', 'group', 'size', 'mtime', 'linkTarget', 'sha256']

/** What changed between two trees (e.g. a snapshot's and now), field by field; `ignore` leaves fields out (e.g. ['mtime']). */
export function diffTrees(
  before: Pick<TreeFacts, 'entries'> | undefined,
  after: Pick<TreeFacts, 'entries'>,
  ignore: ReadonlyArray<keyof TreeEntry> = [],
): TreeDiff {
  const was = new Map((before?.entries ?? []).map(e => [e.path, e]))
  const now = new Map(after.entries.map(e => [e.path, e]))
  const added = [...now.keys()].filter(p => !was.has(p))
  const removed = [...was.keys()].filter(p => !now.has(p))
  const changed: TreeChange[] = []
  for (const [p, entry] of now) {
    const old = was.get(p)
    if (!old) continue
    const fields: Record<string, [unknown, unknown]> = {}
    for (const field of COMPARED) if (!ignore.includes(field) && old[field] !== entry[field]) fields[field] = [old[field], entry[field]]
    if (Object.keys(fields).length > 0) changed.push({ path: p, fields })
  }
  return { added, removed, changed, same: added.length === 0 && removed.length === 0 && changed.length === 0 }
}
