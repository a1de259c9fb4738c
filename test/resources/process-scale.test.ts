// process() on a host running 1,000 processes: the table must cost the host a bounded number of
// processes and little CPU, whatever it runs (the /proc walk used to fork a `cat` per process).
// Measured in a pid namespace of its own (root), with 1,000 sleepers in sessions of their own.
import { mkdtempSync, rmSync, symlinkSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { measureHostCost, type HostCost } from '../../bench/host-cost.ts'
import { matchProcesses, parseProcessTable, processTableFact, type TableScope } from '../../src/resources/system/process.ts'
import { parseSocketTable, socketTableFact } from '../../src/resources/system/port.ts'
import { shellQuote } from '../../src/probe/quote.ts'

const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!

describe.skipIf(globalThis.process.getuid?.() !== 0)('the process table with 1,000 processes (pid namespace, root)', () => {
  let dir: string
  // besides the sleepers, what a spec looks for: nginx (a master and two workers, one session) and an app
  let setup: string
  beforeAll(() => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'verify-process-scale-'))
    for (const name of ['nginx', 'blog-app']) symlinkSync('/bin/sleep', path.join(dir, name))
    const d = shellQuote(dir)
    setup = `setsid sh -c '"$0" 1000 & "$0" 1000 & exec "$0" 1000' ${d}/nginx &
setsid ${d}/blog-app 1000 &
until [ "$(cat /proc/[0-9]*/comm 2>/dev/null | grep -c -e '^nginx$' -e '^blog-app$')" -ge 4 ]; do sleep 0.05; done`
  })
  afterAll(() => rmSync(dir, { recursive: true, force: true }))

  const tableCost = (scope: TableScope) => {
    const fact = processTableFact(scope)
    return measureHostCost({
      mode: 'inline',
      script: `set -- ${fact.args.map(shellQuote).join(' ')}\n${fact.script}`,
      sleepers: 1000,
      setup,
    })
  }
  const figures = (runs: HostCost[]) =>
    `${runs.map(r => r.cpuMs).join(', ')} ms CPU (median ${median(runs.map(r => r.cpuMs))}, ${runs[0]!.cpuSource})`

  it('the whole table (snapshot, generate, a match by args or user alone) is read by ≤ 3 processes, and lists every sleeper', async () => {
    const runs = [await tableCost('all'), await tableCost('all'), await tableCost('all')]
    const table = parseProcessTable(runs[0]!.stdout)
    console.log(
      `whole process table of ${table.processes.length} processes: ${runs[0]!.processes} process(es) on the host, ${figures(runs)}`,
    )
    expect(table.processes.filter(p => p.name === 'sleep')).toHaveLength(1000)
    expect(runs.map(r => r.processes)).toEqual([1, 1, 1])
    // this machine is shared, so the bound here only catches a fork per process
    expect(median(runs.map(r => r.cpuMs))).toBeLessThan(400)
  }, 120_000)

  it("checks by name (and pid file): stat of every process, the rest only of the candidates' sessions", async () => {
    const scope = { names: ['nginx', 'blog-app', 'postgres'] }
    const runs = [await tableCost(scope), await tableCost(scope), await tableCost(scope), await tableCost(scope), await tableCost(scope)]
    const table = parseProcessTable(runs[0]!.stdout)
    console.log(
      `process table for 3 names among 1,000 sleepers: ${table.processes.length} processes read in full, ${runs[0]!.processes} process(es) on the host, ${figures(runs)}`,
    )
    expect(matchProcesses(table.processes, { name: 'nginx' })).toHaveLength(3)
    expect(matchProcesses(table.processes, { name: 'blog-app' })).toHaveLength(1)
    expect(table.processes).toHaveLength(4)
    expect(runs.map(r => r.processes)).toEqual([1, 1, 1, 1, 1])
    // The 50 ms target is the benchmark's (bench/RESULTS.md), not a timed test: CI's machine is
    // shared. What a test can hold: the by-name read costs well under the whole table's, measured
    // here on the same machine, so reading status and cmdline of every process would fail it.
    const whole = median([await tableCost('all'), await tableCost('all'), await tableCost('all')].map(r => r.cpuMs))
    expect(median(runs.map(r => r.cpuMs))).toBeLessThan(whole * 0.7)
  }, 120_000)

  it("the socket table: one process, and without owners no walk of every process's file descriptors", async () => {
    const cost = async (owners: boolean) => {
      const fact = socketTableFact('auto', owners)
      const r = await measureHostCost({
        mode: 'inline',
        script: `set -- ${fact.args.map(shellQuote).join(' ')}\n${fact.script}`,
        sleepers: 1000,
      })
      parseSocketTable(r.stdout.toString('utf8'), owners)
      return r
    }
    const [withOwners, without] = [await cost(true), await cost(false)]
    console.log(
      `socket table with 1,000 processes: ss -ltnup ${withOwners.processes} process(es), ${withOwners.cpuMs} ms CPU; ss -ltnu (owner: false) ${without.processes}, ${without.cpuMs} ms (${without.cpuSource})`,
    )
    expect(withOwners.processes).toBeLessThanOrEqual(3)
    expect(without.processes).toBeLessThanOrEqual(3)
  }, 60_000)
})
