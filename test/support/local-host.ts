// Runs resource code inside a host context backed by the local transport, for unit tests
// of resources (the end-to-end tests run the same resources through the real sshd).
import { runInHost, type HostContext } from '../../src/dsl/context.ts'
import type { HostSpec } from '../../src/model.ts'
import { FactBatcher } from '../../src/probe/batcher.ts'
import { LocalTransport } from '../../src/transports/local.ts'

export const LOCAL_HOST: HostSpec = { name: 'local', address: 'localhost', port: 22, transport: 'local', groups: [], vars: {} }

export async function onLocalHost<T>(
  fn: () => Promise<T>,
  timeoutSec = 5,
  host: HostSpec = LOCAL_HOST,
): Promise<{ value: T; execCount: number }> {
  const transport = new LocalTransport()
  const ctx: HostContext = {
    host,
    transport,
    facts: new FactBatcher(transport, { timeoutSec, maxBytes: 1024 * 1024 }),
    timeoutMs: timeoutSec * 1000,
  }
  const value = await runInHost(ctx, fn)
  return { value, execCount: transport.execCount }
}
