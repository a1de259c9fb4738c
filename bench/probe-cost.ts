// What a probe batch costs the host: processes started and CPU, per batch, for the bench spec's
// facts (bench/specs/deploy.spec.ts) and for a batch of one fact of each kind. Each batch runs
// through `/bin/sh -s` in a pid namespace of its own (bench/host-cost.ts, root), on a host table
// of --sleepers processes; figures are means over --runs. `--root DIR` measures another checkout
// of verify (e.g. the commit before a change: `git archive REV | tar -x -C DIR`) with the same facts.
//   node --import tsx bench/probe-cost.ts [--runs 10] [--sleepers 200] [--root DIR] [--json FILE]
import { existsSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { parseArgs } from 'node:util'
import { measureHostCost } from './host-cost.ts'

const { values } = parseArgs({
  options: {
    runs: { type: 'string', default: '10' },
    sleepers: { type: 'string', default: '200' },
    root: { type: 'string' },
    json: { type: 'string' },
  },
})
const runs = Number(values.runs)
const sleepers = Number(values.sleepers)
const root = path.resolve(values.root ?? path.join(import.meta.dirname, '..'))

type AnyFact = { key: string; script: string; args: readonly string[]; inline?: boolean; group?: unknown }
// resources/system/ since the house move; older checkouts (--root) have them in resources/
const load = async (file: string) => {
  const moved = path.join(root, 'src', file.replace('resources/', 'resources/system/'))
  return import(existsSync(moved) ? moved : path.join(root, 'src', file)) as Promise<Record<string, (...args: never[]) => AnyFact>>
}
const script = (await import(path.join(root, 'src/probe/script.ts'))) as { buildScript(nonce: string, facts: unknown[]): string }
const file = await load('resources/file.ts')
const directory = await load('resources/directory.ts')
const process_ = await load('resources/process.ts')
const port = await load('resources/port.ts')
const pkg = await load('resources/pkg.ts')
const user = await load('resources/user.ts')
const service = await load('resources/service.ts')
const command = await load('resources/command.ts')
/** The checkout before inline facts and groups: its batches end stdin, as its runner did. */
const legacy = !('WATCHDOG_SCRIPT' in script)

// A deploy tree like the bench fleet's (test/support/deploy-tree.ts), for the stat facts.
const app = mkdtempSync(path.join(os.tmpdir(), 'verify-probe-cost-'))
for (const dir of ['releases/20260101', 'releases/20260102/public', 'shared/log']) mkdirSync(path.join(app, dir), { recursive: true })
for (const rel of ['20260101', '20260102']) writeFileSync(path.join(app, 'releases', rel, 'REVISION'), 'abc1234\n')
symlinkSync(path.join(app, 'releases/20260102'), path.join(app, 'current'))

const stats = [
  `${app}/current`,
  `${app}/current/REVISION`,
  `${app}/releases`,
  `${app}/releases/20260101/REVISION`,
  `${app}/shared/log`,
  `${app}/current/public`,
  app,
]
// process('blog-app'): since the table reads only the candidates' sessions by name, the spec's own request
const tableByName = (): AnyFact =>
  'scopeOf' in process_ ? (process_.processTableFact as (scope: unknown) => AnyFact)({ names: ['blog-app'] }) : process_.processTableFact!()
const socketTable = () => (legacy ? port.socketTableFact!() : (port.socketTableFact as (s: string, o: boolean) => AnyFact)('auto', false))
const typed = (): AnyFact[] => [
  ...stats.map(p => file.statFact!(p as never)),
  contentFact(`${app}/current/REVISION`),
  directory.listFact!(`${app}/releases` as never),
  tableByName(),
  socketTable(),
  pkg.pkgFact!('bash' as never),
  user.userFact!('www-data' as never),
]
const withCommands = (): AnyFact[] => [
  ...stats.map(p => file.statFact!(p as never)),
  contentFact(`${app}/current/REVISION`),
  directory.listFact!(`${app}/releases` as never),
  ...['pgrep -x blog-app', "ss -Htln 'sport = :8080'", "dpkg-query -W -f='${Status}' bash", 'getent passwd www-data'].map(c =>
    command.commandFact!(c as never),
  ),
]

/** file(p).content: the content fact is not exported; take it from the resource's own request. */
function contentFact(p: string): AnyFact {
  return {
    key: `content:${p}`,
    script: legacy ? 'exec head -c "$2" -- "$1"' : 'head -c "$2" -- "$1"',
    inline: !legacy,
    args: [p, String(1024 * 1024 + 1)],
  }
}

/** The batcher's merge: one group fact for the group's members, as FactBatcher.send builds it. */
function wire(facts: AnyFact[]): unknown[] {
  const out: unknown[] = []
  const groups = new Map<unknown, AnyFact[]>()
  for (const f of facts) {
    if (f.group) groups.set(f.group, [...(groups.get(f.group) ?? []), f])
    else out.push(f)
  }
  for (const [group, members] of groups) {
    const g = group as { script: string }
    out.push({ key: 'group', script: g.script, inline: true, args: members.flatMap(m => m.args) })
  }
  return out.map((request, id) => ({ id, request, timeoutSec: 30, maxBytes: 64 * 1024 * 1024 }))
}

async function measure(facts: AnyFact[]): Promise<{ processes: number; cpuMs: number }> {
  const batch = script.buildScript(`V${'0'.repeat(32)}`, wire(facts))
  let processes = 0
  let cpuMs = 0
  for (let i = 0; i < runs; i++) {
    const cost = await measureHostCost({ mode: 'batch', script: batch, sleepers, endStdin: legacy })
    processes += cost.processes
    cpuMs += cost.cpuMs
  }
  return { processes: Math.round((processes / runs) * 10) / 10, cpuMs: Math.round((cpuMs / runs) * 10) / 10 }
}

const rows: Array<[string, AnyFact[]]> = [
  ['bench spec, 22 typed checks (12 facts)', typed()],
  ['bench spec with command() rows (13 facts)', withCommands()],
  ['stat (1 path)', [file.statFact!(stats[0] as never)]],
  ['stat (7 paths)', stats.map(p => file.statFact!(p as never))],
  ['content', [contentFact(`${app}/current/REVISION`)]],
  ['directory', [directory.listFact!(`${app}/releases` as never)]],
  ['process table', [process_.processTableFact!()]],
  ["process table, process('blog-app')", [tableByName()]],
  ['socket table (ss -ltnup)', [port.socketTableFact!()]],
  ...(legacy ? [] : [['socket table (ss -ltnu, owner: false)', [socketTable()]] as [string, AnyFact[]]]),
  ['pkg (dpkg: awk over its status file)', [pkg.pkgFact!('bash' as never)]],
  ['user', [user.userFact!('www-data' as never)]],
  ['service enablement', [service.isEnabledFact!('ssh' as never)]],
  ["command('true')", [command.commandFact!('true' as never)]],
]

console.log(
  `Host cost per batch (${path.relative(process.cwd(), root) || '.'}${legacy ? ', before inline facts' : ''}); ${sleepers} other processes on the host; mean of ${runs} runs; the batch's own shell counted`,
)
console.log('| batch | processes | host CPU ms |\n|---|---|---|')
const results: Record<string, { processes: number; cpuMs: number }> = {}
for (const [label, facts] of rows) {
  const r = await measure(facts)
  results[label] = r
  console.log(`| ${label} | ${r.processes} | ${r.cpuMs} |`)
}
if (values.json) writeFileSync(values.json, JSON.stringify({ root, sleepers, runs, results }, null, 1))
rmSync(app, { recursive: true, force: true })
