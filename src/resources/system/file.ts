// file(path): what a path is on the host. `await file(p)` reads its stat facts; content,
// parsed JSON/YAML, digests, `contains` (grep on the host) and access by a named user are
// separate facts, fetched only when asked for.
import { readFact } from '../../dsl/context.ts'
import { DEFAULT_MAX_BYTES, defineFact, missingPathFailure, type FactGroup, type FactRequest, type RawFact } from '../../probe/fact.ts'
import { snippet } from '../../probe/snippet.ts'
import { accessFact, permissionsOf, type Permissions, type UserAccess } from './file-access.ts'
import { toPosixEre } from '../../lib/posix-regex.ts'
import { parseJsonContent, parseYamlContent, parseYamlDocuments } from '../../lib/structured-content.ts'

export type { Access, Permissions, UserAccess } from './file-access.ts'

export type FileType = 'file' | 'directory' | 'symlink' | 'socket' | 'fifo' | 'block-device' | 'char-device' | 'unknown'

export interface FileFacts {
  path: string
  /** Like `test -e`: the path resolves to something (a dangling symlink does not exist). */
  exists: boolean
  /** The path itself (lstat), or undefined when there is nothing at the path. */
  type?: FileType
  /** Like `test -f` / `test -d`: these follow symlinks, as Serverspec and Testinfra do. */
  isFile: boolean
  isDirectory: boolean
  /** The path itself is a symlink (whether or not its target exists). */
  isSymlink: boolean
  /** The symlink's target exactly as stored (readlink), for symlinks. */
  linkTarget?: string
  /** The fully resolved path (every symlink followed), when the path exists. */
  resolvedPath?: string
  /** Of the path itself (a symlink's own), as `stat` without -L: four octal digits, e.g. `0755`. */
  mode?: string
  uid?: number
  gid?: number
  owner?: string
  group?: string
  size?: number
  mtime?: Date
  /**
   * Read/write/execute by owner, group and others, from the mode bits of what the path
   * resolves to (symlinks followed, unlike `mode`); undefined when it does not exist.
   */
  permissions?: Permissions
}

export interface FileOptions {
  /** Largest content this check may read, in bytes (default: the run's fact cap, 1 MiB). */
  maxBytes?: number
}

const TYPES: Record<number, FileType> = {
  0o100000: 'file',
  0o040000: 'directory',
  0o120000: 'symlink',
  0o140000: 'socket',
  0o010000: 'fifo',
  0o060000: 'block-device',
  0o020000: 'char-device',
}

const STAT_SCRIPT = snippet(import.meta.url, 'file-stat.sh')

const STAT_GROUP_SCRIPT = snippet(import.meta.url, 'file-stat-group.sh')

const STAT_GROUP: FactGroup = {
  name: 'stat',
  script: STAT_GROUP_SCRIPT,
  describe: count => `stat of ${count} path${count === 1 ? '' : 's'}`,
  split: (raw, members) =>
    splitStatGroup(
      raw,
      members.map(m => m.args[0]!),
    ),
}

/** The group's records back into each path's single-fact answer (what STAT_SCRIPT prints). */
export function splitStatGroup(raw: RawFact, paths: readonly string[]): RawFact[] {
  const fields = raw.stdout.toString('latin1').split('\0')
  const byPath = new Map(paths.map((p, i) => [Buffer.from(p, 'utf8').toString('latin1'), i]))
  const found = paths.map(() => ({
    stat: '',
    link: '',
    followed: '',
    target: '',
    resolved: '',
    missing: false,
    error: undefined as string | undefined,
  }))
  const at = (key: string | undefined, byIndex: boolean) =>
    key === undefined ? undefined : found[byIndex ? Number(key) : (byPath.get(key) ?? -1)]
  for (let i = 0; i < fields.length;) {
    const tag = fields[i]
    const r = at(fields[i + 1], tag === 'M' || tag === 'E')
    if (tag === 'M') {
      if (r) r.missing = true
      i += 2
    } else if (tag === 'E') {
      if (r) r.error = fields[i + 2] ?? ''
      i += 3
    } else if (tag === 'S') {
      if (r) {
        r.stat = fields[i + 2] ?? ''
        r.link = fields[i + 3] ?? ''
      }
      i += 4
    } else if (tag === 'T') {
      if (r) r.target = stripNewline(fields[i + 2] ?? '')
      i += 3
    } else if (tag === 'L') {
      if (r) r.followed = (fields[i + 2] ?? '').trim()
      i += 3
    } else if (tag === 'R') {
      if (r) r.resolved = stripNewline(fields[i + 2] ?? '')
      i += 3
    } else i++ // the trailing empty field
  }
  return found.map((r, index) => {
    const answer = (stdout: string, exitCode = 0, stderr = ''): RawFact => ({
      ...raw,
      stdout: Buffer.from(stdout, 'latin1'),
      stderr: Buffer.from(stderr, 'latin1'),
      exitCode,
    })
    if (r.missing) return answer('missing\n')
    if (r.error !== undefined) return /No such file|Not a directory/.test(r.error) ? answer('missing\n') : answer('', 2, r.error)
    const statLine = r.stat.trim()
    if (!statLine) return answer('', 2, `stat ${paths[index]}: no answer from stat`)
    const isLink = statLine.startsWith('a')
    const prefix = `${Buffer.from(paths[index]!, 'utf8').toString('latin1')} -> `
    const target = r.target || (isLink && r.link.startsWith(prefix) ? r.link.slice(prefix.length) : '')
    const followed = isLink ? r.followed : statLine.split(' ')[0]!
    return answer(`${statLine}\n\0${followed}\n\0${isLink ? `${target}\n` : ''}\0${r.resolved}\n`)
  })
}

