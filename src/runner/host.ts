// Verifies one host from its plan: connect once, run every check that applies concurrently
// (so their facts batch into one round trip), then close; a host with nothing to run is not
// connected to. Never throws: every outcome becomes part of the HostResult.
import type { HostSpec, HostResult, HostTimings, CheckResult, ErrorKind } from '../model.ts'
import { DeadlineError, InterruptedError, VerifyError } from '../errors.ts'
import { endHostSessions, hostSessionFigures, runInHost, type HostContext } from '../dsl/context.ts'
import type { CollectedCheck } from '../dsl/registry/types.ts'
import { FactBatcher } from '../probe/batcher.ts'
import type { Transport } from '../transports/transport.ts'
import { runCheck } from './check.ts'
import { runCheckWithPolicies, type WaitPacing } from './wait.ts'
import { noChecksApply, type HostPlan } from './plan.ts'
import { interruptedCheck, untilInterrupted } from './interrupt.ts'
import { capResultTexts, noteTruncatedFacts } from './output-limits.ts'
import { checkResult } from './check-result.ts'
import type { SecretRedactor } from '../secrets/redactor.ts'

export interface HostRunOptions {
  /** Per fact on the host and per HTTP request (`--timeout`). */
  timeoutSec: number
  /** Whole-check limit: a check waiting longer errors with a timeout. */
  checkTimeoutMs: number
  maxBytes: number
  createTransport(host: HostSpec): Transport
  /** `--wait` in ms: a failing check is retried with fresh facts until it passes or this runs out. */
  waitMs?: number
  /** `--interval`, `--consecutive`, `--initial-delay`: how attempts are paced and when a check is green. */
  pacing?: WaitPacing
  /** Keep every fact's answer in the HostResult (`verify snapshot`, `verify compare`). */
  recordFacts?: boolean
  /** Aborted on SIGINT/SIGTERM or at --deadline: what has not finished is reported `interrupted` / `deadline`, and the host's connection closed. */
  signal?: AbortSignal
  /** The run's secret values: replaced in every check result and host error as it is made. */
  secrets?: SecretRedactor
}

// A stopped run does not wait long for a goodbye: a frozen host would never send one.
const STOPPED_CLOSE_GRACE_MS = 1_000

