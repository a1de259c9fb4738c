// process(match): EVERY process matching a name, a command-line pattern or a pid file, each with
// its absolute start time (from /proc, not a rounded `ps` column), for restart detection.
//
// The host answers one constant question, "the process table" (one read per batch, shared by all
// the process checks asking in it); the match runs here, so no pattern ever reaches the host's
// command lines and a pattern can never match the probe, nor another verify run's probe. Names
// and pid files go to the host as data only to narrow what it reads (the candidates' sessions).
import { FactError } from '../../errors.ts'
import { readFact } from '../../dsl/context.ts'
import { defineFact, type FactGroup, type FactRequest, type RawFact } from '../../probe/fact.ts'
import { snippet } from '../../probe/snippet.ts'
import { PROBE_MARKER, WATCHDOG_SCRIPT } from '../../probe/script.ts'

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
  /** Each pid file asked, as the table read it: `m` missing, `d` not a regular file, `u` unreadable, or `pid:` and its first 64 bytes. */
  pidFiles?: Record<string, string>
}

/**
 * What the host reads: every process, or only the sessions of candidates (processes with one of
 * these names, or the pid in one of these pid files); they hold every process the match can take.
 */
export type TableScope = 'all' | { names?: readonly string[]; pidFiles?: readonly string[] }

// The table's awk program (process-table.awk says how it reads /proc and what it prints).
const TABLE_AWK = snippet(import.meta.url, 'process-table.awk')

// A function body run in the probe's own shell (see FactRequest.inline): one process, awk. mawk
// stops on a read error, which a process exiting while its files are read gives (ESRCH): then the
// table is read again (a fresh glob, a fresh nonce); the parser takes the last complete table.
// A pid file that is missing, or would stop mawk (a directory), or is unreadable is told by its
// tag before awk runs (builtins). Built here, not in a .sh file: the program goes in three times,
// as a literal awk argument.
const TABLE_SCRIPT = `[ -r /proc/stat ] || { echo '/proc is not mounted' >&2; return 2; }
i=$#
while [ "$i" -gt 0 ]; do
  a=$1; shift; i=$((i - 1))
  case $a in f*) if [ ! -e "\${a#f}" ]; then a=m\${a#f}; elif [ ! -f "\${a#f}" ]; then a=d\${a#f}; elif [ ! -r "\${a#f}" ]; then a=u\${a#f}; fi ;; esac
  set -- "$@" "$a"
done
awk '${TABLE_AWK}' "$@" /proc/[0-9]* || awk '${TABLE_AWK}' "$@" /proc/[0-9]* || awk '${TABLE_AWK}' "$@" /proc/[0-9]*`

/** Largest process table accepted: big Java command lines add up. */
const TABLE_MAX_BYTES = 64 * 1024 * 1024

/** Process checks asking in the same batch: one table read, over every name and pid file they ask (`*`: all). */
const TABLE_GROUP: FactGroup = {
  name: 'process-table',
  script: TABLE_SCRIPT,
  describe: () => 'process table (/proc)',
  // every member reads the one table (a superset of what it asked)
  split: (raw, members) => members.map(() => raw),
}

function tableArgs(scope: TableScope): string[] {
  if (scope === 'all') return ['*']
  return [...(scope.names ?? []).map(name => `n${name}`), ...(scope.pidFiles ?? []).map(file => `f${file}`)]
}

/** `process-table` for the whole table (snapshot and compare know it by that name); `process-table:name:nginx` for a part. */
function tableKey(scope: TableScope): string {
  if (scope === 'all') return 'process-table'
  const asked = [...(scope.names ?? []).map(name => `name:${name}`), ...(scope.pidFiles ?? []).map(file => `pidfile:${file}`)]
  return `process-table:${asked.join('\0')}`
}

/** The process table: every process (`verify snapshot`, `generate`, a match by args or user alone), or the candidates' sessions. */
export function processTableFact(scope: TableScope = 'all'): FactRequest<ProcessTable> {
  const args = tableArgs(scope)
  return defineFact({
    key: tableKey(scope),
    describe: 'process table (/proc)',
    script: TABLE_SCRIPT,
    inline: true,
    args,
    group: TABLE_GROUP,
    maxBytes: TABLE_MAX_BYTES,
    parse: parseTableFact,
  })
}

/** One parse per table read, however many checks of the batch share it. */
const parsedTables = new WeakMap<Buffer, ProcessTable>()

function parseTableFact(raw: RawFact, request: FactRequest<ProcessTable>): ProcessTable {
  if (raw.truncated) throw new FactError(`${request.describe}: larger than ${TABLE_MAX_BYTES} bytes`)
  let table = parsedTables.get(raw.stdout)
  if (!table) parsedTables.set(raw.stdout, (table = parseProcessTable(raw.stdout)))
  return table
}