export function statFact(path: string): FactRequest<FileFacts> {
  return defineFact({
    key: `file:${path}`,
    describe: `stat ${path}`,
    script: STAT_SCRIPT,
    args: [path],
    group: STAT_GROUP,
    parse: raw => parseStat(path, raw.stdout.toString('utf8')),
  })
}

export function parseStat(path: string, out: string): FileFacts {
  const none: FileFacts = { path, exists: false, isFile: false, isDirectory: false, isSymlink: false }
  if (out.trim() === 'missing') return none
  const [statLine = '', followed = '', target = '', resolved = ''] = out.split('\0')
  const { type, mode, uid, gid, size, mtime, owner, group } = parseStatFields(statLine)
  const followedType = followed.trim() ? typeOf(followed.trim()) : undefined
  return {
    path,
    exists: followedType !== undefined,
    type,
    isFile: followedType === 'file',
    isDirectory: followedType === 'directory',
    isSymlink: type === 'symlink',
    linkTarget: type === 'symlink' ? stripNewline(target) : undefined,
    resolvedPath: followedType ? stripNewline(resolved) || undefined : undefined,
    mode,
    uid,
    gid,
    owner,
    group,
    size,
    mtime,
    permissions: followedType ? permissionsOf(Number.parseInt(followed.trim(), 16)) : undefined,
  }
}

/** One `stat -c '%f %a %u %g %s %Y %U %G'` line (file() and tree() ask for the same one). */
export function parseStatFields(line: string): {
  type: FileType
  mode: string
  uid: number
  gid: number
  size: number
  mtime: Date
  owner: string
  group: string
} {
  const fields = line.trim().split(' ')
  if (fields.length < 8) throw new Error(`unexpected stat output: ${JSON.stringify(line)}`)
  const [rawMode, perms, uid, gid, size, mtime, owner, group] = fields as [string, string, string, string, string, string, string, string]
  return {
    type: typeOf(rawMode),
    mode: perms.padStart(4, '0'),
    uid: Number(uid),
    gid: Number(gid),
    size: Number(size),
    mtime: new Date(Number(mtime) * 1000),
    owner,
    group,
  }
}

function typeOf(hexMode: string): FileType {
  return TYPES[Number.parseInt(hexMode, 16) & 0o170000] ?? 'unknown'
}

function stripNewline(text: string): string {
  return text.endsWith('\n') ? text.slice(0, -1) : text
}

const CONTENT_SCRIPT = snippet(import.meta.url, 'file-content.sh')

function contentFact(path: string, maxBytes = DEFAULT_MAX_BYTES): FactRequest<string> {
  return defineFact({
    key: `file.content:${path}`,
    describe: `read ${path}`,
    script: CONTENT_SCRIPT,
    inline: true,
    // head reads one byte past the cap so the probe can tell a cut file from a full one
    args: [path, String(maxBytes + 1)],
    maxBytes,
    cut: `larger than ${maxBytes} bytes; pass file(path, { maxBytes }) or compare its sha256`,
    failure: (request, raw) => missingPathFailure(request, path, raw),
    parse: raw => raw.stdout.toString('utf8'),
  })
}

type Digest = 'md5' | 'sha256' | 'sha512'
const DIGEST_HEX_LENGTH: Record<Digest, number> = { md5: 32, sha256: 64, sha512: 128 }

// One constant snippet per algorithm: the tool name is part of the code, never an argument.
const DIGEST_SCRIPTS: Record<Digest, string> = {
  md5: snippet(import.meta.url, 'file-md5.sh'),
  sha256: snippet(import.meta.url, 'file-sha256.sh'),
  sha512: snippet(import.meta.url, 'file-sha512.sh'),
}

function digestFact(path: string, algorithm: Digest): FactRequest<string> {
  return defineFact({
    key: `file.${algorithm}:${path}`,
    describe: `${algorithm} of ${path}`,
    script: DIGEST_SCRIPTS[algorithm],
    args: [path],
    failure: (request, raw) => missingPathFailure(request, path, raw),
    parse: raw => {
      // coreutils prefixes the line with '\\' when the file name needed escaping
      const digest = (raw.stdout.toString('utf8').trim().split(/\s+/)[0] ?? '').replace(/^\\/, '')
      if (!new RegExp(`^[0-9a-f]{${DIGEST_HEX_LENGTH[algorithm]}}$`).test(digest))
        throw new Error(`unexpected ${algorithm}sum output: ${JSON.stringify(digest)}`)
      return digest
    },
  })
}

