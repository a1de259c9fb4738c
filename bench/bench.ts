// The benchmark: verify against Serverspec, Testinfra and the bare SSH floor, on a loopback
// fleet of N hosts with the same 22 checks, with and without added latency. Prints markdown.
// Run it through bench/run.sh (installs the peers, creates the network namespace):
//
//   bash bench/run.sh [--hosts 10,50] [--runs 3] [--latency 0,25] [--latency-hosts 50]
//                     [--tools floor,verify,serverspec,testinfra] [--serverspec-jobs 16] [--testinfra-workers 4,16]
//                     [--verify-concurrency N] [--json results.json]
import { spawn, spawnSync, type ChildProcess } from 'node:child_process'
import { readFileSync, writeFileSync } from 'node:fs'
import net from 'node:net'
import os from 'node:os'
import path from 'node:path'
import { createInterface } from 'node:readline'
import { setTimeout as sleep } from 'node:timers/promises'
import type { RunResult } from '../src/model.ts'
import { startBenchFleet, type BenchFleet } from './fleet.ts'
import { machineBusyCpuSec, measure, type Measured } from './measure.ts'
import {
  BENCH_DIR,
  CHECKS_PER_HOST,
  TOOL_NAMES,
  VERIFY_BIN,
  VERIFY_TIMELINE_BIN,
  invocation,
  prepareVerifyWorkdir,
  verifyJsonPath,
  type RunContext,
  type ToolName,
} from './tools.ts'
import { renderReport, type Machine, type Row, type StartupFigures, type Timeline, type TimelineStamps } from './report.ts'

interface Options {
  hosts: number[]
  runs: number
  latencies: number[]
  /** Host counts that also get the latency rows (default: the largest of `hosts`). */
  latencyHosts?: number[]
  tools: ToolName[]
  /** One Serverspec row per value (`rake -j`). */
  serverspecJobs: number[]
  /** One Testinfra row per value (`pytest -n`); ratios use the fastest. */
  testinfraWorkers: number[]
  verifyConcurrency?: number
  json?: string
  /** Start the fleet, print how to run each tool against it, and wait for Ctrl-C (no measuring). */
  serve: boolean
}

function parseOptions(argv: string[]): Options {
  const opts: Options = {
    hosts: [10, 50],
    runs: 3,
    latencies: [0, 25],
    tools: [...TOOL_NAMES],
    serverspecJobs: [16],
    testinfraWorkers: [4, 16],
    serve: false,
  }
  const numbers = (v: string) =>
    v.split(',').map(x => {
      const n = Number(x)
      if (!Number.isInteger(n) || n < 0) throw new Error(`not a list of whole numbers: ${v}`)
      return n
    })
  for (let i = 0; i < argv.length; i++) {
    const [flag, value] = [argv[i]!, argv[i + 1] ?? '']
    i++
    switch (flag) {
      case '--hosts':
        opts.hosts = numbers(value)
        break
      case '--runs':
        opts.runs = numbers(value)[0]!
        break
      case '--latency':
        opts.latencies = numbers(value)
        break
      case '--latency-hosts':
        opts.latencyHosts = numbers(value)
        break
      case '--peer-jobs':
        opts.serverspecJobs = opts.testinfraWorkers = numbers(value)
        break
      case '--serverspec-jobs':
        opts.serverspecJobs = numbers(value)
        break
      case '--testinfra-workers':
        opts.testinfraWorkers = numbers(value)
        break
      case '--verify-concurrency':
        opts.verifyConcurrency = numbers(value)[0]
        break
      case '--json':
        opts.json = value
        break
      case '--serve':
        opts.serve = true
        i--
        break
      case '--tools': {
        const tools = value.split(',')
        const unknown = tools.filter(t => !(TOOL_NAMES as readonly string[]).includes(t))
        if (unknown.length > 0) throw new Error(`unknown tool ${unknown.join(', ')}; tools: ${TOOL_NAMES.join(', ')}`)
        opts.tools = TOOL_NAMES.filter(t => tools.includes(t))
        break
      }
      default:
        throw new Error(`unknown option ${flag}; see the header of bench/bench.ts`)
    }
  }
  if (opts.runs < 1 || [...opts.hosts, ...opts.serverspecJobs, ...opts.testinfraWorkers].some(n => n < 1))
    throw new Error("--runs, --hosts and the peers' jobs must be at least 1")
  // latency rows cost the most (every peer round trip pays it): by default only at the largest size
  opts.latencyHosts ??= [Math.max(...opts.hosts)]
  return opts
}

