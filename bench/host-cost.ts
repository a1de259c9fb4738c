// What a probe batch (or one inline fact) costs the host: the processes it starts and the CPU
// they use, measured in a pid namespace of its own (root: `unshare -pf --mount-proc`), so other
// work on the machine is neither counted nor seen. Processes: the namespace's last pid before and
// after, from /proc/loadavg (pids are handed out in order from 1); CPU: the shell's `times` for reaped children.
// Optional sleepers (sessions of their own, like a host's daemons) fill the namespace's process
// table first; they are started, then killed, by pid.
import { spawn } from 'node:child_process'

export interface HostCost {
  /** Processes started by the measured part (the batch's own shell counted). */
  processes: number
  /** User + system CPU of those processes, ms. */
  cpuMs: number
  stdout: Buffer
}

const WRAPPER = String.raw`n=$1 mode=$2 body=$3
pids= i=0
while [ "$i" -lt "$n" ]; do setsid sleep 1000 & pids="$pids $!"; i=$((i + 1)); done
for p in $pids; do while read -r c < /proc/$p/comm && [ "$c" != sleep ]; do :; done; done
exec 4>&2
read x x x x a < /proc/loadavg
{ printf 'A %s\n' "$a"; times; } >&4
if [ "$mode" = batch ]; then /bin/sh -s 2>/dev/null
else eval "__vf() {
$body
}"; __vf </dev/null 2>/dev/null
fi
read x x x x b < /proc/loadavg
{ printf 'B %s\n' "$b"; times; } >&4
[ -z "$pids" ] || kill $pids
exit 0`

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
}): Promise<HostCost> {
  return new Promise((resolve, reject) => {
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
      resolve({
        processes: Number(lines[b]!.slice(2)) - Number(lines[a]!.slice(2)),
        cpuMs: Math.round((childCpu(lines.slice(b + 1, b + 3)) - childCpu(lines.slice(a + 1, a + 3))) * 1000 * 10) / 10,
        stdout: Buffer.concat(out),
      })
    })
  })
}
