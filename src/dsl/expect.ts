// Jest's `expect`, well kept and familiar, plus matchers for host resources.
import { inspect, stripVTControlCharacters } from 'node:util'
import { baseExpect, expectOnly } from './jest-expect.ts'
import type { FileFacts } from '../resources/system/file.ts'
import { currentSecrets } from './context.ts'
import { redactMatcherFailure } from './redacted-matcher.ts'
// catalogue matchers: every/some over collections, version constraints, listening ports
import './matchers/collections.ts'
import './matchers/version.ts'
import './matchers/port.ts'
import './matchers/rotation.ts'
import './matchers/path.ts'

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
  if (f.isSymlink)
    return f.exists ? `a symlink to ${JSON.stringify(f.linkTarget)}` : `a dangling symlink to ${JSON.stringify(f.linkTarget)}`
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
      message: () =>
        `expected ${JSON.stringify(received.path)} ${this.isNot ? 'not ' : ''}to be ${what}, but it is ${describeActual(received)}`,
    }
  }
}

function isFileFacts(value: unknown): value is FileFacts {
  return typeof value === 'object' && value !== null && 'isSymlink' in value && 'path' in value && !('then' in value)
}

baseExpect.extend({
  toExist: fileMatcher('present', f => f.exists),
  toBeFile: fileMatcher('a file', f => f.isFile),
  toBeDirectory: fileMatcher('a directory', f => f.isDirectory),
  toBeSymlink: fileMatcher('a symlink', f => f.isSymlink),
})

/** Errors carry what was received and what the matcher was given, for the report's expected/actual. */
interface MatcherResult {
  expected?: unknown
  actual?: unknown
  /** The expectation as the report prints it, when the bare value would lose its meaning (`< 10`). */
  expectedText?: string
}

// comparison matchers: the report keeps the operator, as Jest's own message does
const COMPARISONS: Record<string, string> = {
  toBeLessThan: '<',
  toBeLessThanOrEqual: '<=',
  toBeGreaterThan: '>',
  toBeGreaterThanOrEqual: '>=',
}

function annotate(error: unknown, received: unknown, args: unknown[], matcher: string | symbol, isNot: boolean): unknown {
  if (error === null || typeof error !== 'object') return error
  const target = error as { matcherResult?: MatcherResult; matcherUsage?: MatcherResult; message?: unknown }
  // Jest's "Matcher error: received value must be a string" has no matcherResult: keep the values too
  const result = target.matcherResult ?? (isMatcherUsageError(error) ? (target.matcherUsage = {}) : undefined)
  if (!result) {
    // anything else a matcher throws (a malformed version constraint) is how the spec called it
    ;(error as { thrownByMatcher?: string }).thrownByMatcher = String(matcher)
    return error
  }
  if (!('expected' in result) || result.expected === undefined)
    result.expected = args.length === 1 ? args[0] : args.length === 0 ? undefined : args
  // a promise (`.resolves`/`.rejects`) prints as its async context, not a value: the message says what it settled to
  if ((!('actual' in result) || result.actual === undefined) && !(received instanceof Promise))
    result.actual = isFileFacts(received) ? describeActual(received) : received
  const operator = typeof matcher === 'string' ? COMPARISONS[matcher] : undefined
  if (operator && args.length === 1) result.expectedText = `${isNot ? 'not ' : ''}${operator} ${inspect(args[0])}`
  return error
}

/** Jest's error for a matcher used on a value it cannot take (`expect(undefined).toMatch(…)`). */
export function isMatcherUsageError(error: unknown): boolean {
  return error instanceof Error && /\n\nMatcher error: /.test(stripVTControlCharacters(error.message))
}

// Jest's matchers put expected/actual in their message only; wrap each matcher call to keep them,
// and to re-run a failure that involves a secret on redacted values (redacted-matcher.ts).
function capture<T extends object>(target: T, received: unknown, chain: readonly PropertyKey[] = []): T {
  const isNot = chain.filter(p => p === 'not').length % 2 === 1
  return new Proxy(target, {
    get(obj, prop, receiver) {
      const value: unknown = Reflect.get(obj, prop, receiver)
      if (typeof value === 'function') {
        return (...args: unknown[]) => {
          const note = (e: unknown, r: unknown, a: unknown[]) => annotate(e, r, a, prop, isNot)
          const call = { expect: baseExpect as (r: unknown) => unknown, received, chain, matcher: prop, args, annotate: note }
          try {
            const out: unknown = value.apply(obj, args)
            if (out instanceof Promise) {
              return out.catch(async (e: unknown) => {
                throw await redactMatcherFailure(currentSecrets(), call, note(e, received, args))
              })
            }
            return out
          } catch (e) {
            const failure = redactMatcherFailure(currentSecrets(), call, note(e, received, args))
            // a sync matcher's re-run is sync too; should it not be, the original stays (the report's own pass redacts it)
            throw failure instanceof Promise ? note(e, received, args) : failure
          }
        }
      }
      // `.not`, `.resolves`, `.rejects` chain on to more matchers
      return value && typeof value === 'object' ? capture(value, received, [...chain, prop]) : value
    },
  })
}

/**
 * What expect(received) returns when nothing can use the error Jest makes at the call (only
 * `.resolves`/`.rejects` on a promise or function do): the expectation is built at the matcher's
 * name, with that matcher alone (expectOnly), then goes through capture() as before.
 */
function lazyCapture(received: unknown, chain: readonly PropertyKey[] = []): object {
  const full = () => chain.reduce<object>((o, p) => Reflect.get(o, p) as object, capture(baseExpect(received) as object, received))
  return new Proxy(
    {},
    {
      get(_obj, prop) {
        if (prop === 'not' || prop === 'resolves' || prop === 'rejects') return lazyCapture(received, [...chain, prop])
        const built = chain.reduce<object>((o, p) => Reflect.get(o, p) as object, capture(expectOnly(received, prop) as object, received))
        return Reflect.get(built, prop)
      },
      has: (_obj, prop) => Reflect.has(full(), prop),
      ownKeys: () => Reflect.ownKeys(full()),
      getOwnPropertyDescriptor: (_obj, prop) => Reflect.getOwnPropertyDescriptor(full(), prop),
    },
  )
}

/** Jest's `.resolves`/`.rejects` use the error made at the expect() call only for a promise or a function. */
function mayResolve(received: unknown): boolean {
  if (typeof received === 'function') return true
  if (received === null || typeof received !== 'object') return false
  try {
    return typeof (received as { then?: unknown }).then === 'function'
  } catch {
    return true
  }
}

// a proxy, not Object.assign(fn, baseExpect): copying expect's members would load it (jest-expect.ts)
export const expect = new Proxy(
  <T>(received: T) => (mayResolve(received) ? capture(baseExpect(received), received) : lazyCapture(received)),
  { get: (_fn, prop) => Reflect.get(baseExpect, prop) },
) as unknown as typeof baseExpect
