// --max-failing-hosts: a canary or a wave may pass with a tolerated number of bad hosts.
// Failing hosts (a failed check, or not fully verified) within the threshold make the run
// exit 0; beyond it, the exit code is the strict one. Config errors are never tolerated.
import { ConfigError } from '../errors.ts'
import { ExitCode, type HostResult, type RunResult } from '../model.ts'

export interface Threshold {
  /** As written, for the report. */
  text: string
  count?: number
  percent?: number
}

/** `N` (hosts) or `P%` (of the hosts in the run, rounded down). */
export function parseThreshold(text: string): Threshold {
  const trimmed = text.trim()
  const count = /^\d+$/.exec(trimmed)
  if (count) return { text: trimmed, count: Number(trimmed) }
  const percent = /^(\d+(?:\.\d+)?)%$/.exec(trimmed)
  if (percent && Number(percent[1]) <= 100) return { text: trimmed, percent: Number(percent[1]) }
  throw new ConfigError(`--max-failing-hosts "${text}": expected a host count (2) or a percentage of the hosts (10%)`)
}

export function allowedFailures(threshold: Threshold, hosts: number): number {
  if (threshold.count !== undefined) return threshold.count
  // a tiny epsilon so 10% of 30 is 3, not 2.9999…
  return Math.floor(((threshold.percent ?? 0) * hosts) / 100 + 1e-9)
}

/** A host that failed a check or could not be verified (skipped-only hosts are not failing). */
export function isFailingHost(host: HostResult): boolean {
  return host.status === 'error' || host.checks.some(c => c.status === 'failed' || c.status === 'error')
}

/** The run with the threshold applied: `gate` filled in, and exit 0 when the failures are tolerated. */
export function applyThreshold(run: RunResult, threshold: Threshold): RunResult {
  const strictExitCode = run.exitCode
  const failingHosts = run.hosts.filter(isFailingHost).map(h => h.host.name)
  const allowed = allowedFailures(threshold, run.hosts.length)
  // only host outcomes are tolerated: config errors and "nothing verified" keep exit 3
  const tolerable = strictExitCode === ExitCode.Failed || strictExitCode === ExitCode.HostError
  const tolerated = tolerable && failingHosts.length <= allowed
  return {
    ...run,
    exitCode: tolerated ? ExitCode.Ok : strictExitCode,
    gate: { maxFailingHosts: threshold.text, allowed, failingHosts, tolerated, strictExitCode },
  }
}
