// Runs one check and turns whatever happened into a CheckResult: a failed expectation,
// an infrastructure error (typed), a crash in the spec's own code, or a timeout.
import { inspect, stripVTControlCharacters } from 'node:util'
import { ExpectationError, TimeoutError, VerifyError } from '../errors.ts'
import type { CheckResult } from '../model.ts'
import { runInCheck, type CheckScope } from '../dsl/context.ts'
import type { CollectedCheck } from '../dsl/registry/types.ts'
import { jestExpect } from '../dsl/jest-expect.ts'
import { isMatcherUsageError } from '../dsl/expect.ts'
import { failureLocation, thrownBySpecCode } from './failure-location.ts'
import { checkResult } from './check-result.ts'

export async function runCheck(check: CollectedCheck, deadlineMs: number): Promise<CheckResult> {
  const scope: CheckScope = { factsRead: new Set() }
  const started = performance.now()
  let timer: NodeJS.Timeout | undefined
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new TimeoutError(`check did not finish within ${deadlineMs / 1000}s`)), deadlineMs)
  })
  try {
    await Promise.race([runInCheck(scope, async () => check.fn()), deadline])
    return checkResult(check, { status: 'passed', durationMs: elapsed(started), facts: [...scope.factsRead] })
  } catch (error) {
    return checkResult(check, { ...describeFailure(error), durationMs: elapsed(started), facts: [...scope.factsRead] })
  } finally {
    clearTimeout(timer)
  }
}

type Outcome = Pick<CheckResult, 'status' | 'message' | 'expected' | 'actual' | 'errorKind' | 'failedAt'>

interface Annotated {
  expected?: unknown
  actual?: unknown
  /** Set by verify's matchers and expect wrapper when the bare value would lose its meaning (`< 10`). */
  expectedText?: string
  actualText?: string
}

/**
 * Three classes: a failed expectation (the host is not as the spec says: exit 1), a bug in the
 * spec (a mistyped matcher, a property of undefined: exit 3), and a fault of the host or of
 * verify itself (exit 2). Whatever the spec's own code throws is never the host's fault.
 */
export function describeFailure(error: unknown): Outcome {
  const err = error instanceof Error ? error : undefined
  const matcher = (error as { matcherResult?: Annotated } | null)?.matcherResult
  if (matcher) return failed(plain((error as Error).message), matcher, err)
  // a matcher given a value it cannot take (undefined where a string goes) is a failed expectation,
  // unless what is wrong is the spec's own argument (the expected side)
  if (err && isMatcherUsageError(err)) {
    const usage = (err as { matcherUsage?: Annotated }).matcherUsage ?? {}
    // (`.resolves` on something not a promise is the spec's own mistake, whatever the host has)
    if (/Matcher error: received value (?!must be a promise)/.test(plain(err.message))) return failed(plain(err.message), usage, err)
    return specError(err)
  }
  if (error instanceof ExpectationError)
    return { status: 'failed', message: plain(error.message), expected: error.expected, actual: error.actual, ...located(error) }
  if (error instanceof VerifyError) return { status: 'error', errorKind: error.kind, message: plain(error.message) }
  if (err && (err as { thrownByMatcher?: string }).thrownByMatcher !== undefined) return specError(err)
  const thrown = err ?? new Error(String(error))
  if (thrownBySpecCode(thrown)) {
    if (SPEC_BUG.has(thrown.name)) return specError(thrown)
    // the spec threw on purpose (throw new Error('no release found')): its own assertion failed
    return { status: 'failed', message: plain(`${thrown.name}: ${thrown.message}`), ...located(thrown) }
  }
  return { status: 'error', errorKind: 'crash', message: plain(`${thrown.name}: ${thrown.message}${specFrame(thrown)}`) }
}

// what a spec's code throws when it is wrong (a typo, a call on undefined), not when the host is
const SPEC_BUG = new Set(['TypeError', 'ReferenceError'])

function failed(message: string, values: Annotated, err: Error | undefined): Outcome {
  return {
    status: 'failed',
    message,
    expected: values.expectedText ?? printable(values.expected),
    // a matcher that got undefined says so: "actual: undefined", not nothing
    actual: values.actualText ?? ('actual' in values ? (printable(values.actual) ?? 'undefined') : undefined),
    ...(err ? located(err) : {}),
  }
}

function specError(err: Error): Outcome {
  const at = failureLocation(err)
  const where = at ? `${at.file}:${at.line}:${at.column}: ` : ''
  return {
    status: 'error',
    errorKind: 'spec',
    message: plain(
      `${where}${err.name}: ${err.message}${suggestion(err)}\na bug in the spec, not in the host: fix the spec (\`npx verify check\` finds most of these without a host)`,
    ),
    ...(at ? { failedAt: at } : {}),
  }
}

function located(err: Error): Pick<Outcome, 'failedAt'> {
  const at = failureLocation(err)
  return at ? { failedAt: at } : {}
}

/** `toBeSymLink is not a function` → ` (did you mean toBeSymlink?)` */
function suggestion(err: Error): string {
  const name = /\.?(\w+) is not a function/.exec(err.message)?.[1]
  if (!name?.startsWith('to')) return ''
  // every matcher registered so far, Jest's and verify's (extend registers them globally)
  const known = Object.keys(jestExpect()(undefined))
  const close = known.find(k => k.toLowerCase() === name.toLowerCase()) ?? known.find(k => editDistance(k, name) <= 2)
  return close && close !== name ? ` (did you mean ${close}?)` : ''
}

function editDistance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j)
  for (let i = 1; i <= a.length; i++) {
    const current = [i]
    for (let j = 1; j <= b.length; j++)
      current[j] = Math.min(previous[j]! + 1, current[j - 1]! + 1, previous[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1))
    previous = current
  }
  return previous[b.length]!
}

function printable(value: unknown): string | undefined {
  if (value === undefined) return undefined
  return typeof value === 'string' ? JSON.stringify(value) : inspect(value, { depth: 4, breakLength: 120 })
}

function plain(text: string): string {
  return stripVTControlCharacters(text)
}

/** The first stack frame inside a spec, so a crash points at the spec line, not ours. */
function specFrame(err: Error): string {
  const frame = (err.stack ?? '').split('\n').find(l => /\.spec\.[cm]?[jt]s/.test(l))
  if (!frame) return ''
  const location = /\(?([^()\s]+\.spec\.[cm]?[jt]s:\d+:\d+)\)?$/.exec(frame.trim())?.[1] ?? frame.trim()
  return ` (at ${location.replace(`${process.cwd()}/`, '').replace(/^file:\/\//, '')})`
}

function elapsed(started: number): number {
  return Math.round(performance.now() - started)
}
