// Matchers for release(root) and restart(): each says in its message what the host has, so a
// failed version, rollback or restart check reads as a deploy problem, not `expected true`.
import { baseExpect } from '../jest-expect.ts'
import type { ReleaseFacts } from '../../resources/deploy/release.ts'
import type { RestartFacts } from '../../resources/deploy/restart.ts'

declare module 'expect' {
  interface Matchers<R extends void | Promise<void>, T = unknown> {
    /** current is the expected version (`--expect-version`, the `expectVersion` var, or release(root, { expectedVersion })). */
    toBeAtExpectedVersion(): R
    /** current resolves to a release directly under releases/. */
    toPointInsideReleases(): R
    /** The release before current exists, is a readable non-empty directory and has its revision file. */
    toHaveIntactPrevious(): R
    /** Every signal of restart(…) says restarted since the deploy (processes' start times, status counter). */
    toBeRestarted(): R
  }
}

type Check = (r: ReleaseFacts) => { pass: boolean; expected: string; actual: string; why: string }

function releaseMatcher(name: string, check: Check) {
  return function (this: { isNot?: boolean }, received: unknown) {
    if (!isReleaseFacts(received)) {
      const hint = received && typeof (received as PromiseLike<unknown>).then === 'function' ? ' (did you forget `await release(…)`?)' : ''
      return { pass: false, message: () => `${name}: expected the result of await release(root)${hint}, received ${typeof received}` }
    }
    const { pass, expected, actual, why } = check(received)
    return {
      pass,
      expected: `${this.isNot ? 'not ' : ''}${expected}`,
      actual,
      message: () => `${received.root}: ${this.isNot ? `expected not ${expected}, but it is` : why}`,
    }
  }
}

function isReleaseFacts(value: unknown): value is ReleaseFacts {
  return typeof value === 'object' && value !== null && 'currentState' in value && 'releases' in value && 'root' in value
}

function describeCurrent(r: ReleaseFacts): string {
  if (r.currentState === 'ok') return `release ${r.current}${r.revision !== undefined ? ` (${r.revisionFile} ${r.revision})` : ''}`
  if (r.currentState === 'missing') return 'no current'
  if (r.currentState === 'not-a-symlink') return 'current is not a symlink'
  const target = r.currentTarget === undefined ? '' : ` -> ${r.currentTarget}`
  return r.currentState === 'dangling' ? `current is dangling${target}` : `current is outside releases/${target}`
}

baseExpect.extend({
  toBeAtExpectedVersion: releaseMatcher('toBeAtExpectedVersion', r => {
    if (r.expectedVersion === undefined) {
      // never pass on a missing expectation: the pipeline forgot to say what it deployed
      return {
        pass: false,
        expected: 'an expected version',
        actual: describeCurrent(r),
        why: 'no expected version: pass --expect-version, set the expectVersion var, or release(root, { expectedVersion })',
      }
    }
    const pass = r.atExpectedVersion === true
    const actual = r.deployedVersion ?? describeCurrent(r)
    return { pass, expected: r.expectedVersion, actual, why: `expected version ${r.expectedVersion}, deployed ${describeCurrent(r)}` }
  }),
  toPointInsideReleases: releaseMatcher('toPointInsideReleases', r => ({
    pass: r.currentInsideReleases,
    expected: 'current -> a release under releases/',
    actual: r.currentTarget === undefined ? r.currentState : `${r.currentState}: ${r.currentTarget}`,
    why: `expected current to resolve to a release under releases/, but ${describeCurrent(r)}${r.currentResolved ? ` (resolves to ${r.currentResolved})` : ''}`,
  })),
  toHaveIntactPrevious: releaseMatcher('toHaveIntactPrevious', r => ({
    pass: r.previousIntact,
    expected: 'an intact previous release',
    actual: r.previousProblem ?? `releases/${r.previous} intact`,
    why: `rollback target not intact: ${r.previousProblem ?? 'unknown'}`,
  })),
})

baseExpect.extend({
  toBeRestarted(this: { isNot?: boolean }, received: unknown) {
    if (typeof received !== 'object' || received === null || !('restarted' in received) || !('problems' in received)) {
      const hint = received && typeof (received as PromiseLike<unknown>).then === 'function' ? ' (did you forget `await restart(…)`?)' : ''
      return { pass: false, message: () => `toBeRestarted: expected the result of await restart(…)${hint}, received ${typeof received}` }
    }
    const r = received as RestartFacts
    const actual = r.restarted ? 'restarted' : r.problems.join('; ')
    return {
      pass: r.restarted,
      expected: this.isNot ? 'not restarted since the deploy' : 'restarted since the deploy',
      actual,
      message: () =>
        this.isNot
          ? 'expected no restart since the deploy, but every signal says restarted'
          : `not restarted since the deploy: ${r.problems.join('; ')}`,
    }
  },
})
