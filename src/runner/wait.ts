// --wait: a check that fails is run again, with fresh facts, until it passes or its budget
// runs out (exponential backoff), so a service still warming up after a restart is waited for
// instead of failing the gate; the result says when each check went green.
import type { CheckResult, ErrorKind } from '../model.ts'
import { firstLine } from '../lib/format.ts'
import { applySeverity } from './severity.ts'

export interface WaitPolicy {
  /** Budget per check, from the host's first attempt; 0 = no waiting (one attempt). */
  budgetMs: number
  /** First pause between attempts; doubles up to maxDelayMs. */
  initialDelayMs?: number
  maxDelayMs?: number
  /** A fixed pause between attempts instead of the doubling one (`--interval`, Argo's `interval`). */
  intervalMs?: number
  /** Green only after this many passes in a row, each with fresh facts (`--consecutive`, Argo's consecutiveSuccessLimit). */
  consecutive?: number
  /** A pause before the first attempt (`--initial-delay`, Argo's initialDelay). */
  startDelayMs?: number
}

/** The rollout-controller pacing of a run: `--interval`, `--consecutive`, `--initial-delay`. */
export type WaitPacing = Pick<WaitPolicy, 'intervalMs' | 'consecutive' | 'startDelayMs'>

export const DEFAULT_INITIAL_DELAY_MS = 500
export const DEFAULT_MAX_DELAY_MS = 5_000

/**
 * Outcomes worth another attempt: a failed expectation, or the host/app not answering yet.
 * A crash (the spec's own bug), a spec error or a lost connection will not heal by waiting.
 */
const RETRIED_ERRORS: ReadonlySet<ErrorKind> = new Set(['fact', 'http', 'timeout'])

export function isRetryable(result: Pick<CheckResult, 'status' | 'errorKind'>): boolean {
  if (result.status === 'failed') return true
  return result.status === 'error' && result.errorKind !== undefined && RETRIED_ERRORS.has(result.errorKind)
}

export interface AttemptHooks {
  /** One attempt of the check. */
  attempt(): Promise<CheckResult>
  /** Drops the cached facts the failed attempt read, so the next one asks the host again. */
  forget(facts: readonly string[]): void
  sleep?(ms: number): Promise<void>
  now?(): number
  /** The run was stopped (signal, --deadline): no further attempt, no pause left running. */
  signal?: AbortSignal
}

/**
 * Runs attempts until the check is green or the budget is spent. Green is one pass, or with
 * `consecutive` N passes in a row (a failure starts the count again). The result is the last
 * attempt's, with `attempts`, `timeToGreenMs` (from the first attempt's start) when it went green,
 * and, when there was more than one attempt, every attempt in `attemptLog`. Without a budget, a
 * failure ends it at once; N consecutive passes are still asked for.
 */
export async function runWithWait(policy: WaitPolicy, hooks: AttemptHooks): Promise<CheckResult> {
  const now = hooks.now ?? (() => performance.now())
  const sleep = hooks.sleep ?? ((ms: number) => pause(ms, hooks.signal))
  const needed = Math.max(1, policy.consecutive ?? 1)
  if (policy.startDelayMs) await sleep(policy.startDelayMs)
  if (hooks.signal?.aborted) return hooks.attempt()
  const started = now()
  let delay = policy.intervalMs ?? policy.initialDelayMs ?? DEFAULT_INITIAL_DELAY_MS
  const maxDelay = policy.maxDelayMs ?? DEFAULT_MAX_DELAY_MS
  const facts = new Set<string>()
  const log: AttemptRecord[] = []
  let streak = 0
  for (let attempts = 1; ; attempts++) {
    const attemptStart = now()
    const result = await hooks.attempt()
    for (const f of result.facts) facts.add(f)
    const elapsed = Math.round(now() - started)
    log.push({
      atMs: Math.round(attemptStart - started),
      status: result.status,
      durationMs: Math.round(now() - attemptStart),
      ...(result.status === 'passed' ? {} : { message: attemptMessage(result.message) }),
    })
    const withLog = attempts > 1 ? { attemptLog: log } : {}
    streak = result.status === 'passed' ? streak + 1 : 0
    if (streak >= needed)
      return policy.budgetMs <= 0 && needed === 1 ? result : { ...result, facts: [...facts], attempts, timeToGreenMs: elapsed, ...withLog }
    if (needed === 1 && policy.budgetMs <= 0) return result
    const remaining = policy.budgetMs - elapsed
    const passing = result.status === 'passed'
    // a pass short of the streak always earns the next attempt when there is no budget; else the budget decides
    const another = !hooks.signal?.aborted && (passing ? policy.budgetMs <= 0 || remaining > 0 : isRetryable(result) && remaining > 0)
    if (!another) return streakShort({ ...result, facts: [...facts], attempts, waitedMs: elapsed, ...withLog }, streak, needed)
    // the last pause is cut to the budget, so a final attempt still happens right at its end
    await sleep(policy.budgetMs > 0 ? Math.min(delay, remaining) : delay)
    if (hooks.signal?.aborted)
      return streakShort({ ...result, facts: [...facts], attempts, waitedMs: Math.round(now() - started), ...withLog }, streak, needed)
    if (policy.intervalMs === undefined) delay = Math.min(delay * 2, maxDelay)
    hooks.forget(result.facts)
  }
}

/** One attempt in a check's timeline: when it started (ms after the first), how it ended. */
export interface AttemptRecord {
  atMs: number
  status: CheckResult['status']
  durationMs: number
  message?: string
}

/** A check that passed its last attempt but not the N in a row it needed is not green. */
function streakShort(result: CheckResult, streak: number, needed: number): CheckResult {
  if (result.status !== 'passed' || streak >= needed) return result
  return {
    ...result,
    status: 'failed',
    message: `passed ${streak} of the ${needed} consecutive attempts needed (--consecutive ${needed}) before the wait ran out`,
  }
}

/** An attempt's message in the log: its first line, at most 200 characters. */
function attemptMessage(text: string | undefined): string | undefined {
  return text === undefined ? undefined : firstLine(text).slice(0, 200)
}

export interface CheckPolicyOptions {
  /** `--wait` in ms (0: no waiting). */
  waitMs: number
  /** `--interval`, `--consecutive`, `--initial-delay`. */
  pacing?: WaitPacing
  /** Drops cached facts before a retry (the host's FactBatcher.forget). */
  forget(facts: readonly string[]): void
  /** The run's signal: a stopped run makes no further attempt. */
  signal?: AbortSignal
}

/** One check under its wait budget and severity: what the host runner calls per check. */
export async function runCheckWithPolicies(
  check: { waitMs?: number; severity?: 'warn' },
  attempt: () => Promise<CheckResult>,
  options: CheckPolicyOptions,
): Promise<CheckResult> {
  // a warn check never gates, so it is not waited for unless it asks with its own budget
  const budgetMs = check.waitMs ?? (check.severity === 'warn' ? 0 : options.waitMs)
  const result = await runWithWait(
    { budgetMs, ...options.pacing },
    { attempt, forget: options.forget, ...(options.signal ? { signal: options.signal } : {}) },
  )
  return applySeverity(result, check.severity)
}

/** A pause that ends early (and leaves no timer behind) when the run is stopped. */
function pause(ms: number, signal?: AbortSignal): Promise<void> {
  if (signal?.aborted) return Promise.resolve()
  return new Promise<void>(resolve => {
    const done = () => {
      clearTimeout(timer)
      signal?.removeEventListener('abort', done)
      resolve()
    }
    const timer = setTimeout(done, ms)
    signal?.addEventListener('abort', done, { once: true })
  })
}
