// `verify merge A.json B.json …`: the JSON results of parallel shards (or waves) as one run,
// with --max-failing-hosts applied across all of them: the gate a sharded pipeline ends with.
import { ConfigError } from '../errors.ts'
import { exitCodeFor, SCHEMA_VERSION, summarize, type HostResult, type RunResult } from '../model.ts'
import { applyThreshold, type Threshold } from '../runner/gate.ts'
import { TOOL } from '../version.ts'
import { readResult } from './rollout.ts'

export function mergeResults(files: readonly string[], threshold?: Threshold): RunResult {
  if (files.length === 0) throw new ConfigError('verify merge: give the JSON results to merge')
  const runs = files.map(file => ({ file, run: readResult(file) }))
  const seen = new Map<string, string>()
  const hosts: HostResult[] = []
  const problems: string[] = []
  for (const { file, run } of runs) {
    for (const host of run.hosts) {
      const earlier = seen.get(host.host.name)
      // the same host twice would count twice against the threshold: shards must not overlap
      if (earlier !== undefined) problems.push(`host ${host.host.name} is in both ${earlier} and ${file}; shards must not overlap`)
      seen.set(host.host.name, file)
      hosts.push(host)
    }
  }
  if (problems.length > 0) throw new ConfigError(problems.join('\n'))
  const configErrors = runs.flatMap(({ file, run }) => run.configErrors.map(e => `${file}: ${e}`))
  const started = Math.min(...runs.map(({ run }) => Date.parse(run.startedAt)))
  const finished = Math.max(...runs.map(({ run }) => Date.parse(run.finishedAt)))
  const summary = summarize(hosts)
  const merged: RunResult = {
    schemaVersion: SCHEMA_VERSION,
    tool: TOOL,
    startedAt: new Date(started).toISOString(),
    finishedAt: new Date(finished).toISOString(),
    durationMs: Math.max(0, finished - started),
    configErrors,
    hosts,
    summary,
    exitCode: exitCodeFor(summary, configErrors),
    selection: { mergedFrom: [...files] },
  }
  return threshold && configErrors.length === 0 ? applyThreshold(merged, threshold) : merged
}

export function mergeHeadline(files: readonly string[], run: RunResult): string {
  return `merged ${files.length} results: ${run.hosts.length} hosts`
}
