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
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import type { HostSpec } from '../../model.ts'
import { findSecretPaths, isSchema, validateVarsFromCommandLine, type VarPath, type VarsOf, type VarsSchema } from '../vars.ts'
import { describeWhenFalse, type HostInfo, type When } from '../when.ts'
import { durationMs } from '../../lib/duration.ts'
import { stackFrames } from '../stack-frames.ts'
import { varSourceOf } from '../../inventory/var-source.ts'

export type { HostInfo } from '../when.ts'

/** Vars from hosts.yaml (top < group < host < --var). */
export type Vars = Readonly<Record<string, any>>

export interface SpecContext<V = Vars> {
  host: HostInfo
  /** The vars the describe's schema gave (typed), or the host's raw vars when it has no schema. */
  vars: V
}

export type DescribeBody<V = Vars> = (ctx: SpecContext<V>) => void
export type CheckFn = () => unknown

/** Options of `it`, and of `describe` (where they apply to every check inside). */
export interface CheckOptions {
  /** Tags for `--tags` / `--exclude-tags`; a describe's tags apply to everything inside it. */
  tags?: readonly string[]
  /** Runs only on hosts for which this returns true; elsewhere reported as skipped (see inGroup, hasVars, varIs). */
  when?: When
  /** Skipped everywhere: `true`, or the reason to report (`skip: 'until #123 ships'`). */
  skip?: boolean | string
  /** Focus: when any check is marked only, the others are skipped (`verify check` flags a left-over only). */
  only?: boolean
  /** `warn`: a failure is reported as a warning and never fails the gate (errors still count). Default `fail`. */
  severity?: 'warn' | 'fail'
  /** Retry budget for this check when it fails (`'2m'`, `'90s'`, or seconds), overriding `--wait`. */
  wait?: string | number
}

export interface DescribeOptions<S extends VarsSchema = VarsSchema> extends CheckOptions {
  /** The vars this block needs: validated on every host it applies to before connecting, and typed in the body. */
  vars?: S
}

type TypedOptions<S extends VarsSchema> = DescribeOptions<S> & { vars: S }

export interface DescribeFn {
  (title: string, body: DescribeBody): void
  <S extends VarsSchema>(title: string, options: TypedOptions<S>, body: DescribeBody<VarsOf<S>>): void
  (title: string, options: CheckOptions, body: DescribeBody): void
}

/** `describe.skip(title, [options], body, [reason])`. */
export interface DescribeSkipFn {
  (title: string, body: DescribeBody, reason?: string): void
  <S extends VarsSchema>(title: string, options: TypedOptions<S>, body: DescribeBody<VarsOf<S>>, reason?: string): void
  (title: string, options: CheckOptions, body: DescribeBody, reason?: string): void
}

/** `describe.each(rows)(title, [options], (row, ctx) => …)`; `$key`, `%s`, `%j`, `%#` in the title. */
export interface DescribeEachFn<T> {
  (title: string, body: (row: T, ctx: SpecContext) => void): void
  <S extends VarsSchema>(title: string, options: TypedOptions<S>, body: (row: T, ctx: SpecContext<VarsOf<S>>) => void): void
  (title: string, options: CheckOptions, body: (row: T, ctx: SpecContext) => void): void
}

export interface Describe extends DescribeFn {
  skip: DescribeSkipFn
  only: DescribeFn
  each<T>(rows: readonly T[]): DescribeEachFn<T>
}

export interface ItFn {
  (title: string, fn: CheckFn): void
  (title: string, options: CheckOptions, fn: CheckFn): void
}

/** `it.skip(title, [options], fn, [reason])`. */
export interface ItSkipFn {
  (title: string, fn: CheckFn, reason?: string): void
  (title: string, options: CheckOptions, fn: CheckFn, reason?: string): void
}

export interface ItEachFn<T> {
  (title: string, fn: (row: T) => unknown): void
  (title: string, options: CheckOptions, fn: (row: T) => unknown): void
}

export interface It extends ItFn {
  skip: ItSkipFn
  only: ItFn
  each<T>(rows: readonly T[]): ItEachFn<T>
}

interface Located {
  title: string
  file: string
  line?: number
  /** `specs/shared/x.ts:12` when declared by a shared module rather than the spec file itself. */
  definedAt?: string
}
type Definition =
  | (Located & { kind: 'describe'; options: NormalizedOptions; body: DescribeBody<any> })
  | (Located & { kind: 'it'; options: NormalizedOptions; fn: CheckFn })

