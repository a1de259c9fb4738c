// Verifies one host: collect its checks, connect once, run every check concurrently
// (so their facts batch into one round trip), then close. Never throws: every outcome
// becomes part of the HostResult.
import type { HostSpec, HostResult, CheckResult, ErrorKind } from '../model.ts'
import { VerifyError } from '../errors.ts'
import { runInHost, type HostContext } from '../dsl/context.ts'
import { collectChecks, checkId, type CollectedCheck, type LoadedSpec } from '../dsl/registry.ts'
import { FactBatcher } from '../probe/batcher.ts'
import type { Transport } from '../transports/transport.ts'
import { disposeHttp } from '../resources/http.ts'
import { describeFailure, runCheck } from './check.ts'

export interface HostRunOptions {
  /** Per fact on the host and per HTTP request (`--timeout`). */
  timeoutSec: number
  /** Whole-check limit: a check waiting longer errors with a timeout. */
  checkTimeoutMs: number
  maxBytes: number
  createTransport(host: HostSpec): Transport
}

export async function verifyHost(host: HostSpec, specs: readonly LoadedSpec[], options: HostRunOptions): Promise<HostResult> {
  const started = performance.now()
  const { checks, collectErrors } = collectAll(host, specs)
  const transport = options.createTransport(host)
  const summary = { name: host.name, address: host.address, port: host.port, user: host.user, transport: host.transport, groups: host.groups }
  try {
    await transport.connect()
  } catch (error) {
    const { kind, message } = hostError(error)
    return {
      host: summary,
      status: 'error',
      error: { kind, message },
      checks: [...collectErrors, ...checks.map((c) => erroredCheck(c, kind, message))],
      timings: { connectMs: ms(started), totalMs: ms(started) },
      execChannels: transport.execCount,
    }
  }
  const connectMs = ms(started)
  const facts = new FactBatcher(transport, { timeoutSec: options.timeoutSec, maxBytes: options.maxBytes })
  const ctx: HostContext = { host, transport, facts, timeoutMs: options.timeoutSec * 1000 }
  try {
    const results = await runInHost(ctx, () => Promise.all(checks.map((c) => runCheck(c, options.checkTimeoutMs))))
    const lost = results.find((r) => r.errorKind === 'unreachable')
    return {
      host: summary,
      status: lost ? 'error' : 'verified',
      error: lost ? { kind: 'unreachable', message: lost.message ?? 'connection lost' } : undefined,
      checks: [...collectErrors, ...results],
      timings: { connectMs, checksMs: ms(started) - connectMs, totalMs: ms(started) },
      execChannels: transport.execCount,
    }
  } finally {
    facts.close()
    await disposeHttp(ctx)
    await transport.close()
  }
}

function collectAll(host: HostSpec, specs: readonly LoadedSpec[]): { checks: CollectedCheck[]; collectErrors: CheckResult[] } {
  const checks: CollectedCheck[] = []
  const collectErrors: CheckResult[] = []
  for (const spec of specs) {
    const collected = collectChecks(spec, host)
    checks.push(...collected.checks)
    for (const e of collected.errors) {
      const outcome = describeFailure(e.error)
      collectErrors.push({
        id: checkId(e.file, e.path),
        file: e.file,
        line: e.line,
        path: e.path,
        status: 'error',
        errorKind: 'spec',
        message: `describe body threw while collecting checks: ${outcome.message}`,
        durationMs: 0,
        facts: [],
      })
    }
  }
  return { checks, collectErrors }
}

function erroredCheck(check: CollectedCheck, kind: ErrorKind, message: string): CheckResult {
  return { id: check.id, file: check.file, line: check.line, path: check.path, status: 'error', errorKind: kind, message, durationMs: 0, facts: [] }
}

function hostError(error: unknown): { kind: ErrorKind; message: string } {
  if (error instanceof VerifyError) return { kind: error.kind, message: error.message }
  return { kind: 'unreachable', message: error instanceof Error ? error.message : String(error) }
}

function ms(since: number): number {
  return Math.round(performance.now() - since)
}
