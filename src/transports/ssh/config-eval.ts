// ssh_config evaluated in-process, the way OpenSSH's readconf.c does, so a run resolves every host
// from files read once instead of spawning `ssh -G` per host: Host patterns (wildcards, `!`),
// Match host/originalhost/user/localuser/all (negation, pattern lists), Include (globs, relative
// to ~/.ssh or /etc/ssh, inside the current block), first obtained value wins, IdentityFile
// accumulates, `-l`/`-p` before any file. Anything it cannot evaluate like OpenSSH (Match exec,
// canonical, final, localnetwork, tagged, CanonicalizeHostname, ${ENV} expansion) answers
// `undefined`, and the caller asks `ssh -G` as before. The result is `ssh -G`'s text for the
// keywords verify reads, so one parser (parseSshG) serves both.
import { readFileSync, readdirSync } from 'node:fs'
import { dirname, isAbsolute, join } from 'node:path'
import { ConfigError } from '../../errors.ts'

export interface ParsedLine {
  keyword: string
  args: string[]
  /** The line after the keyword, verbatim: ProxyCommand keeps its quotes, as OpenSSH stores it. */
  rest: string
  file: string
  line: number
}

/** A config file's lines, Include already replaced by the lines it names (each tagged with its block depth). */
type Entry = ParsedLine | { include: Entry[][] }

/** Keywords whose values verify reads (lower-case, as `ssh -G` prints them). */
const READ = new Set([
  'hostname',
  'port',
  'user',
  'identityfile',
  'identitiesonly',
  'identityagent',
  'proxyjump',
  'proxycommand',
  'userknownhostsfile',
  'globalknownhostsfile',
  'stricthostkeychecking',
  'hostkeyalias',
  'hashknownhosts',
])
const MULTI = new Set(['identityfile'])
const UNSUPPORTED_MATCH = /^(exec|canonical|final|localnetwork|tagged)$/i

export class NeedsOpenSsh extends Error {}

/** Splits a config line into keyword and arguments: `Key value`, `Key=value`, "quoted args". */
export function splitLine(text: string): { keyword: string; args: string[]; rest: string } | undefined {
  const line = text.trim()
  if (line === '' || line.startsWith('#')) return undefined
  const m = /^(\S+?)(?:\s*=\s*|\s+)(.*)$/.exec(line) ?? /^(\S+)()$/.exec(line)
  if (!m) return undefined
  const args: string[] = []
  const rest = m[2]!
  const re = /"([^"]*)"|(\S+)/g
  let a: RegExpExecArray | null
  while ((a = re.exec(rest))) {
    if (a[2]?.startsWith('#')) break // a trailing comment
    args.push(a[1] ?? a[2]!)
  }
  return { keyword: m[1]!.toLowerCase(), args, rest }
}

/** OpenSSH's match_pattern: `*` and `?`, case as given. */
export function matchPattern(text: string, pattern: string): boolean {
  const re = new RegExp(
    `^${pattern
      .replace(/[.+^${}()|[\]\\]/g, '\\$&')
      .replace(/\*/g, '.*')
      .replace(/\?/g, '.')}$`,
    's',
  )
  return re.test(text)
}

/** match_pattern_list: comma-separated, `!` negates; any negated match → false; else any match. `lower`: patterns lower-cased (match_hostname). */
export function matchPatternList(text: string, list: string, lower = false): boolean {
  let matched = false
  const subject = text
  for (const raw of list.split(',')) {
    const negated = raw.startsWith('!')
    const pattern = lower ? (negated ? raw.slice(1) : raw).toLowerCase() : negated ? raw.slice(1) : raw
    if (matchPattern(subject, pattern)) {
      if (negated) return false
      matched = true
    }
  }
  return matched
}

export interface EvalQuery {
  alias: string
  user?: string
  port?: number
}

export interface EvalLocal {
  user: string
  home: string
}

/** Reads and parses config files once; evaluates any number of hosts against them. */
export class SshConfigFiles {
  /** One list per top-level file: each starts active, as OpenSSH reads each file afresh. */
  private readonly files: Entry[][]

  /** `files`: -F's file, or the user's then the system's; `userConfig`: whether relative Includes start in ~/.ssh. */
  constructor(
    files: Array<{ path: string; optional: boolean; userConfig: boolean }>,
    private readonly local: EvalLocal,
  ) {
    this.files = files.map(f => this.readFile(f.path, f.optional, f.userConfig, 0))
  }

  private readFile(path: string, optional: boolean, userConfig: boolean, depth: number): Entry[] {
    if (depth > 16) throw new ConfigError(`ssh_config: Include nested too deeply at ${path}`)
    let text: string
    try {
      text = readFileSync(path, 'utf8')
    } catch (err) {
      if (optional && (err as NodeJS.ErrnoException).code === 'ENOENT') return []
      throw new ConfigError(`ssh_config: cannot read ${path}: ${(err as Error).message}`, { cause: err })
    }
    const entries: Entry[] = []
    text.split('\n').forEach((raw, index) => {
      const parsed = splitLine(raw)
      if (!parsed) return
      if (parsed.args.some(a => a.includes('${'))) throw new NeedsOpenSsh('${ENV} expansion')
      if (parsed.keyword === 'include') {
        entries.push({
          include: parsed.args.map(pattern =>
            this.expandInclude(pattern, userConfig).flatMap(p => this.readFile(p, true, userConfig, depth + 1)),
          ),
        })
        return
      }
      entries.push({ ...parsed, file: path, line: index + 1 })
    })
    return entries
  }

