// What will run where, decided before connecting to anything: each host's checks collected
// from every spec, the ones that do not apply (skip, when, --tags, --grep, .only) turned into
// skipped results with their reason, vars validated against the specs' schemas, and the
// secret values to redact gathered. `verify`, `verify list` and `verify check` all start here.
import type { CheckResult, HostSpec } from '../model.ts'
import { checkId, collectChecks } from '../dsl/registry/collect.ts'
import type { CollectedCheck, LoadedSpec, VarProblem } from '../dsl/registry/types.ts'
import { formatVarPath, valueAtPath, type VarPath } from '../dsl/vars.ts'
import { whereVarIsSet } from '../inventory/var-source.ts'
import { describeFailure } from './check.ts'
import { checkResult } from './check-result.ts'

export interface PlanOptions {
  /** `--tags`: only checks with at least one of these tags run. */
  tags?: readonly string[]
  /** `--exclude-tags`: checks with any of these tags are skipped. */
  excludeTags?: readonly string[]
  /** `--grep`: only checks whose full title (describe titles › it title) or spec file matches run. */
  grep?: RegExp
  /** Per host, dotted var paths left unresolved on purpose (`verify check` without the env): not reported. */
  unresolvedVars?: ReadonlyMap<string, ReadonlySet<string>>
}

/** Either a check to run on the host, or its result already known (skipped, or a spec error). */
export type PlanEntry = { check: CollectedCheck; result?: undefined } | { result: CheckResult; check?: undefined }

export interface HostPlan {
  host: HostSpec
  entries: PlanEntry[]
  /** Checks that will run (entries with a check). */
  runnable: number
}

export interface Secret {
  /** The var's dotted path. */
  name: string
  value: string
}

export interface RunPlan {
  hosts: HostPlan[]
  /** `hosts.yaml:12 web-3: statusPort is required (number) — specs/blog.spec.ts:8 "Blog"`, one per problem. */
  varProblems: string[]
  /** Values of vars marked secret, on any host: redacted from every output. */
  secrets: Secret[]
  /** `file:line` of each check marked only, when focusing. */
  focused: string[]
  /** Checks that will run, over all hosts. */
  runnable: number
}

export function planRun(hosts: readonly HostSpec[], specs: readonly LoadedSpec[], options: PlanOptions = {}): RunPlan {
  const collected = hosts.map(host => ({ host, collections: specs.map(spec => collectChecks(spec, host)) }))
  const focused = new Set<string>()
  for (const { collections } of collected) {
    for (const c of collections) for (const check of c.checks) if (check.only && check.skipped === undefined) focused.add(location(check))
  }
  const varProblems: string[] = []
  const secrets = new Map<string, Secret>()
  const plans = collected.map(({ host, collections }) => {
    const entries: PlanEntry[] = []
    for (const c of collections) {
      for (const error of c.errors) entries.push({ result: specErrorResult(error.file, error.line, error.path, error.error) })
      for (const check of c.checks) {
        const reason = check.skipped ?? filterReason(check, options, focused)
        entries.push(reason === undefined ? { check } : { result: skippedResult(check, reason) })
      }
      varProblems.push(...c.varProblems.filter(p => !isUnresolved(host, p.varPath, options)).map(p => describeVarProblem(host, p)))
      for (const secretPath of c.secretPaths) addSecret(secrets, secretPath, valueAtPath(host.vars, secretPath))
    }
    return { host, entries, runnable: entries.filter(e => e.check).length }
  })
  return {
    hosts: plans,
    varProblems: [...new Set(varProblems)],
    secrets: [...secrets.values()],
    focused: [...focused],
    runnable: plans.reduce((n, p) => n + p.runnable, 0),
  }
}

/** Nothing runs on the host and nothing went wrong there: every check was skipped (flagged in reports). */
export function noChecksApply(plan: HostPlan): boolean {
  return plan.runnable === 0 && plan.entries.every(e => e.result?.status === 'skipped')
}

/** The config error for var problems: every one, up to a screenful. */
export function varProblemsMessage(problems: readonly string[], max = 50): string {
  const shown = problems.slice(0, max)
  const more = problems.length - shown.length
  return [
    `host vars do not match what the specs declare (nothing was connected to):`,
    ...shown.map(p => `  ${p}`),
    ...(more > 0 ? [`  … and ${more} more`] : []),
  ].join('\n')
}

function filterReason(check: CollectedCheck, options: PlanOptions, focused: ReadonlySet<string>): string | undefined {
  const excluded = options.excludeTags?.find(t => check.tags.includes(t))
  if (excluded !== undefined) return `tagged ${excluded} (--exclude-tags)`
  if (options.tags && options.tags.length > 0 && !options.tags.some(t => check.tags.includes(t))) {
    return `not tagged ${options.tags.join(' or ')} (--tags)`
  }
  if (options.grep && !options.grep.test(check.path.join(' › ')) && !options.grep.test(check.file))
    return `title does not match --grep ${options.grep.source}`
  if (focused.size > 0 && !check.only)
    return `not focused: only is used at ${[...focused].slice(0, 3).join(', ')}${focused.size > 3 ? ', …' : ''}`
  return undefined
}

function location(check: CollectedCheck): string {
  return check.line === undefined ? check.file : `${check.file}:${check.line}`
}

function skippedResult(check: CollectedCheck, reason: string): CheckResult {
  return checkResult(check, { status: 'skipped', message: reason })
}

function specErrorResult(file: string, line: number | undefined, path: string[], error: unknown): CheckResult {
  const outcome = describeFailure(error)
  const message = `describe body threw while collecting checks: ${outcome.message}`
  return checkResult(
    { id: checkId(file, path), file, line, path },
    { status: 'error', errorKind: 'spec', message, ...(outcome.failedAt ? { failedAt: outcome.failedAt } : {}) },
  )
}

/** `hosts.yaml:12 web-3: statusPort is required (number) — specs/blog.spec.ts:8 "Blog"`. */
function describeVarProblem(host: HostSpec, problem: VarProblem): string {
  const where = whereVarIsSet(host, problem.varPath)
  const spec = `${problem.file}${problem.line === undefined ? '' : `:${problem.line}`}`
  return `${where} ${host.name}: ${problem.message} — ${spec} "${problem.path.join(' › ')}"`
}

function isUnresolved(host: HostSpec, varPath: VarPath, options: PlanOptions): boolean {
  const unresolved = options.unresolvedVars?.get(host.name)
  if (!unresolved) return false
  for (let n = varPath.length; n > 0; n--) if (unresolved.has(varPath.slice(0, n).join('.'))) return true
  return false
}

function addSecret(secrets: Map<string, Secret>, varPath: VarPath, value: unknown, depth = 0): void {
  if (value !== null && typeof value === 'object') {
    // a secret map or list: every value in it is secret
    if (depth < 8) for (const [key, inner] of Object.entries(value)) addSecret(secrets, [...varPath, key], inner, depth + 1)
    return
  }
  if (value === undefined || value === null || typeof value === 'function') return
  const text = String(value)
  if (text === '') return
  secrets.set(text, { name: formatVarPath(varPath), value: text })
}
