// file(path): what a path is on the host. `await file(p)` reads its stat facts;
// `file(p).content` and `file(p).sha256` are separate facts, fetched only when asked for.
import { FactError } from '../errors.ts'
import { readFact } from '../dsl/context.ts'
import { DEFAULT_MAX_BYTES, factFailure, missingPathFailure, type FactRequest } from '../probe/fact.ts'

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
}

export interface FileOptions {
  /** Largest content this check may read, in bytes (default: the run's fact cap, 1 MiB). */
  maxBytes?: number
}

const TYPES: Record<number, FileType> = {
  0o100000: 'file', 0o040000: 'directory', 0o120000: 'symlink', 0o140000: 'socket',
  0o010000: 'fifo', 0o060000: 'block-device', 0o020000: 'char-device',
}

// lstat line, then the followed type, then readlink and readlink -f, NUL-separated so any path survives.
const STAT_SCRIPT = String.raw`s=$(stat -c '%f %a %u %g %s %Y %U %G' -- "$1" 2>&1) || {
  case $s in *'No such file'*|*'Not a directory'*) echo missing; exit 0;; esac
  printf '%s\n' "$s" >&2; exit 2; }
printf '%s\000' "$s"
stat -L -c '%f' -- "$1" 2>/dev/null; printf '\000'
readlink -- "$1"; printf '\000'
readlink -f -- "$1" 2>/dev/null; exit 0`

export function statFact(path: string): FactRequest<FileFacts> {
  const request: FactRequest<FileFacts> = {
    key: `file:${path}`,
    describe: `stat ${path}`,
    script: STAT_SCRIPT,
    args: [path],
    parse: (raw) => {
      if (raw.exitCode !== 0) throw factFailure(request, raw)
      return parseStat(path, raw.stdout.toString('utf8'))
    },
  }
  return request
}

export function parseStat(path: string, out: string): FileFacts {
  const none: FileFacts = { path, exists: false, isFile: false, isDirectory: false, isSymlink: false }
  if (out.trim() === 'missing') return none
  const [statLine = '', followed = '', target = '', resolved = ''] = out.split('\0')
  const fields = statLine.trim().split(' ')
  if (fields.length < 8) throw new Error(`unexpected stat output: ${JSON.stringify(statLine)}`)
  const [rawMode, perms, uid, gid, size, mtime, owner, group] = fields as [string, string, string, string, string, string, string, string]
  const type = typeOf(rawMode)
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
    mode: perms.padStart(4, '0'),
    uid: Number(uid),
    gid: Number(gid),
    owner,
    group,
    size: Number(size),
    mtime: new Date(Number(mtime) * 1000),
  }
}

function typeOf(hexMode: string): FileType {
  return TYPES[Number.parseInt(hexMode, 16) & 0o170000] ?? 'unknown'
}

function stripNewline(text: string): string {
  return text.endsWith('\n') ? text.slice(0, -1) : text
}

function contentFact(path: string, maxBytes = DEFAULT_MAX_BYTES): FactRequest<string> {
  const request: FactRequest<string> = {
    key: `file.content:${path}`,
    describe: `read ${path}`,
    script: `exec head -c "$2" -- "$1"`,
    // head reads one byte past the cap so the probe can tell a cut file from a full one
    args: [path, String(maxBytes + 1)],
    maxBytes,
    parse: (raw) => {
      if (raw.truncated) throw new FactError(`read ${path}: larger than ${maxBytes} bytes; pass file(path, { maxBytes }) or compare its sha256`)
      if (raw.exitCode !== 0) throw missingPathFailure(request, path, raw)
      return raw.stdout.toString('utf8')
    },
  }
  return request
}

function sha256Fact(path: string): FactRequest<string> {
  const request: FactRequest<string> = {
    key: `file.sha256:${path}`,
    describe: `sha256 of ${path}`,
    script: `sha256sum -- "$1"`,
    args: [path],
    parse: (raw) => {
      if (raw.exitCode !== 0) throw missingPathFailure(request, path, raw)
      const digest = raw.stdout.toString('utf8').trim().split(/\s+/)[0] ?? ''
      if (!/^[0-9a-f]{64}$/.test(digest.replace(/^\\/, ''))) throw new Error(`unexpected sha256sum output: ${JSON.stringify(digest)}`)
      return digest.replace(/^\\/, '')
    },
  }
  return request
}

export class FileRef implements PromiseLike<FileFacts> {
  constructor(readonly path: string, private readonly options: FileOptions = {}) {}

  then<A = FileFacts, B = never>(onFulfilled?: ((value: FileFacts) => A | PromiseLike<A>) | null, onRejected?: ((reason: unknown) => B | PromiseLike<B>) | null): Promise<A | B> {
    return readFact(statFact(this.path)).then(onFulfilled, onRejected)
  }

  /** The file's content as UTF-8 text, up to maxBytes (a bigger file is an error, never silently cut). */
  get content(): Promise<string> {
    return readFact(contentFact(this.path, this.options.maxBytes))
  }

  /** Hex SHA-256 of the file's content, computed on the host. */
  get sha256(): Promise<string> {
    return readFact(sha256Fact(this.path))
  }
}

export function file(path: string, options?: FileOptions): FileRef {
  return new FileRef(path, options)
}
