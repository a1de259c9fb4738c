// Getting started, end to end: `verify init` scaffolds a project whose spec passes on a
// deployed host; `verify generate --from-host` writes a spec from a host's state that then
// passes on that host.
import { existsSync, readFileSync, writeFileSync } from 'node:fs'
import path from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startFleet, type Fleet } from '../support/sshd.ts'
import { layDeploy } from '../support/deploy-tree.ts'
import { makeWorkdir, runCli, type Workdir } from '../support/workdir.ts'
import { fleetInventory, makeFleetProject } from '../support/fleet-project.ts'

let fleet: Fleet
const dirs: Workdir[] = []

beforeAll(async () => {
  fleet = await startFleet({ hosts: 1, name: 'init' })
  layDeploy(fleet.hosts[0]!.root)
})

afterAll(async () => {
  await fleet?.stop()
  for (const d of dirs) d.remove()
})

describe('verify init', () => {
  it('scaffolds hosts.yaml and a release spec that passes on a deployed host; never overwrites', async () => {
    const work = makeWorkdir()
    dirs.push(work)
    const init = await runCli(['init', '--app', 'blog'], { cwd: work.dir })
    expect(init.exitCode, init.stdout + init.stderr).toBe(0)
    expect(init.stdout).toMatch(/wrote hosts\.yaml\nwrote specs\/blog\.spec\.ts\nwrote tsconfig\.json/)
    const hostsYaml = readFileSync(path.join(work.dir, 'hosts.yaml'), 'utf8')
    expect(hostsYaml).toMatch(/groups:\n {2}canary:/)

    // as scaffolded, the project passes verify check: the spec type-checks and the hosts' vars match its schema
    const check = await runCli(['check'], { cwd: work.dir })
    expect(check.exitCode, check.stdout + check.stderr).toBe(0)
    expect(check.stdout).toMatch(/verify check: OK: 1 spec file type-check, 2 hosts' vars match/)
    // a host without appsRoot is an error naming it, not a check of some default directory
    writeFileSync(path.join(work.dir, 'hosts.yaml'), hostsYaml.replace(/^ {2}appsRoot: .*\n/m, ''))
    const missing = await runCli(['check'], { cwd: work.dir })
    expect(missing.exitCode).toBe(3)
    expect(missing.stderr).toMatch(/web-1: appsRoot is required \(string\) — specs\/blog\.spec\.ts:\d+ "release"/)

    // point the scaffold at the fleet: the inventory is the team's to write; the spec is used as generated
    writeFileSync(path.join(work.dir, 'hosts.yaml'), fleetInventory(fleet))
    const run = await runCli(['--hosts', 'host-1', '--expect-version', '3f9c2ab'], { cwd: work.dir })
    expect(run.exitCode, run.stdout + run.stderr).toBe(0)
    // the restart check applies where statusPort is set: not on this host
    expect(run.stdout).toMatch(/5 checks: 4 passed, 1 skipped/)

    const again = await runCli(['init'], { cwd: work.dir })
    expect(again.stdout).toMatch(/kept hosts\.yaml \(exists; --force overwrites\)/)
  }, 300_000)
})

describe('verify generate --from-host', () => {
  it('writes a spec from the host (release layout, listening ports, processes) that passes there', async () => {
    const work = makeFleetProject(fleet)
    dirs.push(work)
    const appsRoot = path.join(fleet.hosts[0]!.root, 'apps')
    const gen = await runCli(['generate', '--from-host', 'host-1', '--roots', appsRoot], { cwd: work.dir })
    expect(gen.exitCode, gen.stdout + gen.stderr).toBe(0)
    expect(gen.stdout).toMatch(/wrote specs\/host-1\.spec\.ts from host-1: 1 release layouts, \d+ listening ports/)
    const spec = readFileSync(path.join(work.dir, 'specs/host-1.spec.ts'), 'utf8')
    const root = JSON.stringify(path.join(appsRoot, 'blog'))
    expect(spec).toContain(`expect(await release(${root}, { revisionFile: "REVISION" })).toPointInsideReleases()`)
    expect(spec).toContain(`toHaveIntactPrevious()`)
    expect(spec).toContain(`it("listens on tcp ${fleet.port}", async () => expect((await port(${fleet.port})).addresses).toEqual(["127.0.0.2"]))`)

    // the machine's other listeners and processes come and go with other tests: run the stable checks
    const run = await runCli(['--hosts', 'host-1', '--expect-version', '3f9c2ab', '--grep', `(current points|rollback|version being|tcp ${fleet.port}$)`], { cwd: work.dir })
    expect(run.exitCode, run.stdout + run.stderr).toBe(0)
    expect(run.stdout).toMatch(/4 passed/)

    const again = await runCli(['generate', '--from-host', 'host-1', '--roots', appsRoot], { cwd: work.dir })
    expect(again.exitCode).toBe(3)
    expect(again.stderr).toMatch(/specs\/host-1\.spec\.ts exists; pass -o another file, or --force/)
    expect(existsSync(path.join(work.dir, 'specs/host-1.spec.ts'))).toBe(true)
  })
})
