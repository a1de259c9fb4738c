// Reads waivers.yaml: each waiver names a check (id or `*` pattern), the hosts it covers (names,
// groups or `*` patterns; all when left out), a required justification and an expiry date.
// Every problem names its file:line, all of them at once, as hosts.yaml's do.
import { readFile } from 'node:fs/promises'
import { existsSync } from 'node:fs'
import { dirname, join, resolve } from 'node:path'
import { isMap, isScalar, isSeq, LineCounter, parseDocument, type Node } from 'yaml'
import { ConfigError } from '../errors.ts'
import { displayPath } from '../lib/format.ts'

export interface Waiver {
  /** A check id (`specs/web.spec.ts::nginx › config`) or a pattern with `*` matched against the id and the full title. */
  check: string
  /** Host names, group names or `*` patterns; undefined: every host. */
  hosts?: string[]
  justification: string
  /** `YYYY-MM-DD`: the waiver holds through this day (UTC) and has expired from the next. */
  expires: string
  /** `waivers.yaml:LINE` of the entry. */
  source: string
}

export interface WaiverFile {
  file: string
  waivers: Waiver[]
}

const DATE = /^(\d{4})-(\d{2})-(\d{2})$/
const KEYS = new Set(['check', 'hosts', 'justification', 'expires'])

/** `--waivers PATH`, else `waivers.yaml` beside the first inventory file when there is one. */
export function waiversPath(flag: string | undefined, inventory: string | string[], cwd = process.cwd()): string | undefined {
  if (flag) return resolve(cwd, flag)
  const beside = join(dirname(resolve(cwd, [inventory].flat()[0] ?? 'hosts.yaml')), 'waivers.yaml')
  return existsSync(beside) ? beside : undefined
}

/** The moment waivers are judged against: `VERIFY_NOW` (an ISO time, a testing aid) or now. */
export function waiverNow(env: NodeJS.ProcessEnv = process.env): Date {
  const given = env.VERIFY_NOW
  if (!given) return new Date()
  const at = new Date(given)
  if (Number.isNaN(at.getTime())) throw new ConfigError(`VERIFY_NOW="${given}" is not a date (give an ISO time, e.g. 2026-12-31T00:00:00Z)`)
  return at
}

/** The first moment the waiver no longer holds: the start of the day after `expires`, UTC. */
export function expiryMoment(expires: string): Date {
  const at = new Date(`${expires}T00:00:00Z`)
  at.setUTCDate(at.getUTCDate() + 1)
  return at
}

export function isExpired(waiver: Pick<Waiver, 'expires'>, now: Date): boolean {
  return now.getTime() >= expiryMoment(waiver.expires).getTime()
}

/** Throws a ConfigError listing every problem, unless `problems` collects them (the valid entries are then returned). */
export async function loadWaivers(path: string, cwd = process.cwd(), problems?: string[]): Promise<WaiverFile> {
  const file = displayPath(path, cwd)
  let text: string
  try {
    text = await readFile(path, 'utf8')
  } catch (err) {
    throw new ConfigError(`cannot read waivers file ${file}: ${(err as Error).message}`, { cause: err })
  }
  return parseWaivers(text, file, problems)
}

/** Parses the file's text; throws a ConfigError listing every `file:line: problem`. */
export function parseWaivers(text: string, file: string, collect?: string[]): WaiverFile {
  const problems: string[] = []
  const parsed = readWaivers(text, file, problems)
  if (collect) collect.push(...problems)
  else if (problems.length > 0) throw new ConfigError(problems.join('\n'))
  return parsed
}

