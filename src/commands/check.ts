// `verify check`: everything that can be wrong before a deploy, found without connecting:
// spec type errors (TypeScript), a broken inventory, host vars that miss or mistype what the
// specs declare, describe bodies that throw, a left-over `.only`. Each problem is `file:line`;
// exit 0 when clean, 3 otherwise. Unset `${env:…}` vars are noted, not failed: a commit hook
// does not have the deploy's secrets.
import path from 'node:path'
import { glob } from 'tinyglobby'
import { ConfigError } from '../errors.ts'
import { ExitCode, type HostSpec } from '../model.ts'
import { loadInventories, type InventoryFormat } from '../inventory/load.ts'
import { applyLimit, selectShard, type Shard } from '../inventory/limit.ts'
import { parseVarArgs, selectHosts } from '../inventory/select.ts'
import { describeUnresolved, resolveEnvRefs } from '../inventory/env-refs.ts'
import { loadSpecFiles } from '../runner/load-specs.ts'
import { planRun } from '../runner/plan.ts'
import { makeRedactor } from '../reporters/redact.ts'
import { sanitize } from '../reporters/sanitize.ts'
import { formatTypeProblem, typecheckSpecs } from '../app/typecheck.ts'
import { loadRunWaivers } from '../waivers/load.ts'
import { waiverProblems } from '../waivers/validate.ts'

export interface CheckFlags {
  /** One file, or several layered later-over-earlier (as `-i` for a run). */
  inventory: string | string[]
  inventoryFormat?: InventoryFormat
  specs: string
  var: string[]
  /** Only these hosts' vars; default every host of the inventory. */
  hosts?: string
  /** The run's flags that set vars: `--expect-version` (expectVersion), `--since` (deployStartedAt, ms). */
  expectVersion?: string
  since?: number
  /** The run's flags that narrow what runs: hosts by `--limit` and `--shard`, checks by `--tags`, `--exclude-tags`, `--grep`. */
  limit?: string
  shard?: Shard
  tags?: string[]
  excludeTags?: string[]
  grep?: RegExp
  /** `--waivers PATH` (default: waivers.yaml beside the inventory, when present). */
  waivers?: string
}

export interface CheckOutcome {
  exitCode: number
  problems: string[]
  notes: string[]
  text: string
}

export async function checkProject(flags: CheckFlags, cwd = process.cwd(), env: NodeJS.ProcessEnv = process.env): Promise<CheckOutcome> {
  const started = performance.now()
  const problems: string[] = []
  const notes: string[] = []
  const files = (await glob(flags.specs, { cwd, ignore: ['**/node_modules/**'] })).sort()
  if (files.length === 0) problems.push(`no spec files match ${flags.specs} (in ${cwd})`)
  else problems.push(...(await typecheckSpecs(files, cwd)).map(formatTypeProblem))

  const hosts = await checkInventory(flags, cwd, problems, notes)
  const resolution = resolveEnvRefs(hosts, env, { lenient: true })
  for (const line of describeUnresolved(resolution.unresolved))
    notes.push(`${line}: not checked, refers to an environment variable that is not set here`)

  let redact = (text: string) => text
  let checks = 0
  if (files.length > 0) {
    // every file that loads is checked, whatever the others do
    const { specs, problems: loadProblems } = await loadSpecFiles(
      files.map(f => path.resolve(cwd, f)),
      cwd,
    )
    problems.push(...loadProblems)
    const plan = planRun(resolution.hosts, specs, {
      unresolvedVars: resolution.unresolved,
      tags: flags.tags,
      excludeTags: flags.excludeTags,
      grep: flags.grep,
    })
    redact = makeRedactor(plan.secrets)
    problems.push(...plan.varProblems)
    for (const entry of plan.hosts.flatMap(h => h.entries.map(e => ({ host: h.host.name, result: e.result })))) {
      if (entry.result?.status === 'error')
        problems.push(`${entry.result.file}:${entry.result.line ?? 1}: on ${entry.host}: ${entry.result.message}`)
    }
    // top-level ones are known without any host; nested ones show up when collecting for a host
    const topLevel = specs.flatMap(spec =>
      spec.definitions.filter(d => d.options.only).map(d => (d.line === undefined ? d.file : `${d.file}:${d.line}`)),
    )
    for (const at of new Set([...topLevel, ...plan.focused]))
      problems.push(`${at}: only is left in: verify would run only the focused checks`)
    checks = plan.runnable
    const collected = plan.hosts.flatMap(h => h.entries.map(e => e.check ?? e.result))
    problems.push(...(await checkWaivers(flags, cwd, collected, env)))
  }
  const unique = [...new Set(problems)].map(p => redact(sanitize(p)))
  const secs = ((performance.now() - started) / 1000).toFixed(1)
  const lines = [
    ...unique,
    ...notes.map(n => `note: ${redact(sanitize(n))}`),
    unique.length === 0
      ? `verify check: OK: ${files.length} spec ${files.length === 1 ? 'file' : 'files'} type-check, ${hosts.length} ${hosts.length === 1 ? "host's" : "hosts'"} vars match, ${checks} checks would run (${secs}s)`
      : `verify check: ${unique.length} ${unique.length === 1 ? 'problem' : 'problems'} (${secs}s)`,
  ]
  return { exitCode: unique.length === 0 ? ExitCode.Ok : ExitCode.Usage, problems: unique, notes, text: `${lines.join('\n')}\n` }
}

