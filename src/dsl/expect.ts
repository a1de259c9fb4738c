// Jest's `expect`, well kept and familiar, plus matchers for host resources.
import { expect as baseExpect } from 'expect'
import type { FileFacts } from '../resources/file.ts'

declare module 'expect' {
  interface Matchers<R extends void | Promise<void>, T = unknown> {
    /** The path resolves to something (like `test -e`). */
    toExist(): R
    /** A regular file, following symlinks (like `test -f`). */
    toBeFile(): R
    /** A directory, following symlinks (like `test -d`). */
    toBeDirectory(): R
    /** The path itself is a symlink. */
    toBeSymlink(): R
  }
}

type Predicate = (f: FileFacts) => boolean

function describeActual(f: FileFacts): string {
  if (f.isSymlink) return f.exists ? `a symlink to ${JSON.stringify(f.linkTarget)}` : `a dangling symlink to ${JSON.stringify(f.linkTarget)}`
  if (!f.type) return 'missing'
  return `a ${f.type}`
}

function fileMatcher(what: string, test: Predicate) {
  return function (this: { isNot?: boolean }, received: unknown) {
    if (!isFileFacts(received)) {
      const hint = received && typeof (received as PromiseLike<unknown>).then === 'function' ? ' (did you forget `await file(…)`?)' : ''
      return { pass: false, message: () => `expected the result of await file(path)${hint}, received ${typeof received}` }
    }
    const pass = test(received)
    return {
      pass,
      message: () => `expected ${JSON.stringify(received.path)} ${this.isNot ? 'not ' : ''}to be ${what}, but it is ${describeActual(received)}`,
    }
  }
}

function isFileFacts(value: unknown): value is FileFacts {
  return typeof value === 'object' && value !== null && 'isSymlink' in value && 'path' in value && !('then' in value)
}

baseExpect.extend({
  toExist: fileMatcher('present', (f) => f.exists),
  toBeFile: fileMatcher('a file', (f) => f.isFile),
  toBeDirectory: fileMatcher('a directory', (f) => f.isDirectory),
  toBeSymlink: fileMatcher('a symlink', (f) => f.isSymlink),
})

export const expect = baseExpect