function readWaivers(text: string, file: string, problems: string[]): WaiverFile {
  const lines = new LineCounter()
  const doc = parseDocument(text, { lineCounter: lines, prettyErrors: false })
  const at = (node: unknown) => `${file}:${lines.linePos((node as Node | undefined)?.range?.[0] ?? 0).line}`
  problems.push(...doc.errors.map(err => `${file}:${lines.linePos(err.pos[0]).line}: YAML syntax error: ${err.message.split('\n')[0]}`))
  if (problems.length > 0) return { file, waivers: [] }
  const root = doc.contents
  // an empty file waives nothing
  if (root === null || (isScalar(root) && root.value === null)) return { file, waivers: [] }
  const list = isMap(root) ? root.get('waivers', true) : undefined
  if (!isMap(root) || !isSeq(list)) {
    problems.push(`${at(root)}: expected \`waivers:\` with a list of waivers (check, hosts, justification, expires)`)
    return { file, waivers: [] }
  }
  const waivers: Waiver[] = []
  for (const item of list.items) {
    if (!isMap(item)) {
      problems.push(`${at(item)}: a waiver is a map with check, hosts, justification and expires`)
      continue
    }
    const entryProblems: string[] = []
    for (const pair of item.items) {
      const key = isScalar(pair.key) ? String(pair.key.value) : ''
      if (!KEYS.has(key)) entryProblems.push(`${at(pair.key)}: unknown key "${key}" (expected check, hosts, justification, expires)`)
    }
    const check = stringField(item.get('check', true), 'check', at(item), entryProblems)
    const justification = stringField(item.get('justification', true), 'justification', at(item), entryProblems)
    const expires = dateField(item.get('expires', true), at(item), entryProblems)
    const hosts = hostsField(item.get('hosts', true), at, entryProblems)
    problems.push(...entryProblems)
    if (entryProblems.length === 0)
      waivers.push({ check: check!, justification: justification!, expires: expires!, source: at(item), ...(hosts ? { hosts } : {}) })
  }
  return { file, waivers }
}

function stringField(node: unknown, name: string, entryAt: string, problems: string[]): string | undefined {
  if (node === undefined) {
    problems.push(
      `${entryAt}: waiver without ${name}${name === 'justification' ? ' (say why the failure is accepted, and who decided)' : ''}`,
    )
    return undefined
  }
  const value = isScalar(node) ? node.value : undefined
  if (typeof value !== 'string' || value.trim() === '') {
    problems.push(`${entryAt}: ${name} must be a non-empty string`)
    return undefined
  }
  return value.trim()
}

function dateField(node: unknown, entryAt: string, problems: string[]): string | undefined {
  if (node === undefined) {
    problems.push(`${entryAt}: waiver without expires (a date, YYYY-MM-DD): every waiver expires`)
    return undefined
  }
  // YAML 1.2 (the yaml package's default) leaves 2026-12-31 a string; a Date comes from a !!timestamp tag
  const raw = isScalar(node) ? node.value : undefined
  const text = raw instanceof Date ? raw.toISOString().slice(0, 10) : String(raw)
  const match = DATE.exec(text)
  const valid = match && new Date(`${text}T00:00:00Z`).toISOString().startsWith(text)
  if (!valid) {
    problems.push(`${entryAt}: expires "${text}" is not a date (YYYY-MM-DD)`)
    return undefined
  }
  return text
}

function hostsField(node: unknown, at: (node: unknown) => string, problems: string[]): string[] | undefined {
  if (node === undefined) return undefined
  const items = isSeq(node) ? node.items : [node]
  const hosts: string[] = []
  for (const item of items) {
    const value = isScalar(item) ? item.value : undefined
    if (typeof value !== 'string' || value.trim() === '') problems.push(`${at(item)}: hosts: expected host names, group names or patterns`)
    else hosts.push(value.trim())
  }
  return hosts
}

/** The run's waivers (`--waivers`, or waivers.yaml beside the inventory) and the time to judge them at; undefined when there is no file. */
export async function loadRunWaivers(
  flags: { waivers?: string; inventory: string | string[] },
  cwd = process.cwd(),
  env = process.env,
  problems?: string[],
): Promise<{ file: WaiverFile; now: Date } | undefined> {
  const path = waiversPath(flags.waivers, flags.inventory, cwd)
  if (!path) return undefined
  return { file: await loadWaivers(path, cwd, problems), now: waiverNow(env) }
}
