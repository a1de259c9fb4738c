// Rollout gating end to end over a real sshd: choosing the wave (--limit, --hosts -, --shard),
// tolerating bad hosts (--max-failing-hosts), warn-severity checks, and merging shard results.
import { readFileSync } from 'node:fs'
import path from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { XMLParser } from 'fast-xml-parser'
import { startFleet, type Fleet } from '../support/sshd.ts'
import { layDeploy, pointCurrent } from '../support/deploy-tree.ts'
import { readResult, runCli, type Workdir } from '../support/workdir.ts'
import { makeFleetProject } from '../support/fleet-project.ts'
import type { RunResult } from '../../src/model.ts'

let fleet: Fleet
let work: Workdir

const SPEC = `
import { describe, it, expect, release, file } from 'postdeploy-verify'

describe('blog', ({ vars }) => {
  const root = vars.appsRoot + '/blog'
  it('current points inside releases/', async () => expect(await release(root)).toPointInsideReleases())
  it('keeps at most 1 release', { severity: 'warn' }, async () => expect((await release(root)).kept).toBeLessThanOrEqual(1))
  it('shared/log exists', async () => expect(await file(root + '/shared/log')).toBeDirectory())
})
`

const hostNames = (run: RunResult) => run.hosts.map(h => h.host.name)
const asArray = <T>(x: T | T[] | undefined): T[] => (x === undefined ? [] : Array.isArray(x) ? x : [x])

beforeAll(async () => {
  fleet = await startFleet({ hosts: 5, name: 'rollout' })
  for (const h of fleet.hosts) layDeploy(h.root)
  work = makeFleetProject(fleet, { groups: { canary: [0], rest: [1, 2, 3, 4] }, files: { 'specs/blog.spec.ts': SPEC } })
})

afterAll(async () => {
  await fleet?.stop()
  work?.remove()
})

function breakHost(i: number): () => void {
  const appRoot = path.join(fleet.hosts[i]!.root, 'apps/blog')
  pointCurrent(appRoot, '/srv/elsewhere')
  return () => pointCurrent(appRoot, path.join(appRoot, 'releases', '20261123T091200'))
}

describe('choosing the wave', () => {
  it('--limit narrows --hosts by glob and exclusion; hosts left out are not connected to', async () => {
    const before = await fleet.execChannels()
    const run = await runCli(['--hosts', 'fleet', '--limit', 'host-[2-4],!host-3', '--json', 'limit.json'], { cwd: work.dir })
    expect(run.exitCode, run.stdout + run.stderr).toBe(0)
    expect(hostNames(readResult(work.dir, 'limit.json'))).toEqual(['host-2', 'host-4'])
    expect(readResult(work.dir, 'limit.json').selection).toEqual({ limit: 'host-[2-4],!host-3' })
    const after = await fleet.execChannels()
    expect(fleet.hosts.map(h => after.get(h.address)! - before.get(h.address)!)).toEqual([0, 1, 0, 1, 0])
  })

  it('a --limit that matches nothing is a config error (exit 3), not a smaller wave', async () => {
    const run = await runCli(['--hosts', 'rest', '--limit', 'host-1'], { cwd: work.dir })
    expect(run.exitCode).toBe(3)
    expect(run.stderr).toMatch(/"host-1" matches none of the 4 hosts selected by --hosts/)
  })

  it('--hosts - reads the wave from stdin (lines, commas, comments)', async () => {
    const run = await runCli(['--hosts', '-', '--json', 'stdin.json'], {
      cwd: work.dir,
      input: '# wave 2, as the load balancer drained it\nhost-5\nhost-1, host-3\n',
    })
    expect(run.exitCode, run.stdout + run.stderr).toBe(0)
    expect(hostNames(readResult(work.dir, 'stdin.json'))).toEqual(['host-5', 'host-1', 'host-3'])
    expect(readResult(work.dir, 'stdin.json').selection).toEqual({ fromStdin: true })
  })

  it('--shard i/n splits the group: every host in exactly one shard; verify merge recombines them', async () => {
    const runs = await Promise.all(
      [1, 2, 3].map(i => runCli(['--hosts', 'fleet', '--shard', `${i}/3`, '--json', `shard-${i}.json`], { cwd: work.dir })),
    )
    for (const r of runs) expect(r.exitCode, r.stdout + r.stderr).toBe(0)
    const shards = [1, 2, 3].map(i => hostNames(readResult(work.dir, `shard-${i}.json`)))
    expect(shards).toEqual([['host-1', 'host-4'], ['host-2', 'host-5'], ['host-3']])

    const merged = await runCli(
      ['merge', 'shard-1.json', 'shard-2.json', 'shard-3.json', '--json', 'merged.json', '--junit', 'merged.xml'],
      { cwd: work.dir },
    )
    expect(merged.exitCode, merged.stdout + merged.stderr).toBe(0)
    const m = readResult(work.dir, 'merged.json')
    expect(hostNames(m).sort()).toEqual(fleet.hosts.map(h => h.name))
    expect(m.summary).toMatchObject({ hosts: 5, checks: 15, failed: 0 })
    expect(merged.stdout).toMatch(/merged 3 results: 5 hosts/)
  })

  it('an empty shard (more jobs than hosts) passes and says so', async () => {
    const run = await runCli(['--hosts', 'host-1,host-2', '--shard', '3/3', '--json', 'empty.json'], { cwd: work.dir })
    expect(run.exitCode, run.stdout + run.stderr).toBe(0)
    expect(run.stdout).toMatch(/shard 3\/3 holds none of the 2 selected hosts/)
    expect(readResult(work.dir, 'empty.json')).toMatchObject({ hosts: [], exitCode: 0, selection: { shard: '3/3' } })
  })
})

