// The host a check is running on. Checks of one host run concurrently inside one
// AsyncLocalStorage scope, so resources find their host without it being passed around.
import { AsyncLocalStorage } from 'node:async_hooks'
import type { HostSpec } from '../model.ts'
import type { Transport } from '../transports/transport.ts'
import type { FactBatcher } from '../probe/batcher.ts'
import type { FactRequest } from '../probe/fact.ts'
import type { SecretRedactor } from '../secrets/redactor.ts'

export interface HostContext {
  host: HostSpec
  transport: Transport
  facts: FactBatcher
  /** Limit for each fact on the host and each HTTP request, in ms (`--timeout`). */
  timeoutMs: number
  /** When set (verify snapshot / compare), every fact answer by key, as JSON would hold it. */
  factLog?: Map<string, unknown>
  /** The run's secret values: matchers re-run on redacted copies, recorded facts are redacted as they are recorded. */
  secrets?: SecretRedactor
  /** `--dry-run`: HTTP requests are recorded here and never sent. */
  dryRun?: DryRunLog
}

/** What a dry run would send for a host, recorded instead of sent. */
export interface DryRunLog {
  http: Array<{ method: string; url: string; via: 'runner' | 'host'; headers: Record<string, string>; body?: boolean }>
}

/** Thrown by a resource under --dry-run once it has recorded its request: the check stops there. */
export class DryRunStop extends Error {
  constructor(what: string) {
    super(`dry run: ${what} not sent`)
    this.name = 'DryRunStop'
  }
}

/** Per-check scope: which facts the check read, for the report. */
export interface CheckScope {
  factsRead: Set<string>
}

// Shared by every copy of this module in the process (a spec package may bring its own copy
// of postdeploy-verify), so its resources find the host the runner set.
const STORAGE_KEY = Symbol.for('postdeploy-verify.context.v1')
const storages = ((globalThis as Record<symbol, unknown>)[STORAGE_KEY] ??= {
  host: new AsyncLocalStorage<HostContext>(),
  check: new AsyncLocalStorage<CheckScope>(),
}) as { host: AsyncLocalStorage<HostContext>; check: AsyncLocalStorage<CheckScope> }
const hostStorage = storages.host
const checkStorage = storages.check

export function runInHost<T>(ctx: HostContext, fn: () => T): T {
  return hostStorage.run(ctx, fn)
}

export function runInCheck<T>(scope: CheckScope, fn: () => T): T {
  return checkStorage.run(scope, fn)
}

/** The current host; resources call this. Throws when used outside an `it` block. */
export function currentHost(): HostContext {
  const ctx = hostStorage.getStore()
  if (!ctx) throw new Error('resources (file, command, http, …) can only be used inside an it() block while verify runs it')
  return ctx
}

/** Records that the current check read a fact (shown in the JSON report). */
export function noteFact(key: string): void {
  checkStorage.getStore()?.factsRead.add(key)
}

/** Asks the current host for a fact (batched with every other check's) and notes it for the report. */
export function readFact<T>(request: FactRequest<T>): Promise<T> {
  noteFact(request.key)
  const ctx = currentHost()
  const answer = ctx.facts.get(request)
  if (ctx.factLog)
    answer.then(
      value => recordFact(ctx, request.key, value),
      () => {},
    )
  return answer
}

/** The run's secrets, when a check is running on a host (undefined elsewhere: nothing to hide). */
export function currentSecrets(): SecretRedactor | undefined {
  return hostStorage.getStore()?.secrets
}

/** Keeps a fact's answer for snapshot/compare, with secrets already replaced in its key and value. */
function recordFact(ctx: HostContext, key: string, value: unknown): void {
  const secrets = ctx.secrets
  ctx.factLog!.set(secrets ? secrets.text(key) : key, secrets ? secrets.value(value) : value)
}

/**
 * Per-host state a resource keeps for one host's run (pooled HTTP connections, request
 * accounting). The runner ends every session with the host and reads their figures, without
 * knowing which resources made them: the runner imports no resource.
 */
export interface HostSession {
  /** Closes what the session holds; called once, when the host's run ends. */
  dispose(): Promise<void>
  /** Figures for the host's result, when the session has any. */
  figures?(): HostSessionFigures
}

export interface HostSessionFigures {
  /** Summed duration of the host's HTTP requests, ms. */
  httpMs?: number
  /** HTTP requests verify made for the host that got a response. */
  httpRequests?: number
}

const sessions = new WeakMap<HostContext, Map<string, HostSession>>()

/** The host's session under `key`, created on first use. */
export function hostSession<S extends HostSession>(ctx: HostContext, key: string, create: () => S): S {
  let byKey = sessions.get(ctx)
  if (!byKey) sessions.set(ctx, (byKey = new Map()))
  let session = byKey.get(key)
  if (!session) byKey.set(key, (session = create()))
  return session as S
}

/** The host's session under `key` when one was created; never creates one. */
export function existingHostSession<S extends HostSession>(ctx: HostContext, key: string): S | undefined {
  return sessions.get(ctx)?.get(key) as S | undefined
}

/** Ends every session of the host (the runner, when the host's run ends). */
export async function endHostSessions(ctx: HostContext): Promise<void> {
  const byKey = sessions.get(ctx)
  if (!byKey) return
  sessions.delete(ctx)
  await Promise.all([...byKey.values()].map(s => s.dispose().catch(() => undefined)))
}

/** The figures of every session of the host, summed. */
export function hostSessionFigures(ctx: HostContext): HostSessionFigures {
  const out: HostSessionFigures = {}
  for (const session of sessions.get(ctx)?.values() ?? []) {
    for (const [name, value] of Object.entries(session.figures?.() ?? {}) as Array<[keyof HostSessionFigures, number]>)
      out[name] = (out[name] ?? 0) + value
  }
  return out
}
