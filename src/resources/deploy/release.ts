// release(root): a Capistrano-style deploy, `root/releases/<VERSION>` and
// `root/current -> releases/<VERSION>`, read in ONE fact: where current points, every release
// with its type and (when named) its REVISION-style file, so a spec can check the version
// deployed, the releases kept and the rollback target without further round trips.
import { currentHost, readFact } from '../../dsl/context.ts'
import { ExpectationError, FactError } from '../../errors.ts'
import { defineFact, type FactRequest } from '../../probe/fact.ts'
import { snippet } from '../../probe/snippet.ts'

export interface ReleaseOptions {
  /** A file inside each release holding its revision (Capistrano writes `REVISION`); read and compared. */
  revisionFile?: string
  /**
   * The version that should be deployed. Default: the `expectVersion` var, which
   * `--expect-version V` sets on every host.
   */
  expectedVersion?: string
  /**
   * What the expected version is compared with: the release directory's name, or the revision
   * file's content. Default: `revision` when `revisionFile` is given, else `name`.
   */
  compare?: 'name' | 'revision'
  /** Order of `releases` (oldest first): `name` (natural: numbers compared as numbers, default) or `mtime`. */
  order?: 'name' | 'mtime'
}

/** Where `current` leads. */
export type CurrentState =
  | 'ok' // a symlink resolving to a release directly under releases/
  | 'missing' // no `current` at all
  | 'dangling' // a symlink to nothing
  | 'not-a-symlink' // a real directory or file: nothing to switch or roll back
  | 'outside-releases' // resolves somewhere that is not a release under releases/

export interface ReleaseFacts {
  root: string
  /** `root` itself exists (a missing root is a value, so `exists` can be asserted). */
  exists: boolean
  /** Release names (directories under releases/), oldest first in the chosen order. */
  releases: string[]
  /** How many releases are kept: `releases.length`. */
  kept: number
  /** Entries under releases/ that are not directories (a stray file, a dangling link). */
  strayEntries: string[]
  /** The release `current` resolves to, when it resolves to one. */
  current?: string
  currentState: CurrentState
  /** `current`'s link target exactly as stored. */
  currentTarget?: string
  /** `current` with every symlink followed. */
  currentResolved?: string
  /** `current` resolves to a release directly under releases/ (state `ok`). */
  currentInsideReleases: boolean
  revisionFile?: string
  /** The current release's revision file, trimmed; undefined without revisionFile or when it is missing. */
  revision?: string
  /** What was compared with `expectedVersion`: the current release's name or its revision. */
  deployedVersion?: string
  expectedVersion?: string
  /** undefined when no expected version was given (a spec must not pass on nothing). */
  atExpectedVersion?: boolean
  /** The release before current in `releases`: the rollback target. */
  previous?: string
  previousRevision?: string
  /** The rollback target is there, a readable non-empty directory, with its revision file when one is named. */
  previousIntact: boolean
  /** Why the rollback target is not intact. */
  previousProblem?: string
}

/** A raw entry under releases/, as the host reported it. */
export interface RawReleaseEntry {
  name: string
  type: 'directory' | 'symlink-to-directory' | 'other'
  mtime?: number
  resolved?: string
  /** Readable and searchable by the verifying user. */
  accessible: boolean
  empty: boolean
  revision: { state: 'none' | 'missing' | 'not-a-file' | 'unreadable' | 'too-large' } | { state: 'ok'; content: string }
}

export interface RawRelease {
  root: string
  exists: boolean
  current: { kind: 'symlink' | 'dangling' | 'other' | 'missing'; target?: string; resolved?: string }
  releasesDir: { kind: 'missing' | 'not-a-directory' } | { kind: 'directory'; resolved: string; entries: RawReleaseEntry[] }
}

/** Largest revision file read: a revision is a short id, not a document. */
export const MAX_REVISION_BYTES = 256

const RELEASE_SCRIPT = snippet(import.meta.url, 'release.sh')

export function releaseFact(root: string, revisionFile?: string): FactRequest<RawRelease> {
  return defineFact({
    key: `release:${root}\u0000${revisionFile ?? ''}`,
    describe: `release layout of ${root}`,
    script: RELEASE_SCRIPT,
    args: [root, revisionFile ?? '', String(MAX_REVISION_BYTES + 1)],
    cut: 'the listing exceeded the output cap (thousands of releases?)',
    parse: raw => parseReleaseOutput(root, raw.stdout.toString('utf8')),
  })
}

