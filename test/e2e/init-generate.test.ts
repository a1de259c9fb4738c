// Getting started, end to end: `verify init` scaffolds a project whose spec passes on a
// deployed host; `verify generate --from-host` writes a spec from a host's state that then
// passes on that host.
import { existsSync, readFileSync, writeFileSync } from 'node:fs'
import path from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startFleet, type Fleet } from '../support/sshd.ts'
import { layDeploy } from '../support/deploy-tree.ts'
import { makeWorkdir, readResult, runCli, type Workdir } from '../support/workdir.ts'
import { fleetInventory, makeFleetProject } from '../support/fleet-project.ts'

let fleet: Fleet
const dirs: Workdir[] = []

beforeAll(async () => {
  // the example fleet: host-1 and host-2 run the blog, host-3 the shop (no blog layout there)
  fleet = await startFleet({ hosts: 3, name: 'init' })
  layDeploy(fleet.hosts[0]!.root)
  layDeploy(fleet.hosts[1]!.root)
  layDeploy(fleet.hosts[2]!.root, 'shop')
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
  it('writes a spec from the host that passes verify check, passes on its group and is skipped elsewhere', async () => {
    const work = makeFleetProject(fleet, { groups: { blog: [0, 1], shop: [2] } })
    dirs.push(work)
    // no --roots: the inventory's appsRoot var is where the release layouts are
    const gen = await runCli(['generate', '--from-host', 'host-1'], { cwd: work.dir })
    expect(gen.exitCode, gen.stdout + gen.stderr).toBe(0)
    expect(gen.stdout).toMatch(
      /wrote specs\/host-1\.spec\.ts from host-1: 1 release layout, \d+ listening ports?, \d+ process(es)?, \d+ services?; runs on blog/,
    )
    const spec = readFileSync(path.join(work.dir, 'specs/host-1.spec.ts'), 'utf8')
    process.stdout.write(`\n--- generated spec ---\n${spec}`)
    // where it applies, and paths from vars: no path of host-1 is written into the spec
    expect(spec).toContain('{ when: inGroup("blog"), vars: Vars }, ({ host, vars }) => {')
    expect(spec).toContain('expect(await release(`${vars.appsRoot}/${vars.app}`, { revisionFile: "REVISION" })).toPointInsideReleases()')
    expect(spec).toContain(
      `it("listens on tcp ${fleet.port} (the SSH port)", async () => expect(await port(host.port)).toBeListeningOn(host.address))`,
    )
    expect(spec).not.toContain(fleet.hosts[0]!.root)
    expect(spec).not.toMatch(/memfd:/)
    // imports: exactly what the spec uses
    const imported = /import \{ ([^}]+) \} from 'postdeploy-verify'/
      .exec(spec)![1]!
      .split(', ')
      .map(n => n.split(' as ').at(-1)!)
    for (const name of imported) expect(spec.split(new RegExp(`\\b${name}\\(|\\b${name}\\.`)).length - 1, name).toBeGreaterThan(0)

    const check = await runCli(['check'], { cwd: work.dir })
    expect(check.exitCode, check.stdout + check.stderr).toBe(0)

    // the machine's processes come and go with other test runs (the fleet shares one machine): run the rest of the spec
    const stable = /(releases\/|rollback|version being|listens on)/
    const run = await runCli(['--hosts', 'fleet', '--expect-version', '3f9c2ab', '--grep', stable.source, '--json', 'gen.json'], {
      cwd: work.dir,
    })
    expect(run.exitCode, run.stdout + run.stderr).toBe(0)
    process.stdout.write(`\n--- the generated spec on the fleet ---\n${run.stdout}`)
    const result = readResult(work.dir, 'gen.json')
    const [blog1, blog2] = result.hosts.map(h => h.checks.filter(c => stable.test(c.path.at(-1)!)))
    for (const checks of [blog1!, blog2!]) {
      expect(checks.length).toBeGreaterThanOrEqual(5)
      expect(
        checks.every(c => c.status === 'passed'),
        JSON.stringify(checks),
      ).toBe(true)
    }
    // host-3 is not in blog: the whole describe is skipped there, with the reason, and it is not connected to
    const shop = result.hosts[2]!
    expect(shop.checks.map(c => [c.status, c.message])).toEqual([['skipped', 'host is not in group blog']])
    expect(shop.execChannels).toBe(0)

    const again = await runCli(['generate', '--from-host', 'host-1'], { cwd: work.dir })
    expect(again.exitCode).toBe(3)
    expect(again.stderr).toMatch(/specs\/host-1\.spec\.ts exists; pass -o another file, or --force/)
    expect(existsSync(path.join(work.dir, 'specs/host-1.spec.ts'))).toBe(true)
  }, 300_000)
})
