// The catalogue's quality bar, measured: one spec that uses every resource once, on 10 hosts
// behind the real sshd, costs at most 2 exec channels per host. The wall time is printed for the
// closing note. The assertions are the ones that hold on any Debian host the suite runs on;
// each resource's own e2e file (process-port-service-pkg-user-group, mount-network-kernel-cron-x509-file, release, restart…) checks it in depth.
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import path from 'node:path'
import { afterAll, beforeAll, expect, it } from 'vitest'
import { startFleet, type Fleet } from '../support/sshd.ts'
import { layDeploy, startStatusApp, type StatusApp } from '../support/deploy-tree.ts'
import { makeFleetProject } from '../support/fleet-project.ts'
import { notPassed, readResult, runCli, type Workdir } from '../support/workdir.ts'
import { selfSignedCert } from '../support/tls.ts'

const HOSTS = 10

const SPEC = `
import { describe, it, expect, file, directory, command, http, serverStatus, release, process, port, service,
  pkg, user, group, mount, iface, host, kernelParam, cron, x509, tree, hostClock, restart } from 'postdeploy-verify'

describe('every resource once', ({ vars }) => {
  const root = vars.appsRoot + '/blog'
  const status = 'http://127.0.0.1:' + vars.statusPort
  it('file', async () => expect(await file(root + '/current')).toBeSymlink())
  it('directory', async () => expect((await directory(root + '/releases')).entries).toHaveLength(2))
  it('command', async () => expect((await command('uname -s')).stdout).toBe('Linux\\n'))
  it('http', async () => expect((await http(status + '/health', { via: 'host' })).status).toBe(200))
  it('serverStatus', async () => expect((await serverStatus(status + '/server-status?auto', { via: 'host' })).totalAccesses).toBeLessThan(10))
  it('release', async () => expect(await release(root, { revisionFile: 'REVISION' })).toHaveIntactPrevious())
  it('process', async () => expect((await process('sshd')).count).toBeGreaterThan(0))
  it('port', async () => expect(await port(vars.sshPort)).toBeListening())
  it('service', async () => expect((await service('ssh').enablement).state).toBe('enabled'))
  it('pkg', async () => expect(await pkg('openssh-server')).toSatisfyVersion('>= 1:8.0'))
  it('user', async () => expect(await user('root')).toMatchObject({ exists: true, uid: 0 }))
  it('group', async () => expect(await group('root')).toMatchObject({ exists: true, gid: 0 }))
  it('mount', async () => expect(await mount('/proc')).toMatchObject({ mounted: true, filesystem: 'proc' }))
  it('interface', async () => expect(await iface('lo')).toMatchObject({ exists: true, up: true }))
  it('host', async () => expect((await host('localhost')).resolvable).toBe(true))
  it('kernelParam', async () => expect((await kernelParam('kernel.ostype')).value).toBe('Linux'))
  it('cron', async () => expect(typeof (await cron()).hasCrontab).toBe('boolean'))
  it('x509', async () => expect((await x509(vars.hostRoot + '/tls/cert.pem')).daysUntilExpiry).toBeGreaterThan(20))
  it('file.json', async () => expect((await file(vars.hostRoot + '/tls/app.json').json).port).toBe(8080))
  it('tree', async () => expect((await tree(root + '/shared')).entries.length).toBeGreaterThan(0))
  it('hostClock', async () => expect(Math.abs((await hostClock()).offsetMs)).toBeLessThan(5000))
  it('restart', async () => expect(await restart({ processes: 'sshd', since: 0, statusPage: { url: status + '/server-status?auto', via: 'host', maxAccesses: 10 } })).toBeRestarted())
})
`

let fleet: Fleet
let apps: StatusApp[]
let work: Workdir

beforeAll(async () => {
  fleet = await startFleet({ hosts: HOSTS, name: 'every-resource' })
  apps = await Promise.all(fleet.hosts.map(() => startStatusApp()))
  const certDir = path.join(fleet.dir, 'tls')
  mkdirSync(certDir)
  selfSignedCert({ key: path.join(certDir, 'key.pem'), cert: path.join(certDir, 'cert.pem'), subject: '/CN=blog.example.com' })
  const cert = readFileSync(path.join(certDir, 'cert.pem'))
  for (const h of fleet.hosts) {
    layDeploy(h.root)
    mkdirSync(path.join(h.root, 'tls'))
    writeFileSync(path.join(h.root, 'tls', 'cert.pem'), cert)
    writeFileSync(path.join(h.root, 'tls', 'app.json'), '{"port": 8080}\n')
  }
  work = makeFleetProject(fleet, { apps, vars: { sshPort: fleet.port }, files: { 'specs/every.spec.ts': SPEC } })
})

afterAll(async () => {
  await Promise.all(apps?.map(a => a.close()) ?? [])
  await fleet?.stop()
  work?.remove()
})

it(`one check of every resource on ${HOSTS} hosts: all pass, at most 2 exec channels per host`, async () => {
  const before = await fleet.execChannels()
  const run = await runCli(['--hosts', 'fleet', '--json', 'result.json'], { cwd: work.dir })
  const result = readResult(work.dir, 'result.json')
  const failures = notPassed(result)
  expect(failures, run.stdout + run.stderr).toEqual([])
  expect(run.exitCode).toBe(0)
  expect(result.hosts.map(h => h.checks.length)).toEqual(fleet.hosts.map(() => 22))
  const after = await fleet.execChannels()
  const perHost = fleet.hosts.map(h => after.get(h.address)! - (before.get(h.address) ?? 0))
  for (const n of perHost) expect(n).toBeLessThanOrEqual(2)
  console.log(
    `every resource once, ${HOSTS} hosts × 22 checks: wall ${run.ms} ms (CLI process start to exit); exec channels per host: ${perHost.join(',')}`,
  )
})