/** Parses the snippet's NUL-separated output (exported for unit tests on captured output). */
export function parseReleaseOutput(root: string, out: string): RawRelease {
  const fields = out.split('\0')
  let i = 0
  const next = (): string => {
    if (i >= fields.length) throw new Error(`release output ended early: ${JSON.stringify(out.slice(0, 200))}`)
    return fields[i++]!
  }
  const head = next()
  if (head === 'missing') return { root, exists: false, current: { kind: 'missing' }, releasesDir: { kind: 'missing' } }
  if (head === 'notdir') throw new ExpectationError(`${root} is not a directory`, 'a release root directory', 'not a directory')
  if (head !== 'ok') throw new Error(`unexpected release output: ${JSON.stringify(out.slice(0, 200))}`)
  const currentField = next()
  const marker = currentField[0]
  const kind = marker === 'L' ? 'symlink' : marker === 'G' ? 'dangling' : marker === 'E' ? 'other' : 'missing'
  const target = kind === 'symlink' || kind === 'dangling' ? stripNewline(currentField.slice(1)) : undefined
  const resolved = stripNewline(next()) || undefined
  const current: RawRelease['current'] = { kind, target, resolved: kind === 'symlink' || kind === 'other' ? resolved : undefined }
  const dirKind = next()
  if (dirKind === 'N') return { root, exists: true, current, releasesDir: { kind: 'missing' } }
  if (dirKind === 'F') return { root, exists: true, current, releasesDir: { kind: 'not-a-directory' } }
  if (dirKind !== 'D') throw new Error(`unexpected releases/ marker ${JSON.stringify(dirKind)}`)
  const dirResolved = stripNewline(next())
  const entries: RawReleaseEntry[] = []
  while (i < fields.length && fields[i] === 'R') {
    i++
    const name = next()
    const type = next()
    const accessible = next() === '1'
    const empty = next() === '1'
    const mtime = Number(next())
    const entryResolved = stripNewline(next()) || undefined
    entries.push({
      name,
      type: type === 'd' ? 'directory' : type === 'l' ? 'symlink-to-directory' : 'other',
      mtime: Number.isFinite(mtime) && mtime > 0 ? mtime : undefined,
      resolved: entryResolved,
      accessible,
      empty,
      revision: parseRevisionField(next()),
    })
  }
  return { root, exists: true, current, releasesDir: { kind: 'directory', resolved: dirResolved, entries } }
}

function parseRevisionField(field: string): RawReleaseEntry['revision'] {
  if (field.startsWith('ok:')) {
    const content = Buffer.from(field.slice(3), 'base64')
    if (content.length > MAX_REVISION_BYTES) return { state: 'too-large' }
    return { state: 'ok', content: content.toString('utf8') }
  }
  if (field === 'none' || field === 'missing' || field === 'not-a-file' || field === 'unreadable') return { state: field }
  throw new Error(`unexpected revision field ${JSON.stringify(field)}`)
}

/** Turns the raw layout into the facts a spec asserts on. */
export function deriveRelease(raw: RawRelease, options: ReleaseOptions & { revisionFile?: string } = {}): ReleaseFacts {
  const entries = raw.releasesDir.kind === 'directory' ? raw.releasesDir.entries : []
  const dirs = sortEntries(
    entries.filter(e => e.type !== 'other'),
    options.order ?? 'name',
  )
  const releases = dirs.map(e => e.name)
  const strayEntries = entries
    .filter(e => e.type === 'other')
    .map(e => e.name)
    .sort()
  const { state, entry } = locateCurrent(raw, dirs)
  const currentIndex = entry ? dirs.indexOf(entry) : -1
  const previousEntry = currentIndex > 0 ? dirs[currentIndex - 1] : undefined
  const revision = entry ? revisionOf(entry, raw.root, options.revisionFile) : undefined
  const compare = options.compare ?? (options.revisionFile ? 'revision' : 'name')
  const deployedVersion = compare === 'revision' ? revision : entry?.name
  const expectedVersion = options.expectedVersion === undefined || options.expectedVersion === '' ? undefined : options.expectedVersion
  const previousCheck = previousEntry
    ? checkPrevious(previousEntry, raw.root, options.revisionFile)
    : { intact: false, problem: previousMissingReason(state, currentIndex) }
  return {
    root: raw.root,
    exists: raw.exists,
    releases,
    kept: releases.length,
    strayEntries,
    current: entry?.name,
    currentState: state,
    currentTarget: raw.current.target,
    currentResolved: raw.current.resolved,
    currentInsideReleases: state === 'ok',
    revisionFile: options.revisionFile,
    revision,
    deployedVersion,
    expectedVersion,
    atExpectedVersion:
      expectedVersion === undefined ? undefined : deployedVersion !== undefined && versionsMatch(deployedVersion, expectedVersion, compare),
    previous: previousEntry?.name,
    previousRevision: previousEntry?.revision.state === 'ok' ? previousEntry.revision.content.trim() : undefined,
    previousIntact: previousCheck.intact,
    previousProblem: previousCheck.problem,
  }
}