const log = (line: string) => process.stderr.write(`${line}\n`)

async function main(): Promise<void> {
  const opts = parseOptions(process.argv.slice(2))
  const size = Math.max(...opts.hosts)
  log(`starting a fleet of ${size} hosts…`)
  const fleet = await startBenchFleet(size)
  const proxies = new Map<number, Proxy>()
  const cleanUp = async () => {
    for (const proxy of proxies.values()) await proxy.stop()
    await fleet.stop()
  }
  // Ctrl-C or a timeout must not leave sshd, the proxies or the blog-app process behind.
  for (const signal of ['SIGINT', 'SIGTERM'] as const) process.once(signal, () => void cleanUp().finally(() => process.exit(130)))
  try {
    for (const ms of opts.latencies.filter(l => l > 0)) proxies.set(ms, await startProxy(fleet.sshPort, ms))
    const frontPort = (latency: number) => (latency === 0 ? fleet.sshPort : proxies.get(latency)!.port)
    const verifyWorkdir = prepareVerifyWorkdir(fleet)
    if (opts.serve) return await serve(fleet, opts, verifyWorkdir, frontPort)

    const startup = opts.tools.includes('verify') ? await measureStartup(fleet, verifyWorkdir, opts.runs) : undefined
    const rows: Row[] = []
    const timelines: Timeline[] = []
    const machine = describeMachine()
    let warmed = false
    for (const count of opts.hosts) {
      for (const latency of opts.latencies) {
        if (latency > 0 && opts.latencyHosts && !opts.latencyHosts.includes(count)) continue
        const base = { fleet, front: fleet.front(frontPort(latency)), count, verifyConcurrency: opts.verifyConcurrency, verifyWorkdir }
        const list = variants(opts)
        const ctxOf = (v: Variant): RunContext => ({ ...base, serverspecJobs: v.jobs ?? 1, testinfraWorkers: v.jobs ?? 1 })
        if (!warmed) {
          // page cache, tsx's transform cache, Ruby and Python bytecode: every tool starts warm
          for (const v of list) await runOnce(v.tool, ctxOf(v), `warm-up ${v.label}`)
          warmed = true
        }
        const samples = new Map<Variant, Sample[]>(list.map(v => [v, []]))
        for (let run = 0; run < opts.runs; run++) {
          // rotate the order so no tool always runs right after the same neighbour
          const order = list.map((_, i) => list[(i + run) % list.length]!)
          for (const v of order) {
            const sample = await runOnce(v.tool, ctxOf(v), `${v.label} ${count} hosts +${latency} ms, run ${run + 1}/${opts.runs}`)
            samples.get(v)!.push(sample)
          }
        }
        for (const [v, runs] of samples) rows.push(summarize(v, count, latency, runs))
        if (opts.tools.includes('verify')) timelines.push(await timelineRun({ ...base, serverspecJobs: 1, testinfraWorkers: 1 }, latency))
      }
    }
    machine.loadAfter = loadAverage()
    const report = renderReport({
      rows,
      startup,
      timelines,
      machine,
      opts: { runs: opts.runs, verifyConcurrency: opts.verifyConcurrency, checks: CHECKS_PER_HOST },
    })
    process.stdout.write(report)
    if (opts.json) writeFileSync(opts.json, JSON.stringify({ machine, rows, startup, timelines }, null, 2))
  } finally {
    await cleanUp()
  }
}

