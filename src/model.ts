// The result model: every reporter (console, JUnit, JSON) is a view of a RunResult.
// Keep it serialisable as-is: `--json` writes it verbatim.

export const SCHEMA_VERSION = 1

/** A host as the runner sees it after inventory resolution. */
export interface HostSpec {
  /** Unique id in this run: inventory name, `local`, or the ad-hoc target as written. */
  name: string
  /** Where to connect (defaults to name). */
  address: string
  port: number
  user?: string
  identityFile?: string
  /** known_hosts file for this host; defaults to ~/.ssh/known_hosts. */
  knownHosts?: string
  /** `local` runs through the local transport (execa), `ssh` through ssh2. */
  transport: 'ssh' | 'local'
  /** Groups this host belongs to, directly or through a parent group, in vars-merge order. */
  groups: string[]
  vars: Record<string, unknown>
  /** Where the host was defined, for error messages: `hosts.yaml:12`. */
  source?: string
}

export type CheckStatus = 'passed' | 'failed' | 'error' | 'skipped'

/** Why a check or host errored: infrastructure, not the expectation. */
export type ErrorKind =
  | 'unreachable' // TCP/SSH connection failed or was lost
  | 'auth' // authentication refused
  | 'host-key' // unknown or changed host key
  | 'timeout' // a fact, request or check ran out of time
  | 'fact' // the host could not provide a fact (missing tool, permission denied, hung)
  | 'http' // an HTTP request failed (not a bad status: that is a value to assert on)
  | 'crash' // the check's own code threw something that is not an assertion
  | 'spec' // the spec failed while collecting checks for this host

export interface CheckResult {
  /** Stable id: `<spec file>::<describe> › <it>`. */
  id: string
  /** Spec file, relative to the working directory. */
  file: string
  /** Line of the `it` in the spec file, when known. */
  line?: number
  /** describe titles from outermost, then the `it` title last. */
  path: string[]
  status: CheckStatus
  durationMs: number
  /** Human message for failed / error / skipped. */
  message?: string
  /** For failed expectations, when the matcher exposes them (already made printable). */
  expected?: string
  actual?: string
  errorKind?: ErrorKind
  /** Keys of the facts this check read, e.g. `file:/apps/blog/current`. */
  facts: string[]
}

export interface HostTimings {
  connectMs?: number
  checksMs?: number
  totalMs: number
}

export interface HostResult {
  host: Pick<HostSpec, 'name' | 'address' | 'port' | 'user' | 'transport' | 'groups'>
  /** verified: every check ran (each passed, failed or errored on its own); error: the host could not be verified. */
  status: 'verified' | 'error'
  /** The host-level error (unreachable, host key, …), when status is error. */
  error?: { kind: ErrorKind; message: string }
  checks: CheckResult[]
  timings: HostTimings
  /** Round trips to the host: exec channels opened for fact gathering. */
  execChannels: number
}

export interface RunSummary {
  hosts: number
  hostsFailed: number
  hostsErrored: number
  checks: number
  passed: number
  failed: number
  errors: number
  skipped: number
}

export interface RunResult {
  schemaVersion: typeof SCHEMA_VERSION
  tool: { name: string; version: string }
  startedAt: string
  finishedAt: string
  durationMs: number
  /** Problems that stopped the run before any host was verified (exit 3). */
  configErrors: string[]
  hosts: HostResult[]
  summary: RunSummary
  exitCode: ExitCode
}

/** The exit-code contract; when several apply, the highest wins. */
export const ExitCode = {
  Ok: 0,
  Failed: 1,
  HostError: 2,
  Usage: 3,
} as const
export type ExitCode = (typeof ExitCode)[keyof typeof ExitCode]

export function summarize(hosts: HostResult[]): RunSummary {
  const s: RunSummary = { hosts: hosts.length, hostsFailed: 0, hostsErrored: 0, checks: 0, passed: 0, failed: 0, errors: 0, skipped: 0 }
  for (const h of hosts) {
    let failed = false
    let errored = h.status === 'error'
    for (const c of h.checks) {
      s.checks++
      if (c.status === 'passed') s.passed++
      else if (c.status === 'failed') { s.failed++; failed = true }
      else if (c.status === 'error') { s.errors++; errored = true }
      else s.skipped++
    }
    if (errored) s.hostsErrored++
    else if (failed) s.hostsFailed++
  }
  return s
}

/** 0 all passed; 1 a check failed; 2 a host or check could not be verified; 3 nothing verified (config). */
export function exitCodeFor(summary: RunSummary, configErrors: string[]): ExitCode {
  if (configErrors.length > 0) return ExitCode.Usage
  if (summary.hosts === 0 || summary.checks === 0) return ExitCode.Usage
  if (summary.hostsErrored > 0 || summary.errors > 0) return ExitCode.HostError
  if (summary.failed > 0) return ExitCode.Failed
  return ExitCode.Ok
}
