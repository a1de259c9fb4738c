// The benchmark's printed report: the results table, the ratios measured in the same run,
// verify's start-up figures and where a verify run spends its time. Markdown, for bench/README.md.
import type { ToolName } from './tools.ts'
import type { HostTimings } from '../src/model.ts'

export interface Row {
  tool: ToolName
  /** `Testinfra -n 16`: the tool and its parallelism. */
  label: string
  count: number
  latencyMs: number
  wallMs: number
  wallMinMs: number
  wallMaxMs: number
  channelsMedian: number
  channelsMax: number
  peakMemMb: number
  maxRssMb: number
  cpuSec: number
  /** CPU of everything sshd ran for this run (the hosts' side). */
  fleetCpuSec: number
  /** Busy CPU of the whole machine during the run (tool, sshd, every remote command, the rest). */
  machineCpuSec: number
  runs: number
}

export interface StartupFigures {
  /** `node -e 0`. */
  nodeMs: number
  /** `verify --version`: node, tsx, and the CLI's imports. */
  versionMs: number
  /** Spawn of `verify --hosts <one host>` to its first TCP connection (inventory and specs loaded). */
  firstConnectionMs: number
  runs: number
}

/** ms since process start, written by bench/verify-timeline.mjs. */
export interface TimelineStamps {
  timeOrigin: number
  scriptStart: number
  /** The run's packages imported before tsx's hooks (absent in older timelines). */
  depsLoaded?: number
  tsxRegistered: number
  cliImported: number
  firstConnect?: number
  mainReturned?: number
  exit: number
  /** Handle types keeping the event loop alive right after main() returned, and one tick later. */
  aliveAfterMain?: string[]
  aliveAfterMainTick?: string[]
}

export interface Timeline {
  count: number
  latencyMs: number
  wallMs: number
  stamps: TimelineStamps
  /** From the JSON result's startedAt / finishedAt, as ms since process start. */
  runnerStartMs: number
  runnerEndMs: number
  connectMs: number[]
  checksMs: number[]
  /** Every host's timings from the JSON result (connect phases, probe, HTTP). */
  hostTimings?: HostTimings[]
  slowestCheck: { title: string; medianMs: number }
}

export interface Machine {
  cpus: number
  cpuModel: string
  memGb: number
  node: string
  openssh: string
  serverspec: string
  testinfra: string
  xdist: string
  loadBefore: string
  loadAfter?: string
}

export interface ReportInput {
  rows: Row[]
  startup?: StartupFigures
  timelines: Timeline[]
  machine: Machine
  opts: { runs: number; verifyConcurrency?: number; checks: number }
}