/** Prints each tool's command line for every front port, then waits for SIGINT/SIGTERM. */
async function serve(fleet: BenchFleet, opts: Options, verifyWorkdir: string, frontPort: (latency: number) => number): Promise<void> {
  const count = Math.max(...opts.hosts)
  for (const latency of opts.latencies) {
    process.stdout.write(
      `# ${count} hosts, +${latency} ms each way; run inside the namespace: ip netns exec ${process.env.BENCH_NETNS ?? '<ns>'} bash\n`,
    )
    for (const v of variants(opts)) {
      const ctx: RunContext = {
        fleet,
        front: fleet.front(frontPort(latency)),
        count,
        serverspecJobs: v.jobs ?? 1,
        testinfraWorkers: v.jobs ?? 1,
        verifyConcurrency: opts.verifyConcurrency,
        verifyWorkdir,
      }
      const inv = invocation(v.tool, ctx)
      const env = Object.entries(inv.env ?? {})
        .filter(([k]) => k.startsWith('BENCH_') && k !== 'BENCH_NETNS')
        .map(([k, v]) => `${k}=${v} `)
        .join('')
      process.stdout.write(`(cd ${inv.cwd ?? process.cwd()} && ${env}${[inv.command, ...inv.args].map(shellWord).join(' ')})\n`)
    }
  }
  process.stdout.write('serving; Ctrl-C stops the fleet\n')
  await new Promise(() => {}) // the signal handler cleans up and exits
}

function shellWord(word: string): string {
  return /^[\w@%+=:,./-]+$/.test(word) ? word : `'${word.replaceAll("'", "'\\''")}'`
}

interface Sample {
  measured: Measured
  channels: number[]
  fleetCpuSec: number
  machineCpuSec: number
}

async function runOnce(
  tool: ToolName,
  ctx: RunContext,
  label: string,
  verifyBin?: string,
  extraEnv: NodeJS.ProcessEnv = {},
): Promise<Sample> {
  const inv = invocation(tool, ctx, verifyBin)
  ctx.fleet.resetAccesses()
  const offset = ctx.fleet.logOffset()
  const fleetCpuBefore = ctx.fleet.fleetCpuSec()
  const machineCpuBefore = machineBusyCpuSec()
  const measured = await measure(inv.command, inv.args, {
    cwd: inv.cwd,
    env: { ...(inv.env ?? process.env), ...extraEnv },
    marker: inv.marker,
  })
  try {
    inv.validate(measured)
  } finally {
    inv.after?.()
  }
  await sleep(300) // sshd reaps a connection's processes just after the client has gone
  const fleetCpuSec = ctx.fleet.fleetCpuSec() - fleetCpuBefore
  const machineCpuSec = machineBusyCpuSec() - machineCpuBefore
  const perHost = ctx.fleet.execChannelsSince(offset, ctx.count)
  const channels = ctx.fleet.hosts.slice(0, ctx.count).map(h => perHost.get(h.address) ?? 0)
  log(
    `  ${label}: ${Math.round(measured.wallMs)} ms, ${Math.max(...channels)} exec channels/host max, ${measured.peakMemMb.toFixed(0)} MiB, CPU ${measured.cpuSec.toFixed(1)} s + hosts' side ${fleetCpuSec.toFixed(1)} s, whole machine ${machineCpuSec.toFixed(1)} s`,
  )
  return { measured, channels, fleetCpuSec, machineCpuSec }
}

/** One more verify run, through bin/verify.mjs's twin that stamps each phase (not in the table). */
async function timelineRun(ctx: RunContext, latencyMs: number): Promise<Timeline> {
  const file = path.join(ctx.fleet.dir, 'timeline.json')
  const sample = await runOnce('verify', ctx, `verify phases ${ctx.count} hosts +${latencyMs} ms`, VERIFY_TIMELINE_BIN, {
    BENCH_TIMELINE: file,
  })
  const stamps = JSON.parse(readFileSync(file, 'utf8')) as TimelineStamps
  const result = JSON.parse(readFileSync(verifyJsonPath(ctx), 'utf8')) as RunResult
  const sinceStart = (iso: string) => Date.parse(iso) - stamps.timeOrigin
  return {
    count: ctx.count,
    latencyMs,
    wallMs: sample.measured.wallMs,
    stamps,
    runnerStartMs: sinceStart(result.startedAt),
    runnerEndMs: sinceStart(result.finishedAt),
    connectMs: result.hosts.map(h => h.timings.connectMs ?? 0),
    checksMs: result.hosts.map(h => h.timings.checksMs ?? 0),
    hostTimings: result.hosts.map(h => h.timings),
    slowestCheck: slowestCheck(result),
  }
}

