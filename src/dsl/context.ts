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
}

/** Per-check scope: which facts the check read, for the report. */
export interface CheckScope {
  factsRead: Set<string>
}

const hostStorage = new AsyncLocalStorage<HostContext>()
const checkStorage = new AsyncLocalStorage<CheckScope>()

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
  return currentHost().facts.get(request)
}
