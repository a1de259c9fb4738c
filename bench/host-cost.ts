// What a probe batch (or one inline fact) costs the host: the processes it starts and the CPU
// they use, measured in a pid namespace of its own (root: `unshare -pf --mount-proc`), so other
// work on the machine is neither counted nor seen. Processes: the namespace's last pid before and
// after, from /proc/loadavg (pids are handed out in order from 1); CPU: a cpuacct cgroup of its own
// (ns, so a 5 ms fact reads 5 ms) when the host has cgroup v1's cpuacct, else the shell's `times`
// for reaped children (10 ms ticks).
// Optional sleepers (sessions of their own, like a host's daemons) fill the namespace's process
// table first; they are started, then killed, by pid.
import { spawn } from 'node:child_process'
import { mkdirSync, rmdirSync } from 'node:fs'

export interface HostCost {
  /** Processes started by the measured part (the batch's own shell counted). */
  processes: number
  /** User + system CPU of those processes, ms (to the µs from cpuacct, else in 10 ms ticks). */
  cpuMs: number
  /** Where cpuMs came from. */
  cpuSource: 'cpuacct' | 'times'
  stdout: Buffer
}

const WRAPPER = String.raw`n=$1 mode=$2 body=$3 cg=$4 setup=$5
pids= i=0
while [ "$i" -lt "$n" ]; do setsid sleep 1000 & pids="$pids $!"; i=$((i + 1)); done
for p in $pids; do while read -r c < /proc/$p/comm && [ "$c" != sleep ]; do :; done; done
[ -z "$setup" ] || eval "$setup"
exec 4>&2
[ -z "$cg" ] || echo $$ > "$cg/cgroup.procs" || cg=
u=; [ -z "$cg" ] || read -r u < "$cg/cpuacct.usage"
read x x x x a < /proc/loadavg
{ printf 'A %s %s\n' "$a" "$u"; times; } >&4
if [ "$mode" = batch ]; then /bin/sh -s 2>/dev/null
else eval "__vf() {
$body
}"; __vf </dev/null 2>/dev/null
fi
u=; [ -z "$cg" ] || read -r u < "$cg/cpuacct.usage"
read x x x x b < /proc/loadavg
{ printf 'B %s %s\n' "$b" "$u"; times; } >&4
[ -z "$pids" ] || kill $pids
exit 0`

const CPUACCT = '/sys/fs/cgroup/cpuacct'
let cgroups = 0

/** A cpuacct cgroup of our own for one measurement, or '' where there is none (cgroup v2 only, not root). */
function makeCgroup(): string {
  const dir = `${CPUACCT}/verify-host-cost-${process.pid}-${cgroups++}`
  try {
    mkdirSync(dir)
    return dir
  } catch {
    return ''
  }
}

/** The cgroup is removable once its last process (a sleeper killed at the end) is gone. */
async function removeCgroup(dir: string): Promise<void> {
  for (let i = 0; dir && i < 100; i++) {
    try {
      rmdirSync(dir)
      return
    } catch {
      await new Promise(r => setTimeout(r, 50))
    }
  }
}

function seconds(text: string): number {
  const m = /(\d+)m([\d.]+)s/.exec(text)
  return m ? Number(m[1]) * 60 + Number(m[2]) : Number.NaN
}

/** `times` prints the shell's user/sys line, then its children's: the second line is ours. */
function childCpu(lines: string[]): number {
  const [user = '', sys = ''] = (lines[1] ?? '').trim().split(/\s+/)
  return seconds(user) + seconds(sys)
}

/**
 * Runs a batch script (`mode: 'batch'`, through `/bin/sh -s` with stdin held open as the runner
 * does, unless `endStdin`) or an inline fact body (`mode: 'inline'`) in a fresh pid namespace.
 */
export function measureHostCost(options: {
  mode: 'batch' | 'inline'
  script: string
  sleepers?: number
  endStdin?: boolean
  /** Shell run after the sleepers start, before the measured part (its processes end with the namespace). */
  setup?: string
}): Promise<HostCost> {
  const cgroup = makeCgroup()
  return new Promise<HostCost>((resolve, reject) => {
    const child = spawn(
      'unshare',
      [
        '-pf',
        '--mount-proc',
        '/bin/sh',
        '-c',
        WRAPPER,
        'host-cost',
        String(options.sleepers ?? 0),
        options.mode,
        options.mode === 'inline' ? options.script : '',
        cgroup,
        options.setup ?? '',
      ],
      { stdio: ['pipe', 'pipe', 'pipe'] },
    )
    const out: Buffer[] = []
    let err = ''
    child.stdout.on('data', (c: Buffer) => out.push(c))
    child.stderr.on('data', (c: Buffer) => {
      err += c.toString()
    })
    child.stdin.on('error', () => {})
    if (options.mode === 'batch') {
      child.stdin.write(options.script)
      if (options.endStdin) child.stdin.end()
    } else child.stdin.end()
    child.on('error', reject)
    child.on('close', code => {
      child.stdin.end()
      const lines = err.split('\n')
      const a = lines.findIndex(l => l.startsWith('A '))
      const b = lines.findIndex(l => l.startsWith('B '))
      if (code !== 0 || a < 0 || b < 0) return reject(new Error(`host-cost run failed (exit ${code}): ${err.slice(-500)}`))
      const [pidA, usageA] = lines[a]!.slice(2).split(' ')
      const [pidB, usageB] = lines[b]!.slice(2).split(' ')
      const precise = usageA && usageB ? (Number(usageB) - Number(usageA)) / 1e6 : undefined
      resolve({
        processes: Number(pidB) - Number(pidA),
        cpuMs:
          precise !== undefined
            ? Math.round(precise * 1000) / 1000
            : Math.round((childCpu(lines.slice(b + 1, b + 3)) - childCpu(lines.slice(a + 1, a + 3))) * 1000 * 10) / 10,
        cpuSource: precise !== undefined ? 'cpuacct' : 'times',
        stdout: Buffer.concat(out),
      })
    })
  }).finally(() => removeCgroup(cgroup))
}
