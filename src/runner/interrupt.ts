// Stopping a run on SIGINT / SIGTERM without losing it: the first signal aborts the run's
// AbortSignal, so every host stops where it is, marks what did not finish as `interrupted`,
// closes its connection, and the CLI still writes its reports and exits 2. A second signal,
// or a shutdown that hangs, exits at once.
import { ExitCode, type CheckResult, type RunResult } from '../model.ts'
import { DeadlineError } from '../errors.ts'
import { checkResult, type DeclaredCheck } from './check-result.ts'

const INTERRUPT_SIGNALS = ['SIGINT', 'SIGTERM'] as const
/** How long an interrupted run may take to close connections and write its reports. */
const SHUTDOWN_GRACE_MS = 10_000

export interface Interrupt {
  /** Aborted with the signal's name as reason. */
  readonly signal: AbortSignal
  /** The signal that stopped the run, once one has. */
  readonly reason: string | undefined
  /** Stops watching; a signal from now on acts as if verify never listened. */
  dispose(): void
}

interface Watch {
  controller: AbortController
  stderr: NodeJS.WritableStream
}

let current: Watch | undefined
let installed = false

/** Starts watching for SIGINT/SIGTERM for the run that is about to start (one at a time). */
export function watchInterrupts(stderr: NodeJS.WritableStream = process.stderr): Interrupt {
  const watch: Watch = { controller: new AbortController(), stderr }
  current = watch
  if (!installed) {
    installed = true
    for (const name of INTERRUPT_SIGNALS) process.on(name, onSignal)
  }
  return {
    signal: watch.controller.signal,
    get reason() {
      return watch.controller.signal.aborted ? String(watch.controller.signal.reason) : undefined
    },
    dispose() {
      if (current !== watch) return
      // a leftover handle (a spec's own timer) is named and cut short by the CLI's exit watch (live-handles.ts)
      current = undefined
    },
  }
}

function onSignal(name: NodeJS.Signals): void {
  const watch = current
  if (!watch) {
    // no run in progress: behave as if we had never listened
    for (const sig of INTERRUPT_SIGNALS) process.removeListener(sig, onSignal)
    installed = false
    process.kill(process.pid, name)
    return
  }
  if (watch.controller.signal.aborted) {
    watch.stderr.write(`verify: ${name} again: exiting now, without reports\n`)
    process.exit(ExitCode.HostError)
  }
  watch.stderr.write(`verify: ${name}: stopping; unfinished checks are reported as interrupted (${name} again to exit at once)\n`)
  watch.controller.abort(name)
  setTimeout(() => {
    if (current !== watch) return // the reports were written; the exit is on its way
    watch.stderr.write(`verify: still stopping ${SHUTDOWN_GRACE_MS / 1000}s after ${name}; exiting without reports\n`)
    process.exit(ExitCode.HostError)
  }, SHUTDOWN_GRACE_MS).unref()
}

/** What a check that did not finish says. */
export function interruptedMessage(signal: AbortSignal): string {
  return `run interrupted by ${String(signal.reason ?? 'a signal')} before this check finished`
}

/** The result of a check that was still running (or never started) when the run was stopped (by a signal, or by --deadline: runner/deadline.ts). */
export function interruptedCheck(check: DeclaredCheck, signal: AbortSignal, durationMs = 0): CheckResult {
  const deadline = signal.reason instanceof DeadlineError ? signal.reason : undefined
  return checkResult(check, {
    status: 'error',
    errorKind: deadline ? 'deadline' : 'interrupted',
    message: deadline ? deadline.message : interruptedMessage(signal),
    durationMs,
  })
}

/** `work`, or `onInterrupt()` as soon as the signal aborts, whichever comes first (work is then left to settle unobserved). */
export function untilInterrupted<T>(signal: AbortSignal | undefined, work: Promise<T>, onInterrupt: () => T | Promise<T>): Promise<T> {
  if (!signal) return work
  work.catch(() => {})
  if (signal.aborted) return Promise.resolve().then(onInterrupt)
  return new Promise<T>((resolve, reject) => {
    const stop = onAbort(signal, () => void Promise.resolve().then(onInterrupt).then(resolve, reject))
    // once the work is done its waiter goes: a later abort must not run onInterrupt (it would
    // close a finished host's transport), and nothing of a finished host may stay reachable
    work.then(
      value => {
        stop()
        resolve(value)
      },
      (error: unknown) => {
        stop()
        reject(error)
      },
    )
  })
}

// One listener per signal, however many checks wait on it (a listener per check would trip
// Node's MaxListeners warning on stderr with more than 10 checks); each waiter leaves the set
// when its work ends, so a finished host's checks are not kept alive until the run ends.
const waiters = new WeakMap<AbortSignal, Set<() => void>>()

/** Works still waiting on the signal (for tests: a finished one must not be among them). */
export function waitersOn(signal: AbortSignal): number {
  return waiters.get(signal)?.size ?? 0
}

function onAbort(signal: AbortSignal, waiter: () => void): () => void {
  let set = waiters.get(signal)
  if (!set) {
    const all = (set = new Set())
    waiters.set(signal, all)
    signal.addEventListener(
      'abort',
      () => {
        for (const w of [...all]) w()
        all.clear()
      },
      { once: true },
    )
  }
  set.add(waiter)
  return () => set.delete(waiter)
}

/** Records the interruption on the result: exit code at least 2, whatever finished before it. */
export function markInterrupted(result: RunResult, interrupt: Pick<Interrupt, 'reason'>): RunResult {
  const reason = interrupt.reason
  if (!reason) return result
  const exitCode = Math.max(result.exitCode, ExitCode.HostError) as RunResult['exitCode']
  return { ...result, interrupted: reason, exitCode }
}
