// cron(user): a user's crontab, parsed into schedule and command. `crontab -l` reads the
// connecting user's own; another user's needs root (`crontab -l -u`) or a readable spool
// file, and without either the check is an error that says so, never an empty (passing
// "not scheduled") crontab.
import { ExpectationError, FactError } from '../../errors.ts'
import { readFact } from '../../dsl/context.ts'
import { defineFact, type FactRequest } from '../../probe/fact.ts'
import { snippet } from '../../probe/snippet.ts'
import { assertUserName } from '../../lib/valid-names.ts'

export interface CronEntry {
  /** The line as written, trimmed. */
  line: string
  /** 1-based line number in the crontab as listed. */
  lineNumber: number
  /** `0 3 * * *` or `@daily`. */
  schedule: string
  minute?: string
  hour?: string
  dayOfMonth?: string
  month?: string
  dayOfWeek?: string
  /** `@reboot`, `@daily`, … for the shorthand schedules. */
  special?: string
  /** Everything after the schedule, as cron passes it to the shell (`%` still in it). */
  command: string
}

export interface CronFacts {
  user: string
  /** The user has a crontab at all (`no crontab for USER` is false, with no entries). */
  hasCrontab: boolean
  entries: CronEntry[]
  /** `NAME=value` lines (MAILTO, PATH, SHELL, …), quotes removed; later lines win. */
  env: Record<string, string>
  /** Comment lines, without the leading `#`. */
  comments: string[]
  /** Lines that are neither entries, settings nor comments (cron itself would reject them). */
  unparsed: string[]
}

const CRON_SCRIPT = snippet(import.meta.url, 'cron.sh')

export function cronFact(user?: string): FactRequest<CronFacts> {
  if (user !== undefined) assertUserName('cron', user)
  const who = user ?? 'the connecting user'
  return defineFact({
    key: `cron:${user ?? ''}`,
    describe: `crontab of ${who}`,
    script: CRON_SCRIPT,
    args: [user ?? ''],
    parse: (raw, request) => parseCronOutput(request.describe, raw.stdout.toString('utf8')),
  })
}

export function parseCronOutput(what: string, out: string): CronFacts {
  const [tag, user = '', content = '', status = '', err = ''] = out.split('\0')
  if (tag === 'nouser')
    throw new ExpectationError(`${what}: user ${user} does not exist on the host`, `an existing user ${user}`, 'no such user')
  if (tag !== 'ok') throw new Error(`unexpected output: ${JSON.stringify(out.slice(0, 80))}`)
  if (status === '0') return { user, ...parseCrontab(content) }
  // Debian/cronie say "no crontab for u"; busybox cannot open the spool file
  if (/no crontab for|can't open.*No such file/i.test(err))
    return { user, hasCrontab: false, entries: [], env: {}, comments: [], unparsed: [] }
  throw new FactError(`${what}: crontab -l failed with exit ${status}${err ? `: ${err.trim().split('\n').slice(-2).join(' | ')}` : ''}`)
}

const ENV_LINE = /^([A-Za-z_][A-Za-z0-9_]*)\s*=\s*(.*)$/
const FIELD = /^[0-9A-Za-z*?,/#LW-]+$/

export function parseCrontab(text: string): Omit<CronFacts, 'user'> {
  const facts: Omit<CronFacts, 'user'> = { hasCrontab: true, entries: [], env: {}, comments: [], unparsed: [] }
  text.split('\n').forEach((raw, index) => {
    const line = raw.trim()
    if (line === '') return
    if (line.startsWith('#')) {
      facts.comments.push(line.slice(1).trim())
      return
    }
    const env = ENV_LINE.exec(line)
    if (env) {
      facts.env[env[1]!] = unquote(env[2]!.trim())
      return
    }
    const entry = parseEntry(line, index + 1)
    if (entry) facts.entries.push(entry)
    else facts.unparsed.push(line)
  })
  return facts
}

function parseEntry(line: string, lineNumber: number): CronEntry | undefined {
  const special = /^(@[a-z]+)\s+(\S.*)$/.exec(line)
  if (special) return { line, lineNumber, schedule: special[1]!, special: special[1]!, command: special[2]! }
  const m = /^(\S+)\s+(\S+)\s+(\S+)\s+(\S+)\s+(\S+)\s+(\S.*)$/.exec(line)
  if (!m) return undefined
  const fields = m.slice(1, 6) as [string, string, string, string, string]
  if (!fields.every(f => FIELD.test(f))) return undefined
  const [minute, hour, dayOfMonth, month, dayOfWeek] = fields
  return { line, lineNumber, schedule: fields.join(' '), minute, hour, dayOfMonth, month, dayOfWeek, command: m[6]! }
}

function unquote(value: string): string {
  const q = value[0]
  return (q === '"' || q === "'") && value.length >= 2 && value.endsWith(q) ? value.slice(1, -1) : value
}

function squeeze(text: string): string {
  return text.trim().replace(/\s+/g, ' ')
}

/**
 * A string matches an entry whose whole line (`0 3 * * * /usr/local/bin/backup`) or whose
 * command alone equals it, spaces squeezed; a RegExp is tested against the whole line.
 */
export function hasEntry(facts: Pick<CronFacts, 'entries'>, pattern: string | RegExp): boolean {
  return facts.entries.some(e => {
    const whole = `${e.schedule} ${squeeze(e.command)}`
    if (pattern instanceof RegExp) {
      pattern.lastIndex = 0
      return pattern.test(e.line) || pattern.test(whole)
    }
    const wanted = squeeze(pattern)
    return wanted === whole || wanted === squeeze(e.command)
  })
}

export class CronRef implements PromiseLike<CronFacts> {
  constructor(readonly user?: string) {
    cronFact(user) // validates the name now, where the spec called cron()
  }

  then<A = CronFacts, B = never>(
    onFulfilled?: ((value: CronFacts) => A | PromiseLike<A>) | null,
    onRejected?: ((reason: unknown) => B | PromiseLike<B>) | null,
  ): Promise<A | B> {
    return readFact(cronFact(this.user)).then(onFulfilled, onRejected)
  }

  /** Some entry matches (see hasEntry: a line, a command, or a RegExp over the line). */
  hasEntry(pattern: string | RegExp): Promise<boolean> {
    return this.then(f => hasEntry(f, pattern))
  }
}

/** The crontab of `user`, or of the user verify connects as when omitted. */
export function cron(user?: string): CronRef {
  return new CronRef(user)
}
