// Jest's expect, loaded on first use rather than with the DSL: its dependency tree is the
// largest piece of a spec's import (~80-110 ms), which otherwise runs before the first
// connection. Matcher modules call `baseExpect.extend(…)` as usual; until the first expect()
// those registrations wait, then run in order.
import { createRequire } from 'node:module'
import type { expect as JestExpect } from 'expect'

export type BaseExpect = typeof JestExpect

let loaded: BaseExpect | undefined
const pending: Array<(e: BaseExpect) => void> = []

export function jestExpect(): BaseExpect {
  if (!loaded) {
    loaded = (createRequire(import.meta.url)('expect') as { expect: BaseExpect }).expect
    for (const register of pending.splice(0)) register(loaded)
  }
  return loaded
}

/** Stands in for Jest's expect; loads it when called or when anything but `extend` is read. */
export const baseExpect: BaseExpect = new Proxy((() => {}) as unknown as BaseExpect, {
  apply: (_target, thisArg, args) => Reflect.apply(jestExpect(), thisArg, args),
  get: (_target, prop) => {
    if (prop === 'extend' && !loaded) return (matchers: Parameters<BaseExpect['extend']>[0]) => void pending.push(e => e.extend(matchers))
    return Reflect.get(jestExpect(), prop)
  },
})

const MATCHERS_OBJECT = Symbol.for('$$jest-matchers-object')

/**
 * `expect(received)` as Jest builds it, with `name` its only matcher when it is one: Jest builds
 * six closures for each of its ~70 matchers on every call, most of a check's allocations. The
 * matcher, its context and its errors are the same; Jest reads the registered matchers on each
 * call (getMatchers), so they are narrowed for this one synchronous call.
 */
export function expectOnly(received: unknown, name: PropertyKey): unknown {
  const expect = jestExpect()
  const holder = (globalThis as Record<symbol, { matchers: Record<PropertyKey, unknown> } | undefined>)[MATCHERS_OBJECT]
  const all = holder?.matchers
  if (!holder || !all || !Object.prototype.hasOwnProperty.call(all, name)) return expect(received)
  const only = Object.create(null) as Record<PropertyKey, unknown>
  only[name] = all[name]
  holder.matchers = only
  try {
    return expect(received)
  } finally {
    holder.matchers = all
  }
}