/** The vars a run sets from its own flags, as the run sets them (cli.ts, commands/rollout.ts). */
function runFlagVars(flags: CheckFlags): Record<string, unknown> {
  return {
    ...(flags.expectVersion === undefined ? {} : { expectVersion: flags.expectVersion }),
    ...(flags.since === undefined ? {} : { deployStartedAt: new Date(flags.since).toISOString() }),
  }
}

/** The waivers file's own problems (file:line), then waivers naming no check or already expired. */
async function checkWaivers(
  flags: CheckFlags,
  cwd: string,
  checks: Array<{ id: string; path: string[] }>,
  env: NodeJS.ProcessEnv,
): Promise<string[]> {
  try {
    const problems: string[] = []
    const waivers = await loadRunWaivers(flags, cwd, env, problems)
    return waivers ? [...problems, ...waiverProblems(waivers.file, checks, waivers.now)] : []
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error
    return error.message.split('\n')
  }
}

/** The hosts whose vars to check: `--hosts`, else every host of the inventory; inventory problems go to `problems`. */
async function checkInventory(flags: CheckFlags, cwd: string, problems: string[], notes: string[]): Promise<HostSpec[]> {
  const paths = [flags.inventory].flat()
  const shown = paths.join(', ')
  try {
    const overrideVars = { ...parseVarArgs(flags.var), ...runFlagVars(flags) }
    const inventory = await loadInventories(
      paths.map(p => path.resolve(cwd, p)),
      flags.inventoryFormat,
    )
    for (const warning of inventory?.warnings ?? []) notes.push(warning)
    const narrow = (hosts: HostSpec[]) => {
      const limited = flags.limit === undefined ? hosts : applyLimit(hosts, flags.limit)
      return flags.shard ? selectShard(limited, flags.shard) : limited
    }
    if (flags.hosts) return narrow(selectHosts(inventory, flags.hosts, overrideVars, { inventoryPath: shown }))
    if (!inventory) {
      notes.push(`no inventory at ${shown}: no host vars checked (give --hosts, or -i FILE)`)
      return []
    }
    const names = [...inventory.hosts.keys()]
    return names.length === 0 ? [] : narrow(selectHosts(inventory, names.join(','), overrideVars, { inventoryPath: shown }))
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error
    problems.push(...error.message.split('\n'))
    return []
  }
}