/** Parses the framed output of the table snippet (bytes: command lines need not be UTF-8). */
export function parseProcessTable(out: Buffer): ProcessTable {
  const output = out.toString('latin1')
  // The last table read is the one that completed (an earlier read may have stopped half way): its
  // nonce is on the closing Z line, the last bytes; nothing a command line holds can follow that.
  const nonce = /\n(V[0-9a-f]{24,32}) Z\n$/.exec(output)?.[1]
  if (!nonce) {
    if (/^\n(V[0-9a-f]{24,32}) H /.test(output)) throw new Error('process table output ends early')
    throw new Error(`unexpected process table output: ${JSON.stringify(output.slice(0, 80))}`)
  }
  const start = output.indexOf(`\n${nonce} H `)
  if (start < 0) throw new Error('process table output ends early')
  const text = output.slice(start)
  const pieces = text.split(`\n${nonce} `).slice(1)
  if (pieces.at(-1) !== 'Z\n') throw new Error('process table output ends early')

  const header = pieces[0]!.trim().split(' ')
  const [, pid, sid, btime, hz, uptime, uid] = header
  const clockTicks = hz === '?' ? 100 : Number(hz)
  const bootTime = Number(btime)
  const uptimeSec = Number(uptime)
  if (![pid, sid, btime, uptime, uid].every(v => v !== undefined && /^\d+(\.\d+)?$/.test(v)) || !(clockTicks > 0)) {
    throw new Error(`unexpected process table header: ${JSON.stringify(pieces[0])}`)
  }
  const groups = (pieces[1] ?? '').replace(/^G /, '').trim().split(/\s+/).filter(Boolean).map(Number)
  const mountOptions = (pieces[2] ?? '').replace(/^M ?/, '').trim()
  assertFullView(mountOptions, Number(uid), groups)

  const names = new Map<number, string>()
  /** Command lines of parents read ahead of their turn (A records), by pid. */
  const parents = new Map<number, string[]>()
  let excludedPids: number[] = []
  // no prototype: a pid file may be called `__proto__`
  const pidFiles: Record<string, string> = Object.create(null)
  const rows: Array<{ uid: number; stat: string; cmdline: string }> = []
  for (let i = 3; i < pieces.length; i++) {
    const piece = pieces[i]!
    if (piece.startsWith('P ')) {
      const newline = piece.indexOf('\n')
      const cmd = pieces[i + 1]
      if (cmd === undefined || !cmd.startsWith('C\n'))
        throw new Error(`process table: record without command line: ${JSON.stringify(piece.slice(0, 80))}`)
      rows.push({ uid: Number(piece.slice(2, newline)), stat: piece.slice(newline + 1), cmdline: cmd.slice(2) })
      i++
    } else if (piece.startsWith('A ')) {
      const newline = piece.indexOf('\n')
      parents.set(Number(piece.slice(2, newline)), argvOf(piece.slice(newline + 1)))
    } else if (piece.startsWith('X')) {
      excludedPids = piece
        .slice(1)
        .trim()
        .split(/\s+/)
        .filter(Boolean)
        .map(Number)
        .sort((a, b) => a - b)
    } else if (piece.startsWith('F\n')) {
      const nul = piece.indexOf('\0')
      pidFiles[utf8(piece.slice(2, nul))] = utf8(piece.slice(nul + 1))
    } else if (piece.startsWith('U\n')) {
      for (const line of piece.slice(2).split('\n')) {
        const [name, , id] = line.split(':')
        if (name && id && /^\d+$/.test(id) && !names.has(Number(id))) names.set(Number(id), utf8(name))
      }
    }
  }
  const clock = { bootTime, clockTicks, uptimeSec }
  // Sessions beside the rows, not spread into copies of them: this runs for every process of every host.
  const sessions: number[] = []
  const all = rows.map(row => {
    const stat = parseStatLine(row.stat)
    sessions.push(stat.session)
    return toProcess(stat, row, names, clock)
  })
  // Another probe's facts carry their arguments (paths, names, patterns) on their command
  // lines: a check must not find them. Their sessions are recognised by the marker in $0, on
  // a fact's shell (or the `timeout` running it) or on the parent of a process.
  const argvByPid = new Map(all.map(p => [p.pid, p.argv]))
  const parentArgv = (p: { ppid: number }) => parents.get(p.ppid) ?? argvByPid.get(p.ppid) ?? []
  const probeSessions = new Set(all.flatMap((p, i) => (isProbeFactShell(p.argv) || isProbeFactShell(parentArgv(p)) ? [sessions[i]] : [])))
  const processes: ProcessInfo[] = []
  all.forEach((p, i) => {
    if (probeSessions.has(sessions[i])) excludedPids.push(p.pid)
    else processes.push(p)
  })
  processes.sort((a, b) => a.pid - b.pid)
  excludedPids.sort((a, b) => a - b)
  const table: ProcessTable = { processes, probe: { pid: Number(pid), sessionId: Number(sid), excludedPids } }
  if (Object.keys(pidFiles).length > 0) table.pidFiles = pidFiles
  return table
}

