// describe / it. Loading a spec file only records its top-level blocks; the runner then
// calls each describe body once per host (with that host and its vars) to collect checks,
// deciding per host which blocks apply (`when`, `skip`) and validating typed vars.
//
// Forms (options are optional everywhere; see docs/targeting-and-vars.md):
//   describe(title, [options], body)        it(title, [options], fn)
//   describe.skip(title, [options], body, [reason])   it.skip(title, [options], fn, [reason])
//   describe.only(title, [options], body)   it.only(title, [options], fn)
//   describe.each(rows)(title, [options], (row, ctx) => …)   it.each(rows)(title, [options], (row) => …)
// options: { tags, when, skip: true | 'reason', only, vars (describe only: a schema),
//            severity: 'warn', wait: '2m' (docs/rollouts.md) }
import { durationMs } from '../../lib/duration.ts'
import { isSchema, type VarsSchema } from '../vars.ts'
import type { When } from '../when.ts'
import { callSite } from './call-site.ts'
import { collectDescribe, collectIt } from './collect.ts'
import { state } from './state.ts'
import type { CheckFn, Describe, DescribeBody, It, LoadedSpec, NormalizedOptions, SpecContext } from './types.ts'

const SKIPPED_IN_SPEC = 'marked skip in the spec'

// ---------------------------------------------------------------- public API

/** Groups checks. The body runs once per host, synchronously, with `{ host, vars }`. */
export const describe: Describe = Object.assign((title: string, ...rest: unknown[]) => declareDescribe(title, rest, {}), {
  skip: (title: string, ...rest: unknown[]) => declareDescribe(title, rest, { skip: true }),
  only: (title: string, ...rest: unknown[]) => declareDescribe(title, rest, { only: true }),
  each: <T>(rows: readonly T[]) => {
    assertRows(rows, 'describe.each')
    return (title: string, ...rest: unknown[]) => {
      const { options, fn } = splitArgs('describe.each', title, rest)
      rows.forEach((row, i) => {
        const body: DescribeBody<any> = ctx => (fn as (row: T, ctx: SpecContext<any>) => void)(row, ctx)
        declareDescribe(formatTitle(title, row, i, rows.length), [options, body], {})
      })
    }
  },
}) as Describe

/** One check. Checks of a host run concurrently: do not share mutable state between them. */
export const it: It = Object.assign((title: string, ...rest: unknown[]) => declareIt(title, rest, {}), {
  skip: (title: string, ...rest: unknown[]) => declareIt(title, rest, { skip: true }),
  only: (title: string, ...rest: unknown[]) => declareIt(title, rest, { only: true }),
  each: <T>(rows: readonly T[]) => {
    assertRows(rows, 'it.each')
    return (title: string, ...rest: unknown[]) => {
      const { options, fn } = splitArgs('it.each', title, rest)
      rows.forEach((row, i) => declareIt(formatTitle(title, row, i, rows.length), [options, () => (fn as (row: T) => unknown)(row)], {}))
    }
  },
}) as It

// ---------------------------------------------------------------- declaring

interface Modifier {
  skip?: true
  only?: true
}

function declareDescribe(title: string, rest: unknown[], modifier: Modifier): void {
  const { options, fn, reason } = splitArgs('describe', title, rest)
  const opts = normalizeOptions('describe', title, options, modifier, reason)
  const body = fn as DescribeBody<any>
  if (state.collecting) return collectDescribe(title, opts, body, callSite(state.collecting.spec), state.collecting)
  if (!state.loading) throw new Error(`describe("${title}") was called outside a spec file loaded by verify`)
  state.loading.definitions.push({ kind: 'describe', title, options: opts, body, file: state.loading.file, ...callSite(state.loading) })
}

function declareIt(title: string, rest: unknown[], modifier: Modifier): void {
  const { options, fn, reason } = splitArgs('it', title, rest)
  if (options.vars !== undefined)
    throw new TypeError(`it("${title}"): vars schemas belong on describe(), whose body receives the typed vars`)
  const opts = normalizeOptions('it', title, options, modifier, reason)
  const check = fn as CheckFn
  if (state.collecting) return collectIt(title, opts, check, callSite(state.collecting.spec), state.collecting)
  if (!state.loading) throw new Error(`it("${title}") was called outside a spec file loaded by verify`)
  state.loading.definitions.push({ kind: 'it', title, options: opts, fn: check, file: state.loading.file, ...callSite(state.loading) })
}

