// process(match): EVERY process matching a name, a command-line pattern or a pid file, each with
// its absolute start time (from /proc, not a rounded `ps` column), for restart detection.
//
// The host answers one constant question, "the process table" (one fact per host, shared by
// all process checks); the match runs here, so no pattern ever reaches the host's command lines
// and a pattern can never match the probe, nor another verify run's probe.
import { FactError } from '../errors.ts'
import { readFact } from '../dsl/context.ts'
import { factFailure, type FactRequest, type RawFact } from '../probe/fact.ts'
import { PROBE_MARKER } from '../probe/script.ts'

export interface ProcessInfo {
  pid: number
  ppid: number
  /** The kernel's name for the process (comm, at most 15 bytes): what `ps -C` and pgrep match. */
  name: string
  /** The command line, arguments joined by spaces ('' for kernel threads and zombies). */
  args: string
  argv: string[]
  /** Effective user, as `ps -o user` shows it. */
  user: string
  uid: number
  /** R running, S sleeping, D disk wait, Z zombie, T stopped, I idle kernel thread, … */
  state: string
  /** Boot time + start ticks / CLK_TCK: the same instant on every read, to the second. */
  startedAt: Date
  /** Seconds since the process started, by the host's own clock (uptime − start ticks). */
  elapsedSeconds: number
}

export interface ProcessMatch {
  /** The process name (comm); a name longer than 15 bytes matches its first 15, as the kernel keeps them. */
  name?: string
  /** The full command line: a RegExp, or a string that must appear in it literally. */
  args?: RegExp | string
  /** The pid written in this file; a missing pid file means no process. */
  pidFile?: string
  /** Only processes running as this (effective) user. */
  user?: string
}

export interface ProcessList extends Iterable<ProcessInfo> {
  /** What was asked, e.g. `name "nginx"`, for messages. */
  match: string
  processes: ProcessInfo[]
  count: number
  pids: number[]
}

export interface ProcessTable {
  processes: ProcessInfo[]
  /**
   * The probe's shell, its session, and the processes left out of `processes`: that session's,
   * and those of any other verify probe's session running a fact at the time of the read.
   */
  probe: { pid: number; sessionId: number; excludedPids: number[] }
}

// Reads /proc with shell builtins (one `cat` per process, for its NUL-separated cmdline), so it
// works on busybox hosts without ps. Every process of the probe's own session (the exec channel's:
// this shell, its ancestors up to the session leader, `od` of the batch, our `cat`s) is
// skipped. Records are framed by a random nonce: a command line can hold any bytes. Kernel
// threads (PF_KTHREAD in the flags, field 9) have no command line: no `cat` for them.
// Another probe's fact can `exec` its command (`systemctl … -- NAME` keeps the name, loses the
// marker) while its marked parent, `timeout` or the fact's shell, is still to come in the glob's
// order (lexicographic, and pids wrap): by the time the scan got there it could be gone. So a
// parent not read yet is read (record A) before the child's command line: it is alive then.
const TABLE_SCRIPT = String.raw`n=V$(od -An -N12 -tx1 /dev/urandom | tr -d ' \n')
[ ${"$"}{#n} -eq 25 ] || { echo 'cannot read /dev/urandom with od' >&2; exit 2; }
[ -r /proc/stat ] || { echo '/proc is not mounted' >&2; exit 2; }
read -r me < /proc/$$/stat; set -- ${"$"}{me##*) }; sid=$4
bt=; while read -r k v rest; do [ "$k" = btime ] && { bt=$v; break; }; done < /proc/stat
read -r up rest < /proc/uptime
hz=$(getconf CLK_TCK 2>/dev/null) || hz=
po=; while read -r dev mnt fs opts rest; do [ "$mnt" = /proc ] && [ "$fs" = proc ] && po=$opts; done < /proc/mounts
printf '\n%s H %s %s %s %s %s %s\n' "$n" "$$" "$sid" "$bt" "${"$"}{hz:-?}" "$up" "$(id -u)"
printf '\n%s G %s\n\n%s M %s\n' "$n" "$(id -G)" "$n" "$po"
uids=; ex=; seen=' '
for d in /proc/[0-9]*; do
  st=; { while IFS= read -r l || [ -n "$l" ]; do st="$st$l
"; done < "$d/stat"; } 2>/dev/null
  [ -n "$st" ] || continue
  set -- ${"$"}{st##*) }
  [ "$4" = "$sid" ] && { ex="$ex ${"$"}{d#/proc/}"; continue; }
  pp=$2 fl=$7
  u=; { while IFS= read -r l; do case $l in Uid:*) set -- $l; u=$3; break;; esac; done < "$d/status"; } 2>/dev/null
  [ -n "$u" ] || continue
  case " $uids " in *" $u "*) ;; *) uids="$uids $u";; esac
  kt=$(( fl & 2097152 ))
  if [ "$kt" -eq 0 ] && [ "$pp" -gt 1 ]; then
    case $seen in *" $pp "*) ;; *) seen="$seen$pp "; printf '\n%s A %s\n' "$n" "$pp"; cat "/proc/$pp/cmdline" 2>/dev/null;; esac
  fi
  seen="$seen${"$"}{d#/proc/} "
  printf '\n%s P %s\n%s' "$n" "$u" "$st"
  printf '\n%s C\n' "$n"
  [ "$kt" -ne 0 ] || cat "$d/cmdline" 2>/dev/null
done
printf '\n%s X%s\n\n%s U\n' "$n" "$ex" "$n"
if command -v getent >/dev/null 2>&1; then getent passwd $uids; else cat /etc/passwd; fi
printf '\n%s Z\n' "$n"
exit 0`