/** hidepid hides other users' processes: a partial table would make "not running" a false pass. */
function assertFullView(mountOptions: string, uid: number, groups: number[]): void {
  const hidepid = /(?:^|,)hidepid=([^,]+)/.exec(mountOptions)?.[1]
  if (!hidepid || hidepid === '0' || hidepid === 'off' || uid === 0) return
  const exempt = /(?:^|,)gid=(\d+)/.exec(mountOptions)?.[1]
  if (exempt !== undefined && groups.includes(Number(exempt))) return
  throw new FactError(
    `process table (/proc): /proc is mounted with hidepid=${hidepid}, so other users' processes are hidden from the non-root probe user (uid ${uid}); run as root or a member of the proc gid= group`,
  )
}

interface Clock {
  bootTime: number
  clockTicks: number
  uptimeSec: number
}

/**
 * A batch's watchdog (`sh -c WATCHDOG verify-probe`), a `sh -c SNIPPET verify-probe ARGS…` fact, or
 * the `timeout … sh -c …` of an older probe; from `ps` (busybox) the arguments come joined by spaces.
 */
function isProbeFactShell(argv: readonly string[]): boolean {
  for (let i = 0; i + 2 < argv.length; i++) if (argv[i] === '-c' && argv[i + 2] === PROBE_MARKER) return true
  return argv.length === 1 && argv[0]!.endsWith(` -c ${WATCHDOG_SCRIPT} ${PROBE_MARKER}`)
}

// Fields by hand, not split(/\s+/): this runs for every process of every host, and only four of the
// ~50 fields are read: state, ppid, session, starttime (fields 3, 4, 6, 22; indexes after the comm).
const STAT_FIELDS: readonly number[] = [0, 1, 3, 19]

/** `pid (comm) state ppid pgrp session … starttime(22) …`; comm may hold spaces, parens, newlines. */
export function parseStatLine(stat: string): {
  pid: number
  name: string
  state: string
  ppid: number
  session: number
  startTicks: number
} {
  const open = stat.indexOf(' (')
  const close = stat.lastIndexOf(')')
  const fields: string[] = []
  let at = close + 2
  for (let index = 0; index <= 19 && at < stat.length; index++) {
    let end = stat.indexOf(' ', at)
    if (end < 0) end = stat.length
    if (STAT_FIELDS.includes(index)) fields.push(stat.slice(at, end).trimEnd())
    at = end + 1
  }
  if (open < 0 || close < open || fields.length < 4 || fields[3] === '')
    throw new Error(`unexpected /proc/<pid>/stat line: ${JSON.stringify(stat.slice(0, 120))}`)
  const [state, ppid, session, startTicks] = fields as [string, string, string, string]
  return {
    pid: Number(stat.slice(0, open)),
    name: utf8(stat.slice(open + 2, close)),
    state,
    ppid: Number(ppid),
    session: Number(session),
    startTicks: Number(startTicks),
  }
}

function toProcess(
  stat: ReturnType<typeof parseStatLine>,
  row: { uid: number; cmdline: string },
  names: Map<number, string>,
  clock: Clock,
): ProcessInfo {
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
  // Most names and command lines are ASCII, and the same in both readings: skip the two copies.
  return /[^\x00-\x7f]/.test(latin1) ? Buffer.from(latin1, 'latin1').toString('utf8') : latin1
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
  return processes.filter(p => {
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

/** The pid a pid file held when the table was read: null when there is no pid file (so no process). */
export function pidFromTable(table: ProcessTable, path: string): number | null {
  const what = `read pid file ${path}`
  const read = table.pidFiles?.[path]
  if (read === undefined) throw new FactError(`${what}: not read with the process table`)
  if (read === 'd') throw new FactError(`${what}: not a regular file`)
  if (read === 'u') throw new FactError(`${what}: permission denied`)
  return parsePidFile(what, read === 'm' ? 'missing' : read)
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
  const list = { match, processes, count: processes.length, pids: processes.map(p => p.pid) }
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
  const table = await readFact(processTableFact(scopeOf(m)))
  const pid = m.pidFile !== undefined ? pidFromTable(table, m.pidFile) : undefined
  return processList(describeMatch(m), matchProcesses(table.processes, m, pid))
}

/** A name or a pid file narrows what the host reads (the criteria all hold); args or user alone need every process. */
export function scopeOf(match: ProcessMatch): TableScope {
  if (match.name === undefined && match.pidFile === undefined) return 'all'
  return {
    ...(match.name !== undefined ? { names: [match.name] } : {}),
    ...(match.pidFile !== undefined ? { pidFiles: [match.pidFile] } : {}),
  }
}
