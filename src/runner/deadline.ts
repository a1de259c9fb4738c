// The hard bound on a whole run (`--deadline`): when it passes, the run's signal aborts like an
// interrupt, so every host stops where it is, what did not finish becomes `error: deadline`, the
// connections (and the remote processes on them) are stopped, and the reports are still written.
import { DeadlineError } from '../errors.ts'
import { ExitCode, type RunResult } from '../model.ts'
import { seconds } from '../lib/format.ts'

/** The default never goes below this: long enough that only a stuck run meets it. */
export const DEADLINE_FLOOR_MS = 15 * 60_000
/** Per wave of hosts on top of its connect and check limits: closing, HTTP, a slow spec load. */
const WAVE_SLACK_MS = 10_000
/** Stopping takes about a second (closing waits 1 s at most); a run still stopping after this is stuck. */
const STUCK_AFTER_MS = 5_000

export interface DeadlineInputs {
  hosts: number
  concurrency: number
  connectTimeoutMs: number
  checkTimeoutMs: number
  waitMs?: number
}

/**
 * The documented default: 15 minutes, or more for a fleet whose own limits add up to more:
 * ⌈hosts / concurrency⌉ waves × (connect timeout + check timeout + --wait + 10 s).
 */
export function defaultDeadlineMs(inputs: DeadlineInputs): number {
  const waves = Math.ceil(Math.max(1, inputs.hosts) / Math.max(1, inputs.concurrency))
  const perWave = inputs.connectTimeoutMs + inputs.checkTimeoutMs + (inputs.waitMs ?? 0) + WAVE_SLACK_MS
  return Math.max(DEADLINE_FLOOR_MS, waves * perWave)
}

export interface RunDeadline {
  /** Aborts when the deadline passes (reason: a DeadlineError) or when `outer` aborts (its reason). */
  readonly signal: AbortSignal
  /** The deadline, ms from the process start. */
  readonly atMs: number
  readonly reached: boolean
  dispose(): void
}

/** Starts the clock for a deadline counted from the process start, as a CI job's own timeout is. */
export function startDeadline(deadlineMs: number, outer?: AbortSignal, stderr: NodeJS.WritableStream = process.stderr): RunDeadline {
  const controller = new AbortController()
  let stuck: NodeJS.Timeout | undefined
  const timer = setTimeout(
    () => {
      controller.abort(new DeadlineError(`the run's --deadline of ${minutesOrSeconds(deadlineMs)} passed before this finished`))
      // the bound must hold even if stopping hangs: better no report than a job that never ends
      stuck = setTimeout(() => {
        stderr.write(`verify: still stopping ${STUCK_AFTER_MS / 1000}s after --deadline; exiting without reports\n`)
        process.exit(ExitCode.HostError)
      }, STUCK_AFTER_MS)
      stuck.unref()
    },
    Math.max(0, deadlineMs - performance.now()),
  )
  const signal = outer ? AbortSignal.any([outer, controller.signal]) : controller.signal
  return {
    signal,
    atMs: deadlineMs,
    get reached() {
      return controller.signal.aborted
    },
    dispose: () => {
      clearTimeout(timer)
      clearTimeout(stuck)
    },
  }
}

/** Whether the run's signal was aborted by the deadline rather than by a signal. */
export function isDeadline(reason: unknown): reason is DeadlineError {
  return reason instanceof DeadlineError
}

/** Records the deadline on the result: exit code at least 2, whatever finished before it. */
export function markDeadline(result: RunResult, deadline: Pick<RunDeadline, 'reached' | 'atMs'>): RunResult {
  if (!deadline.reached) return result
  const exitCode = Math.max(result.exitCode, ExitCode.HostError) as RunResult['exitCode']
  return { ...result, deadlineReachedMs: deadline.atMs, exitCode }
}

/** Whole minutes as `15m`, else seconds. */
function minutesOrSeconds(ms: number): string {
  return ms % 60_000 === 0 ? `${ms / 60_000}m` : seconds(ms)
}
