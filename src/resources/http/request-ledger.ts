// verify's own HTTP requests across runs: a status page's access counter also counts the
// requests of earlier runs, --wait retries, snapshots and compares, so each run appends when
// its requests were answered (per host, vantage point and origin) to a small JSON-lines file,
// and serverStatus() discounts those the running server has counted (answered after its start).
import { appendFileSync, closeSync, fstatSync, mkdirSync, openSync, readFileSync, readSync, renameSync, writeFileSync } from 'node:fs'
import path from 'node:path'

/** One line of the ledger: one host run's answered requests to one origin. */
interface LedgerLine {
  key: string
  /** Runner clock, ms. */
  times: number[]
}

/** Entries older than this are dropped when the file is rewritten: an app up longer is discounted less (a stricter check). */
const KEEP_MS = 7 * 24 * 3600 * 1000
/** The file is rewritten (old entries dropped) once it grows past this. */
const COMPACT_BYTES = 1024 * 1024
export const LEDGER_FILE = 'http-requests.jsonl'

/** Where the ledger lives: `$VERIFY_STATE_DIR`, else `.verify/` in the working directory. */
export function ledgerPath(): string {
  const dir = process.env['VERIFY_STATE_DIR'] || path.join(process.cwd(), '.verify')
  return path.join(dir, LEDGER_FILE)
}

/** The key of a host's requests to an origin from one vantage point. */
export function ledgerKey(hostName: string, via: string, origin: string): string {
  return `${hostName} ${via} ${origin}`
}

// read once per process and kept current with this process's own appends
let loaded: { file: string; byKey: Map<string, number[]> } | undefined

/** Times (runner clock, ms) of earlier runs' answered requests under `key`, oldest first. */
export function earlierRequestTimes(key: string): number[] {
  return [...(load().get(key) ?? [])].sort((a, b) => a - b)
}

/** Appends a finished host run's answered requests; a ledger that cannot be written never fails a run. */
export function recordRequestTimes(entries: ReadonlyArray<{ key: string; times: readonly number[] }>): void {
  const lines = entries.filter(e => e.times.length > 0)
  if (lines.length === 0) return
  const byKey = load()
  const file = ledgerPath()
  try {
    mkdirSync(path.dirname(file), { recursive: true })
    // one append per host run: O_APPEND keeps concurrent runs (shards) from interleaving lines
    const text = lines.map(e => JSON.stringify({ key: e.key, times: e.times }) + '\n').join('')
    appendFileSync(file, (endsMidLine(file) ? '\n' : '') + text)
  } catch {
    return
  }
  for (const e of lines) byKey.set(e.key, [...(byKey.get(e.key) ?? []), ...e.times])
}

/** A run that crashed mid-append left a cut line: the next entry starts on a line of its own. */
function endsMidLine(file: string): boolean {
  let fd: number | undefined
  try {
    fd = openSync(file, 'r')
    const size = fstatSync(fd).size
    if (size === 0) return false
    const last = Buffer.alloc(1)
    readSync(fd, last, 0, 1, size - 1)
    return last[0] !== 0x0a
  } catch {
    return false
  } finally {
    if (fd !== undefined) closeSync(fd)
  }
}

function load(): Map<string, number[]> {
  const file = ledgerPath()
  if (loaded?.file === file) return loaded.byKey
  const byKey = new Map<string, number[]>()
  let text = ''
  try {
    text = readFileSync(file, 'utf8')
  } catch {
    // no ledger yet: no earlier runs to discount
  }
  for (const line of text.split('\n')) {
    const entry = parseLine(line)
    if (entry) byKey.set(entry.key, [...(byKey.get(entry.key) ?? []), ...entry.times])
  }
  loaded = { file, byKey }
  if (text.length > COMPACT_BYTES) compact(file, byKey)
  return byKey
}

function parseLine(line: string): LedgerLine | undefined {
  if (line.trim() === '') return undefined
  try {
    const value = JSON.parse(line) as Partial<LedgerLine>
    if (typeof value.key !== 'string' || !Array.isArray(value.times)) return undefined
    return { key: value.key, times: value.times.filter((t): t is number => typeof t === 'number' && Number.isFinite(t)) }
  } catch {
    // a line cut by a crash mid-append
    return undefined
  }
}

/** Rewrites the file without entries older than KEEP_MS (write, then rename over). */
function compact(file: string, byKey: Map<string, number[]>): void {
  const cutoff = Date.now() - KEEP_MS
  const lines: string[] = []
  for (const [key, times] of byKey) {
    const kept = times.filter(t => t >= cutoff)
    if (kept.length > 0) lines.push(JSON.stringify({ key, times: kept }))
    byKey.set(key, kept)
  }
  try {
    const tmp = `${file}.${process.pid}.tmp`
    writeFileSync(tmp, lines.map(l => l + '\n').join(''))
    renameSync(tmp, file)
  } catch {
    // compaction is housekeeping; the ledger still reads
  }
}

/** Forgets what was read (tests that switch VERIFY_STATE_DIR within one process). */
export function resetLedgerCache(): void {
  loaded = undefined
}
