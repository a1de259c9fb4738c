// `verify compare --hosts old --against new`: the same specs on two groups, every fact they
// read kept, hosts paired explicitly, and every differing fact reported, beyond pass/fail:
// the migration parity report (old deploy method vs new, or canary vs the rest).
import { mkdirSync, writeFileSync } from 'node:fs'
import { dirname } from 'node:path'
import { ConfigError } from '../errors.ts'
import { ExitCode, type RunResult } from '../model.ts'
import { DEFAULT_IGNORES, diffHosts, type PairDiff } from '../app/compare/diff.ts'
import { describePairing, pairHosts, type Pairing } from '../app/compare/pair.ts'
import { sanitizeLine, truncate } from '../reporters/sanitize.ts'
import { TOOL } from '../version.ts'
import type { RunHooks } from './run-hooks.ts'
import { loadSpecs } from '../runner/load-specs.ts'

export const COMPARE_KIND = 'verify-compare'
export const COMPARE_SCHEMA_VERSION = 1

export interface CompareFlags {
  hosts: string
  against: string
  pair: Pairing
  /** Added to (or, with defaultIgnores false, instead of) DEFAULT_IGNORES. */
  ignore: string[]
  defaultIgnores: boolean
  json?: string
}

export interface CompareReport {
  kind: typeof COMPARE_KIND
  schemaVersion: typeof COMPARE_SCHEMA_VERSION
  tool: { name: string; version: string }
  old: { selection: string; hosts: string[] }
  new: { selection: string; hosts: string[] }
  pairing: string
  ignored: string[]
  pairs: PairDiff[]
  /** 0 no difference, 1 a pair differs, 2 a host could not be verified, 3 configuration. */
  exitCode: ExitCode
}

type Run = (hosts: string, hooks: RunHooks) => Promise<number>

export async function runCompare(flags: CompareFlags & { specs: string }, run: Run): Promise<number> {
  const results: RunResult[] = []
  // loaded once for both sides: an ES module runs its describe() calls only on its first import
  const specs = await loadSpecs(flags.specs)
  for (const selection of [flags.hosts, flags.against]) {
    await run(selection, { specs, recordFacts: true, quiet: true, onResult: r => results.push(r) })
  }
  const [old, now] = results as [RunResult, RunResult]
  const configErrors = [
    ...(old?.configErrors ?? []).map(e => `--hosts ${flags.hosts}: ${e}`),
    ...(now?.configErrors ?? []).map(e => `--against ${flags.against}: ${e}`),
  ]
  if (configErrors.length > 0) throw new ConfigError(configErrors.join('\n'))
  const report = compareRuns(old, now, flags)
  process.stdout.write(renderCompare(report))
  if (flags.json) {
    mkdirSync(dirname(flags.json), { recursive: true })
    writeFileSync(flags.json, `${JSON.stringify(report, null, 2)}\n`, 'utf8')
  }
  return report.exitCode
}

export function compareRuns(
  old: RunResult,
  now: RunResult,
  flags: Pick<CompareFlags, 'hosts' | 'against' | 'pair' | 'ignore' | 'defaultIgnores'>,
): CompareReport {
  const ignored = [...new Set([...(flags.defaultIgnores ? DEFAULT_IGNORES : []), ...flags.ignore])]
  const byName = (run: RunResult) => new Map(run.hosts.map(h => [h.host.name, h]))
  const oldHosts = byName(old)
  const newHosts = byName(now)
  const pairs = pairHosts([...oldHosts.keys()], [...newHosts.keys()], flags.pair).map(([o, n]) =>
    diffHosts(oldHosts.get(o)!, newHosts.get(n)!, { ignore: ignored }),
  )
  const errored = pairs.some(p => p.errors.length > 0)
  const differ = pairs.some(p => p.differences.length > 0 || p.checks.length > 0)
  return {
    kind: COMPARE_KIND,
    schemaVersion: COMPARE_SCHEMA_VERSION,
    tool: TOOL,
    old: { selection: flags.hosts, hosts: [...oldHosts.keys()] },
    new: { selection: flags.against, hosts: [...newHosts.keys()] },
    pairing: describePairing(flags.pair),
    ignored,
    pairs,
    exitCode: errored ? ExitCode.HostError : differ ? ExitCode.Failed : ExitCode.Ok,
  }
}

const SHOWN_PER_PAIR = 50
const VALUE_WIDTH = 120

export function renderCompare(r: CompareReport): string {
  const lines = [
    `verify compare: ${sanitizeLine(r.old.selection)} (${r.old.hosts.length} hosts) vs ${sanitizeLine(r.new.selection)} (${r.new.hosts.length} hosts), paired ${r.pairing}`,
    '',
  ]
  for (const p of r.pairs) {
    const count = p.differences.length + p.checks.length
    lines.push(
      `${count === 0 && p.errors.length === 0 ? '=' : '≠'} ${sanitizeLine(p.old)} ↔ ${sanitizeLine(p.new)}: ${count === 0 ? 'no differences' : `${count} difference${count === 1 ? '' : 's'}`}`,
    )
    for (const e of p.errors) lines.push(`    ! ${sanitizeLine(e)}`)
    for (const c of p.checks) lines.push(`    check ${sanitizeLine(c.id)}: ${c.old ?? 'absent'} on old, ${c.new ?? 'absent'} on new`)
    for (const d of p.differences.slice(0, SHOWN_PER_PAIR)) lines.push(`    ${describeDifference(d)}`)
    if (p.differences.length > SHOWN_PER_PAIR) lines.push(`    … and ${p.differences.length - SHOWN_PER_PAIR} more (see --json)`)
  }
  lines.push('', `not compared (expected to differ per host; --ignore adds, --no-default-ignores clears): ${r.ignored.join(', ')}`)
  const differing = r.pairs.filter(p => p.differences.length + p.checks.length > 0).length
  if (r.exitCode === ExitCode.Ok) lines.push(`SAME (exit 0): ${r.pairs.length} pair${r.pairs.length === 1 ? '' : 's'}, no fact differs`)
  else if (r.exitCode === ExitCode.Failed) lines.push(`DIFFERENT (exit 1): ${differing} of ${r.pairs.length} pairs differ`)
  else lines.push(`ERROR (exit 2): a host could not be verified, so its facts are incomplete`)
  return `${lines.join('\n')}\n`
}

function describeDifference(d: PairDiff['differences'][number]): string {
  // fact keys separate their arguments with NUL (release root and revision file, tree limits)
  const where = `${sanitizeLine(d.fact.replaceAll('\u0000', ' ').trim())}${d.field ? ` ${sanitizeLine(d.field)}` : ''}`
  if (d.kind === 'only-old') return `${where}: read on old only`
  if (d.kind === 'only-new') return `${where}: read on new only`
  return `${where}: ${show(d.old)} → ${show(d.new)}`
}

function show(value: unknown): string {
  if (value === undefined) return '(absent)'
  if (isEntry(value))
    return `${value.type} ${value.mode} ${value.owner}:${value.group} ${value.size} bytes${value.linkTarget ? ` -> ${sanitizeLine(value.linkTarget)}` : ''}`
  return truncate(sanitizeLine(JSON.stringify(value)), VALUE_WIDTH)
}

/** A tree entry or file stat: shown as `file 0644 root:root 9 bytes`, not as JSON. */
function isEntry(value: unknown): value is { type: string; mode: string; owner: string; group: string; size: number; linkTarget?: string } {
  const v = value as Record<string, unknown> | null
  return (
    typeof v === 'object' && v !== null && typeof v['type'] === 'string' && typeof v['mode'] === 'string' && typeof v['owner'] === 'string'
  )
}