/** Largest process table accepted: big Java command lines add up. */
const TABLE_MAX_BYTES = 64 * 1024 * 1024

export function processTableFact(): FactRequest<ProcessTable> {
  const request: FactRequest<ProcessTable> = {
    key: 'process-table',
    describe: 'process table (/proc)',
    script: TABLE_SCRIPT,
    args: [],
    maxBytes: TABLE_MAX_BYTES,
    parse: (raw) => parseTableFact(request, raw),
  }
  return request
}

function parseTableFact(request: FactRequest<ProcessTable>, raw: RawFact): ProcessTable {
  if (raw.exitCode !== 0) throw factFailure(request, raw)
  if (raw.truncated) throw new FactError(`${request.describe}: larger than ${TABLE_MAX_BYTES} bytes`)
  return parseProcessTable(raw.stdout)
}

/** Parses the framed output of the table snippet (bytes: command lines need not be UTF-8). */
export function parseProcessTable(out: Buffer): ProcessTable {
  const text = out.toString('latin1')
  const nonce = /^\n(V[0-9a-f]{24}) H /.exec(text)?.[1]
  if (!nonce) throw new Error(`unexpected process table output: ${JSON.stringify(text.slice(0, 80))}`)
  const pieces = text.split(`\n${nonce} `).slice(1)
  if (pieces.at(-1) !== 'Z\n') throw new Error('process table output ends early')

  const header = pieces[0]!.trim().split(' ')
  const [, pid, sid, btime, hz, uptime, uid] = header
  const clockTicks = hz === '?' ? 100 : Number(hz)
  const bootTime = Number(btime)
  const uptimeSec = Number(uptime)
  if (![pid, sid, btime, uptime, uid].every((v) => v !== undefined && /^\d+(\.\d+)?$/.test(v)) || !(clockTicks > 0)) {
    throw new Error(`unexpected process table header: ${JSON.stringify(pieces[0])}`)
  }
  const groups = (pieces[1] ?? '').replace(/^G /, '').trim().split(/\s+/).filter(Boolean).map(Number)
  const mountOptions = (pieces[2] ?? '').replace(/^M ?/, '').trim()
  assertFullView(mountOptions, Number(uid), groups)

  const names = new Map<number, string>()
  /** Command lines of parents read ahead of their turn (A records), by pid. */
  const parents = new Map<number, string[]>()
  let excludedPids: number[] = []
  const rows: Array<{ uid: number; stat: string; cmdline: string }> = []
  for (let i = 3; i < pieces.length; i++) {
    const piece = pieces[i]!
    if (piece.startsWith('P ')) {
      const newline = piece.indexOf('\n')
      const cmd = pieces[i + 1]
      if (cmd === undefined || !cmd.startsWith('C\n')) throw new Error(`process table: record without command line: ${JSON.stringify(piece.slice(0, 80))}`)
      rows.push({ uid: Number(piece.slice(2, newline)), stat: piece.slice(newline + 1), cmdline: cmd.slice(2) })
      i++
    } else if (piece.startsWith('A ')) {
      const newline = piece.indexOf('\n')
      parents.set(Number(piece.slice(2, newline)), argvOf(piece.slice(newline + 1)))
    } else if (piece.startsWith('X')) {
      excludedPids = piece.slice(1).trim().split(/\s+/).filter(Boolean).map(Number).sort((a, b) => a - b)
    } else if (piece.startsWith('U\n')) {
      for (const line of piece.slice(2).split('\n')) {
        const [name, , id] = line.split(':')
        if (name && id && /^\d+$/.test(id) && !names.has(Number(id))) names.set(Number(id), utf8(name))
      }
    }
  }
  const clock = { bootTime, clockTicks, uptimeSec }
  const all = rows.map((row) => {
    const stat = parseStatLine(row.stat)
    return { ...toProcess(stat, row, names, clock), session: stat.session }
  })
  // Another probe's facts carry their arguments (paths, names, patterns) on their command
  // lines: a check must not find them. Their sessions are recognised by the marker in $0, on
  // a fact's shell (or the `timeout` running it) or on the parent of a process.
  const argvByPid = new Map(all.map((p) => [p.pid, p.argv]))
  const parentArgv = (p: { ppid: number }) => parents.get(p.ppid) ?? argvByPid.get(p.ppid) ?? []
  const probeSessions = new Set(all.filter((p) => isProbeFactShell(p.argv) || isProbeFactShell(parentArgv(p))).map((p) => p.session))
  const processes: ProcessInfo[] = []
  for (const { session, ...p } of all) {
    if (probeSessions.has(session)) excludedPids.push(p.pid)
    else processes.push(p)
  }
  processes.sort((a, b) => a.pid - b.pid)
  excludedPids.sort((a, b) => a - b)
  return { processes, probe: { pid: Number(pid), sessionId: Number(sid), excludedPids } }
}

