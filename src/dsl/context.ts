// The host a check is running on. Checks of one host run concurrently inside one
// AsyncLocalStorage scope, so resources find their host without it being passed around.
import { AsyncLocalStorage } from 'node:async_hooks'
import type { HostSpec } from '../model.ts'
import type { Transport } from '../transports/transport.ts'
import type { FactBatcher } from '../probe/batcher.ts'
import type { FactRequest } from '../probe/fact.ts'

export interface HostContext {
  host: HostSpec
  transport: Transport
  facts: FactBatcher
  /** Limit for each fact on the host and each HTTP request, in ms (`--timeout`). */
  timeoutMs: number
  /** When set (verify snapshot / compare), every fact answer by key, as JSON would hold it. */
  factLog?: Map<string, unknown>
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
  if (ctx.factLog) answer.then((value) => ctx.factLog!.set(request.key, value), () => {})
  return answer
}
