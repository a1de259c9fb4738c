// The rollout flags of a run, kept out of cli.ts: which hosts this wave is (`--hosts -`,
// `--limit`, `--shard`, `--rerun-failed`), how long a check may take to go green (`--wait`),
// and how many bad hosts the gate tolerates (`--max-failing-hosts`).
import { existsSync, readFileSync } from 'node:fs'
import { Option, InvalidArgumentError, type Command } from 'commander'
import { ConfigError } from '../errors.ts'
import { ExitCode, SCHEMA_VERSION, type HostSpec, type RunResult } from '../model.ts'
import { applyLimit, parseShard, readHostsFromStdin, selectShard, type Shard } from '../inventory/limit.ts'
import { applyThreshold, parseThreshold, isFailingHost, type Threshold } from '../runner/gate.ts'
import { parseDuration } from '../lib/duration.ts'
import type { WaitPacing } from '../runner/wait.ts'
import { parseSince } from '../resources/deploy/restart.ts'
import { installBaseline } from '../app/snapshot/baseline.ts'
import { readSnapshot } from '../app/snapshot/snapshot.ts'
import type { RunPlan } from '../runner/plan.ts'
import { finishRun } from '../runner/run.ts'
import { consoleStream, writeJsonReport, writeReports, type OutputFlags } from '../reporters/outputs.ts'

export interface RolloutFlags {
  /** `--limit PATTERN[,PATTERN]`: names, globs, groups; `!` excludes. */
  limit?: string
  shard?: Shard
  maxFailingHosts?: Threshold
  /** `--wait` in ms. */
  wait?: number
  /** `--interval` in ms: a fixed pause between attempts. */
  interval?: number
  /** `--consecutive N`: green after N passes in a row. */
  consecutive?: number
  /** `--initial-delay` in ms: a pause before each check's first attempt. */
  initialDelay?: number
  /** `--rerun-failed RESULT.json`. */
  rerunFailed?: string
  /** `--since TIME`: when the deploy began (ms); sets the deployStartedAt var restart() compares with. */
  since?: number
  /** `--baseline SNAPSHOT.json`: what baseline() gives the specs. */
  baseline?: string
}

export function addRolloutOptions(command: Command): Command {
  return command
    .option('--limit <patterns>', 'narrow --hosts to names, globs (web-*) or groups; !pattern excludes; comma-separated')
    .addOption(
      new Option('--shard <i/n>', 'verify only shard i of n: hosts sorted by name and dealt round-robin (for parallel CI jobs)').argParser(
        optionParser(parseShard),
      ),
    )
    .addOption(
      new Option(
        '--max-failing-hosts <n|p%>',
        'pass (exit 0) while at most this many hosts (or this % of them) fail or error; the report names them',
      ).argParser(optionParser(parseThreshold)),
    )
    .addOption(
      new Option(
        '--wait <duration>',
        'retry a failing check with fresh facts until it passes or this runs out (90s, 2m); reports time-to-green',
      ).argParser(optionParser(parseDuration)),
    )
    .addOption(
      new Option(
        '--interval <duration>',
        'with --wait or --consecutive: a fixed pause between attempts (default: 0.5s doubling to 5s)',
      ).argParser(optionParser(parseDuration)),
    )
    .addOption(
      new Option(
        '--consecutive <n>',
        'a check is green only after n passes in a row, each with fresh facts (like Argo Rollouts consecutiveSuccessLimit)',
      ).argParser(optionParser(parseConsecutive)),
    )
    .addOption(
      new Option(
        '--initial-delay <duration>',
        "wait this long before each check's first attempt (like Argo Rollouts initialDelay)",
      ).argParser(optionParser(parseDuration)),
    )
    .option('--rerun-failed <result.json>', 'verify again only the hosts and checks that failed or errored in an earlier --json result')
    .option('--baseline <snapshot.json>', 'a snapshot written by verify snapshot: specs read it with baseline() to assert on changes')
    .addOption(
      new Option(
        '--since <time>',
        'when the deploy began (ISO 8601 or epoch seconds): sets the deployStartedAt var restart() compares start times with',
      ).argParser(optionParser(parseSinceFlag)),
    )
}

function parseConsecutive(text: string): number {
  const n = Number(text)
  if (!Number.isInteger(n) || n < 1 || n > 100) throw new Error(`must be a whole number from 1 to 100, got ${text}`)
  return n
}

/** The attempt pacing the rollout flags ask for, when any. */
export function waitPacing(flags: RolloutFlags): WaitPacing | undefined {
  const pacing: WaitPacing = {
    ...(flags.interval !== undefined ? { intervalMs: flags.interval } : {}),
    ...(flags.consecutive !== undefined ? { consecutive: flags.consecutive } : {}),
    ...(flags.initialDelay !== undefined ? { startDelayMs: flags.initialDelay } : {}),
  }
  return Object.keys(pacing).length > 0 ? pacing : undefined
}

function optionParser<T>(parse: (text: string) => T): (text: string) => T {
  return text => {
    try {
      return parse(text)
    } catch (error) {
      throw new InvalidArgumentError((error as Error).message)
    }
  }
}

export interface RolloutSelection {
  hosts: HostSpec[]
  /** Set when the wave is legitimately empty (an empty shard, nothing to re-run): exit 0, said so. */
  nothingToVerify?: string
}

/**
 * The wave's hosts: `--hosts` (or `-`: stdin; or, with --rerun-failed and no --hosts, the hosts
 * that failed), resolved by `resolve`, then narrowed by --rerun-failed, --limit and --shard.
 */