/** hidepid hides other users' processes: a partial table would make "not running" a false pass. */
function assertFullView(mountOptions: string, uid: number, groups: number[]): void {
  const hidepid = /(?:^|,)hidepid=([^,]+)/.exec(mountOptions)?.[1]
  if (!hidepid || hidepid === '0' || hidepid === 'off' || uid === 0) return
  const exempt = /(?:^|,)gid=(\d+)/.exec(mountOptions)?.[1]
  if (exempt !== undefined && groups.includes(Number(exempt))) return
  throw new FactError(`process table (/proc): /proc is mounted with hidepid=${hidepid}, so other users' processes are hidden from the non-root probe user (uid ${uid}); run as root or a member of the proc gid= group`)
}

interface Clock {
  bootTime: number
  clockTicks: number
  uptimeSec: number
}

/** `sh -c SNIPPET verify-probe ARGS…`, or the `timeout … sh -c …` that runs it. */
function isProbeFactShell(argv: readonly string[]): boolean {
  for (let i = 0; i + 2 < argv.length; i++) if (argv[i] === '-c' && argv[i + 2] === PROBE_MARKER) return true
  return false
}

/** `pid (comm) state ppid pgrp session … starttime(22) …`; comm may hold spaces, parens, newlines. */
export function parseStatLine(stat: string): { pid: number; name: string; state: string; ppid: number; session: number; startTicks: number } {
  const open = stat.indexOf(' (')
  const close = stat.lastIndexOf(')')
  const fields = stat.slice(close + 2).trim().split(/\s+/)
  // fields[0] is field 3 (state), so field 22 (starttime) is fields[19]
  if (open < 0 || close < open || fields.length < 20) throw new Error(`unexpected /proc/<pid>/stat line: ${JSON.stringify(stat.slice(0, 120))}`)
  return {
    pid: Number(stat.slice(0, open)),
    name: utf8(stat.slice(open + 2, close)),
    state: fields[0]!,
    ppid: Number(fields[1]),
    session: Number(fields[3]),
    startTicks: Number(fields[19]),
  }
}

function toProcess(stat: ReturnType<typeof parseStatLine>, row: { uid: number; cmdline: string }, names: Map<number, string>, clock: Clock): ProcessInfo {
  const argv = argvOf(row.cmdline)
  const startSec = stat.startTicks / clock.clockTicks
  return {
    pid: stat.pid,
    ppid: stat.ppid,
    name: stat.name,
    args: argv.join(' '),
    argv,
    user: names.get(row.uid) ?? String(row.uid),
    uid: row.uid,
    state: stat.state,
    startedAt: new Date(Math.round((clock.bootTime + startSec) * 1000)),
    elapsedSeconds: Math.max(0, Math.round((clock.uptimeSec - startSec) * 100) / 100),
  }
}

