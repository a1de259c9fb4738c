// A fact is one question to a host, answered by one constant shell snippet.
// Values (paths, names) never go into the snippet: they are passed as positional
// parameters "$1", "$2", … so the remote shell can only ever see them as data.
import { ExpectationError, FactError } from '../errors.ts'

/** Default cap on one fact's stdout and stderr. */
export const DEFAULT_MAX_BYTES = 1024 * 1024

export interface RawFact {
  stdout: Buffer
  stderr: Buffer
  /** Exit status of the snippet; 124 when the batch was stopped for its time, 141 when cut at its cap. */
  exitCode: number
  /** stdout or stderr exceeded the fact's byte cap and was cut. */
  truncated: boolean
  timedOut: boolean
}

export interface FactRequest<T> {
  /** Cache key: two checks asking for the same key share one answer. */
  key: string
  /** Human description for error messages: `stat /apps/blog/current`. */
  describe: string
  /** Constant POSIX sh snippet; reads its inputs from "$1" "$2" … */
  script: string
  args: readonly string[]
  /**
   * The snippet is a function body run in the probe's own shell, without a fork of its own: it
   * ends with `return` (never `exit` or `exec`), leaves the working directory as it found it and
   * sets only lower-case variables of its own. Otherwise it runs as `sh -c SNIPPET verify-probe ARGS`.
   */
  inline?: boolean
  /** Facts of one group asked in the same batch are answered by one run of the group's snippet. */
  group?: FactGroup
  /** Per-fact limits; defaults come from the run's --timeout and output cap. */
  timeoutSec?: number
  maxBytes?: number
  parse(raw: RawFact): T
}

/**
 * Several facts answered by one snippet run (every stat of a batch in one `stat`): the members'
 * args go to the group's snippet in turn, and `split` gives each member its own answer back.
 */
export interface FactGroup {
  /** Members of the same group name in one batch are merged. */
  name: string
  /** Function body (inline, as FactRequest.inline) taking every member's args in order. */
  script: string
  describe(count: number): string
  split(raw: RawFact, members: ReadonlyArray<FactRequest<unknown>>): RawFact[]
}

/** The snippet as `sh -c SCRIPT verify-probe ARGS…` runs it (an inline body wrapped in a function). */
export function standaloneScript(request: Pick<FactRequest<unknown>, 'script' | 'inline'>): string {
  return request.inline ? `__vf() {\n${request.script}\n}\n__vf "$@"` : request.script
}

/** Standard failure for a snippet that did not answer: names the fact and the host's own words. */
export function factFailure(request: Pick<FactRequest<unknown>, 'describe'>, raw: RawFact): FactError {
  if (raw.timedOut) return new FactError(`${request.describe}: timed out on the host`)
  const stderr = raw.stderr.toString('utf8').trim().split('\n').slice(-3).join(' | ')
  if (raw.exitCode === 127) return new FactError(`${request.describe}: a required command is missing on the host (${stderr || 'exit 127'})`)
  return new FactError(`${request.describe}: failed with exit ${raw.exitCode}${stderr ? `: ${stderr}` : ''}`)
}

/** A fact as a resource declares it: a FactRequest whose parse sees only answers (exit 0 by default). */
export interface FactDefinition<T> extends Omit<FactRequest<T>, 'args' | 'parse'> {
  args?: readonly string[]
  /** Exit statuses that are answers, handed to `parse`; any other is `failure`. Default [0]; 'any' when parse reads the status itself. */
  answers?: readonly number[] | 'any'
  /** The error for a status that is no answer. Default factFailure: the fact's name and the host's own words. */
  failure?: (request: FactRequest<T>, raw: RawFact) => Error
  /** Output cut at its cap is this error (`describe: cut`) before anything else, whatever the status. */
  cut?: string
  parse(raw: RawFact, request: FactRequest<T>): T
}

/** One way to declare a fact: the "exit ≠ 0 → factFailure" every resource needs, written once. */
export function defineFact<T>(definition: FactDefinition<T>): FactRequest<T> {
  const { args = [], answers = [0], failure = factFailure, cut, parse, ...fields } = definition
  const request: FactRequest<T> = {
    ...fields,
    args,
    parse: raw => {
      if (cut !== undefined && raw.truncated) throw new FactError(`${request.describe}: ${cut}`)
      if (answers !== 'any' && !answers.includes(raw.exitCode)) throw failure(request, raw)
      return parse(raw, request)
    },
  }
  return request
}

/** A snippet that failed because its path does not exist: that is an answer, not a broken host. */
export function missingPathFailure(
  request: Pick<FactRequest<unknown>, 'describe'>,
  path: string,
  raw: RawFact,
): ExpectationError | FactError {
  if (/No such file or directory|Not a directory/.test(raw.stderr.toString('utf8'))) {
    return new ExpectationError(`${request.describe}: ${path} does not exist`, 'an existing file', 'missing')
  }
  return factFailure(request, raw)
}
