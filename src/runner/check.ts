// Runs one check and turns whatever happened into a CheckResult: a failed expectation,
// an infrastructure error (typed), a crash in the spec's own code, or a timeout.
import { inspect, stripVTControlCharacters } from 'node:util'
import { ExpectationError, TimeoutError, VerifyError } from '../errors.ts'
import type { CheckResult } from '../model.ts'
import { runInCheck, type CheckScope } from '../dsl/context.ts'
import type { CollectedCheck } from '../dsl/registry.ts'

export async function runCheck(check: CollectedCheck, deadlineMs: number): Promise<CheckResult> {
  const scope: CheckScope = { factsRead: new Set() }
  const started = performance.now()
  const base = {
    id: check.id,
    file: check.file,
    line: check.line,
    path: check.path,
    ...(check.tags.length > 0 ? { tags: [...check.tags] } : {}),
    ...(check.definedAt ? { source: check.definedAt } : {}),
  }
  let timer: NodeJS.Timeout | undefined
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new TimeoutError(`check did not finish within ${deadlineMs / 1000}s`)), deadlineMs)
  })
  try {
    await Promise.race([runInCheck(scope, async () => check.fn()), deadline])
    return { ...base, status: 'passed', durationMs: elapsed(started), facts: [...scope.factsRead] }
  } catch (error) {
    return { ...base, ...describeFailure(error), durationMs: elapsed(started), facts: [...scope.factsRead] }
  } finally {
    clearTimeout(timer)
  }
}

type Outcome = Pick<CheckResult, 'status' | 'message' | 'expected' | 'actual' | 'errorKind'>

export function describeFailure(error: unknown): Outcome {
  const matcher = (error as { matcherResult?: { expected?: unknown; actual?: unknown } } | null)?.matcherResult
  if (matcher) {
    return {
      status: 'failed',
      message: plain((error as Error).message),
      expected: printable(matcher.expected),
      actual: printable(matcher.actual),
    }
  }
  if (error instanceof ExpectationError) return { status: 'failed', message: plain(error.message), expected: error.expected, actual: error.actual }
  if (error instanceof VerifyError) return { status: 'error', errorKind: error.kind, message: plain(error.message) }
  const err = error instanceof Error ? error : new Error(String(error))
  return { status: 'error', errorKind: 'crash', message: plain(`${err.name}: ${err.message}${specFrame(err)}`) }
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
  const frame = (err.stack ?? '').split('\n').find((l) => /\.spec\.[cm]?[jt]s/.test(l))
  if (!frame) return ''
  const location = /\(?([^()\s]+\.spec\.[cm]?[jt]s:\d+:\d+)\)?$/.exec(frame.trim())?.[1] ?? frame.trim()
  return ` (at ${location.replace(`${process.cwd()}/`, '').replace(/^file:\/\//, '')})`
}

function elapsed(started: number): number {
  return Math.round(performance.now() - started)
}
