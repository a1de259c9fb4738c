// Who runs what when: every selected host in parallel under a concurrency limit.
// Hosts keep the order they were selected in, whatever order they finish in.
import pLimit from 'p-limit'
import { SCHEMA_VERSION, exitCodeFor, summarize, type RunResult } from '../model.ts'
import { verifyHost, type HostRunOptions } from './host.ts'
import type { HostPlan } from './plan.ts'
import { TOOL } from '../version.ts'

export interface RunOptions extends HostRunOptions {
  concurrency: number
  /** Called as each host finishes (progress on the console). */
  onHostDone?(result: RunResult['hosts'][number]): void
  /** Called as each host's turn comes (progress: the hosts still running). */
  onHostStart?(host: HostPlan['host']): void
}

export async function runHosts(plans: readonly HostPlan[], options: RunOptions): Promise<RunResult> {
  const startedAt = new Date()
  const limit = pLimit(Math.max(1, options.concurrency))
  const results = await Promise.all(
    plans.map(plan =>
      limit(async () => {
        options.onHostStart?.(plan.host)
        const result = await verifyHost(plan, options)
        options.onHostDone?.(result)
        return result
      }),
    ),
  )
  return finishRun(startedAt, results, [])
}

export function finishRun(startedAt: Date, hosts: RunResult['hosts'], configErrors: string[]): RunResult {
  const finishedAt = new Date()
  const summary = summarize(hosts)
  return {
    schemaVersion: SCHEMA_VERSION,
    tool: TOOL,
    startedAt: startedAt.toISOString(),
    finishedAt: finishedAt.toISOString(),
    durationMs: finishedAt.getTime() - startedAt.getTime(),
    configErrors,
    hosts,
    summary,
    exitCode: exitCodeFor(summary, configErrors),
  }
}
