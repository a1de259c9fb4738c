// mount(path): whether something is mounted at a path, and which mount holds it.
// Serverspec's be_mounted and Testinfra's mount_point() mean "the path itself is a mount
// point"; df and `findmnt -T` mean "the mount the path lives on". Both are here, named apart.
import path from 'node:path'
import { readFact } from '../../dsl/context.ts'
import { defineFact, type FactRequest } from '../../probe/fact.ts'
import { snippet } from '../../probe/snippet.ts'

export interface MountEntry {
  mountPoint: string
  /** The device or pseudo source: `/dev/vda1`, `tmpfs`, `server:/export`. */
  source: string
  /** The filesystem type: `ext4`, `tmpfs`, `nfs4`. */
  filesystem: string
  /** Per-mount then superblock options, deduplicated, as /proc/mounts and findmnt show them. */
  options: string[]
  /** Options of this mount only (`rw`, `noexec`, `relatime`). */
  mountOptions: string[]
  /** Options of the filesystem (`size=1024k`, `errors=remount-ro`); empty when read from /proc/mounts. */
  superOptions: string[]
  /** Directory of the source filesystem mounted here (not `/` for bind mounts); from mountinfo only. */
  root?: string
}

export interface MountFacts {
  /** The path as asked. */
  path: string
  /** The path with every symlink followed, when it exists; mount points are compared against this. */
  resolvedPath?: string
  /** Something is mounted at exactly this path (Serverspec `be_mounted`, Testinfra `mount_point().exists`). */
  mounted: boolean
  /** The same as `mounted`, named as findmnt and mountpoint(1) say it. */
  isMountPoint: boolean
  /** The mount at this path: set only when `mounted`. */
  mountPoint?: string
  source?: string
  filesystem?: string
  options?: string[]
  mountOptions?: string[]
  superOptions?: string[]
  /** The mount the path lives on: the longest mount point containing it (like `df` or `findmnt -T`). */
  containing?: MountEntry
}

const TABLE_SCRIPT = snippet(import.meta.url, 'mount-table.sh')

const RESOLVE_SCRIPT = snippet(import.meta.url, 'mount-resolve.sh')

export function mountTableFact(): FactRequest<MountEntry[]> {
  return defineFact({
    key: 'mount.table',
    describe: 'read the mount table',
    script: TABLE_SCRIPT,
    parse: raw => parseMountTable(raw.stdout.toString('utf8')),
  })
}

function resolveFact(p: string): FactRequest<string | undefined> {
  return defineFact({
    key: `mount.resolve:${p}`,
    describe: `resolve ${p}`,
    script: RESOLVE_SCRIPT,
    args: [p],
    parse: raw => {
      const out = raw.stdout.toString('utf8')
      if (!out.startsWith('ok\0')) return undefined
      return out.slice(3).replace(/\n$/, '') || undefined
    },
  })
}

/** The first line names the source file; the rest is its content. */
export function parseMountTable(out: string): MountEntry[] {
  const newline = out.indexOf('\n')
  const source = out.slice(0, newline)
  const body = out.slice(newline + 1)
  if (source === '/proc/self/mountinfo') return parseMountinfo(body)
  if (source === '/proc/mounts') return parseProcMounts(body)
  throw new Error(`unexpected mount table output: ${JSON.stringify(out.slice(0, 80))}`)
}

/** `36 35 98:0 /mnt1 /mnt2 rw,noatime master:1 - ext3 /dev/root rw,errors=continue` (proc(5)). */
export function parseMountinfo(text: string): MountEntry[] {
  const entries: MountEntry[] = []
  for (const line of text.split('\n')) {
    if (line.trim() === '') continue
    const fields = line.split(' ')
    const dash = fields.indexOf('-', 6)
    if (dash < 0 || fields.length < dash + 3) throw new Error(`unexpected mountinfo line: ${JSON.stringify(line)}`)
    const mountOptions = splitOptions(fields[5]!)
    const superOptions = splitOptions(fields[dash + 3] ?? '')
    entries.push({
      mountPoint: unescapeOctal(fields[4]!),
      source: unescapeOctal(fields[dash + 2]!),
      filesystem: unescapeOctal(fields[dash + 1]!),
      options: mergeOptions(mountOptions, superOptions),
      mountOptions,
      superOptions,
      root: unescapeOctal(fields[3]!),
    })
  }
  return entries
}