/** The check with the longest median duration across hosts: what a host's checks wait on. */
function slowestCheck(result: RunResult): { title: string; medianMs: number } {
  const byTitle = new Map<string, number[]>()
  for (const h of result.hosts) {
    for (const c of h.checks) {
      const title = c.path.at(-1) ?? c.id
      byTitle.set(title, [...(byTitle.get(title) ?? []), c.durationMs])
    }
  }
  let slowest = { title: '', medianMs: -1 }
  for (const [title, durations] of byTitle) if (median(durations) > slowest.medianMs) slowest = { title, medianMs: median(durations) }
  return slowest
}

function describeMachine(): Machine {
  const version = (cmd: string, args: string[], pattern: RegExp) => {
    const run = spawnSync(cmd, args, { encoding: 'utf8' })
    return pattern.exec(`${run.stdout ?? ''}${run.stderr ?? ''}`)?.[1] ?? 'unknown'
  }
  const dpkg = (pkg: string) => version('dpkg-query', ['-W', '-f=${Version}', pkg], /^(.*)$/)
  return {
    cpus: os.cpus().length,
    cpuModel: os.cpus()[0]?.model ?? 'unknown',
    memGb: Math.round(os.totalmem() / 2 ** 30),
    node: process.version,
    openssh: version('ssh', ['-V'], /(OpenSSH_[^\s,]+)/),
    serverspec: dpkg('ruby-serverspec'),
    testinfra: dpkg('python3-testinfra'),
    xdist: dpkg('python3-pytest-xdist'),
    loadBefore: loadAverage(),
  }
}

function loadAverage(): string {
  return os
    .loadavg()
    .map(l => l.toFixed(2))
    .join(' ')
}

/** A tool with one setting: Serverspec's -j, Testinfra's -n. */
interface Variant {
  tool: ToolName
  jobs?: number
  label: string
}

function variants(opts: Options): Variant[] {
  return opts.tools.flatMap((tool): Variant[] => {
    if (tool === 'serverspec') return opts.serverspecJobs.map(jobs => ({ tool, jobs, label: `Serverspec -j ${jobs}` }))
    if (tool === 'testinfra') return opts.testinfraWorkers.map(jobs => ({ tool, jobs, label: `Testinfra -n ${jobs}` }))
    return [{ tool, label: tool === 'floor' ? 'floor (ssh true)' : tool === 'verify-1' ? 'verify, 1 check' : 'verify' }]
  })
}

function summarize(variant: Variant, count: number, latencyMs: number, samples: Sample[]): Row {
  const walls = samples.map(s => s.measured.wallMs)
  const channels = samples.flatMap(s => s.channels)
  return {
    tool: variant.tool,
    label: variant.label,
    count,
    latencyMs,
    wallMs: median(walls),
    wallMinMs: Math.min(...walls),
    wallMaxMs: Math.max(...walls),
    channelsMedian: median(channels),
    channelsMax: Math.max(...channels),
    peakMemMb: median(samples.map(s => s.measured.peakMemMb)),
    maxRssMb: median(samples.map(s => s.measured.maxRssMb)),
    cpuSec: median(samples.map(s => s.measured.cpuSec)),
    fleetCpuSec: median(samples.map(s => s.fleetCpuSec)),
    machineCpuSec: median(samples.map(s => s.machineCpuSec)),
    runs: samples.length,
  }
}

export function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b)
  const mid = Math.floor(sorted.length / 2)
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2
}

// ---------------------------------------------------------------------------------------------
// CLI start-up: process start to the first TCP connection, against a listener that records the
// moment it accepts and then hangs up (so no SSH time is included).

