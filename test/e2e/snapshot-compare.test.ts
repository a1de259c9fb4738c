// verify snapshot, --baseline and verify compare over a real sshd. host-1/host-2 were deployed
// by the old method, host-3/host-4 by the new one; the new method left host-4 with a
// different mode and a stray file, which compare must find. host-1 also goes through a deploy
// between a snapshot and a --baseline run.
import { spawn, type ChildProcess } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { chmodSync, lutimesSync, mkdirSync, readdirSync, readFileSync, lstatSync, writeFileSync, utimesSync } from 'node:fs'
import path from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startFleet, type Fleet } from '../support/sshd.ts'
import { layDeploy, pointCurrent } from '../support/deploy-tree.ts'
import { runCli, type Workdir } from '../support/workdir.ts'
import { makeFleetProject } from '../support/fleet-project.ts'
import { killTree, untilExited, untilRunning } from '../support/faults.ts'
import type { CompareReport } from '../../src/commands/compare.ts'
import type { Snapshot } from '../../src/app/snapshot/snapshot.ts'

let fleet: Fleet
let work: Workdir
const children: ChildProcess[] = []
const TAG = `verify-e2e-snap-${randomBytes(4).toString('hex')}`
const T = new Date('2026-11-23T09:12:00Z')

const PARITY_SPEC = `
import { describe, it, expect, release, tree, file } from 'postdeploy-verify'

describe('blog', ({ vars }) => {
  const root = vars.appsRoot + '/blog'
  it('current points inside releases/', async () => expect(await release(root, { revisionFile: 'REVISION' })).toPointInsideReleases())
  it('shared/ as deployed', async () => expect((await tree(root + '/shared')).exists).toBe(true))
  it('the revision file', async () => expect(await file(root + '/current/REVISION')).toBeFile())
})
`

const CHANGE_SPEC = `
import { describe, it, expect, file, tree, diffTrees, restart, baseline } from 'postdeploy-verify'

describe('the deploy changed what it should, and only that', ({ vars }) => {
  const root = vars.appsRoot + '/blog'
  it('current changed', async () => {
    const now = await file(root + '/current')
    expect(now.linkTarget).not.toBe(baseline().file(root + '/current')?.linkTarget)
  })
  it('nothing under shared/ changed', async () => {
    const now = await tree(root + '/shared')
    expect(diffTrees(baseline().tree(root + '/shared'), now)).toMatchObject({ same: true })
  })
  it('every worker restarted', async () => expect(await restart({ processes: { args: '${TAG}' } })).toBeRestarted())
})
`

/** Every entry under root gets the same mtime: two hosts deployed identically look identical. */
function pinMtimes(root: string): void {
  const walk = (p: string) => {
    const s = lstatSync(p)
    if (s.isDirectory()) for (const name of readdirSync(p)) walk(path.join(p, name))
    if (s.isSymbolicLink()) lutimesSync(p, T, T)
    else utimesSync(p, T, T)
  }
  walk(root)
}

function worker(): ChildProcess {
  const child = spawn('sh', ['-c', 'sleep 600; :', TAG], { stdio: 'ignore' })
  children.push(child)
  return child
}

beforeAll(async () => {
  fleet = await startFleet({ hosts: 4, name: 'parity' })
  for (const h of fleet.hosts) {
    const { appRoot } = layDeploy(h.root)
    writeFileSync(path.join(appRoot, 'shared', 'config.yml'), 'db: blog\n')
  }
  // the planted difference: the new method left shared/log 0700 and a stray file on host-4
  const host4 = path.join(fleet.hosts[3]!.root, 'apps/blog/shared')
  chmodSync(path.join(host4, 'log'), 0o700)
  writeFileSync(path.join(host4, 'config.yml.orig'), 'db: blog\n')
  for (const h of fleet.hosts) pinMtimes(path.join(h.root, 'apps'))
  work = makeFleetProject(fleet, {
    groups: { old: [0, 1], new: [2, 3] },
    files: { 'specs/parity.spec.ts': PARITY_SPEC, 'change/change.spec.ts': CHANGE_SPEC },
  })
})

afterAll(async () => {
  for (const c of children) killTree(c)
  await fleet?.stop()
  work?.remove()
})

