// --wait: a check that fails is run again, with fresh facts, until it passes or its budget
// runs out (exponential backoff), so a service still warming up after a restart is waited for
// instead of failing the gate; the result says when each check went green.
import type { CheckResult, ErrorKind } from '../model.ts'
import { durationMs } from '../duration.ts'
import { applySeverity } from './severity.ts'

export interface WaitPolicy {
  /** Budget per check, from the host's first attempt; 0 = no waiting (one attempt). */
  budgetMs: number
  /** First pause between attempts; doubles up to maxDelayMs. */
  initialDelayMs?: number
  maxDelayMs?: number
}

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
 * Runs attempts until one passes or the budget is spent. The result is the last attempt's,
 * with `attempts`, and `timeToGreenMs` (from the first attempt's start) when it went green.
 */
export async function runWithWait(policy: WaitPolicy, hooks: AttemptHooks): Promise<CheckResult> {
  const now = hooks.now ?? (() => performance.now())
  const sleep = hooks.sleep ?? ((ms: number) => pause(ms, hooks.signal))
  const started = now()
  let delay = policy.initialDelayMs ?? DEFAULT_INITIAL_DELAY_MS
  const maxDelay = policy.maxDelayMs ?? DEFAULT_MAX_DELAY_MS
  const facts = new Set<string>()
  for (let attempts = 1; ; attempts++) {
    const result = await hooks.attempt()
    for (const f of result.facts) facts.add(f)
    const elapsed = Math.round(now() - started)
    if (policy.budgetMs <= 0) return result
    if (result.status === 'passed') return { ...result, facts: [...facts], attempts, timeToGreenMs: elapsed }
    const remaining = policy.budgetMs - elapsed
    if (!isRetryable(result) || remaining <= 0 || hooks.signal?.aborted) return { ...result, facts: [...facts], attempts, waitedMs: elapsed }
    // the last pause is cut to the budget, so a final attempt still happens right at its end
    await sleep(Math.min(delay, remaining))
    if (hooks.signal?.aborted) return { ...result, facts: [...facts], attempts, waitedMs: Math.round(now() - started) }
    delay = Math.min(delay * 2, maxDelay)
    hooks.forget(result.facts)
  }
}

/** A check's own budget (`it(title, { wait: '2m' }, fn)`) wins over `--wait`. */
export function budgetFor(checkWait: number | string | undefined, runWaitMs: number): number {
  return checkWait === undefined ? runWaitMs : durationMs(checkWait)
}

export interface CheckPolicyOptions {
  /** `--wait` in ms (0: no waiting). */
  waitMs: number
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
  const result = await runWithWait({ budgetMs }, { attempt, forget: options.forget, ...(options.signal ? { signal: options.signal } : {}) })
  return applySeverity(result, check.severity)
}

/** A pause that ends early (and leaves no timer behind) when the run is stopped. */
function pause(ms: number, signal?: AbortSignal): Promise<void> {
  if (signal?.aborted) return Promise.resolve()
  return new Promise<void>((resolve) => {
    const done = () => {
      clearTimeout(timer)
      signal?.removeEventListener('abort', done)
      resolve()
    }
    const timer = setTimeout(done, ms)
    signal?.addEventListener('abort', done, { once: true })
  })
}