export function renderReport(input: ReportInput): string {
  const { rows, opts } = input
  const out: string[] = []
  const m = input.machine
  out.push(
    `Machine: ${m.cpus} × ${m.cpuModel}, ${m.memGb} GiB; Node ${m.node}, ${m.openssh}, Serverspec ${m.serverspec}, Testinfra ${m.testinfra}, pytest-xdist ${m.xdist}. Load average before / after: ${m.loadBefore} / ${m.loadAfter ?? '?'}.`,
    '',
  )
  out.push(
    `### Results (${opts.checks} checks per host, median of ${opts.runs} runs; verify --concurrency ${opts.verifyConcurrency ?? 'default'})`,
    '',
  )
  out.push(
    `| tool | hosts | added latency | wall median (min–max) | exec channels / host | peak memory, all processes (PSS) | largest process (max RSS) | CPU, tool | CPU, hosts' side | CPU, whole machine | per host: wall, hosts' side CPU, whole-machine CPU |`,
  )
  out.push('|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|')
  for (const r of rows) {
    const channels = r.channelsMax === r.channelsMedian ? `${r.channelsMedian}` : `${r.channelsMedian} (max ${r.channelsMax})`
    out.push(
      `| ${r.label} | ${r.count} | ${r.latencyMs ? `${r.latencyMs} ms each way` : '–'} | ${seconds(r.wallMs)} (${seconds(r.wallMinMs)}–${seconds(r.wallMaxMs)}) | ${channels} | ${r.peakMemMb.toFixed(0)} MiB | ${r.maxRssMb.toFixed(0)} MiB | ${r.cpuSec.toFixed(1)} s | ${r.fleetCpuSec.toFixed(1)} s | ${r.machineCpuSec.toFixed(1)} s | ${perHostMs(r.wallMs, r.count)}, ${perHostMs(r.fleetCpuSec * 1000, r.count)}, ${perHostMs(r.machineCpuSec * 1000, r.count)} |`,
    )
  }
  out.push('')
  const ratios = ratioLines(rows)
  if (ratios.length > 0) {
    out.push('### Ratios (same run, wall medians; below 1 means verify is faster; each peer at its fastest setting in the row)', '')
    out.push('| hosts | added latency | verify / Serverspec | verify / Testinfra | verify / floor |')
    out.push('|---:|---:|---:|---:|---:|')
    out.push(...ratios, '')
  }
  if (input.startup) {
    const s = input.startup
    out.push(`### verify start-up (median of ${s.runs})`, '')
    out.push('| phase | ms |', '|---|---:|')
    out.push(`| \`node -e 0\` (bare Node start) | ${s.nodeMs.toFixed(0)} |`)
    out.push(`| \`verify --version\` (Node + tsx + the CLI's imports) | ${s.versionMs.toFixed(0)} |`)
    out.push(`| spawn → first TCP connection (inventory read, specs loaded, runner started) | ${s.firstConnectionMs.toFixed(0)} |`, '')
  }
  if (input.timelines.length > 0) out.push(...timelineLines(input.timelines), '')
  return `${out.join('\n')}\n`
}

function ratioLines(rows: Row[]): string[] {
  const lines: string[] = []
  const keys = [...new Set(rows.map(r => `${r.count}/${r.latencyMs}`))]
  for (const key of keys) {
    const group = rows.filter(r => `${r.count}/${r.latencyMs}` === key)
    const verify = group.find(r => r.tool === 'verify')
    if (!verify) continue
    const ratio = (tool: ToolName) => {
      const candidates = group.filter(r => r.tool === tool).sort((a, b) => a.wallMs - b.wallMs)
      const other = candidates[0]
      if (!other) return '–'
      const x = verify.wallMs / other.wallMs
      const which = candidates.length > 1 ? ` vs ${other.label.split(' ').slice(1).join(' ')}` : ''
      return x < 1 ? `${x.toFixed(3)} (${(1 / x).toFixed(1)}× faster${which})` : `${x.toFixed(2)}${which}`
    }
    lines.push(
      `| ${verify.count} | ${verify.latencyMs ? `${verify.latencyMs} ms` : '–'} | ${ratio('serverspec')} | ${ratio('testinfra')} | ${ratio('floor')} |`,
    )
  }
  return lines
}

