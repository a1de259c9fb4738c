// The README's spec examples, taken verbatim from README.md (so this fails when the README
// drifts), run through the real CLI over sshd against the Capistrano layout as it is in the
// wild: one host with a relative `current` link (`releases/20261123T091200`, what Capistrano
// writes), one with an absolute one. Both pass; with `current` gone, the run fails (exit 1) and
// the console, the JSON and the JUnit name the failing expect.
import { readFileSync, rmSync } from 'node:fs'
import path from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startFleet, type Fleet } from '../support/sshd.ts'
import { layDeploy, pointCurrent, RELEASES, startStatusApp, type StatusApp } from '../support/deploy-tree.ts'
import { makeFleetProject } from '../support/fleet-project.ts'
import { readResult, REPO_ROOT, runCli, type Workdir } from '../support/workdir.ts'

/** Every ```ts block of the README, named by its `// specs/….spec.ts` first line when it has one. */
function readmeSpecs(): Record<string, string> {
  const readme = readFileSync(path.join(REPO_ROOT, 'README.md'), 'utf8')
  const blocks = [...readme.matchAll(/^```ts\n([\s\S]*?)^```$/gm)].map(m => m[1]!)
  return Object.fromEntries(
    blocks.map((code, i) => [/^\/\/ (specs\/\S+\.spec\.ts)\n/.exec(code)?.[1] ?? `specs/readme-${i + 1}.spec.ts`, code]),
  )
}

const SPECS = readmeSpecs()
let fleet: Fleet
let apps: StatusApp[] = []
let work: Workdir

beforeAll(async () => {
  fleet = await startFleet({ hosts: 2, name: 'readme' })
  apps = await Promise.all(fleet.hosts.map(() => startStatusApp()))
  const [relative, absolute] = fleet.hosts.map(h => layDeploy(h.root).appRoot)
  pointCurrent(relative!, `releases/${RELEASES[1]}`)
  pointCurrent(absolute!, path.join(absolute!, 'releases', RELEASES[1]!))
  work = makeFleetProject(fleet, { apps, groups: { web: [0, 1] }, files: SPECS })
})

afterAll(async () => {
  await Promise.all(apps.map(app => app.close()))
  await fleet?.stop()
  work?.remove()
})

it('the README has the examples this test runs', () => {
  expect(Object.keys(SPECS)).toEqual(['specs/blog-release.spec.ts', 'specs/readme-2.spec.ts'])
  expect(SPECS['specs/blog-release.spec.ts']).toContain('toBeInside')
})

it('the examples type-check (`verify check`)', async () => {
  const run = await runCli(['check', '--hosts', 'web'], { cwd: work.dir, timeoutMs: 300_000 })
  expect(run.exitCode, run.stdout + run.stderr).toBe(0)
}, 320_000)

describe('on a relative and an absolute current link', () => {
  it('every README check passes on both hosts (exit 0)', async () => {
    const run = await runCli(['--hosts', 'web', '--json', 'out/ok.json'], { cwd: work.dir })
    expect(run.exitCode, run.stdout + run.stderr).toBe(0)
    const result = readResult(work.dir, 'out/ok.json')
    for (const host of result.hosts) {
      expect(host.checks.map(c => [c.path.join(' › '), c.status])).toEqual([
        ['Blog release › current points into releases/', 'passed'],
        ['Blog release › was restarted (out of rotation, so few accesses)', 'passed'],
        ['Blog › current points into releases/', 'passed'],
        ['Blog › answers its health check', 'passed'],
      ])
    }
  })
})

describe('with current missing on the relative-link host', () => {
  let run: Awaited<ReturnType<typeof runCli>>
  const spec = 'specs/blog-release.spec.ts'
  // the line of the README's first assertion on current, counted in the spec file as written
  const line = SPECS[spec]!.split('\n').findIndex(l => l.includes('expect(current).toBeSymlink()')) + 1

  beforeAll(async () => {
    rmSync(path.join(fleet.hosts[0]!.root, 'apps/blog/current'))
    run = await runCli(['--hosts', 'web', '--json', 'out/missing.json', '--junit', 'out/missing.xml'], { cwd: work.dir })
  })

  it('fails (exit 1), never an error: a broken deploy is not an unreachable host', () => {
    expect(run.exitCode, run.stdout + run.stderr).toBe(1)
    const [broken, fine] = readResult(work.dir, 'out/missing.json').hosts
    expect(broken!.checks.filter(c => c.status !== 'passed').map(c => [c.path.join(' › '), c.status])).toEqual([
      ['Blog release › current points into releases/', 'failed'],
      ['Blog › current points into releases/', 'failed'],
    ])
    expect(fine!.checks.every(c => c.status === 'passed')).toBe(true)
  })

  it("the JSON has the failing expect's file:line and a code frame", () => {
    const check = readResult(work.dir, 'out/missing.json').hosts[0]!.checks[0]!
    expect(check).toMatchObject({ expected: '"a symlink"', actual: '"missing"', failedAt: { file: spec, line } })
    expect(check.failedAt!.frame).toMatch(new RegExp(`^> +${line} \\|     expect\\(current\\)\\.toBeSymlink\\(\\)$`, 'm'))
  })

  it('the console shows it with the code around it', () => {
    expect(run.stdout).toContain(`at ${spec}:${line}:`)
    expect(run.stdout).toMatch(new RegExp(`^ +> +${line} \\|     expect\\(current\\)\\.toBeSymlink\\(\\)$`, 'm'))
    expect(run.stdout).toMatch(/FAIL \(exit 1\): 1 of 2 hosts failed a check/)
  })

  it('the JUnit names the failing line (the failure message; the `file` attribute only in the GitLab flavour)', () => {
    const xml = readFileSync(path.join(work.dir, 'out/missing.xml'), 'utf8')
    expect(xml).toMatch(new RegExp(`<failure message="[^"]*\\(at ${spec}:${line}:\\d+\\)"`))
  })
})
