// every/some over collections: `expect(procs).toAllSatisfy((p) => p.startedAt > deploy, 'started after the deploy')`.
// Messages name the elements that failed. An empty collection never satisfies toAllSatisfy:
// "all 0 processes restarted" is how a restart check passes by mistake.
import type { MatcherContext } from 'expect'
import { baseExpect } from '../jest-expect.ts'

declare module 'expect' {
  interface Matchers<R extends void | Promise<void>, T = unknown> {
    /** Every element satisfies the predicate, and there is at least one element. */
    toAllSatisfy<E = any>(predicate: (element: E) => boolean, description?: string): R
    /** At least one element satisfies the predicate. */
    toSomeSatisfy<E = any>(predicate: (element: E) => boolean, description?: string): R
  }
}

const LISTED = 10

type Predicate = (element: unknown) => boolean

function elementsOf(received: unknown): unknown[] | string {
  if (received && typeof (received as PromiseLike<unknown>).then === 'function') return 'a promise (did you forget `await`?)'
  if (typeof received === 'string' || received === null || received === undefined)
    return String(received === undefined ? 'undefined' : JSON.stringify(received))
  if (typeof (received as Iterable<unknown>)[Symbol.iterator] === 'function') return [...(received as Iterable<unknown>)]
  return typeof received
}

function describePredicate(predicate: Predicate, description: string | undefined): string {
  if (description) return description
  const source = predicate.toString().replace(/\s+/g, ' ')
  return source.length > 80 ? `${source.slice(0, 77)}...` : source
}

/** One line per element: processes and listeners by what identifies them, anything else printed short. */
export function describeElement(element: unknown, stringify: (v: unknown) => string): string {
  if (element && typeof element === 'object') {
    const e = element as Record<string, unknown>
    if (typeof e.pid === 'number' && typeof e.name === 'string' && e.startedAt instanceof Date) {
      const args = typeof e.args === 'string' && e.args !== '' ? e.args : `[${e.name}]`
      return `pid ${e.pid} ${JSON.stringify(args.length > 80 ? `${args.slice(0, 77)}...` : args)} started ${e.startedAt.toISOString()}`
    }
    if (typeof e.protocol === 'string' && typeof e.address === 'string' && typeof e.port === 'number')
      return `${e.protocol} ${e.address}:${e.port}`
  }
  const text = stringify(element)
  return text.length > 120 ? `${text.slice(0, 117)}...` : text
}

function list(items: string[]): string {
  const shown = items
    .slice(0, LISTED)
    .map(i => `\n  - ${i}`)
    .join('')
  return items.length > LISTED ? `${shown}\n  … and ${items.length - LISTED} more` : shown
}

function notIterable(this: MatcherContext, name: string, what: string) {
  return { pass: false, message: () => `${name}: expected an array or other iterable (e.g. await process(…)), received ${what}` }
}

function toAllSatisfy(this: MatcherContext, received: unknown, predicate: Predicate, description?: string) {
  const elements = elementsOf(received)
  if (!Array.isArray(elements)) return notIterable.call(this, 'toAllSatisfy', elements)
  if (typeof predicate !== 'function') throw new TypeError('toAllSatisfy(predicate, description?): predicate must be a function')
  const what = describePredicate(predicate, description)
  const stringify = (v: unknown) => this.utils.stringify(v, 2)
  const failing = elements.filter(e => !predicate(e)).map(e => describeElement(e, stringify))
  const pass = elements.length > 0 && failing.length === 0
  const expected = `${this.isNot ? 'not ' : ''}every element: ${what}`
  if (elements.length === 0) {
    return {
      pass,
      expected,
      actual: 'an empty collection',
      message: () => `expected every element to satisfy ${what}, but there are no elements (nothing matched, so nothing was checked)`,
    }
  }
  return {
    pass,
    expected,
    actual: pass ? `all ${elements.length} elements` : failing,
    message: () =>
      this.isNot
        ? `expected not every element to satisfy ${what}, but all ${elements.length} did`
        : `expected every element to satisfy ${what}, but ${failing.length} of ${elements.length} did not:${list(failing)}`,
  }
}

function toSomeSatisfy(this: MatcherContext, received: unknown, predicate: Predicate, description?: string) {
  const elements = elementsOf(received)
  if (!Array.isArray(elements)) return notIterable.call(this, 'toSomeSatisfy', elements)
  if (typeof predicate !== 'function') throw new TypeError('toSomeSatisfy(predicate, description?): predicate must be a function')
  const what = describePredicate(predicate, description)
  const stringify = (v: unknown) => this.utils.stringify(v, 2)
  const satisfying = elements.filter(e => predicate(e)).map(e => describeElement(e, stringify))
  const pass = satisfying.length > 0
  return {
    pass,
    expected: `${this.isNot ? 'no' : 'some'} element: ${what}`,
    actual: pass ? satisfying : elements.length === 0 ? 'an empty collection' : elements.map(e => describeElement(e, stringify)),
    message: () =>
      this.isNot
        ? `expected no element to satisfy ${what}, but ${satisfying.length} of ${elements.length} did:${list(satisfying)}`
        : elements.length === 0
          ? `expected some element to satisfy ${what}, but there are no elements`
          : `expected some element to satisfy ${what}, but none of ${elements.length} did:${list(elements.map(e => describeElement(e, stringify)))}`,
  }
}

baseExpect.extend({ toAllSatisfy, toSomeSatisfy })
