// The first-round batch script the bench spec (bench/specs/deploy.spec.ts) sends a host, built by
// the real batcher from the facts its 22 checks ask first, in the spec's order: a change to a
// snippet, to defineFact or to the batch's framing shows up here as a diff to explain.
import { readFileSync, writeFileSync } from 'node:fs'
import { describe, expect, it } from 'vitest'
import { runInHost, type HostContext } from '../../src/dsl/context.ts'
import { FactBatcher } from '../../src/probe/batcher.ts'
import type { ExecOptions, ExecResult, Transport } from '../../src/transports/transport.ts'
import { directory, file, pkg, port, process as proc, user } from '../../src/index.ts'

const GOLDEN = new URL('./fixtures/bench-batch.txt', import.meta.url)

/** Records the script and answers nothing (the facts then fail, which is not the point here). */
class RecordingTransport implements Transport {
  readonly kind = 'ssh' as const
  readonly scripts: string[] = []
  execCount = 0
  async connect(): Promise<void> {}
  async exec(options: ExecOptions): Promise<ExecResult> {
    this.execCount++
    this.scripts.push(options.script)
    return { exitCode: 0, stderr: '' }
  }
  async openTcp(): Promise<never> {
    throw new Error('no TCP in this test')
  }
  async close(): Promise<void> {}
}

async function benchBatch(): Promise<string> {
  const transport = new RecordingTransport()
  const facts = new FactBatcher(transport, { timeoutSec: 30, maxBytes: 1024 * 1024 })
  const ctx = { host: { name: 'web-1', address: '127.0.0.1', vars: {} }, transport, facts, timeoutMs: 30_000 } as unknown as HostContext
  const app = '/srv/apps/blog'
  const releases = `${app}/releases`
  const revisionFile = `${app}/current/REVISION`
  // the first fact each check awaits, in declaration order (http and serverStatus read no fact)
  const asks = () => [
    file(`${app}/current`),
    file(revisionFile),
    file(revisionFile).content,
    file(releases),
    directory(releases),
    file(`${releases}/20260101/REVISION`),
    file(`${app}/shared/log`),
    file(`${app}/current/public`),
    file(app),
    proc('blog-app'),
    port(5000, { owner: false }),
    pkg('bash'),
    user('www-data'),
  ]
  await runInHost(ctx, () => Promise.allSettled(asks().map(a => Promise.resolve(a))))
  facts.close()
  // the nonce is random per batch
  return transport.scripts[0]!.replace(/V[0-9a-f]{32}/g, 'V<nonce>')
}

describe("the bench spec's first batch", () => {
  it('is the script recorded in fixtures/bench-batch.txt (UPDATE_GOLDEN=1 rewrites it)', async () => {
    const script = await benchBatch()
    if (process.env.UPDATE_GOLDEN === '1') writeFileSync(GOLDEN, script)
    expect(script).toBe(readFileSync(GOLDEN, 'utf8'))
  })
})