/** /proc/<pid>/cmdline (NUL-terminated arguments, read as latin1) as argv. */
function argvOf(cmdline: string): string[] {
  return cmdline === '' ? [] : utf8(cmdline).replace(/\0$/, '').split('\0')
}

function utf8(latin1: string): string {
  return Buffer.from(latin1, 'latin1').toString('utf8')
}

// ---------------------------------------------------------------------------------------------
// Matching

const COMM_BYTES = 15

export function describeMatch(match: ProcessMatch): string {
  const parts: string[] = []
  if (match.name !== undefined) parts.push(`name ${JSON.stringify(match.name)}`)
  if (match.args !== undefined) parts.push(`args ${typeof match.args === 'string' ? JSON.stringify(match.args) : String(match.args)}`)
  if (match.pidFile !== undefined) parts.push(`pid file ${JSON.stringify(match.pidFile)}`)
  if (match.user !== undefined) parts.push(`user ${JSON.stringify(match.user)}`)
  return parts.join(', ')
}

/** Every process meeting all the given criteria. */
export function matchProcesses(processes: readonly ProcessInfo[], match: ProcessMatch, pidFromFile?: number | null): ProcessInfo[] {
  return processes.filter((p) => {
    if (match.name !== undefined && !nameMatches(p.name, match.name)) return false
    if (match.args !== undefined && !argsMatch(p.args, match.args)) return false
    if (match.user !== undefined && p.user !== match.user) return false
    if (match.pidFile !== undefined && p.pid !== pidFromFile) return false
    return true
  })
}

function nameMatches(comm: string, name: string): boolean {
  if (comm === name) return true
  const bytes = Buffer.from(name, 'utf8')
  return bytes.length > COMM_BYTES && Buffer.from(comm, 'utf8').equals(bytes.subarray(0, COMM_BYTES))
}

function argsMatch(args: string, pattern: RegExp | string): boolean {
  if (typeof pattern === 'string') return args.includes(pattern)
  pattern.lastIndex = 0 // a /g or /y pattern keeps state between test() calls
  return pattern.test(args)
}

// ---------------------------------------------------------------------------------------------
// Pid files

const PIDFILE_SCRIPT = String.raw`if [ ! -e "$1" ]; then echo missing; exit 0; fi
printf 'pid:'; exec head -c 64 -- "$1"`

export function pidFileFact(path: string): FactRequest<number | null> {
  const request: FactRequest<number | null> = {
    key: `pidfile:${path}`,
    describe: `read pid file ${path}`,
    script: PIDFILE_SCRIPT,
    args: [path],
    parse: (raw) => {
      if (raw.exitCode !== 0) throw factFailure(request, raw)
      return parsePidFile(request.describe, raw.stdout.toString('utf8'))
    },
  }
  return request
}

/** null: no pid file (so no process); a pid file that holds no pid is an error. */
export function parsePidFile(what: string, out: string): number | null {
  if (out.trim() === 'missing') return null
  const pid = /^pid:\s*(\d+)\s*(?:\n|$)/.exec(out)?.[1]
  if (!pid) throw new FactError(`${what}: does not hold a pid (${JSON.stringify(out.slice(4, 40))})`)
  return Number(pid)
}

// ---------------------------------------------------------------------------------------------

function normalize(match: string | ProcessMatch): ProcessMatch {
  const m = typeof match === 'string' ? { name: match } : match
  if (m.name === undefined && m.args === undefined && m.pidFile === undefined && m.user === undefined) {
    throw new Error('process(): give a name, { args }, { pidFile } or { user }')
  }
  return m
}

function processList(match: string, processes: ProcessInfo[]): ProcessList {
  const list = { match, processes, count: processes.length, pids: processes.map((p) => p.pid) }
  Object.defineProperty(list, Symbol.iterator, { value: () => processes[Symbol.iterator](), enumerable: false })
  return list as ProcessList
}

/**
 * Every process matching all the criteria: `process('nginx')` by name,
 * `process({ args: /puma .*blog/ })` by command line, `process({ pidFile: '/run/nginx.pid' })`.
 * Tip: `import { process as proc }` keeps Node's global `process` usable in the spec.
 */
export async function process(match: string | ProcessMatch): Promise<ProcessList> {
  const m = normalize(match)
  const [table, pid] = await Promise.all([readFact(processTableFact()), m.pidFile !== undefined ? readFact(pidFileFact(m.pidFile)) : undefined])
  return processList(describeMatch(m), matchProcesses(table.processes, m, pid))
}
