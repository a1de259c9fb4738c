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
  /** Where each var got its value, by dotted path (`statusPort`, `db.host`): `hosts.yaml:14` or `--var`. */
  varSources?: Record<string, string>
  /**
   * Connection settings written for this host itself (not defaulted): only these win over
   * ~/.ssh/config. Undefined means every field that is set counts as explicit.
   */
  explicit?: ConnectionField[]
  /** Env var holding a private key's content (CI secrets); never written to disk. */
  identityEnv?: string
  /** Env var holding the key passphrase (default VERIFY_KEY_PASSPHRASE). */
  passphraseEnv?: string
  /** Env var holding the SSH password; a password is never taken from a file or the command line. */
  passwordEnv?: string
  /** Env var holding known_hosts content, read besides the files (default VERIFY_KNOWN_HOSTS). */
  knownHostsEnv?: string
  /** Bastions, as ssh -J takes them: `[user@]host[:port]` comma-separated; `none` disables ssh_config's. */
  proxyJump?: string
  /** Run the probe through sudo as this user. */
  become?: BecomeSpec
}

/** HostSpec fields that say how to connect; `explicit` lists those the inventory wrote for the host itself. */
export type ConnectionField =
  | 'address'
  | 'port'
  | 'user'
  | 'identityFile'
  | 'knownHosts'
  | 'identityEnv'
  | 'passphraseEnv'
  | 'passwordEnv'
  | 'knownHostsEnv'
  | 'proxyJump'

/** Privilege for the probe: `sudo -n -u user`, or `sudo -S` with the password read from an env var. */
export interface BecomeSpec {
  user: string
  passwordEnv?: string
}

/** `waived`: the check failed, and a waivers.yaml entry in force accepts that (it does not fail the gate). */
export type CheckStatus = 'passed' | 'failed' | 'error' | 'skipped' | 'waived'

/** Why a check or host errored: infrastructure, not the expectation. */
export type ErrorKind =
  | 'unreachable' // TCP/SSH connection failed or was lost
  | 'auth' // authentication refused
  | 'host-key' // unknown or changed host key
  | 'timeout' // a fact, request or check ran out of time
  | 'fact' // the host could not provide a fact (missing tool, permission denied, hung)
  | 'http' // an HTTP request failed (not a bad status: that is a value to assert on)
  | 'crash' // verify or a dependency threw something that is not an assertion (a fault of the tool)
  | 'spec' // a bug in the spec: a describe body threw while collecting, or a check's code threw a TypeError/ReferenceError (exit 3)
  | 'interrupted' // the run was stopped (SIGINT/SIGTERM) before this finished
  | 'deadline' // the run's --deadline passed before this finished

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
  /** Facts this check read whose output hit the byte cap (--max-output): the check saw only the start of it. */
  truncatedFacts?: string[]
  /** The check's tags (its own and its describes'), when it has any. */
  tags?: string[]
  /** `file:line` of the it() when a shared module declared it rather than `file` itself. */
  source?: string
  /** `warn`: a failed expectation is reported as `warning` and the check counts as passed (never fails the gate). */
  severity?: 'warn'
  /** A warn-severity check's failure, kept for the report; status is then `passed`. */
  warning?: { message?: string; expected?: string; actual?: string }
  /** Under --wait (or a check's own wait budget): attempts made. */
  attempts?: number
  /** Under --wait: ms from the check's first attempt until the attempt that passed finished. */
  timeToGreenMs?: number
  /** Under --wait: ms spent before giving up (the check never went green). */
  waitedMs?: number
  /** Every attempt when there was more than one (--wait, --consecutive): start (ms after the first), outcome, duration. */
  attemptLog?: Array<{ atMs: number; status: CheckStatus; durationMs: number; message?: string }>
  /**
   * Where a failed check failed: the failing `expect` (or the spec line that threw), with a few
   * lines of source around it (`frame`, already printable: `> 12 |   expect(...)`), when known.
   */
  failedAt?: FailureLocation
  /** The waiver that covers this check: it made a failure `waived`, or (`expired`) no longer does and the check stays failed. */
  waiver?: WaiverNote
}

/** A waivers.yaml entry as a check's result tells it. */
export interface WaiverNote {
  justification: string
  /** `YYYY-MM-DD`: holds through this day, UTC. */
  expires: string
  /** `waivers.yaml:LINE`. */
  source: string
  expired?: boolean
}

/** A place in a spec file, relative to the working directory. */
export interface FailureLocation {
  file: string
  line: number
  column?: number
  /** A code frame around the line, Vitest-style, without colour. */
  frame?: string
}

/** Where connecting to a host spent its time, ms (only the phases the transport went through). */
export interface ConnectTimings {
  /** Waiting for a handshake slot (--connect-rate, --max-handshakes). */
  queueMs?: number
  /** Reading ssh_config for the host (in-process; `ssh -G` where only OpenSSH can tell). */
  resolveMs?: number
  /** Opening the route: bastion hops or a ProxyCommand. */
  routeMs?: number
  /** TCP connect. */
  tcpMs?: number
  /** SSH key exchange and host-key check. */
  handshakeMs?: number
  /** Authentication. */
  authMs?: number
  /** Connection attempts (more than 1: a dropped handshake was retried). */
  attempts?: number
}

