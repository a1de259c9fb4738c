// The snapshot file: per host, every fact the specs read (as JSON holds it), the processes
// running and the host's clock offset, when it was taken. `verify snapshot -o before.json`
// writes it; `--baseline before.json` hands it to the specs of a later run (baseline.ts).
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import { dirname } from 'node:path'
import { ConfigError } from '../../errors.ts'
import type { RunResult } from '../../model.ts'
import { TOOL } from '../../version.ts'

/** Versioned like the JSON report: readers check `kind` and `schemaVersion` first. */
export const SNAPSHOT_SCHEMA_VERSION = 1
export const SNAPSHOT_KIND = 'verify-snapshot'

export interface SnapshotProcess {
  pid: number
  name: string
  args: string
  user: string
  /** Host clock, ISO. */
  startedAt: string
}

export interface HostSnapshot {
  name: string
  address: string
  /** Runner clock, ISO: when the host's facts were read. */
  takenAt: string
  /** The host's clock at that moment (ISO): the instant in the host's own time, for start-time comparisons. */
  hostTakenAt?: string
  /** host − runner, ms. */
  clockOffsetMs?: number
  /** Fact key → answer, as the specs read them. */
  facts: Record<string, unknown>
  processes: SnapshotProcess[]
  /** Check id → status, to see what held when the snapshot was taken. */
  checks: Record<string, string>
  /** The host could not be read (unreachable …): its facts are missing, not empty. */
  error?: string
}

export interface Snapshot {
  kind: typeof SNAPSHOT_KIND
  schemaVersion: typeof SNAPSHOT_SCHEMA_VERSION
  tool: { name: string; version: string }
  takenAt: string
  hosts: HostSnapshot[]
}

/** Fact keys of the snapshot's own probe: the process table and the clock. */
export const PROCESS_TABLE_KEY = 'process-table'
export const HOST_CLOCK_KEY = 'host-clock'

export function snapshotFromRun(run: RunResult): Snapshot {
  return {
    kind: SNAPSHOT_KIND,
    schemaVersion: SNAPSHOT_SCHEMA_VERSION,
    tool: TOOL,
    takenAt: run.startedAt,
    hosts: run.hosts.map(h => {
      const facts = { ...(h.recordedFacts ?? {}) }
      const table = facts[PROCESS_TABLE_KEY] as { processes?: Array<SnapshotProcess & Record<string, unknown>> } | undefined
      const clock = facts[HOST_CLOCK_KEY] as { hostNowMs?: number; runnerReceivedMs?: number; offsetMs?: number } | undefined
      // the whole table is kept as the processes list only: pids and start times are what later runs compare
      delete facts[PROCESS_TABLE_KEY]
      delete facts[HOST_CLOCK_KEY]
      // the narrower tables process() checks read (`process-table:<names>`) are in the whole one
      for (const key of Object.keys(facts)) if (key.startsWith(`${PROCESS_TABLE_KEY}:`)) delete facts[key]
      return {
        name: h.host.name,
        address: h.host.address,
        takenAt: clock?.runnerReceivedMs ? new Date(clock.runnerReceivedMs).toISOString() : run.startedAt,
        ...(clock?.hostNowMs ? { hostTakenAt: new Date(clock.hostNowMs).toISOString(), clockOffsetMs: clock.offsetMs } : {}),
        facts,
        processes: (table?.processes ?? []).map(p => ({ pid: p.pid, name: p.name, args: p.args, user: p.user, startedAt: p.startedAt })),
        checks: Object.fromEntries(h.checks.map(c => [c.id, c.status])),
        ...(h.status === 'error' ? { error: h.error?.message ?? 'could not be verified' } : {}),
      }
    }),
  }
}

export function writeSnapshot(snapshot: Snapshot, file: string): void {
  mkdirSync(dirname(file), { recursive: true })
  writeFileSync(file, `${JSON.stringify(snapshot, null, 2)}\n`, 'utf8')
}

export function readSnapshot(file: string): Snapshot {
  let parsed: unknown
  try {
    parsed = JSON.parse(readFileSync(file, 'utf8'))
  } catch (error) {
    throw new ConfigError(
      `--baseline ${file}: ${(error as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : `not JSON (${(error as Error).message})`}`,
    )
  }
  const s = parsed as Partial<Snapshot>
  if (s?.kind !== SNAPSHOT_KIND)
    throw new ConfigError(`--baseline ${file}: not a verify snapshot (write one with verify snapshot -o ${file})`)
  if (s.schemaVersion !== SNAPSHOT_SCHEMA_VERSION)
    throw new ConfigError(
      `--baseline ${file}: snapshot schemaVersion ${String(s.schemaVersion)}, this verify reads ${SNAPSHOT_SCHEMA_VERSION}`,
    )
  return parsed as Snapshot
}