async function measureStartup(fleet: BenchFleet, workdir: string, runs: number): Promise<StartupFigures> {
  const server = net.createServer()
  const accepted: Array<() => void> = []
  server.on('connection', socket => {
    accepted.shift()?.()
    socket.destroy()
  })
  await new Promise<void>(resolve => server.listen(0, '127.0.0.1', resolve))
  const port = (server.address() as net.AddressInfo).port
  const inventory = path.join(workdir, 'startup.yaml')
  // a key and known_hosts as for a real host, so the run gets as far as connecting
  writeFileSync(
    inventory,
    `defaults: { identityFile: ${fleet.identityFile}, knownHosts: ${fleet.knownHosts}, user: ${fleet.user} }\nhosts:\n  probe: { address: 127.0.0.1, port: ${port}, vars: { appRoot: /nonexistent, statusPort: 1 } }\n`,
  )
  const figures: StartupFigures = { nodeMs: 0, versionMs: 0, firstConnectionMs: 0, runs }
  const node: number[] = []
  const version: number[] = []
  const first: number[] = []
  try {
    for (let i = 0; i < runs + 1; i++) {
      const warm = i > 0 // the first round only warms caches
      const n = await timeProcess(process.execPath, ['-e', '0'], workdir)
      const v = await timeProcess(process.execPath, [VERIFY_BIN, '--version'], workdir)
      let firstAt = 0
      const connected = new Promise<void>(resolve => accepted.push(resolve))
      const started = performance.now()
      void connected.then(() => {
        firstAt = performance.now() - started
      })
      await timeProcess(process.execPath, [VERIFY_BIN, '--hosts', 'probe', '-i', inventory, '--connect-timeout', '5'], workdir, started)
      if (firstAt === 0) await Promise.race([connected, sleep(1000)])
      if (firstAt === 0)
        throw new Error(
          `verify --hosts probe exited without connecting to the probe listener (run it by hand: cd ${workdir} && node ${VERIFY_BIN} --hosts probe -i ${inventory})`,
        )
      if (!warm) continue
      node.push(n)
      version.push(v)
      first.push(firstAt)
    }
  } finally {
    server.close()
  }
  figures.nodeMs = median(node)
  figures.versionMs = median(version)
  figures.firstConnectionMs = median(first)
  log(
    `CLI start-up: node ${figures.nodeMs.toFixed(0)} ms, verify --version ${figures.versionMs.toFixed(0)} ms, first connection after ${figures.firstConnectionMs.toFixed(0)} ms`,
  )
  return figures
}

function timeProcess(command: string, args: string[], cwd: string, started = performance.now()): Promise<number> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { cwd, stdio: 'ignore', env: { ...process.env, NO_COLOR: '1' } })
    child.once('error', reject)
    child.once('exit', () => resolve(performance.now() - started))
  })
}

// ---------------------------------------------------------------------------------------------
// Delay proxies run as their own processes, so the bench's sampling never delays their timers.

interface Proxy {
  port: number
  stop(): Promise<void>
}

async function startProxy(targetPort: number, delayMs: number): Promise<Proxy> {
  const child: ChildProcess = spawn(
    process.execPath,
    ['--import', 'tsx', path.join(BENCH_DIR, 'delay-proxy.ts'), '--target-port', String(targetPort), '--delay', String(delayMs)],
    { stdio: ['ignore', 'pipe', 'inherit'] },
  )
  const port = await new Promise<number>((resolve, reject) => {
    const lines = createInterface({ input: child.stdout! })
    lines.once('line', line => {
      const match = /^listening (\d+)$/.exec(line)
      if (match) resolve(Number(match[1]))
      else reject(new Error(`delay proxy said: ${line}`))
    })
    child.once('exit', code => reject(new Error(`delay proxy exited (${code})`)))
  })
  return {
    port,
    stop: async () => {
      if (child.exitCode !== null) return
      const exited = new Promise<void>(resolve => child.once('exit', () => resolve()))
      child.kill('SIGTERM')
      await exited
    },
  }
}

main().catch((error: unknown) => {
  process.stderr.write(`bench failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`)
  process.exitCode = 1
})
