// toBeInside(dir): a path, or what `await file(p)` resolves to, lies under a directory, compared
// as paths (never as a regex, where `.` matches anything). A symlink's target as written counts
// when relative (Capistrano's `current -> releases/20261121-2`), resolved against the link's
// directory, and so does its fully resolved path (a root that is itself behind a symlink).
import path from 'node:path'
import type { MatcherContext } from 'expect'
import { baseExpect } from '../jest-expect.ts'
import type { FileFacts } from '../../resources/system/file.ts'

declare module 'expect' {
  interface Matchers<R extends void | Promise<void>, T = unknown> {
    /**
     * Under `dir` (strictly: not `dir` itself). On a path string, compared as normalized paths; on
     * `await file(p)`, the path must exist and its link target (resolved against the link's
     * directory) or its resolved path must be under `dir`.
     */
    toBeInside(dir: string): R
  }
}

/** `s` as a literal in a RegExp: `new RegExp(`^${escapeRegExp(root)}/releases/`)`. */
export function escapeRegExp(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')
}

/** `child` is strictly under `dir`, both normalized POSIX paths. */
export function isInside(child: string, dir: string): boolean {
  const base = path.posix.normalize(dir).replace(/\/+$/, '')
  const candidate = path.posix.normalize(child).replace(/\/+$/, '')
  if (path.posix.isAbsolute(base) !== path.posix.isAbsolute(candidate)) return false
  return candidate.startsWith(`${base}/`) && candidate.length > base.length + 1
}

function isFileFacts(value: unknown): value is FileFacts {
  return typeof value === 'object' && value !== null && 'isSymlink' in value && 'path' in value && !('then' in value)
}

/** Where a file points: a symlink's target against the link's directory, then the resolved path. */
function placesOf(f: FileFacts): string[] {
  const places: string[] = []
  if (f.isSymlink && f.linkTarget !== undefined) places.push(path.posix.resolve(path.posix.dirname(f.path), f.linkTarget))
  else places.push(path.posix.normalize(f.path))
  if (f.resolvedPath !== undefined) places.push(f.resolvedPath)
  return places
}

function describeFile(f: FileFacts): string {
  const resolved = f.resolvedPath !== undefined && f.resolvedPath !== f.path ? ` (resolves to ${f.resolvedPath})` : ''
  if (f.isSymlink) return `${f.exists ? 'a symlink' : 'a dangling symlink'} to ${f.linkTarget}${f.exists ? resolved : ''}`
  if (!f.type) return 'missing'
  return `${f.path}${resolved}`
}

function toBeInside(this: MatcherContext, received: unknown, dir: string) {
  if (typeof dir !== 'string' || dir === '')
    throw new TypeError(`toBeInside(dir): dir must be a non-empty path, got ${typeof dir === 'string' ? '""' : typeof dir}`)
  const not = this.isNot ? 'not ' : ''
  const expectedText = `${not}inside ${dir.replace(/\/*$/, '/')}`
  if (typeof received === 'string') {
    const pass = isInside(received, dir)
    return { pass, expectedText, actualText: received, message: () => `expected ${JSON.stringify(received)} ${not}to be inside ${dir}` }
  }
  if (isFileFacts(received)) {
    const actualText = describeFile(received)
    // where a missing path or a dangling link would point is not a place: it is not inside anything
    const pass = received.exists && placesOf(received).some(place => isInside(place, dir))
    return { pass, expectedText, actualText, message: () => `expected ${received.path} ${not}to be inside ${dir}, but it is ${actualText}` }
  }
  const hint = received && typeof (received as PromiseLike<unknown>).then === 'function' ? ' (did you forget `await file(…)`?)' : ''
  const actualText = received === undefined ? 'undefined' : typeof received
  // a value that is no path fails either way, with or without .not
  return {
    pass: this.isNot === true,
    expectedText,
    actualText,
    message: () => `toBeInside: expected a path or the result of await file(path)${hint}, received ${actualText}`,
  }
}

baseExpect.extend({ toBeInside })
