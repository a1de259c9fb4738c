// `verify snapshot --hosts G -o before.json`: runs the specs to record every fact they read,
// plus each host's process table (pids, start times) and clock offset, into a snapshot file
// for `--baseline` and for comparing later.
import { ConfigError } from '../errors.ts'
import { ExitCode, type RunResult } from '../model.ts'
import { it, loadSpec } from '../dsl/registry/declare.ts'
import type { LoadedSpec } from '../dsl/registry/types.ts'
import { readFact } from '../dsl/context.ts'
import { processTableFact } from '../resources/system/process.ts'
import { hostClockFact } from '../resources/deploy/clock.ts'
import { snapshotFromRun, writeSnapshot, type Snapshot } from '../app/snapshot/snapshot.ts'
import type { RunHooks } from './run-hooks.ts'
import { redactStrings } from '../reporters/redact.ts'

export const SNAPSHOT_PROBE_FILE = '(snapshot)'

/** The snapshot's own check: the process table and the clock, read with the specs' facts. */
export async function snapshotProbeSpec(): Promise<LoadedSpec> {
  return loadSpec(SNAPSHOT_PROBE_FILE, async () => {
    it('snapshot: process table and host clock', async () => {
      await Promise.all([readFact(processTableFact()), readFact(hostClockFact())])
    })
  })
}

type Run = (hooks: RunHooks) => Promise<number>

export async function runSnapshot(output: string, run: Run): Promise<number> {
  let result: RunResult | undefined
  let redact: (text: string) => string = t => t
  await run({
    extraSpecs: [await snapshotProbeSpec()],
    recordFacts: true,
    quiet: true,
    onResult: (r, red) => {
      result = r
      redact = red
    },
  })
  if (!result) throw new ConfigError('verify snapshot: the run produced no result')
  if (result.configErrors.length > 0) throw new ConfigError(result.configErrors.join('\n'))
  const snapshot = snapshotFromRun(result)
  // secret vars' values are redacted from the file as from every report
  // (string by string: a search of the JSON text could match across a key and its value)
  writeSnapshot(redactStrings(JSON.parse(JSON.stringify(snapshot)) as Snapshot, redact), output)
  process.stdout.write(renderSnapshotSummary(snapshot, output))
  return snapshot.hosts.some(h => h.error) ? ExitCode.HostError : ExitCode.Ok
}

export function renderSnapshotSummary(s: Snapshot, output: string): string {
  const lines = s.hosts.map(h => {
    if (h.error) return `! ${h.name}: not recorded: ${h.error}`
    const failing = Object.entries(h.checks).filter(([, status]) => status === 'failed' || status === 'error').length
    const offset =
      h.clockOffsetMs === undefined ? '' : `, clock ${h.clockOffsetMs >= 0 ? '+' : '−'}${(Math.abs(h.clockOffsetMs) / 1000).toFixed(1)}s`
    return `✓ ${h.name}: ${Object.keys(h.facts).length} facts, ${h.processes.length} processes${offset}${failing ? ` (${failing} checks did not pass then)` : ''}`
  })
  const errored = s.hosts.filter(h => h.error).length
  lines.push('', `snapshot of ${s.hosts.length - errored} of ${s.hosts.length} hosts written to ${output}`)
  return `${lines.join('\n')}\n`
}