describe('verify compare', () => {
  it('finds the planted difference between paired hosts, and nothing between identical ones', async () => {
    const run = await runCli(['compare', '--hosts', 'old', '--against', 'new', '--json', 'parity.json'], { cwd: work.dir })
    expect(run.exitCode, run.stdout + run.stderr).toBe(1)
    const report = JSON.parse(readFileSync(path.join(work.dir, 'parity.json'), 'utf8')) as CompareReport
    expect(report).toMatchObject({
      kind: 'verify-compare',
      schemaVersion: 1,
      pairing: 'by order',
      old: { hosts: ['host-1', 'host-2'] },
      new: { hosts: ['host-3', 'host-4'] },
    })
    expect(report.pairs[0]).toMatchObject({ old: 'host-1', new: 'host-3', differences: [], checks: [] })
    const diffs = report.pairs[1]!.differences
    expect(diffs.map(d => [d.field, d.old, d.new])).toEqual([
      ['entries[config.yml.orig]', undefined, expect.objectContaining({ path: 'config.yml.orig', mode: '0644' })],
      ['entries[log].mode', '0755', '0700'],
      // 0700 and owned by root: the non-root verify user can no longer look inside
      ['unreadable', undefined, ['log']],
    ])
    expect(diffs[0]!.fact).toMatch(/^tree:.*\/hosts\/\{address\}\/apps\/blog\/shared/)
    expect(run.stdout).toMatch(/= host-1 ↔ host-3: no differences/)
    expect(run.stdout).toMatch(/≠ host-2 ↔ host-4: 3 differences[\s\S]*entries\[log\]\.mode: "0755" → "0700"/)
    expect(run.stdout).toMatch(/DIFFERENT \(exit 1\): 1 of 2 pairs differ/)
    process.stdout.write(`\n--- compare report ---\n${run.stdout}\n`)
  })

  it('pairs every host against one reference host; --ignore leaves a field out', async () => {
    const run = await runCli(
      [
        'compare',
        '--hosts',
        'host-1',
        '--against',
        'new',
        '--pair',
        'reference',
        '--ignore',
        'mode',
        '--ignore',
        'tree:*config.yml.orig*',
        '--json',
        'ref.json',
      ],
      { cwd: work.dir },
    )
    const report = JSON.parse(readFileSync(path.join(work.dir, 'ref.json'), 'utf8')) as CompareReport
    expect(report.pairs.map(p => [p.old, p.new])).toEqual([
      ['host-1', 'host-3'],
      ['host-1', 'host-4'],
    ])
    // mode ignored: only the stray file remains
    expect(report.pairs[1]!.differences.map(d => d.field)).toEqual(['entries[config.yml.orig]', 'unreadable'])
    expect(report.ignored).toContain('mode')
    expect(run.exitCode).toBe(1)
  })

  it('a pairing that does not fit is a config error', async () => {
    const run = await runCli(['compare', '--hosts', 'old', '--against', 'host-3'], { cwd: work.dir })
    expect(run.exitCode).toBe(3)
    expect(run.stderr).toMatch(/--pair order: --hosts selects 2 hosts and --against 1/)
  })
})

describe('verify snapshot and --baseline', () => {
  it('records the facts, pids and clock; a later run asserts on what the deploy changed', async () => {
    const workers = [worker(), worker()]
    // process start times count whole seconds: the workers start well before the snapshot (a fixed wait)
    await sleep(1200)
    const snap = await runCli(['snapshot', '--hosts', 'host-1', '--specs', 'change/*.spec.ts', '-o', 'before.json'], { cwd: work.dir })
    expect(snap.exitCode, snap.stdout + snap.stderr).toBe(0)
    expect(snap.stdout).toMatch(/✓ host-1: \d+ facts, \d+ processes, clock [+−]\d+\.\ds/)
    const snapshot = JSON.parse(readFileSync(path.join(work.dir, 'before.json'), 'utf8')) as Snapshot
    expect(snapshot).toMatchObject({ kind: 'verify-snapshot', schemaVersion: 1 })
    const host = snapshot.hosts[0]!
    expect(Object.keys(host.facts).some(k => k.startsWith('tree:'))).toBe(true)
    expect(
      host.processes
        .filter(p => p.args.includes(TAG))
        .map(p => p.pid)
        .sort(),
    ).toEqual(workers.map(w => w.pid).sort())
    expect(host.hostTakenAt).toBeDefined()

    // the deploy: a new release, current switched, one worker restarted so far (a second later: the clock is the point)
    await sleep(1200)
    const appRoot = path.join(fleet.hosts[0]!.root, 'apps/blog')
    mkdirSync(path.join(appRoot, 'releases', '20261125T120000'))
    pointCurrent(appRoot, path.join(appRoot, 'releases', '20261125T120000'))
    killTree(workers[0]!)
    const second = worker()
    await untilExited(workers[0]!.pid)
    await untilRunning(second.pid, second.spawnargs)
    const partial = await runCli(['--hosts', 'host-1', '--specs', 'change/*.spec.ts', '--baseline', 'before.json'], { cwd: work.dir })
    expect(partial.exitCode, partial.stdout + partial.stderr).toBe(1)
    expect(partial.stdout).toMatch(new RegExp(`✓ the deploy changed what it should, and only that › current changed`))
    expect(partial.stdout).toMatch(
      new RegExp(
        `every worker restarted[\\s\\S]*1 of 2 processes matching args "${TAG}" started before the deploy[\\s\\S]*pid ${workers[1]!.pid}`,
      ),
    )

    killTree(workers[1]!)
    const third = worker()
    writeFileSync(path.join(appRoot, 'shared', 'surprise.conf'), '')
    await untilExited(workers[1]!.pid)
    await untilRunning(third.pid, third.spawnargs)
    const after = await runCli(['--hosts', 'host-1', '--specs', 'change/*.spec.ts', '--baseline', 'before.json'], { cwd: work.dir })
    expect(after.exitCode, after.stdout + after.stderr).toBe(1)
    expect(after.stdout).toMatch(/✓ .*every worker restarted/)
    expect(after.stdout).toMatch(/✗ .*nothing under shared\/ changed[\s\S]*surprise\.conf/)
  })

  it('baseline() without --baseline errors the check, saying how to give one', async () => {
    const run = await runCli(['--hosts', 'host-2', '--specs', 'change/*.spec.ts', '--grep', 'current changed'], { cwd: work.dir })
    expect(run.exitCode).toBe(2)
    expect(run.stdout).toMatch(/baseline\(\): no snapshot given; run with --baseline before\.json/)
  })
})