/** What `contains` looks for: a substring, a whole line, or a pattern (tested line by line, like grep). */
export type LinePattern = string | RegExp | { line: string }

// Flags come from a fixed set chosen in code; the pattern and path are data ("$1", "$2").
const GREP_SCRIPT = snippet(import.meta.url, 'file-grep.sh')

export function grepArgs(pattern: LinePattern): { flags: string[]; text: string; describe: string } {
  if (pattern instanceof RegExp) {
    const { ere, ignoreCase } = toPosixEre(pattern)
    return { flags: ignoreCase ? ['-E', '-i'] : ['-E'], text: ere, describe: String(pattern) }
  }
  const exactLine = typeof pattern === 'object' && pattern !== null && 'line' in pattern
  const text = exactLine ? pattern.line : pattern
  if (typeof text !== 'string') throw new TypeError(`contains: expected a string, a RegExp or { line }, got ${typeof text}`)
  // grep would read a newline as "either line", a silent widening of the check
  if (/[\n\0]/.test(text))
    throw new TypeError(
      `contains: ${JSON.stringify(text)} spans lines; grep matches one line at a time (compare file(path).content instead)`,
    )
  return { flags: exactLine ? ['-F', '-x'] : ['-F'], text, describe: exactLine ? `the line ${JSON.stringify(text)}` : JSON.stringify(text) }
}

function grepFact(path: string, pattern: LinePattern): FactRequest<number> {
  const { flags, text, describe } = grepArgs(pattern)
  return defineFact({
    // JSON: a ':' in the pattern or path cannot make two questions share one key
    key: `file.grep:${JSON.stringify([flags, text, path])}`,
    describe: `search ${path} for ${describe}`,
    script: GREP_SCRIPT,
    args: [path, text, ...flags],
    // grep: 0 some lines matched, 1 none, 2 trouble (missing file, permission denied)
    answers: [0, 1],
    failure: (request, raw) => missingPathFailure(request, path, raw),
    parse: raw => {
      const count = raw.stdout.toString('utf8').trim()
      if (!/^\d+$/.test(count)) throw new Error(`unexpected grep -c output: ${JSON.stringify(count)}`)
      return Number(count)
    },
  })
}

export class FileRef implements PromiseLike<FileFacts> {
  constructor(
    readonly path: string,
    private readonly options: FileOptions = {},
  ) {}

  then<A = FileFacts, B = never>(
    onFulfilled?: ((value: FileFacts) => A | PromiseLike<A>) | null,
    onRejected?: ((reason: unknown) => B | PromiseLike<B>) | null,
  ): Promise<A | B> {
    return readFact(statFact(this.path)).then(onFulfilled, onRejected)
  }

  /** The file's content as UTF-8 text, up to maxBytes (a bigger file is an error, never silently cut). */
  get content(): Promise<string> {
    return readFact(contentFact(this.path, this.options.maxBytes))
  }

  /** Hex SHA-256 of the file's content, computed on the host. */
  get sha256(): Promise<string> {
    return readFact(digestFact(this.path, 'sha256'))
  }

  /** Hex MD5 of the file's content, computed on the host (md5sum). */
  get md5(): Promise<string> {
    return readFact(digestFact(this.path, 'md5'))
  }

  /** Hex SHA-512 of the file's content, computed on the host (sha512sum). */
  get sha512(): Promise<string> {
    return readFact(digestFact(this.path, 'sha512'))
  }

  /**
   * The content parsed as JSON. Typed `any` on purpose: a config file's shape is the spec's to
   * assert. Invalid JSON fails the check with file:line:column.
   */
  get json(): Promise<any> {
    return this.content.then(text => parseJsonContent(this.path, text))
  }

  /** The content parsed as one YAML document (`any`, as `json`); invalid YAML fails with file:line:column. */
  get yaml(): Promise<any> {
    return this.content.then(text => parseYamlContent(this.path, text))
  }

  /** Every document of a multi-document YAML file (`---` separated). */
  get yamlDocuments(): Promise<any[]> {
    return this.content.then(text => parseYamlDocuments(this.path, text))
  }

  /**
   * Some line contains the text (a string: fixed substring, like Serverspec's `contain`), is
   * exactly `{ line }`, or matches the RegExp (translated to grep -E; tested line by line, so
   * ^ and $ anchor lines). grep runs on the host: the file is never transferred.
   */
  contains(pattern: LinePattern): Promise<boolean> {
    return this.countMatching(pattern).then(n => n > 0)
  }

  /** How many lines match (as `contains`), counted on the host with grep -c. */
  // async: a pattern refused here rejects the promise like any other failure
  async countMatching(pattern: LinePattern): Promise<number> {
    return readFact(grepFact(this.path, pattern))
  }

  /**
   * Whether `user` can read, write, execute the path: asked of the kernel as that user when
   * verify runs as root, else computed from mode bits, owners and the user's groups along the
   * path; `method` says which.
   */
  async accessibleBy(user: string): Promise<UserAccess> {
    return readFact(accessFact(this.path, user))
  }
}

export function file(path: string, options?: FileOptions): FileRef {
  return new FileRef(path, options)
}
