// The architecture requirement, measured on a real sshd: 10 hosts × 22 checks, all hosts in
// parallel, at most 2 exec channels per host (one batch, plus one for a check that reads a
// fact to decide what to ask next). The wall time is printed for the closing note.
import path from 'node:path'
import { afterAll, beforeAll, expect, it } from 'vitest'
import { startFleet, type Fleet } from '../support/sshd.ts'
import { layDeploy, startStatusApp, type StatusApp } from '../support/deploy-tree.ts'
import { makeWorkdir, readResult, runCli, type Workdir } from '../support/workdir.ts'
import { fleetDefaults } from '../support/fleet-project.ts'

let fleet: Fleet
let apps: StatusApp[]
let work: Workdir

const SPEC = `
import { describe, it, expect, file, directory, command, http, serverStatus } from 'postdeploy-verify'

describe('twenty-two checks', ({ vars }) => {
  const root = vars.appsRoot + '/blog'
  it('current is a symlink', async () => expect(await file(root + '/current')).toBeSymlink())
  it('current resolves into releases/', async () => expect((await file(root + '/current')).resolvedPath).toMatch(/\\/releases\\//))
  it('releases/ is a directory', async () => expect(await file(root + '/releases')).toBeDirectory())
  it('shared/ is a directory', async () => expect(await file(root + '/shared')).toBeDirectory())
  it('shared/log is a directory', async () => expect(await file(root + '/shared/log')).toBeDirectory())
  it('REVISION is a file', async () => expect(await file(root + '/current/REVISION')).toBeFile())
  it('REVISION content', async () => expect(await file(root + '/current/REVISION').content).toBe('3f9c2ab\\n'))
  it('REVISION sha256', async () => expect(await file(root + '/current/REVISION').sha256).toMatch(/^[0-9a-f]{64}$/))
  it('REVISION mode', async () => expect((await file(root + '/current/REVISION')).mode).toBe('0644'))
  it('REVISION owner', async () => expect((await file(root + '/current/REVISION')).owner).toBe('root'))
  it('releases dir mode', async () => expect((await file(root + '/releases')).mode).toBe('0755'))
  it('two releases kept', async () => expect((await directory(root + '/releases')).entries).toHaveLength(2))
  it('public/ exists', async () => expect(await file(root + '/current/public')).toBeDirectory())
  it('no stray tmp dir', async () => expect(await file(root + '/tmp')).not.toExist())
  it('apps root is a directory', async () => expect(await file(vars.appsRoot)).toBeDirectory())
  it('uname answers', async () => expect((await command('uname -s')).stdout).toBe('Linux\\n'))
  it('sh is there', async () => expect((await command('command -v sh')).exitStatus).toBe(0))
  it('id is not root', async () => expect((await command('id -u')).stdout.trim()).not.toBe('0'))
  it('status counter under 10', async () => expect((await serverStatus('http://127.0.0.1:' + vars.statusPort + '/server-status?auto', { via: 'host' })).totalAccesses).toBeLessThan(10))
  it('health answers 200', async () => expect((await http('http://127.0.0.1:' + vars.statusPort + '/health', { via: 'host' })).status).toBe(200))
  it('the release current points at has a REVISION (reads, then asks again)', async () => {
    const current = await file(root + '/current')
    expect(await file(current.linkTarget + '/REVISION')).toBeFile()
  })
  it('previous release is intact (reads the listing, then asks again)', async () => {
    const { entries } = await directory(root + '/releases')
    expect(await file(root + '/releases/' + entries[0] + '/REVISION').content).toMatch(/^[0-9a-f]{7}\\n$/)
  })
})
`

beforeAll(async () => {
  fleet = await startFleet({ hosts: 10, name: 'channels' })
  apps = await Promise.all(fleet.hosts.map(() => startStatusApp()))
  for (const h of fleet.hosts) layDeploy(h.root)
  const hosts = fleet.hosts.map(
    (h, i) =>
      `  ${h.name}: { address: ${h.address}, vars: { appsRoot: ${JSON.stringify(path.join(h.root, 'apps'))}, statusPort: ${apps[i]!.port} } }`,
  )
  work = makeWorkdir({
    'specs/twenty-two.spec.ts': SPEC,
    'hosts.yaml': `${fleetDefaults(fleet)}\nhosts:\n${hosts.join('\n')}\ngroups:\n  fleet:\n    hosts: [${fleet.hosts.map(h => h.name).join(', ')}]\n`,
  })
})

afterAll(async () => {
  await Promise.all(apps?.map(a => a.close()) ?? [])
  await fleet?.stop()
  work?.remove()
})

it('10 hosts × 22 checks: all pass, at most 2 exec channels per host', async () => {
  const run = await runCli(['--hosts', 'fleet', '--json', 'result.json', '--timings'], { cwd: work.dir })
  expect(run.exitCode, run.stdout + run.stderr).toBe(0)
  expect(run.stdout).toMatch(/10 hosts, 220 checks: 220 passed/)
  const channels = await fleet.execChannels()
  expect([...channels.values()]).toHaveLength(10)
  for (const [address, count] of channels) expect(count, address).toBeLessThanOrEqual(2)
  console.log(
    `10 hosts × 22 checks: wall ${run.ms} ms (CLI process start to exit); exec channels per host: ${[...channels.values()].join(',')}`,
  )

  // --timings: the phases are in the JSON result, and printed on stderr
  const result = readResult(work.dir, 'result.json')
  const t = result.timings!
  for (const phase of ['startupMs', 'inventoryMs', 'specsMs', 'planMs', 'hostsMs', 'reportMs'] as const)
    expect(t[phase], phase).toBeGreaterThanOrEqual(0)
  expect(t.startupMs).toBeGreaterThan(0)
  expect(t.hostsMs).toBeLessThanOrEqual(run.ms)
  for (const h of result.hosts) {
    const { connect, connectMs, rounds, probeMs, httpMs, checksMs } = h.timings
    expect(connect).toMatchObject({
      queueMs: expect.any(Number),
      resolveMs: expect.any(Number),
      tcpMs: expect.any(Number),
      handshakeMs: expect.any(Number),
      authMs: expect.any(Number),
      attempts: 1,
    })
    const phases = connect!.queueMs! + connect!.resolveMs! + connect!.tcpMs! + connect!.handshakeMs! + connect!.authMs!
    expect(phases).toBeLessThanOrEqual(connectMs! + 5) // rounding, one ms per phase
    expect(rounds).toBe(channels.get(fleet.hosts.find(f => f.name === h.host.name)!.address))
    expect(probeMs).toBeGreaterThan(0)
    expect(probeMs).toBeLessThanOrEqual(checksMs! + 1)
    expect(httpMs).toBeGreaterThan(0) // status page and health check, tunnelled
  }
  expect(run.stderr).toMatch(/Timings \(ms\)\n {2}start-up \(Node, loader, CLI modules\) +\d+/)
  expect(run.stderr).toMatch(/key exchange \+ host key +\d+ +\d+ +\d+/)
  expect(run.stderr).toMatch(/Per host \(10 connected\)/)
  console.log(run.stderr.slice(run.stderr.indexOf('Timings')))
})