export async function selectRolloutHosts(
  hostsFlag: string | undefined,
  flags: RolloutFlags,
  resolve: (hosts: string) => Promise<HostSpec[]>,
): Promise<RolloutSelection> {
  if (flags.baseline) installBaseline(readSnapshot(flags.baseline), flags.baseline)
  let hostsArg = hostsFlag
  if (hostsArg === '-') hostsArg = await readHostsFromStdin()
  if (!hostsArg && flags.rerunFailed) {
    const failing = failedChecks(readResult(flags.rerunFailed))
    if (failing.size === 0) return { hosts: [], nothingToVerify: `nothing failed in ${flags.rerunFailed}: nothing to re-run` }
    hostsArg = [...failing.keys()].join(',')
  }
  if (!hostsArg) throw new ConfigError('--hosts is required')
  const hosts = await resolve(hostsArg)
  let selected = hosts
  if (flags.rerunFailed) {
    const failing = failedChecks(readResult(flags.rerunFailed))
    selected = selected.filter(h => failing.has(h.name))
    if (selected.length === 0)
      return { hosts: [], nothingToVerify: `none of the selected hosts failed in ${flags.rerunFailed}: nothing to re-run` }
  }
  if (flags.limit !== undefined) selected = applyLimit(selected, flags.limit)
  if (flags.shard) {
    selected = selectShard(selected, flags.shard)
    if (selected.length === 0)
      return {
        hosts: [],
        nothingToVerify: `shard ${flags.shard.index}/${flags.shard.count} holds none of the ${hosts.length} selected hosts: nothing to verify in this job`,
      }
  }
  if (flags.since !== undefined) {
    const deployStartedAt = new Date(flags.since).toISOString()
    selected = selected.map(h => ({ ...h, vars: { ...h.vars, deployStartedAt } }))
  }
  return { hosts: selected }
}

function parseSinceFlag(text: string): number {
  const ms = parseSince(text)
  if (ms === undefined) throw new Error('give a time')
  return ms
}

/** The report of a wave with nothing in it: the note, an empty result with exit 0 (so `verify merge` still gets a file). */
export function reportNothingToVerify(note: string, flags: RolloutFlags & OutputFlags, startedAt: Date): number {
  const empty = finishRollout({ ...finishRun(startedAt, [], []), exitCode: ExitCode.Ok }, flags, undefined)
  const out = consoleStream(empty, flags, process)
  out.write(`${note}\nPASS (exit 0): nothing to verify\n`)
  writeReports(empty, flags, { env: process.env, stdout: process.stdout, console: out })
  if (flags.json) writeJsonReport(empty, flags.json, process.stdout)
  return ExitCode.Ok
}

/** Keeps, per host, only the checks that failed or errored in the earlier result. */
export function restrictPlan(plan: RunPlan, flags: RolloutFlags): RunPlan {
  if (!flags.rerunFailed) return plan
  const failing = failedChecks(readResult(flags.rerunFailed))
  const hosts = plan.hosts
    .map(hp => {
      const ids = failing.get(hp.host.name) ?? new Set<string>()
      const entries = hp.entries.filter(e => ids.has(e.check?.id ?? e.result!.id))
      return { ...hp, entries, runnable: entries.filter(e => e.check).length }
    })
    .filter(hp => hp.entries.length > 0)
  return { ...plan, hosts, runnable: hosts.reduce((n, h) => n + h.runnable, 0) }
}

/** Host name → ids of checks that failed or errored (every check of a host that could not be verified). */
export function failedChecks(run: RunResult): Map<string, Set<string>> {
  const out = new Map<string, Set<string>>()
  for (const host of run.hosts) {
    if (!isFailingHost(host)) continue
    const ids = host.checks.filter(c => host.status === 'error' || c.status === 'failed' || c.status === 'error').map(c => c.id)
    out.set(host.host.name, new Set(ids))
  }
  return out
}

const results = new Map<string, RunResult>()

/** A `--json` result file, checked for the schema this verify writes. */
export function readResult(file: string): RunResult {
  const cached = results.get(file)
  if (cached) return cached
  if (!existsSync(file)) throw new ConfigError(`${file}: no such result file`)
  let parsed: unknown
  try {
    parsed = JSON.parse(readFileSync(file, 'utf8'))
  } catch (error) {
    throw new ConfigError(`${file}: not JSON (${(error as Error).message})`)
  }
  const run = parsed as Partial<RunResult>
  if (typeof parsed !== 'object' || parsed === null || !Array.isArray(run.hosts))
    throw new ConfigError(`${file}: not a verify --json result (no hosts list)`)
  if (run.schemaVersion !== SCHEMA_VERSION)
    throw new ConfigError(`${file}: schemaVersion ${String(run.schemaVersion)}, this verify reads ${SCHEMA_VERSION}`)
  results.set(file, parsed as RunResult)
  return parsed as RunResult
}

/** The run with the rollout's threshold and selection recorded. */
export function finishRollout(result: RunResult, flags: RolloutFlags, hostsArg: string | undefined): RunResult {
  const selection = {
    ...(flags.limit !== undefined ? { limit: flags.limit } : {}),
    ...(flags.shard ? { shard: `${flags.shard.index}/${flags.shard.count}` } : {}),
    ...(hostsArg === '-' ? { fromStdin: true } : {}),
    ...(flags.rerunFailed ? { rerunOf: flags.rerunFailed } : {}),
  }
  const withSelection = Object.keys(selection).length > 0 ? { ...result, selection } : result
  return flags.maxFailingHosts && result.configErrors.length === 0 ? applyThreshold(withSelection, flags.maxFailingHosts) : withSelection
}