/** `tmpfs /dev/shm tmpfs rw,relatime,size=1024k 0 0` (fstab(5) layout). */
export function parseProcMounts(text: string): MountEntry[] {
  const entries: MountEntry[] = []
  for (const line of text.split('\n')) {
    if (line.trim() === '') continue
    const fields = line.split(' ')
    if (fields.length < 4) throw new Error(`unexpected /proc/mounts line: ${JSON.stringify(line)}`)
    const options = splitOptions(fields[3]!)
    entries.push({
      mountPoint: unescapeOctal(fields[1]!),
      source: unescapeOctal(fields[0]!),
      filesystem: unescapeOctal(fields[2]!),
      options,
      mountOptions: options,
      superOptions: [],
    })
  }
  return entries
}

/** The kernel writes space, tab, newline and backslash in mount fields as \040, \011, \012, \134. */
export function unescapeOctal(field: string): string {
  return field.replace(/\\([0-7]{3})/g, (_, oct: string) => String.fromCharCode(Number.parseInt(oct, 8)))
}

function splitOptions(field: string): string[] {
  return field === '' ? [] : unescapeOctal(field).split(',')
}

/** rw/ro comes from the mount; the superblock repeats it, so keep each option once. */
function mergeOptions(mountOptions: string[], superOptions: string[]): string[] {
  const seen = new Set(mountOptions)
  const extra = superOptions.filter(o => o !== 'rw' && o !== 'ro' && !seen.has(o))
  return [...mountOptions, ...extra]
}

/** Later entries mount over earlier ones at the same point, so the last match is the visible one. */
export function mountAt(table: readonly MountEntry[], mountPoint: string): MountEntry | undefined {
  return table.findLast(e => e.mountPoint === mountPoint)
}

export function containingMount(table: readonly MountEntry[], absolutePath: string): MountEntry | undefined {
  let best: MountEntry | undefined
  for (const entry of table) {
    const m = entry.mountPoint
    const inside = m === '/' || absolutePath === m || absolutePath.startsWith(`${m}/`)
    if (inside && (!best || m.length >= best.mountPoint.length)) best = entry
  }
  return best
}

export function describeMount(p: string, resolvedPath: string | undefined, table: readonly MountEntry[]): MountFacts {
  // a path that does not resolve is compared as written, made absolute and tidied
  const target = resolvedPath ?? path.posix.resolve('/', p)
  const at = resolvedPath === undefined ? undefined : mountAt(table, target)
  return {
    path: p,
    resolvedPath,
    mounted: at !== undefined,
    isMountPoint: at !== undefined,
    mountPoint: at?.mountPoint,
    source: at?.source,
    filesystem: at?.filesystem,
    options: at?.options,
    mountOptions: at?.mountOptions,
    superOptions: at?.superOptions,
    containing: containingMount(table, target),
  }
}

export class MountRef implements PromiseLike<MountFacts> {
  constructor(readonly path: string) {}

  then<A = MountFacts, B = never>(
    onFulfilled?: ((value: MountFacts) => A | PromiseLike<A>) | null,
    onRejected?: ((reason: unknown) => B | PromiseLike<B>) | null,
  ): Promise<A | B> {
    return Promise.all([readFact(resolveFact(this.path)), readFact(mountTableFact())])
      .then(([resolved, table]) => describeMount(this.path, resolved, table))
      .then(onFulfilled, onRejected)
  }

  /** Every mount on the host, in mount order (the whole table, for checks across mounts). */
  get table(): Promise<MountEntry[]> {
    return readFact(mountTableFact())
  }
}

export function mount(p: string): MountRef {
  if (typeof p !== 'string' || p === '') throw new TypeError(`mount: expected a path, got ${JSON.stringify(p)}`)
  return new MountRef(p)
}