describe('gating', () => {
  it('--max-failing-hosts tolerates a bad canary-sized failure, names the host, and exits 0; JUnit still shows the failure', async () => {
    const restore = breakHost(1)
    try {
      const run = await runCli(['--hosts', 'fleet', '--max-failing-hosts', '1', '--json', 'gate.json', '--junit', 'gate.xml'], {
        cwd: work.dir,
      })
      expect(run.exitCode, run.stdout + run.stderr).toBe(0)
      expect(run.stdout).toMatch(/--max-failing-hosts 1 tolerated 1 failing host of 5 \(allowed 1\): host-2/)
      const json = readResult(work.dir, 'gate.json')
      expect(json.gate).toEqual({ maxFailingHosts: '1', allowed: 1, failingHosts: ['host-2'], tolerated: true, strictExitCode: 1 })
      const xml = new XMLParser({ ignoreAttributes: false, attributeNamePrefix: '' }).parse(
        readFileSync(path.join(work.dir, 'gate.xml'), 'utf8'),
      )
      const failures = asArray(xml.testsuites.testsuite)
        .flatMap((s: { testcase: unknown }) => asArray(s.testcase as Array<{ failure?: unknown }>))
        .filter(c => c.failure)
      expect(failures).toHaveLength(1)

      const strict = await runCli(['--hosts', 'fleet', '--max-failing-hosts', '10%'], { cwd: work.dir })
      expect(strict.exitCode).toBe(1)
      expect(strict.stdout).toMatch(/--max-failing-hosts 10%: 1 failing host of 5 exceeds the 0 allowed: host-2/)
    } finally {
      restore()
    }
  })

  it('two bad hosts exceed --max-failing-hosts 1: the strict exit code', async () => {
    const restore = [breakHost(0), breakHost(3)]
    try {
      const run = await runCli(['--hosts', 'fleet', '--max-failing-hosts', '1', '--json', 'gate2.json'], { cwd: work.dir })
      expect(run.exitCode).toBe(1)
      expect(readResult(work.dir, 'gate2.json').gate).toMatchObject({ failingHosts: ['host-1', 'host-4'], tolerated: false })
    } finally {
      for (const r of restore) r()
    }
  })

  it('a warn-severity check that fails is reported (console, JSON, JUnit system-out) and does not fail the gate', async () => {
    const run = await runCli(['--hosts', 'host-1', '--json', 'warn.json', '--junit', 'warn.xml'], { cwd: work.dir })
    expect(run.exitCode, run.stdout + run.stderr).toBe(0)
    expect(run.stdout).toMatch(/⚠ blog › keeps at most 1 release[\s\S]*warning: expected <= 1, actual 2/)
    expect(run.stdout).toMatch(/3 passed \(1 with warnings\)/)
    const warned = readResult(work.dir, 'warn.json').hosts[0]!.checks[1]!
    expect(warned).toMatchObject({ status: 'passed', severity: 'warn', warning: { expected: '<= 1', actual: '2' } })
    const xml = readFileSync(path.join(work.dir, 'warn.xml'), 'utf8')
    expect(xml).toMatch(/<system-out>[^<]*WARNING \(severity warn, does not fail the gate\)/)
    expect(xml).not.toMatch(/<failure/)
  })

  it('--rerun-failed re-checks only the hosts and checks that failed', async () => {
    const restore = breakHost(2)
    let first
    try {
      first = await runCli(['--hosts', 'fleet', '--json', 'full.json'], { cwd: work.dir })
    } finally {
      restore()
    }
    expect(first.exitCode).toBe(1)
    const before = await fleet.execChannels()
    const rerun = await runCli(['--rerun-failed', 'full.json', '--json', 'rerun.json'], { cwd: work.dir })
    expect(rerun.exitCode, rerun.stdout + rerun.stderr).toBe(0)
    const json = readResult(work.dir, 'rerun.json')
    expect(hostNames(json)).toEqual(['host-3'])
    expect(json.hosts[0]!.checks.map(c => c.path.at(-1))).toEqual(['current points inside releases/'])
    expect(json.selection).toEqual({ rerunOf: 'full.json' })
    const after = await fleet.execChannels()
    expect(fleet.hosts.map(h => after.get(h.address)! - before.get(h.address)!)).toEqual([0, 0, 1, 0, 0])

    const nothing = await runCli(['--rerun-failed', 'rerun.json'], { cwd: work.dir })
    expect(nothing.exitCode).toBe(0)
    expect(nothing.stdout).toMatch(/nothing failed in rerun.json: nothing to re-run/)
  })
})