export async function verifyHost(plan: HostPlan, options: HostRunOptions): Promise<HostResult> {
  const { host } = plan
  const started = performance.now()
  const checks = plan.entries.flatMap(e => (e.check ? [e.check] : []))
  const summary = {
    name: host.name,
    address: host.address,
    port: host.port,
    user: host.user,
    transport: host.transport,
    groups: host.groups,
  }
  if (checks.length === 0) {
    // nothing to run: no connection; flagged when nothing (not even a spec error) concerns the host
    const flagged = noChecksApply(plan) ? { noChecksApply: true } : {}
    return { host: summary, status: 'verified', checks: inOrder(plan, []), timings: { totalMs: 0 }, execChannels: 0, ...flagged }
  }
  const { signal } = options
  const transport = options.createTransport(host)
  try {
    // interrupted (even before its turn came): close whatever the connect opened, run nothing
    await untilInterrupted(signal, signal?.aborted ? Promise.resolve() : transport.connect(), async () => {
      await transport.close({ graceMs: 0 }).catch(() => {})
      if (signal!.reason instanceof DeadlineError) throw signal!.reason
      throw new InterruptedError(`run interrupted by ${String(signal!.reason)} before this host was verified`)
    })
  } catch (error) {
    // a failed or abandoned connect may still hold a route, a ProxyCommand or a late handshake
    await transport.close({ graceMs: 0 }).catch(() => {})
    const { kind, message } = hostError(error, options.secrets)
    return {
      host: summary,
      status: 'error',
      error: { kind, message },
      checks: inOrder(
        plan,
        checks.map(c => erroredCheck(c, kind, message)),
      ),
      timings: { connectMs: ms(started), totalMs: ms(started), ...connectPhases(transport) },
      execChannels: transport.execCount,
    }
  }
  const connectMs = ms(started)
  const facts = new FactBatcher(transport, { timeoutSec: options.timeoutSec, maxBytes: options.maxBytes })
  const ctx: HostContext = {
    host,
    transport,
    facts,
    timeoutMs: options.timeoutSec * 1000,
    ...(options.recordFacts ? { factLog: new Map() } : {}),
    ...(options.secrets ? { secrets: options.secrets } : {}),
  }
  try {
    const policy = {
      waitMs: options.waitMs ?? 0,
      ...(options.pacing ? { pacing: options.pacing } : {}),
      forget: (keys: readonly string[]) => facts.forget(keys),
      ...(signal ? { signal } : {}),
    }
    const checksStarted = performance.now()
    const outcomes = await runInHost(ctx, () =>
      Promise.all(
        checks.map(c =>
          untilInterrupted(
            signal,
            runCheckWithPolicies(c, () => runCheck(c, options.checkTimeoutMs), policy),
            () => interruptedCheck(c, signal!, ms(checksStarted)),
          ),
        ),
      ),
    )
    // secrets out first (the wait policy needed the facts' real keys), so no cap can cut one in half
    const redact = redactResult(options.secrets)
    const truncated = new Map([...facts.truncated].map(([key, bytes]) => [redact.text(key), bytes]))
    const results = outcomes.map(r => noteTruncatedFacts(capResultTexts(redact.result(r)), truncated))
    // a lost connection or an interrupted run: the host was not fully verified
    const lost = results.find(r => r.errorKind === 'unreachable' || r.errorKind === 'interrupted' || r.errorKind === 'deadline')
    const { httpMs, httpRequests } = hostSessionFigures(ctx)
    return {
      host: summary,
      status: lost ? 'error' : 'verified',
      error: lost ? { kind: lost.errorKind!, message: lost.message ?? 'connection lost' } : undefined,
      checks: inOrder(plan, results),
      timings: {
        connectMs,
        checksMs: ms(started) - connectMs,
        totalMs: ms(started),
        ...connectPhases(transport),
        rounds: facts.rounds,
        probeMs: Math.round(facts.probeMs),
        ...(httpMs ? { httpMs: Math.round(httpMs) } : {}),
      },
      execChannels: transport.execCount,
      ...(httpRequests ? { httpRequests } : {}),
      ...(ctx.factLog ? { recordedFacts: recordedFacts(ctx.factLog) } : {}),
    }
  } finally {
    facts.close()
    await endHostSessions(ctx)
    await transport.close(signal?.aborted ? { graceMs: STOPPED_CLOSE_GRACE_MS } : undefined)
  }
}

/** The plan's entries in declaration order, each run check replaced by its result. */
function inOrder(plan: HostPlan, results: CheckResult[]): CheckResult[] {
  let next = 0
  return plan.entries.map(e => e.result ?? results[next++]!)
}

function erroredCheck(check: CollectedCheck, kind: ErrorKind, message: string): CheckResult {
  return checkResult(check, { status: 'error', errorKind: kind, message })
}

function hostError(error: unknown, secrets: SecretRedactor | undefined): { kind: ErrorKind; message: string } {
  const redact = redactResult(secrets)
  if (error instanceof VerifyError) return { kind: error.kind, message: redact.text(error.message) }
  return { kind: 'unreachable', message: redact.text(error instanceof Error ? error.message : String(error)) }
}

/** Secrets replaced in texts and check results (every string: message, expected, actual, fact keys, warning). */
function redactResult(secrets: SecretRedactor | undefined): { text(t: string): string; result(r: CheckResult): CheckResult } {
  if (!secrets || secrets.empty) return { text: t => t, result: r => r }
  return { text: t => secrets.text(t), result: r => secrets.value(r) }
}

function connectPhases(transport: Transport): Pick<HostTimings, 'connect'> {
  const phases = transport.connectTimings
  return phases && Object.keys(phases).length > 0 ? { connect: phases } : {}
}

function ms(since: number): number {
  return Math.round(performance.now() - since)
}

/** Fact answers as JSON holds them (Dates as ISO text), sorted by key. */
function recordedFacts(log: Map<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(
    [...log].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([key, value]) => [key, JSON.parse(JSON.stringify(value) ?? 'null')]),
  )
}
