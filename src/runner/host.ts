// Verifies one host from its plan: connect once, run every check that applies concurrently
// (so their facts batch into one round trip), then close; a host with nothing to run is not
// connected to. Never throws: every outcome becomes part of the HostResult.
import type { HostSpec, HostResult, HostTimings, CheckResult, ErrorKind } from '../model.ts'
import { InterruptedError, VerifyError } from '../errors.ts'
import { runInHost, type HostContext } from '../dsl/context.ts'
import type { CollectedCheck } from '../dsl/registry.ts'
import { FactBatcher } from '../probe/batcher.ts'
import type { Transport } from '../transports/transport.ts'
import { disposeHttp, httpRequestCount, httpTimeMs, recordHttpRequests } from '../resources/http.ts'
import { runCheck } from './check.ts'
import { runCheckWithPolicies } from './wait.ts'
import { noChecksApply, type HostPlan } from './plan.ts'
import { interruptedCheck, untilInterrupted } from './interrupt.ts'
import { capResultTexts, noteTruncatedFacts } from './output-limits.ts'

export interface HostRunOptions {
  /** Per fact on the host and per HTTP request (`--timeout`). */
  timeoutSec: number
  /** Whole-check limit: a check waiting longer errors with a timeout. */
  checkTimeoutMs: number
  maxBytes: number
  createTransport(host: HostSpec): Transport
  /** `--wait` in ms: a failing check is retried with fresh facts until it passes or this runs out. */
  waitMs?: number
  /** Keep every fact's answer in the HostResult (`verify snapshot`, `verify compare`). */
  recordFacts?: boolean
  /** Aborted on SIGINT/SIGTERM: what has not finished is reported `interrupted`, and the host's connection closed. */
  signal?: AbortSignal
}

export async function verifyHost(plan: HostPlan, options: HostRunOptions): Promise<HostResult> {
  const { host } = plan
  const started = performance.now()
  const checks = plan.entries.flatMap((e) => (e.check ? [e.check] : []))
  const summary = { name: host.name, address: host.address, port: host.port, user: host.user, transport: host.transport, groups: host.groups }
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
      await transport.close().catch(() => {})
      throw new InterruptedError(`run interrupted by ${String(signal!.reason)} before this host was verified`)
    })
  } catch (error) {
    const { kind, message } = hostError(error)
    return {
      host: summary,
      status: 'error',
      error: { kind, message },
      checks: inOrder(plan, checks.map((c) => erroredCheck(c, kind, message))),
      timings: { connectMs: ms(started), totalMs: ms(started), ...connectPhases(transport) },
      execChannels: transport.execCount,
    }
  }
  const connectMs = ms(started)
  const facts = new FactBatcher(transport, { timeoutSec: options.timeoutSec, maxBytes: options.maxBytes })
  const ctx: HostContext = { host, transport, facts, timeoutMs: options.timeoutSec * 1000, ...(options.recordFacts ? { factLog: new Map() } : {}) }
  try {
    const policy = { waitMs: options.waitMs ?? 0, forget: (keys: readonly string[]) => facts.forget(keys) }
    const checksStarted = performance.now()
    const outcomes = await runInHost(ctx, () =>
      Promise.all(checks.map((c) => untilInterrupted(signal, runCheckWithPolicies(c, () => runCheck(c, options.checkTimeoutMs), policy), () => interruptedCheck(c, signal!, ms(checksStarted))))),
    )
    const results = outcomes.map((r) => noteTruncatedFacts(capResultTexts(r), facts.truncated))
    // a lost connection or an interrupted run: the host was not fully verified
    const lost = results.find((r) => r.errorKind === 'unreachable' || r.errorKind === 'interrupted')
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
        ...(httpTimeMs(ctx) > 0 ? { httpMs: Math.round(httpTimeMs(ctx)) } : {}),
      },
      execChannels: transport.execCount,
      ...httpRequestsMade(ctx),
      ...(ctx.factLog ? { recordedFacts: recordedFacts(ctx.factLog) } : {}),
    }
  } finally {
    facts.close()
    recordHttpRequests(ctx)
    await disposeHttp(ctx)
    await transport.close()
  }
}

/** The plan's entries in declaration order, each run check replaced by its result. */
function inOrder(plan: HostPlan, results: CheckResult[]): CheckResult[] {
  let next = 0
  return plan.entries.map((e) => e.result ?? results[next++]!)
}

function erroredCheck(check: CollectedCheck, kind: ErrorKind, message: string): CheckResult {
  return { id: check.id, file: check.file, line: check.line, path: check.path, status: 'error', errorKind: kind, message, durationMs: 0, facts: [] }
}

function hostError(error: unknown): { kind: ErrorKind; message: string } {
  if (error instanceof VerifyError) return { kind: error.kind, message: error.message }
  return { kind: 'unreachable', message: error instanceof Error ? error.message : String(error) }
}

function connectPhases(transport: Transport): Pick<HostTimings, 'connect'> {
  const phases = transport.connectTimings
  return phases && Object.keys(phases).length > 0 ? { connect: phases } : {}
}

function ms(since: number): number {
  return Math.round(performance.now() - since)
}

/** HTTP requests verify made for this host (status pages count them as accesses too), when any. */
function httpRequestsMade(ctx: HostContext): { httpRequests?: number } {
  const n = httpRequestCount(ctx)
  return n > 0 ? { httpRequests: n } : {}
}

/** Fact answers as JSON holds them (Dates as ISO text), sorted by key. */
function recordedFacts(log: Map<string, unknown>): Record<string, unknown> {
  return Object.fromEntries([...log].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([key, value]) => [key, JSON.parse(JSON.stringify(value) ?? 'null')]))
}