export interface HostTimings {
  /** Connecting and authenticating, all phases and retries. */
  connectMs?: number
  /** Running the checks, from connected to the last check done. */
  checksMs?: number
  totalMs: number
  /** The connect, phase by phase (ssh). */
  connect?: ConnectTimings
  /** Round trips of the batched probe: how many, and the time spent in them. */
  rounds?: number
  probeMs?: number
  /** Time in HTTP requests, summed over requests (they can overlap each other and the probe). */
  httpMs?: number
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
  /** HTTP requests verify made for this host's checks (an app's status page counts them as accesses). */
  httpRequests?: number
  /** Every fact's answer by key (only under `verify snapshot` / `verify compare`). */
  recordedFacts?: Record<string, unknown>
  /** No check applies to this host (every one skipped there): nothing verified it, and it was not connected to. */
  noChecksApply?: boolean
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
  /** Hosts on which no check applies (see HostResult.noChecksApply). */
  hostsWithNoChecks?: number
  /** Checks of severity warn that failed (counted as passed). */
  warnings?: number
  /** Errors that are bugs in the spec (errorKind `spec`, also counted in `errors`): exit 3. */
  specErrors?: number
  /** Failed checks a waiver in force accepts (status `waived`, not counted as failed). */
  waived?: number
}

/** Where a run's time went, ms, in order (`--timings` prints them with the hosts' phases). */
export interface RunTimings {
  /** Process start → the run began: Node, the loader, the CLI's modules. */
  startupMs: number
  /** Inventory read and hosts selected. */
  inventoryMs: number
  /** Spec files loaded (TypeScript, through tsx). */
  specsMs: number
  /** Checks planned per host, vars validated. */
  planMs: number
  /** Every host connected and checked. */
  hostsMs: number
  /** Console report and JUnit file written (the JSON file is written last, with this in it). */
  reportMs?: number
  /** Process start → the first connection attempt to a host (overlaps the phases above). */
  firstConnectMs?: number
  /** Process start → the first byte a host sent (its SSH banner). */
  firstByteMs?: number
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
  /** `--max-failing-hosts`: the threshold applied to this run (or to merged shards). */
  gate?: GateResult
  /** How the hosts were narrowed for a rollout wave (`--limit`, `--shard`, `--hosts -`, `--rerun-failed`). */
  selection?: { limit?: string; shard?: string; fromStdin?: boolean; rerunOf?: string; mergedFrom?: string[] }
  /** Where the run's time went (runs that reached the hosts). */
  timings?: RunTimings
  /** What the run was asked to verify, as given: `--hosts`, the inventory files, `--expect-version` (for reports' headers). */
  target?: { hosts?: string; inventory?: string[]; expectVersion?: string }
  /** The signal that stopped the run early (`SIGINT`, `SIGTERM`): unfinished checks are errors of kind `interrupted`, exit ≥ 2. */
  interrupted?: string
  /** `--deadline` (ms from the process start), set when it passed: unfinished checks are errors of kind `deadline`, exit ≥ 2. */
  deadlineReachedMs?: number
  /** The waivers file applied to the run, and its entries that matched no check (warnings). */
  waivers?: { file: string; unmatched: string[] }
}

/** The failure threshold: up to `allowed` hosts may fail or error and the run still passes (exit 0). */
export interface GateResult {
  /** As given: `1` or `10%` (a percentage of the hosts in the run, rounded down). */
  maxFailingHosts: string
  allowed: number
  /** Hosts that failed a check or could not be verified, in run order. */
  failingHosts: string[]
  /** The failing hosts are within the threshold: the run's exit code is 0. */
  tolerated: boolean
  /** The exit code without the threshold. */
  strictExitCode: ExitCode
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
  const s: RunSummary = {
    hosts: hosts.length,
    hostsFailed: 0,
    hostsErrored: 0,
    checks: 0,
    passed: 0,
    failed: 0,
    errors: 0,
    skipped: 0,
    hostsWithNoChecks: 0,
  }
  for (const h of hosts) {
    if (h.noChecksApply) s.hostsWithNoChecks!++
    let failed = false
    let errored = h.status === 'error'
    for (const c of h.checks) {
      s.checks++
      if (c.status === 'passed') s.passed++
      else if (c.status === 'failed') {
        s.failed++
        failed = true
      } else if (c.status === 'error') {
        s.errors++
        errored = true
        if (c.errorKind === 'spec') s.specErrors = (s.specErrors ?? 0) + 1
      } else if (c.status === 'waived') s.waived = (s.waived ?? 0) + 1
      else s.skipped++
    }
    const warned = h.checks.filter(c => c.warning !== undefined).length
    if (warned > 0) s.warnings = (s.warnings ?? 0) + warned
    if (errored) s.hostsErrored++
    else if (failed) s.hostsFailed++
  }
  return s
}

/** 0 all passed; 1 a check failed; 2 a host or check could not be verified; 3 nothing verified (config, or no check ran) or a bug in a spec. */
export function exitCodeFor(summary: RunSummary, configErrors: string[]): ExitCode {
  if (configErrors.length > 0 || (summary.specErrors ?? 0) > 0) return ExitCode.Usage
  // every check skipped verifies nothing, as no check at all does
  if (summary.hosts === 0 || summary.checks === summary.skipped) return ExitCode.Usage
  if (summary.hostsErrored > 0 || summary.errors > 0) return ExitCode.HostError
  if (summary.failed > 0) return ExitCode.Failed
  return ExitCode.Ok
}
