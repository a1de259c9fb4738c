// toSatisfyVersion('>= 1.2.3'): a package (or a version string) against a constraint, compared
// with the package manager's ordering (dpkg or rpm), never as strings.
import type { MatcherContext } from 'expect'
import { baseExpect } from '../jest-expect.ts'
import { satisfiesVersion, parseConstraint, type VersionScheme } from '../../lib/version-compare.ts'
import { schemeOf, type PkgFacts } from '../../resources/system/pkg.ts'

declare module 'expect' {
  interface Matchers<R extends void | Promise<void>, T = unknown> {
    /**
     * `>= 1.2.3`, `< 2`, `!= 1.0-3`, `>= 1.2, < 2`. On `await pkg(…)` the package manager's
     * ordering is used; on a string, `scheme` (default `deb`).
     */
    toSatisfyVersion(constraint: string, scheme?: VersionScheme): R
  }
}

function isPkgFacts(value: unknown): value is PkgFacts {
  return typeof value === 'object' && value !== null && 'manager' in value && 'installed' in value && 'versions' in value
}

function toSatisfyVersion(this: MatcherContext, received: unknown, constraint: string, scheme?: VersionScheme) {
  parseConstraint(constraint) // a malformed constraint is the spec's bug: throw, do not fail
  const not = this.isNot ? 'not ' : ''
  if (isPkgFacts(received)) {
    const order = scheme ?? schemeOf(received)
    const expected = `${not}${constraint} (${order} ordering)`
    if (!received.installed || received.version === undefined) {
      return {
        pass: false,
        expected,
        actual: 'not installed',
        message: () => `expected package ${received.name} to ${not}satisfy ${constraint}, but it is not installed (${received.manager})`,
      }
    }
    const version = received.version
    const pass = satisfiesVersion(version, constraint, order)
    return {
      pass,
      expected,
      actual: version,
      message: () => `expected package ${received.name} ${version} to ${not}satisfy ${constraint} (${order} ordering)`,
    }
  }
  if (typeof received === 'string') {
    const order = scheme ?? 'deb'
    const pass = satisfiesVersion(received, constraint, order)
    return {
      pass,
      expected: `${not}${constraint} (${order} ordering)`,
      actual: received,
      message: () => `expected version ${received} to ${not}satisfy ${constraint} (${order} ordering)`,
    }
  }
  const hint = received && typeof (received as PromiseLike<unknown>).then === 'function' ? ' (did you forget `await pkg(…)`?)' : ''
  return {
    pass: false,
    message: () => `toSatisfyVersion: expected await pkg(name) or a version string${hint}, received ${typeof received}`,
  }
}

baseExpect.extend({ toSatisfyVersion })