/** One column per (hosts, latency): a stamped verify run split into its phases. */
function timelineLines(timelines: Timeline[]): string[] {
  const head = timelines.map(t => `${t.count} hosts${t.latencyMs ? ` +${t.latencyMs} ms` : ''}`)
  const lines = ['### Where a verify run spends its time (one stamped run per column, ms since process start)', '']
  lines.push(`| phase | ${head.join(' | ')} |`, `|---|${head.map(() => '---:').join('|')}|`)
  const row = (label: string, value: (t: Timeline) => string) => lines.push(`| ${label} | ${timelines.map(value).join(' | ')} |`)
  const span = (from: (t: Timeline) => number | undefined, to: (t: Timeline) => number | undefined) => (t: Timeline) => {
    const [a, b] = [from(t), to(t)]
    return a === undefined || b === undefined ? '?' : ms(b - a)
  }
  row('Node start (process start → first line of the CLI script)', t => ms(t.stamps.scriptStart))
  row(
    'packages imported (ssh2, zod, yaml, expect, …; before tsx)',
    span(
      t => t.stamps.scriptStart,
      t => t.stamps.depsLoaded,
    ),
  )
  row(
    'tsx registered',
    span(
      t => t.stamps.depsLoaded ?? t.stamps.scriptStart,
      t => t.stamps.tsxRegistered,
    ),
  )
  row(
    'CLI modules imported (through tsx)',
    span(
      t => t.stamps.tsxRegistered,
      t => t.stamps.cliImported,
    ),
  )
  row(
    'inventory read, spec files loaded, checks planned',
    span(
      t => t.stamps.cliImported,
      t => t.runnerStartMs,
    ),
  )
  row(
    'runner start → first TCP connect',
    span(
      t => t.runnerStartMs,
      t => t.stamps.firstConnect,
    ),
  )
  row(
    '**runner: every host connected and checked**',
    span(
      t => t.runnerStartMs,
      t => t.runnerEndMs,
    ),
  )
  row('  per host: connect + auth, median / max', t => `${ms(med(t.connectMs))} / ${ms(Math.max(...t.connectMs))}`)
  const phase = (label: string, pick: (h: HostTimings) => number | undefined) =>
    row(`    ${label}, median / max`, t => {
      const values = (t.hostTimings ?? []).map(pick).filter((v): v is number => v !== undefined)
      return values.length === 0 ? '?' : `${ms(med(values))} / ${ms(Math.max(...values))}`
    })
  phase('waiting for a handshake slot', h => h.connect?.queueMs)
  phase('ssh_config (read once, in-process)', h => h.connect?.resolveMs)
  phase('TCP connect', h => h.connect?.tcpMs)
  phase('key exchange + host key', h => h.connect?.handshakeMs)
  phase('authentication', h => h.connect?.authMs)
  row('  per host: checks (probe round trip + HTTP), median / max', t => `${ms(med(t.checksMs))} / ${ms(Math.max(...t.checksMs))}`)
  phase('probe round trips (time)', h => h.probeMs)
  phase('HTTP requests (summed)', h => h.httpMs)
  row('  slowest check (median over hosts)', t => `${t.slowestCheck.title}: ${ms(t.slowestCheck.medianMs)}`)
  row(
    'report rendered and written (console + JSON)',
    span(
      t => t.runnerEndMs,
      t => t.stamps.mainReturned,
    ),
  )
  row(
    'event loop drained → exit',
    span(
      t => t.stamps.mainReturned,
      t => t.stamps.exit,
    ),
  )
  row('  handles still open after main() returned (one tick later)', t =>
    countTypes(t.stamps.aliveAfterMainTick ?? t.stamps.aliveAfterMain ?? []),
  )
  row('**wall time (spawn → exit seen by the parent)**', t => ms(t.wallMs))
  row('first TCP connect after (start-up cost)', t => (t.stamps.firstConnect === undefined ? '?' : ms(t.stamps.firstConnect)))
  return lines
}

/** `Socket ×3, Timeout` */
function countTypes(types: string[]): string {
  if (types.length === 0) return 'none'
  const counts = new Map<string, number>()
  for (const t of types) counts.set(t, (counts.get(t) ?? 0) + 1)
  return [...counts].map(([t, n]) => (n > 1 ? `${t} ×${n}` : t)).join(', ')
}

function med(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b)
  const mid = Math.floor(sorted.length / 2)
  return sorted.length === 0 ? 0 : sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2
}

function ms(value: number): string {
  return `${Math.round(value)} ms`
}

function seconds(value: number): string {
  return value >= 10_000 ? `${(value / 1000).toFixed(1)} s` : `${(value / 1000).toFixed(2)} s`
}

/** A run's figure divided by its hosts, in ms: flat from 50 to 500 hosts means linear scaling. */
function perHostMs(totalMs: number, hosts: number): string {
  return `${Math.round(totalMs / Math.max(1, hosts))} ms`
}
