// Collecting: a loaded spec's describe bodies called once per host (with that host and its vars),
// deciding per host which blocks apply (`when`, `skip`) and validating typed vars.
import type { HostSpec } from '../../model.ts'
import { findSecretPaths, validateVarsFromCommandLine } from '../vars.ts'
import { describeWhenFalse, type HostInfo } from '../when.ts'
import { varSourceOf } from '../../inventory/var-source.ts'
import { state, type Collecting, type Scope } from './state.ts'
import type { At, CheckFn, CollectError, Collection, DescribeBody, LoadedSpec, NormalizedOptions } from './types.ts'

/** Calls the spec's describe bodies for one host; a throwing body errors its own checks only. */
export function collectChecks(spec: LoadedSpec, host: HostSpec): Collection {
  const out: Collection = { checks: [], errors: [], varProblems: [], secretPaths: [] }
  // secret vars of every top-level schema, whether or not the block applies to this host
  for (const def of spec.definitions)
    if (def.kind === 'describe' && def.options.vars) out.secretPaths.push(...findSecretPaths(def.options.vars))
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

export function collectDescribe(title: string, opts: NormalizedOptions, body: DescribeBody<any>, at: At, c: Collecting): void {
  const path = [...c.scope.path, title]
  const base = { file: c.spec.file, ...at, line: at.line ?? c.scope.line, path }
  const scope: Scope = {
    path,
    tags: union(c.scope.tags, opts.tags),
    only: c.scope.only || opts.only,
    severity: opts.severity ?? c.scope.severity,
    waitMs: opts.waitMs ?? c.scope.waitMs,
    line: base.line,
  }
  const skipped = decideSkip(opts, c, base)
  if (skipped === null) return
  if (skipped !== undefined) {
    c.out.checks.push({ id: checkId(c.spec.file, path), ...base, fn: noop, tags: scope.tags, only: scope.only, skipped, block: true })
    return
  }
  let vars: Record<string, unknown> = c.host.vars
  if (opts.vars) {
    const validation = validateVarsFromCommandLine(opts.vars, c.host.vars, varPath => varSourceOf(c.host, varPath) === '--var')
    c.out.secretPaths.push(...validation.secretPaths)
    if (!validation.ok) {
      c.out.varProblems.push(
        ...validation.issues.map(issue => ({ file: c.spec.file, line: base.line, path, varPath: issue.path, message: issue.message })),
      )
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

export function collectIt(title: string, opts: NormalizedOptions, fn: CheckFn, at: At, c: Collecting): void {
  const path = [...c.scope.path, title]
  const base = { file: c.spec.file, ...at, line: at.line ?? c.scope.line, path }
  const skipped = decideSkip(opts, c, base)
  if (skipped === null) return
  const severity = opts.severity ?? c.scope.severity
  const waitMs = opts.waitMs ?? c.scope.waitMs
  c.out.checks.push({
    id: checkId(c.spec.file, path),
    ...base,
    fn,
    tags: union(c.scope.tags, opts.tags),
    only: c.scope.only || opts.only,
    skipped,
    ...(severity === 'warn' ? { severity } : {}),
    ...(waitMs === undefined ? {} : { waitMs }),
  })
}

/** The skip reason, undefined when it applies, null when `when` threw (recorded as an error). */
function decideSkip(opts: NormalizedOptions, c: Collecting, base: Omit<CollectError, 'error'>): string | undefined | null {
  if (opts.skip !== undefined) return opts.skip
  if (!opts.when) return undefined
  try {
    return opts.when(c.info) ? undefined : describeWhenFalse(opts.when)
  } catch (error) {
    c.out.errors.push({
      ...base,
      error: new Error(`when() threw: ${error instanceof Error ? error.message : String(error)}`, { cause: error }),
    })
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