export interface LoadedSpec {
  file: string
  /** Absolute path, to find the spec's lines in stack traces. */
  absFile?: string
  definitions: Definition[]
}

export interface CollectedCheck {
  id: string
  file: string
  line?: number
  /** describe titles, then the it title. */
  path: string[]
  fn: CheckFn
  /** Own tags and those of every enclosing describe. */
  tags: readonly string[]
  /** Marked `.only` (itself or through a describe). */
  only: boolean
  /** Why it does not run on this host (`skip`, `when`); undefined when it runs. */
  skipped?: string
  /** A describe skipped as a whole: its checks were never collected for this host. */
  block?: boolean
  definedAt?: string
  /** `warn` from the check's or an enclosing describe's options. */
  severity?: 'warn'
  /** Own wait budget in ms (the nearest `wait` option), overriding `--wait`. */
  waitMs?: number
}

/** A describe body (or a `when`) that threw while collecting checks for a host. */
export interface CollectError {
  file: string
  line?: number
  path: string[]
  error: unknown
}

/** A host var that fails a describe's schema. */
export interface VarProblem {
  file: string
  line?: number
  /** The describe's path. */
  path: string[]
  varPath: VarPath
  message: string
}

export interface Collection {
  /** In declaration order, skipped ones included. */
  checks: CollectedCheck[]
  errors: CollectError[]
  varProblems: VarProblem[]
  /** Vars marked secret by the schemas of this spec (where the host's values must be redacted). */
  secretPaths: VarPath[]
}

interface NormalizedOptions {
  tags: string[]
  when?: When
  skip?: string
  only: boolean
  vars?: VarsSchema
  severity?: 'warn' | 'fail'
  waitMs?: number
}

interface Scope {
  path: string[]
  tags: string[]
  only: boolean
  severity?: 'warn' | 'fail'
  waitMs?: number
  /** The enclosing block's line in the spec: for blocks a shared module declares from its own describe bodies. */
  line?: number
}

interface Collecting {
  host: HostSpec
  info: HostInfo
  spec: LoadedSpec
  scope: Scope
  out: Collection
}

// Shared by every copy of this module in the process (a spec package may bring its own copy
// of postdeploy-verify), so `describe` always reaches the runner's registry.
interface RegistryState {
  loading?: LoadedSpec
  collecting?: Collecting
}
const STATE_KEY = Symbol.for('postdeploy-verify.registry.v1')
const state: RegistryState = ((globalThis as Record<symbol, unknown>)[STATE_KEY] ??= {}) as RegistryState

const SKIPPED_IN_SPEC = 'marked skip in the spec'

// ---------------------------------------------------------------- public API

/** Groups checks. The body runs once per host, synchronously, with `{ host, vars }`. */
export const describe: Describe = Object.assign(
  (title: string, ...rest: unknown[]) => declareDescribe(title, rest, {}),
  {
    skip: (title: string, ...rest: unknown[]) => declareDescribe(title, rest, { skip: true }),
    only: (title: string, ...rest: unknown[]) => declareDescribe(title, rest, { only: true }),
    each: <T,>(rows: readonly T[]) => {
      assertRows(rows, 'describe.each')
      return (title: string, ...rest: unknown[]) => {
        const { options, fn } = splitArgs('describe.each', title, rest)
        rows.forEach((row, i) => {
          const body: DescribeBody<any> = (ctx) => (fn as (row: T, ctx: SpecContext<any>) => void)(row, ctx)
          declareDescribe(formatTitle(title, row, i, rows.length), [options, body], {})
        })
      }
    },
  },
) as Describe

/** One check. Checks of a host run concurrently: do not share mutable state between them. */
export const it: It = Object.assign(
  (title: string, ...rest: unknown[]) => declareIt(title, rest, {}),
  {
    skip: (title: string, ...rest: unknown[]) => declareIt(title, rest, { skip: true }),
    only: (title: string, ...rest: unknown[]) => declareIt(title, rest, { only: true }),
    each: <T,>(rows: readonly T[]) => {
      assertRows(rows, 'it.each')
      return (title: string, ...rest: unknown[]) => {
        const { options, fn } = splitArgs('it.each', title, rest)
        rows.forEach((row, i) => declareIt(formatTitle(title, row, i, rows.length), [options, () => (fn as (row: T) => unknown)(row)], {}))
      }
    },
  },
) as It

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
  if (options.vars !== undefined) throw new TypeError(`it("${title}"): vars schemas belong on describe(), whose body receives the typed vars`)
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