  /** Include paths: `~` expanded, relative ones under ~/.ssh (user config) or /etc/ssh; globs in the last part, sorted. */
  private expandInclude(pattern: string, userConfig: boolean): string[] {
    let path = pattern.startsWith('~/') ? join(this.local.home, pattern.slice(2)) : pattern
    if (!isAbsolute(path)) path = join(userConfig ? join(this.local.home, '.ssh') : '/etc/ssh', path)
    if (!/[*?[]/.test(path)) return [path]
    if (/[*?[]/.test(dirname(path))) throw new NeedsOpenSsh('Include with a glob in a directory part')
    const base = path.slice(dirname(path).length + 1)
    try {
      return readdirSync(dirname(path))
        .filter(name => matchPattern(name, base) && !name.startsWith('.'))
        .sort()
        .map(name => join(dirname(path), name))
    } catch {
      return []
    }
  }

  /** `ssh -G`'s lines for the keywords verify reads, or throws NeedsOpenSsh. */
  evaluate(query: EvalQuery): string {
    const values = new Map<string, string[]>()
    const set = (key: string, value: string[]) => {
      if (!READ.has(key)) return
      // ProxyJump and ProxyCommand exclude each other: the first one set wins
      if ((key === 'proxycommand' && values.has('proxyjump')) || (key === 'proxyjump' && values.has('proxycommand'))) return
      // OpenSSH drops a repeated IdentityFile
      if (MULTI.has(key)) values.set(key, [...new Set([...(values.get(key) ?? []), value.join(' ')])])
      else if (!values.has(key)) values.set(key, [value.join(' ')])
    }
    // command-line options come first, so they win
    if (query.user !== undefined) set('user', [query.user])
    if (query.port !== undefined) set('port', [String(query.port)])
    // Host lines see the alias as typed; the default HostName is it lower-cased
    const host = query.alias
    const walk = (entries: Entry[], active: boolean): void => {
      for (const entry of entries) {
        if ('include' in entry) {
          // an included file's Host/Match lines apply within it; the including block resumes after
          for (const file of entry.include) if (active) walk(file, true)
          continue
        }
        if (entry.keyword === 'host') {
          active = hostMatches(host, entry.args)
          continue
        }
        if (entry.keyword === 'match') {
          active = this.matchLine(entry, query, values)
          continue
        }
        if (!active) continue
        if (entry.keyword === 'canonicalizehostname' && entry.args[0]?.toLowerCase() !== 'no')
          throw new NeedsOpenSsh('CanonicalizeHostname')
        if (entry.keyword === 'tag') throw new NeedsOpenSsh('Tag')
        set(
          entry.keyword,
          entry.keyword === 'proxycommand'
            ? [entry.rest]
            : ['identitiesonly', 'hashknownhosts', 'stricthostkeychecking'].includes(entry.keyword)
              ? entry.args.map(a => a.toLowerCase())
              : entry.args,
        )
      }
    }
    for (const file of this.files) walk(file, true)
    const lines: string[] = []
    const hostname = values.get('hostname')?.[0]
    lines.push(`hostname ${hostname === undefined ? host.toLowerCase() : expandPercentH(hostname, host)}`)
    for (const [key, list] of values) if (key !== 'hostname') for (const v of list) lines.push(`${key} ${v}`)
    return `${lines.join('\n')}\n`
  }

  private matchLine(entry: ParsedLine, query: EvalQuery, values: Map<string, string[]>): boolean {
    const args = [...entry.args]
    let result = true
    while (args.length > 0) {
      let criterion = args.shift()!.toLowerCase()
      const negated = criterion.startsWith('!')
      if (negated) criterion = criterion.slice(1)
      if (UNSUPPORTED_MATCH.test(criterion)) throw new NeedsOpenSsh(`Match ${criterion}`)
      let ok: boolean
      if (criterion === 'all') ok = true
      else {
        const list = args.shift()
        if (list === undefined) throw new ConfigError(`${entry.file} line ${entry.line}: Match ${criterion} needs an argument`)
        const hostname = values.get('hostname')?.[0]
        switch (criterion) {
          case 'host':
            ok = matchPatternList(hostname === undefined ? query.alias : expandPercentH(hostname, query.alias), list, true)
            break
          case 'originalhost':
            ok = matchPatternList(query.alias, list, true)
            break
          case 'user':
            ok = matchPatternList(values.get('user')?.[0] ?? this.local.user, list)
            break
          case 'localuser':
            ok = matchPatternList(this.local.user, list)
            break
          default:
            throw new NeedsOpenSsh(`Match ${criterion}`)
        }
      }
      if (negated) ok = !ok
      if (!ok) result = false
    }
    return result
  }
}

/** Host line: any positive pattern matches the alias and no negated one does (case as written on both sides). */
function hostMatches(host: string, patterns: string[]): boolean {
  let matched = false
  for (const raw of patterns) {
    const negated = raw.startsWith('!')
    if (matchPattern(host, negated ? raw.slice(1) : raw)) {
      if (negated) return false
      matched = true
    }
  }
  return matched
}

/** HostName's `%h` (the alias) and `%%`, as ssh does before using it. */
function expandPercentH(value: string, host: string): string {
  return value.replace(/%([%h])/g, (_, t: string) => (t === '%' ? '%' : host)).toLowerCase()
}
