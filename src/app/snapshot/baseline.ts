// baseline(): the current host's facts from the snapshot given with `--baseline before.json`,
// so a spec can assert on change: "the current symlink changed", "nothing else under /etc
// changed", "every worker restarted". Reads no fact from the host: the snapshot is data.
import { currentHost } from '../../dsl/context.ts'
import { FactError } from '../../errors.ts'
import type { FileFacts } from '../../resources/system/file.ts'
import type { DirectoryFacts } from '../../resources/system/directory.ts'
import { deriveRelease, type RawRelease, type ReleaseFacts, type ReleaseOptions } from '../../resources/deploy/release.ts'
import { treeKey, type TreeFacts, type TreeOptions } from '../../resources/deploy/tree.ts'
import type { CommandResult } from '../../resources/system/command.ts'
import type { ProcessMatch } from '../../resources/system/process.ts'
import type { HostSnapshot, Snapshot, SnapshotProcess } from './snapshot.ts'

export interface Baseline {
  /** Runner clock, ISO. */
  takenAt: string
  /** The same instant by the host's clock, when the snapshot read it. */
  hostTakenAt?: string
  clockOffsetMs?: number
  /** Any recorded fact by key (`file:/etc/nginx/nginx.conf`); undefined when the specs did not read it then. */
  fact<T = unknown>(key: string): T | undefined
  file(path: string): FileFacts | undefined
  content(path: string): string | undefined
  directory(path: string): DirectoryFacts | undefined
  release(root: string, options?: ReleaseOptions): ReleaseFacts | undefined
  tree(path: string, options?: TreeOptions): TreeFacts | undefined
  command(cmd: string): CommandResult | undefined
  /** Processes running then, optionally only those matching (name, args, user; pid files are not kept). */
  processes(match?: string | Omit<ProcessMatch, 'pidFile'>): SnapshotProcess[]
}

interface BaselineState {
  file?: string
  snapshot?: Snapshot
}
// shared by every copy of this module (a spec package may bring its own copy of postdeploy-verify)
const STATE_KEY = Symbol.for('postdeploy-verify.baseline.v1')
const state = ((globalThis as Record<symbol, unknown>)[STATE_KEY] ??= {}) as BaselineState

export function installBaseline(snapshot: Snapshot | undefined, file?: string): void {
  state.snapshot = snapshot
  state.file = file
}

export function hasBaseline(): boolean {
  return state.snapshot !== undefined
}

/** The snapshot of the host this check runs on, when a baseline was given. */
export function baselineHost(hostName = currentHost().host.name): HostSnapshot | undefined {
  return state.snapshot?.hosts.find(h => h.name === hostName)
}

/** The current host's baseline; an error when there is none (no --baseline, or the host was not in it). */
export function baseline(): Baseline {
  const name = currentHost().host.name
  if (!state.snapshot)
    throw new FactError('baseline(): no snapshot given; run with --baseline before.json (written by verify snapshot -o before.json)')
  const host = baselineHost(name)
  if (!host)
    throw new FactError(
      `baseline(): host ${name} is not in ${state.file ?? 'the baseline snapshot'} (it has ${state.snapshot.hosts.map(h => h.name).join(', ') || 'no hosts'})`,
    )
  if (host.error) throw new FactError(`baseline(): ${name} could not be read when the snapshot was taken: ${host.error}`)
  return makeBaseline(host)
}

export function makeBaseline(host: HostSnapshot): Baseline {
  const fact = <T>(key: string): T | undefined => (Object.hasOwn(host.facts, key) ? (host.facts[key] as T) : undefined)
  return {
    takenAt: host.takenAt,
    hostTakenAt: host.hostTakenAt,
    clockOffsetMs: host.clockOffsetMs,
    fact,
    file: path => reviveFile(fact<FileFacts & { mtime?: string | Date }>(`file:${path}`)),
    content: path => fact<string>(`file.content:${path}`),
    directory: path => fact<DirectoryFacts>(`directory:${path}`),
    release: (root, options = {}) => {
      const raw = fact<RawRelease>(`release:${root}\u0000${options.revisionFile ?? ''}`)
      return raw ? deriveRelease(raw, options) : undefined
    },
    tree: (path, options = {}) => fact<TreeFacts>(treeKey(path, options)),
    command: cmd => fact<CommandResult>(`command:${cmd}`),
    processes: match => host.processes.filter(p => matches(p, match)),
  }
}

function reviveFile(f: (FileFacts & { mtime?: string | Date }) | undefined): FileFacts | undefined {
  if (!f) return undefined
  return { ...f, mtime: f.mtime === undefined ? undefined : new Date(f.mtime) }
}

function matches(p: SnapshotProcess, match: string | Omit<ProcessMatch, 'pidFile'> | undefined): boolean {
  if (match === undefined) return true
  const m = typeof match === 'string' ? { name: match } : match
  if (m.name !== undefined && p.name !== m.name && !(m.name.length > 15 && p.name === m.name.slice(0, 15))) return false
  if (m.user !== undefined && p.user !== m.user) return false
  if (m.args !== undefined) {
    if (typeof m.args === 'string' ? !p.args.includes(m.args) : !new RegExp(m.args.source, m.args.flags.replace(/[gy]/g, '')).test(p.args))
      return false
  }
  return true
}