/** `(title, fn, reason?)` or `(title, options, fn, reason?)`. */
function splitArgs(what: string, title: unknown, rest: unknown[]): { options: Record<string, unknown>; fn: unknown; reason?: string } {
  if (typeof title !== 'string') throw new TypeError(`${what}() takes a title string first`)
  const [first, second, third] = rest
  if (first === undefined) throw new TypeError(`${what}("${title}") needs a function`)
  const withOptions = typeof first !== 'function'
  const options = withOptions ? first : {}
  const fn = withOptions ? second : first
  const reason = withOptions ? third : second
  if (options === null || typeof options !== 'object' || Array.isArray(options)) {
    throw new TypeError(`${what}("${title}"): expected an options object or a function after the title`)
  }
  if (typeof fn !== 'function') throw new TypeError(`${what}("${title}") needs a function${withOptions ? ' after its options' : ''}`)
  if (reason !== undefined && typeof reason !== 'string') throw new TypeError(`${what}("${title}"): the skip reason must be a string`)
  return { options: options as Record<string, unknown>, fn, reason }
}

const OPTION_KEYS = ['tags', 'when', 'skip', 'only', 'vars', 'severity', 'wait']

function normalizeOptions(
  what: string,
  title: string,
  options: Record<string, unknown>,
  modifier: Modifier,
  reason?: string,
): NormalizedOptions {
  const where = `${what}("${title}")`
  const unknown = Object.keys(options).filter(k => !OPTION_KEYS.includes(k))
  if (unknown.length > 0)
    throw new TypeError(`${where}: unknown option ${unknown.map(k => `"${k}"`).join(', ')} (options: ${OPTION_KEYS.join(', ')})`)
  const { tags = [], when, skip, only, vars, severity, wait } = options
  if (severity !== undefined && severity !== 'warn' && severity !== 'fail')
    throw new TypeError(`${where}: severity must be 'warn' or 'fail'`)
  const waitMs = wait === undefined ? undefined : parseWaitOption(where, wait)
  if (!Array.isArray(tags) || !tags.every(t => typeof t === 'string' && t.trim() !== ''))
    throw new TypeError(`${where}: tags must be a list of non-empty strings`)
  if (when !== undefined && typeof when !== 'function') throw new TypeError(`${where}: when must be a function (host) => boolean`)
  if (skip !== undefined && typeof skip !== 'boolean' && typeof skip !== 'string')
    throw new TypeError(`${where}: skip must be true or the reason (a string)`)
  if (only !== undefined && typeof only !== 'boolean') throw new TypeError(`${where}: only must be a boolean`)
  if (vars !== undefined && !isSchema(vars)) throw new TypeError(`${where}: vars must be a schema such as z.object({ app: z.string() })`)
  const skipReason = reason ?? (typeof skip === 'string' && skip.trim() !== '' ? skip : undefined)
  const skipped = modifier.skip === true || skip === true || skipReason !== undefined
  return {
    tags: tags as string[],
    when: when as When | undefined,
    skip: skipped ? (skipReason ?? SKIPPED_IN_SPEC) : undefined,
    only: modifier.only === true || only === true,
    vars: vars as VarsSchema | undefined,
    ...(severity === undefined ? {} : { severity }),
    ...(waitMs === undefined ? {} : { waitMs }),
  }
}

function parseWaitOption(where: string, wait: unknown): number {
  try {
    if (typeof wait !== 'string' && typeof wait !== 'number') throw new Error('expected a duration')
    return durationMs(wait)
  } catch {
    throw new TypeError(`${where}: wait must be a duration such as '90s', '2m' or a number of seconds`)
  }
}

function assertRows(rows: unknown, what: string): void {
  if (!Array.isArray(rows)) throw new TypeError(`${what}() takes an array of rows`)
}

/** `$key` from an object row, `%s` / `%j` the row, `%#` its index; numbered when the title would repeat. */
export function formatTitle(template: string, row: unknown, index: number, count: number): string {
  let title = template
    .replace(/%#/g, String(index))
    .replace(/%s/g, () => (Array.isArray(row) ? row.map(String).join(', ') : String(row)))
    .replace(/%j/g, () => JSON.stringify(row) ?? String(row))
  if (row !== null && typeof row === 'object' && !Array.isArray(row)) {
    title = title.replace(/\$([A-Za-z_][A-Za-z0-9_]*)/g, (match, key: string) =>
      Object.hasOwn(row, key) ? String((row as Record<string, unknown>)[key]) : match,
    )
  }
  return title === template && count > 1 ? `${template} [${index}]` : title
}

// ---------------------------------------------------------------- loading

/** Records the top-level blocks a spec file declares while it is imported. */
export async function loadSpec(file: string, importer: () => Promise<unknown>, absFile?: string): Promise<LoadedSpec> {
  const spec: LoadedSpec = { file, absFile, definitions: [] }
  const previous = state.loading
  state.loading = spec
  try {
    await importer()
  } finally {
    state.loading = previous
  }
  return spec
}
