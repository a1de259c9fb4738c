// release(root) end to end: the CLI over a real sshd, as the non-root verifytest user, with
// --expect-version naming the commit being deployed.
import { chmodSync, rmSync } from 'node:fs'
import path from 'node:path'
import { afterAll, beforeAll, expect, it } from 'vitest'
import { startFleet, type Fleet } from '../support/sshd.ts'
import { layDeploy, RELEASES } from '../support/deploy-tree.ts'
import { readResult, runCli, type Workdir } from '../support/workdir.ts'
import { makeFleetProject } from '../support/fleet-project.ts'

let fleet: Fleet
let work: Workdir

const SPEC = `
import { describe, it, expect, release } from 'postdeploy-verify'

describe('blog release', ({ vars }) => {
  const root = vars.appsRoot + '/blog'
  it('is at the expected version', async () => expect(await release(root, { revisionFile: 'REVISION' })).toBeAtExpectedVersion())
  it('current points inside releases/', async () => expect(await release(root, { revisionFile: 'REVISION' })).toPointInsideReleases())
  it('the rollback target is intact', async () => expect(await release(root, { revisionFile: 'REVISION' })).toHaveIntactPrevious())
  it('keeps at most 5 releases', async () => expect((await release(root, { revisionFile: 'REVISION' })).kept).toBeLessThanOrEqual(5))
})
`

beforeAll(async () => {
  fleet = await startFleet({ hosts: 3, name: 'release' })
  for (const h of fleet.hosts) layDeploy(h.root)
  // host-2: the rollback target lost its REVISION; host-3: releases/ unreadable to verifytest
  rmSync(path.join(fleet.hosts[1]!.root, 'apps/blog/releases', RELEASES[0]!, 'REVISION'))
  work = makeFleetProject(fleet, { files: { 'specs/release.spec.ts': SPEC } })
})

afterAll(async () => {
  if (fleet) chmodSync(path.join(fleet.hosts[2]!.root, 'apps/blog/releases'), 0o755)
  await fleet?.stop()
  work?.remove()
})

it('checks version, rollback target and layout in one fact per host; a broken rollback target fails, an unreadable releases/ errors', async () => {
  chmodSync(path.join(fleet.hosts[2]!.root, 'apps/blog/releases'), 0o700)
  const before = await fleet.execChannels()
  const run = await runCli(['--hosts', 'fleet', '--expect-version', '3f9c2ab', '--json', 'r.json'], { cwd: work.dir })
  const json = readResult(work.dir, 'r.json')
  expect(run.exitCode, run.stdout + run.stderr).toBe(2)
  const [h1, h2, h3] = json.hosts
  expect(h1!.checks.map(c => c.status)).toEqual(['passed', 'passed', 'passed', 'passed'])
  expect(h1!.checks[0]!.facts).toEqual([expect.stringMatching(/^release:/)])
  const rollback = h2!.checks.find(c => c.path.at(-1) === 'the rollback target is intact')!
  expect(rollback).toMatchObject({ status: 'failed', actual: '"releases/20261120T101500/REVISION is missing"' })
  expect(h2!.checks.filter(c => c.status === 'passed')).toHaveLength(3)
  expect(h3!.checks.every(c => c.status === 'error' && c.errorKind === 'fact' && /permission denied/.test(c.message ?? ''))).toBe(true)
  // all four checks share one fact: one exec channel per host
  const after = await fleet.execChannels()
  for (const h of fleet.hosts) expect(after.get(h.address)! - before.get(h.address)!).toBe(1)
  chmodSync(path.join(fleet.hosts[2]!.root, 'apps/blog/releases'), 0o755)
})

it('a wrong expected version fails with the deployed revision as actual', async () => {
  const run = await runCli(['--hosts', fleet.hosts[0]!.name, '--expect-version', '1d04e7c'], { cwd: work.dir })
  expect(run.exitCode, run.stdout + run.stderr).toBe(1)
  expect(run.stdout).toMatch(/is at the expected version[\s\S]*expected: "1d04e7c"[\s\S]*actual: +"3f9c2ab"/)
})

it('without an expected version the version check fails rather than passing on nothing', async () => {
  const run = await runCli(['--hosts', fleet.hosts[0]!.name], { cwd: work.dir })
  expect(run.exitCode, run.stdout + run.stderr).toBe(1)
  expect(run.stdout + run.stderr).toMatch(/no expected version: pass --expect-version/)
})