function locateCurrent(raw: RawRelease, dirs: RawReleaseEntry[]): { state: CurrentState; entry?: RawReleaseEntry } {
  const { current } = raw
  if (current.kind === 'missing') return { state: 'missing' }
  if (current.kind === 'other') return { state: 'not-a-symlink' }
  if (current.kind === 'dangling' || !current.resolved) return { state: 'dangling' }
  // by resolved path, so a releases/ that is itself a symlink (or a relative target) still matches
  const entry = dirs.find(e => e.resolved !== undefined && e.resolved === current.resolved)
  return entry ? { state: 'ok', entry } : { state: 'outside-releases' }
}

function sortEntries(entries: RawReleaseEntry[], order: 'name' | 'mtime'): RawReleaseEntry[] {
  const byName = (a: RawReleaseEntry, b: RawReleaseEntry) =>
    a.name.localeCompare(b.name, 'en', { numeric: true }) || (a.name < b.name ? -1 : a.name > b.name ? 1 : 0)
  if (order === 'name') return [...entries].sort(byName)
  return [...entries].sort((a, b) => (a.mtime ?? 0) - (b.mtime ?? 0) || byName(a, b))
}

function revisionOf(entry: RawReleaseEntry, root: string, revisionFile: string | undefined): string | undefined {
  if (!revisionFile) return undefined
  const { revision } = entry
  if (revision.state === 'ok') return revision.content.trim()
  if (revision.state === 'unreadable')
    throw new FactError(`release layout of ${root}: ${entry.name}/${revisionFile} is not readable by the verifying user`)
  if (revision.state === 'too-large')
    throw new FactError(
      `release layout of ${root}: ${entry.name}/${revisionFile} is larger than ${MAX_REVISION_BYTES} bytes, not a revision file`,
    )
  return undefined
}

function checkPrevious(entry: RawReleaseEntry, root: string, revisionFile: string | undefined): { intact: boolean; problem?: string } {
  if (!entry.accessible) return { intact: false, problem: `releases/${entry.name} is not readable by the verifying user` }
  if (entry.empty) return { intact: false, problem: `releases/${entry.name} is empty` }
  if (revisionFile) {
    const state = entry.revision.state
    if (state === 'unreadable')
      throw new FactError(`release layout of ${root}: ${entry.name}/${revisionFile} is not readable by the verifying user`)
    if (state !== 'ok')
      return {
        intact: false,
        problem: `releases/${entry.name}/${revisionFile} is ${state === 'missing' ? 'missing' : state === 'too-large' ? 'too large for a revision file' : 'not a regular file'}`,
      }
    if (entry.revision.state === 'ok' && entry.revision.content.trim() === '')
      return { intact: false, problem: `releases/${entry.name}/${revisionFile} is empty` }
  }
  return { intact: true }
}

function previousMissingReason(state: CurrentState, currentIndex: number): string {
  if (state !== 'ok') return `current does not resolve to a release (${state}), so there is no rollback target to name`
  if (currentIndex === 0) return 'current is the oldest release kept: there is no previous release to roll back to'
  return 'no previous release'
}

/** Exact match; an abbreviated commit id (7+ hex digits) matches the full one in either direction. */
export function versionsMatch(deployed: string, expected: string, compare: 'name' | 'revision'): boolean {
  if (deployed === expected) return true
  if (compare !== 'revision') return false
  const hex = /^[0-9a-f]{7,64}$/i
  if (!hex.test(deployed) || !hex.test(expected)) return false
  const [short, long] = deployed.length <= expected.length ? [deployed, expected] : [expected, deployed]
  return long.toLowerCase().startsWith(short.toLowerCase())
}

/** The `expectVersion` var (set by `--expect-version`), as text. */
function expectedFromVars(): string | undefined {
  const value = currentHost().host.vars['expectVersion']
  if (value === undefined || value === null || value === '') return undefined
  return String(value)
}

/** The release layout under `root`, read in one fact. */
export async function release(root: string, options: ReleaseOptions = {}): Promise<ReleaseFacts> {
  const expectedVersion = options.expectedVersion ?? expectedFromVars()
  const raw = await readFact(releaseFact(root, options.revisionFile))
  return deriveRelease(raw, { ...options, expectedVersion })
}

function stripNewline(text: string): string {
  return text.endsWith('\n') ? text.slice(0, -1) : text
}
