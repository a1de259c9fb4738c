// Jest's `expect`, well kept and familiar, plus matchers for host resources.
import { baseExpect } from './jest-expect.ts'
import type { FileFacts } from '../resources/file.ts'
// catalogue matchers: every/some over collections, version constraints, listening ports
import './matchers/collections.ts'
import './matchers/version.ts'
import './matchers/port.ts'

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
      expected: `${this.isNot ? 'not ' : ''}${what}`,
      actual: describeActual(received),
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

/** Errors carry what was received and what the matcher was given, for the report's expected/actual. */
interface MatcherResult {
  expected?: unknown
  actual?: unknown
}

function annotate(error: unknown, received: unknown, args: unknown[]): unknown {
  const result = (error as { matcherResult?: MatcherResult } | null)?.matcherResult
  if (result) {
    if (!('expected' in result) || result.expected === undefined) result.expected = args.length === 1 ? args[0] : args.length === 0 ? undefined : args
    if (!('actual' in result) || result.actual === undefined) result.actual = isFileFacts(received) ? describeActual(received) : received
  }
  return error
}

// Jest's matchers put expected/actual in their message only; wrap each matcher call to keep them.
function capture<T extends object>(target: T, received: unknown): T {
  return new Proxy(target, {
    get(obj, prop, receiver) {
      const value: unknown = Reflect.get(obj, prop, receiver)
      if (typeof value === 'function') {
        return (...args: unknown[]) => {
          try {
            const out: unknown = value.apply(obj, args)
            if (out instanceof Promise) return out.catch((e: unknown) => { throw annotate(e, received, args) })
            return out
          } catch (e) {
            throw annotate(e, received, args)
          }
        }
      }
      // `.not`, `.resolves`, `.rejects` chain on to more matchers
      return value && typeof value === 'object' ? capture(value, received) : value
    },
  })
}

// a proxy, not Object.assign(fn, baseExpect): copying expect's members would load it (jest-expect.ts)
export const expect = new Proxy(<T,>(received: T) => capture(baseExpect(received), received), { get: (_fn, prop) => Reflect.get(baseExpect, prop) }) as unknown as typeof baseExpect