function normalizeOptions(what: string, title: string, options: Record<string, unknown>, modifier: Modifier, reason?: string): NormalizedOptions {
  const where = `${what}("${title}")`
  const unknown = Object.keys(options).filter((k) => !OPTION_KEYS.includes(k))
  if (unknown.length > 0) throw new TypeError(`${where}: unknown option ${unknown.map((k) => `"${k}"`).join(', ')} (options: ${OPTION_KEYS.join(', ')})`)
  const { tags = [], when, skip, only, vars, severity, wait } = options
  if (severity !== undefined && severity !== 'warn' && severity !== 'fail') throw new TypeError(`${where}: severity must be 'warn' or 'fail'`)
  const waitMs = wait === undefined ? undefined : parseWaitOption(where, wait)
  if (!Array.isArray(tags) || !tags.every((t) => typeof t === 'string' && t.trim() !== '')) throw new TypeError(`${where}: tags must be a list of non-empty strings`)
  if (when !== undefined && typeof when !== 'function') throw new TypeError(`${where}: when must be a function (host) => boolean`)
  if (skip !== undefined && typeof skip !== 'boolean' && typeof skip !== 'string') throw new TypeError(`${where}: skip must be true or the reason (a string)`)
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
    title = title.replace(/\$([A-Za-z_][A-Za-z0-9_]*)/g, (match, key: string) => (Object.hasOwn(row, key) ? String((row as Record<string, unknown>)[key]) : match))
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

// ---------------------------------------------------------------- collecting

/** Calls the spec's describe bodies for one host; a throwing body errors its own checks only. */
export function collectChecks(spec: LoadedSpec, host: HostSpec): Collection {
  const out: Collection = { checks: [], errors: [], varProblems: [], secretPaths: [] }
  // secret vars of every top-level schema, whether or not the block applies to this host
  for (const def of spec.definitions) if (def.kind === 'describe' && def.options.vars) out.secretPaths.push(...findSecretPaths(def.options.vars))
  const collecting: Collecting = { host, info: hostInfo(host), spec, scope: { path: [], tags: [], only: false }, out }
  const previous = state.collecting
  state.collecting = collecting
  try {
    for (const def of spec.definitions) {
      const at = { line: def.line, definedAt: def.definedAt }
      if (def.kind === 'it') collectIt(def.title, def.options, def.fn, at, collecting)
      else collectDescribe(def.title, def.options, def.body, at, collecting)
    }
  } finally {
    state.collecting = previous
  }
  return out
}

interface At {
  line?: number
  definedAt?: string
}

function collectDescribe(title: string, opts: NormalizedOptions, body: DescribeBody<any>, at: At, c: Collecting): void {
  const path = [...c.scope.path, title]
  const base = { file: c.spec.file, ...at, line: at.line ?? c.scope.line, path }
  const scope: Scope = { path, tags: union(c.scope.tags, opts.tags), only: c.scope.only || opts.only, severity: opts.severity ?? c.scope.severity, waitMs: opts.waitMs ?? c.scope.waitMs, line: base.line }
  const skipped = decideSkip(opts, c, base)
  if (skipped === null) return
  if (skipped !== undefined) {
    c.out.checks.push({ id: checkId(c.spec.file, path), ...base, fn: noop, tags: scope.tags, only: scope.only, skipped, block: true })
    return
  }
  let vars: Record<string, unknown> = c.host.vars
  if (opts.vars) {
    const validation = validateVarsFromCommandLine(opts.vars, c.host.vars, (varPath) => varSourceOf(c.host, varPath) === '--var')
    c.out.secretPaths.push(...validation.secretPaths)
    if (!validation.ok) {
      c.out.varProblems.push(...validation.issues.map((issue) => ({ file: c.spec.file, line: base.line, path, varPath: issue.path, message: issue.message })))
      return
    }
    vars = validation.value
  }
  const mark = c.out.checks.length
  const outer = c.scope
  c.scope = scope
  try {
    const returned: unknown = body({ host: c.info, vars })
    if (returned instanceof Promise) {
      returned.catch(() => {}) // reported below; not an unhandled rejection
      throw new Error(`describe("${title}") body must be synchronous: declare checks with it(), and await inside them`)
    }
  } catch (error) {
    c.out.checks.length = mark // what the block would declare is unknown: none of its checks run
    c.out.errors.push({ ...base, error })
  } finally {
    c.scope = outer
  }
}

function collectIt(title: string, opts: NormalizedOptions, fn: CheckFn, at: At, c: Collecting): void {
  const path = [...c.scope.path, title]
  const base = { file: c.spec.file, ...at, line: at.line ?? c.scope.line, path }
  const skipped = decideSkip(opts, c, base)
  if (skipped === null) return
  const severity = opts.severity ?? c.scope.severity
  const waitMs = opts.waitMs ?? c.scope.waitMs
  c.out.checks.push({ id: checkId(c.spec.file, path), ...base, fn, tags: union(c.scope.tags, opts.tags), only: c.scope.only || opts.only, skipped, ...(severity === 'warn' ? { severity } : {}), ...(waitMs === undefined ? {} : { waitMs }) })
}

/** The skip reason, undefined when it applies, null when `when` threw (recorded as an error). */
function decideSkip(opts: NormalizedOptions, c: Collecting, base: Omit<CollectError, 'error'>): string | undefined | null {
  if (opts.skip !== undefined) return opts.skip
  if (!opts.when) return undefined
  try {
    return opts.when(c.info) ? undefined : describeWhenFalse(opts.when)
  } catch (error) {
    c.out.errors.push({ ...base, error: new Error(`when() threw: ${error instanceof Error ? error.message : String(error)}`, { cause: error }) })
    return null
  }
}

function union(a: readonly string[], b: readonly string[]): string[] {
  return b.length === 0 ? [...a] : [...new Set([...a, ...b])]
}

function noop(): void {}

export function checkId(file: string, path: readonly string[]): string {
  return `${file}::${path.join(' › ')}`
}

function hostInfo(host: HostSpec): HostInfo {
  return Object.freeze({
    name: host.name,
    address: host.address,
    port: host.port,
    user: host.user,
    groups: Object.freeze([...host.groups]),
    transport: host.transport,
    vars: host.vars,
  })
}

// ---------------------------------------------------------------- where a block was declared

const THIS_FILE = fileURLToPath(import.meta.url)

/**
 * The spec file's line in the current call stack (tsx maps it back to the .ts source), and,
 * when the immediate caller is another module (a shared example), that module's file:line.
 */
function callSite(spec: LoadedSpec): At {
  const frames = stackLocations()
  const own = frames.findIndex((f) => f.file !== THIS_FILE)
  const caller = own >= 0 ? frames[own] : undefined
  const inSpec = frames.find((f) => isSpecFile(f.file, spec))
  const definedAt = caller && !isSpecFile(caller.file, spec) ? `${displayPath(caller.file)}:${caller.line}` : undefined
  return { line: inSpec?.line, definedAt }
}

function isSpecFile(file: string, spec: LoadedSpec): boolean {
  if (spec.absFile) return file === spec.absFile
  return file === spec.file || file.endsWith(`${path.sep}${spec.file}`)
}

// A spec's blocks are collected once per host: 500 hosts × 22 checks would format (and
// source-map) 11,000 stack traces. The raw positions (no formatting, no source map) are cheap
// and name the call path exactly, so each path is mapped once.
const mappedByRawStack = new Map<string, Array<{ file: string; line: number }>>()

function rawStackKey(): string {
  const original = Error.prepareStackTrace
  const holder: { stack?: string } = {}
  try {
    Error.prepareStackTrace = (_error, sites) => sites.map((s) => `${s.getFileName()}:${s.getLineNumber()}:${s.getColumnNumber()}`).join('|')
    Error.captureStackTrace(holder, rawStackKey)
    return holder.stack ?? ''
  } finally {
    Error.prepareStackTrace = original
  }
}

function stackLocations(): Array<{ file: string; line: number }> {
  const key = rawStackKey()
  let locations = mappedByRawStack.get(key)
  if (!locations) mappedByRawStack.set(key, (locations = mappedStackLocations()))
  return locations
}

function mappedStackLocations(): Array<{ file: string; line: number }> {
  return stackFrames(new Error().stack).map(({ file, line }) => ({ file, line }))
}

function displayPath(file: string): string {
  const rel = path.relative(process.cwd(), file)
  return rel !== '' && !rel.startsWith('..') && !path.isAbsolute(rel) ? rel : file
}
