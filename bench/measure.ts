// Runs one tool invocation and measures it: wall time from spawn to exit, CPU time of the
// process tree (GNU time), and peak memory summed over every process the tool ran.
import { spawn } from 'node:child_process'
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'

const TIME = '/usr/bin/time'
const SAMPLE_EVERY_MS = 50

export interface Measured {
  wallMs: number
  exitCode: number
  stdout: string
  stderr: string
  /** User + system CPU seconds of every process the tool waited for (GNU time). */
  cpuSec: number
  /** Largest sum of PSS over the tool's processes seen by the sampler, in MiB. */
  peakMemMb: number
  /** Peak RSS of the largest single process the tool waited for (GNU time's %M), in MiB. */
  maxRssMb: number
}

export interface MeasureOptions {
  cwd?: string
  env?: NodeJS.ProcessEnv
  /**
   * Processes whose command line contains this string count as the tool's even once they have
   * left its process tree (Testinfra's ssh ControlMaster daemonizes and is re-parented).
   */
  marker?: string
  timeoutMs?: number
}

export async function measure(command: string, args: string[], options: MeasureOptions = {}): Promise<Measured> {
  const tmp = mkdtempSync(path.join(os.tmpdir(), 'verify-bench-time-'))
  const timeFile = path.join(tmp, 'time')
  try {
    const started = performance.now()
    const child = spawn(TIME, ['-f', '%U %S %M', '-o', timeFile, command, ...args], {
      cwd: options.cwd,
      env: options.env ?? process.env,
      stdio: ['ignore', 'pipe', 'pipe'],
    })
    let stdout = ''
    let stderr = ''
    child.stdout.on('data', (chunk: Buffer) => {
      stdout += chunk.toString()
    })
    child.stderr.on('data', (chunk: Buffer) => {
      stderr += chunk.toString()
    })
    let peakKb = 0
    const sample = () => {
      peakKb = Math.max(peakKb, treePssKb(child.pid!, options.marker))
    }
    const sampler = setInterval(sample, SAMPLE_EVERY_MS)
    const killer = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs ?? 600_000)
    const exitCode = await new Promise<number>((resolve, reject) => {
      child.once('error', reject)
      child.once('exit', (code, signal) => resolve(code ?? (signal ? 128 : -1)))
    })
    const wallMs = performance.now() - started
    clearInterval(sampler)
    clearTimeout(killer)
    const [user = 0, sys = 0, maxRssKb = 0] = readTime(timeFile)
    return { wallMs, exitCode, stdout, stderr, cpuSec: user + sys, peakMemMb: peakKb / 1024, maxRssMb: maxRssKb / 1024 }
  } finally {
    rmSync(tmp, { recursive: true, force: true })
  }
}

function readTime(file: string): number[] {
  try {
    // GNU time prints "Command exited with non-zero status N" first when the tool failed.
    const last = readFileSync(file, 'utf8').trim().split('\n').at(-1) ?? ''
    return last.split(' ').map(Number)
  } catch {
    return []
  }
}

/** PSS (shared pages split between their users, so N copies of ssh are not counted N times). */
function treePssKb(root: number, marker: string | undefined): number {
  const parentOf = new Map<number, number>()
  const marked: number[] = []
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue
    const pid = Number(entry)
    const stat = readOr(`/proc/${pid}/stat`)
    if (!stat) continue
    // comm may hold spaces and parentheses: the fields after the last ')' are fixed
    const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1])
    parentOf.set(pid, ppid)
    if (marker && readOr(`/proc/${pid}/cmdline`)?.includes(marker)) marked.push(pid)
  }
  const members = new Set<number>(marked)
  for (const pid of parentOf.keys()) {
    for (let p: number | undefined = pid; p !== undefined && p > 1; p = parentOf.get(p)) {
      if (p === root) {
        members.add(pid)
        break
      }
    }
  }
  let total = 0
  for (const pid of members) {
    const match = /^Pss:\s+(\d+) kB/m.exec(readOr(`/proc/${pid}/smaps_rollup`) ?? '')
    if (match) total += Number(match[1])
  }
  return total
}

function readOr(file: string): string | undefined {
  try {
    return readFileSync(file, 'utf8')
  } catch {
    return undefined // the process exited between readdir and read
  }
}

/**
 * Busy CPU seconds of the whole machine so far (every core: user, nice, system, irq, softirq,
 * steal from /proc/stat). The hosts' side read from sshd's reaped children misses most of
 * verify's probe work (processes not reaped through the listener); this does not.
 */
export function machineBusyCpuSec(): number {
  const line = readFileSync('/proc/stat', 'utf8')
    .split('\n')
    .find(l => l.startsWith('cpu '))!
  const [user, nice, system, , , irq, softirq, steal] = line.trim().split(/\s+/).slice(1).map(Number)
  return (user! + nice! + system! + irq! + softirq! + steal!) / 100
}

/** cutime + cstime of a process: the CPU of all its descendants it has waited for. */
export function reapedCpuSec(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8')
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
  // fields from 3 (state) on: cutime and cstime are fields 16 and 17, in clock ticks (100 Hz on Linux)
  return (Number(fields[16 - 3]) + Number(fields[17 - 3])) / 100
}
