// The system resources end to end, through the real CLI and sshd, as the non-root verifytest
// user: mount, networkInterface, host, kernelParam, cron, x509 (file and TLS endpoint) and the
// file extensions (json/yaml, permissions, accessibleBy, digests, contains), one check of each
// on three hosts, then adversarial values for each one that takes a value.
import { execFileSync } from 'node:child_process'
import { createHash } from 'node:crypto'
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import net from 'node:net'
import path from 'node:path'
import tls from 'node:tls'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startFleet, TEST_USER, type Fleet } from '../support/sshd.ts'
import { makeWorkdir, notPassed, readResult, runCli, type Workdir } from '../support/workdir.ts'
import { fleetDefaults } from '../support/fleet-project.ts'
import { selfSignedCert } from '../support/tls.ts'

const isRoot = process.getuid?.() === 0
const MOUNT_DIR = 'mnt point'
// Schedules that never fire (30 February), in case a cron daemon runs on the test machine.
const CRONTAB = `MAILTO=""
# verify catalogue test
0 0 30 2 * /usr/local/bin/backup --all
@reboot /bin/true
`

let fleet: Fleet
let work: Workdir
let tlsServer: tls.Server
let tlsPort: number
let closedPort: number
const mounted: string[] = []
let savedCrontab: string | undefined
let cronInstalled = false
let digests: { md5: string; sha512: string }

function sh(cmd: string, args: string[]): { ok: boolean; out: string } {
  try {
    return { ok: true, out: execFileSync(cmd, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] }) }
  } catch (error) {
    return { ok: false, out: String((error as { stderr?: string }).stderr ?? error) }
  }
}

function layHost(root: string, certPem: string): void {
  writeFileSync(path.join(root, 'app.json'), '{\n  "db": { "host": "db.internal", "port": 5432 },\n  "debug": false\n}\n')
  writeFileSync(path.join(root, 'app.yaml'), 'server:\n  port: 8080\n  workers: 4\n')
  writeFileSync(path.join(root, 'nginx.conf'), 'server {\n  listen 443 ssl;\n  server_name blog.example.com;\n}\n')
  writeFileSync(path.join(root, 'secret.key'), 'k', { mode: 0o600 })
  chmodSync(path.join(root, 'secret.key'), 0o600)
  writeFileSync(path.join(root, 'cert.pem'), certPem)
  mkdirSync(path.join(root, MOUNT_DIR), { recursive: true })
}

function inventory(): string {
  const hosts = fleet.hosts.map(h => {
    const vars = {
      root: h.root,
      address: h.address,
      sshPort: fleet.port,
      tlsPort,
      closedPort,
      user: fleet.user,
      mountPath: mounted.includes(h.root) ? path.join(h.root, MOUNT_DIR) : '/proc',
      mountFs: mounted.includes(h.root) ? 'tmpfs' : 'proc',
      cronEntries: cronInstalled,
      md5: digests.md5,
      sha512: digests.sha512,
    }
    return `  ${h.name}: { address: ${h.address}, vars: ${JSON.stringify(vars)} }`
  })
  return [fleetDefaults(fleet), 'hosts:', ...hosts, 'groups:', `  three: { hosts: [${fleet.hosts.map(h => h.name).join(', ')}] }`, ''].join(
    '\n',
  )
}

// Each check asks for all its facts at once (Promise.all), so every check's facts land in
// the first batch: one exec channel per host for the whole spec.
const CATALOGUE_SPEC = `
import { describe, it, expect, file, mount, iface, host, kernelParam, cron, x509 } from 'postdeploy-verify'

describe('system catalogue', ({ vars }) => {
  const root = vars.root

  it('mount: the mount point is mounted with its type; the host root is not one but lives on one', async () => {
    const [m, r] = await Promise.all([mount(vars.mountPath), mount(root)])
    expect(m).toMatchObject({ mounted: true, isMountPoint: true, filesystem: vars.mountFs })
    if (vars.mountFs === 'tmpfs') {
      expect(m.source).toBe('verify src')
      expect(m.options).toContain('noexec')
      expect(m.options).toContain('size=1024k')
    }
    expect(r.mounted).toBe(false)
    expect(r.containing?.mountPoint).toBeTruthy()
  })

  it('interface: lo is up with 127.0.0.1/8', async () => {
    const [lo, has] = await Promise.all([iface('lo'), iface('lo').hasAddress('127.0.0.1/8')])
    expect(lo).toMatchObject({ exists: true, adminUp: true, up: true })
    expect(lo.mtu).toBeGreaterThan(0)
    expect(has).toBe(true)
  })

  it('host: localhost resolves; sshd is reachable from the host, a closed port is not', async () => {
    const [local, open, closed] = await Promise.all([host('localhost'), host(vars.address).reachable(vars.sshPort), host('127.0.0.1').connect(vars.closedPort, { timeout: 3 })])
    expect(local.resolvable).toBe(true)
    expect(local.addresses).toContain('127.0.0.1')
    expect(open).toBe(true)
    expect(closed.reachable).toBe(false)
    expect(closed.reason).toMatch(/refused/i)
  })

  it('kernel parameters', async () => {
    const [ostype, range] = await Promise.all([kernelParam('kernel.ostype'), kernelParam('net.ipv4.ip_local_port_range')])
    expect(ostype.value).toBe('Linux')
    expect(range.values).toHaveLength(2)
  })

  it('cron: the connecting user\\'s crontab; another user\\'s needs root', async () => {
    const [own, entry, other] = await Promise.all([cron(), cron().hasEntry('0 0 30 2 * /usr/local/bin/backup --all'), cron('root').then(() => 'read', (e) => e.message)])
    if (vars.cronEntries) {
      expect(own.entries.map((e) => e.schedule)).toEqual(['0 0 30 2 *', '@reboot'])
      expect(own.env.MAILTO).toBe('')
      expect(entry).toBe(true)
    } else {
      expect(typeof own.hasCrontab).toBe('boolean')
    }
    expect(other).toMatch(/needs root|not installed/)
  })

  it('x509: the file and the TLS endpoint (as this host reaches it) hold the same certificate', async () => {
    const [f, endpoint] = await Promise.all([x509(root + '/cert.pem'), x509('127.0.0.1:' + vars.tlsPort)])
    expect(f).toMatchObject({ commonName: 'blog.example.com', dnsNames: ['blog.example.com', 'www.example.com'], expired: false })
    expect(f.daysUntilExpiry).toBeGreaterThanOrEqual(29)
    expect(f.subjectAttributes.O).toEqual(['Acme, Inc.'])
    expect(endpoint.fingerprintSha256).toBe(f.fingerprintSha256)
  })

  it('file: json and yaml keys', async () => {
    const [json, yaml] = await Promise.all([file(root + '/app.json').json, file(root + '/app.yaml').yaml])
    expect(json.db.port).toBe(5432)
    expect(yaml.server.workers).toBe(4)
  })

  it('file: permissions by class and for the connecting user', async () => {
    const [key, access, conf] = await Promise.all([file(root + '/secret.key'), file(root + '/secret.key').accessibleBy(vars.user), file(root + '/app.json').accessibleBy(vars.user)])
    expect(key.permissions?.owner.readable).toBe(true)
    expect(key.permissions?.others.readable).toBe(false)
    // files in the host root belong to the test runner, not to the ssh user (unless both are the same)
    expect(access.readable).toBe(key.owner === vars.user)
    expect(access.method).toBe('mode-bits')
    expect(conf.readable).toBe(true)
  })

  it('file: md5 and sha512', async () => {
    const [md5, sha512] = await Promise.all([file(root + '/nginx.conf').md5, file(root + '/nginx.conf').sha512])
    expect(md5).toBe(vars.md5)
    expect(sha512).toBe(vars.sha512)
  })

  it('file: contains, evaluated on the host', async () => {
    const conf = file(root + '/nginx.conf')
    const [ssl, line, re, none] = await Promise.all([conf.contains('listen 443 ssl'), conf.contains({ line: '  server_name blog.example.com;' }), conf.contains(/^\\s*listen\\s+443 /), conf.contains('listen 80;')])
    expect([ssl, line, re, none]).toEqual([true, true, true, false])
  })
})
`

// Every value that reaches a host goes in as data: the spec passes only if each one is read
// as a (non-existent) path, name or pattern, or refused before anything is sent.
const EVIL = (root: string) => [
  `$(touch ${root}/pwned)`,
  `\`touch ${root}/pwned\``,
  `'; touch ${root}/pwned; '`,
  `x\ntouch ${root}/pwned`,
  '-rf',
  `it's "quoted"`,
]
const HOSTILE_SPEC = `
import { describe, it, expect, file, mount, iface, host, kernelParam, cron, x509 } from 'postdeploy-verify'

describe('hostile values', ({ vars }) => {
  const root = vars.root
  const evil = ${JSON.stringify(EVIL('ROOT'))}.map((e) => e.replaceAll('ROOT', root))

  it('mount: hostile paths are paths (not mounted)', async () => {
    const all = await Promise.all(evil.map((e) => mount(root + '/' + e)))
    expect(all.every((m) => !m.mounted)).toBe(true)
  })

  it('interface: hostile names either do not exist or are refused', async () => {
    const answers = await Promise.all(evil.map((e) => { try { return iface(e).then((f) => f.exists) } catch (err) { return err.name } }))
    expect(answers.every((a) => a === false || a === 'TypeError')).toBe(true)
    expect(answers).toContain(false)
  })

  it('host: hostile names are refused before anything runs', async () => {
    for (const e of evil) expect(() => host(e)).toThrow(TypeError)
    await expect(host('localhost').connect(0)).rejects.toThrow(TypeError)
  })

  it('kernelParam: hostile names are refused', async () => {
    for (const e of evil) await expect(kernelParam(e)).rejects.toThrow(TypeError)
    await expect(kernelParam('../../../etc/shadow')).rejects.toThrow(TypeError)
  })

  it('cron: hostile user names are refused', async () => {
    for (const e of evil) expect(() => cron(e)).toThrow(TypeError)
  })

  it('x509: hostile paths are paths that do not exist', async () => {
    const messages = await Promise.all(evil.map((e) => x509(root + '/' + e).then(() => 'read', (err) => err.message)))
    expect(messages.every((m) => /does not exist/.test(m))).toBe(true)
  })

  it('file: hostile patterns are text, hostile users are refused, hostile paths are paths', async () => {
    const conf = file(root + '/nginx.conf')
    const counts = await Promise.all(evil.filter((e) => !e.includes('\\n')).map((e) => conf.countMatching(e)))
    expect(counts.every((c) => c === 0)).toBe(true)
    await expect(conf.contains(evil.find((e) => e.includes('\\n')))).rejects.toThrow(/spans lines/)
    for (const e of evil) await expect(conf.accessibleBy(e)).rejects.toThrow(TypeError)
    const sums = await Promise.all(evil.map((e) => file(root + '/' + e).md5.then(() => 'read', (err) => err.message)))
    expect(sums.every((m) => /does not exist/.test(m))).toBe(true)
  })
})
`

beforeAll(async () => {
  fleet = await startFleet({ hosts: 3, name: 'mount-network-kernel-cron-x509-file' })
  const certDir = path.join(fleet.dir, 'tls')
  mkdirSync(certDir)
  selfSignedCert({
    key: path.join(certDir, 'key.pem'),
    cert: path.join(certDir, 'cert.pem'),
    subject: '/O=Acme, Inc./CN=blog.example.com',
    san: 'DNS:blog.example.com,DNS:www.example.com',
  })
  const certPem = readFileSync(path.join(certDir, 'cert.pem'), 'utf8')
  tlsServer = tls.createServer({ key: readFileSync(path.join(certDir, 'key.pem')), cert: certPem }, socket => socket.end())
  await new Promise<void>(resolve => tlsServer.listen(0, '127.0.0.1', resolve))
  tlsPort = (tlsServer.address() as net.AddressInfo).port
  const probe = net.createServer()
  await new Promise<void>(resolve => probe.listen(0, '127.0.0.1', resolve))
  closedPort = (probe.address() as net.AddressInfo).port
  await new Promise(resolve => probe.close(resolve))

  for (const h of fleet.hosts) layHost(h.root, certPem)
  const conf = readFileSync(path.join(fleet.hosts[0]!.root, 'nginx.conf'))
  digests = { md5: createHash('md5').update(conf).digest('hex'), sha512: createHash('sha512').update(conf).digest('hex') }

  if (isRoot) {
    // a tmpfs at a path with a space, from a source with one: mountinfo's \\040 escapes end to end
    for (const h of fleet.hosts) {
      if (sh('mount', ['-t', 'tmpfs', '-o', 'size=1m,noexec', 'verify src', path.join(h.root, MOUNT_DIR)]).ok) mounted.push(h.root)
    }
    // the fleet logs in as verifytest: give it a crontab (restored afterwards)
    if (fleet.user === TEST_USER && existsSync('/usr/bin/crontab')) {
      const before = sh('crontab', ['-l', '-u', TEST_USER])
      savedCrontab = before.ok ? before.out : undefined
      writeFileSync(path.join(fleet.dir, 'crontab'), CRONTAB)
      cronInstalled = sh('crontab', ['-u', TEST_USER, path.join(fleet.dir, 'crontab')]).ok
    }
  }
  work = makeWorkdir({ 'hosts.yaml': inventory(), 'specs/catalogue.spec.ts': CATALOGUE_SPEC, 'hostile/hostile.spec.ts': HOSTILE_SPEC })
})

afterAll(async () => {
  for (const root of mounted) sh('umount', [path.join(root, MOUNT_DIR)])
  if (cronInstalled) {
    if (savedCrontab !== undefined) {
      writeFileSync(path.join(fleet.dir, 'crontab.saved'), savedCrontab)
      sh('crontab', ['-u', TEST_USER, path.join(fleet.dir, 'crontab.saved')])
    } else {
      sh('crontab', ['-u', TEST_USER, '-r'])
    }
  }
  await new Promise(resolve => tlsServer?.close(resolve) ?? resolve(undefined))
  await fleet?.stop()
  work?.remove()
})

describe('system resources over real sshd', () => {
  it('one check of each resource passes on three hosts, with at most 2 exec channels per host', async () => {
    const before = await fleet.execChannels()
    const run = await runCli(['--hosts', 'three', '--json', 'out/catalogue.json'], { cwd: work.dir })
    const json = readResult(work.dir, 'out/catalogue.json')
    const failures = notPassed(json)
    expect(failures, run.stdout + run.stderr).toEqual([])
    expect(run.exitCode, run.stdout + run.stderr).toBe(0)
    expect(json.hosts).toHaveLength(3)
    for (const h of json.hosts) expect(h.checks).toHaveLength(10)
    const after = await fleet.execChannels()
    for (const h of fleet.hosts) expect(after.get(h.address)! - before.get(h.address)!).toBeLessThanOrEqual(2)
    if (isRoot) expect(mounted).toHaveLength(3)
  })

  it('adversarial values: each read as data or refused; nothing runs on the host (exit 0)', async () => {
    const before = await fleet.execChannels()
    const run = await runCli(['--hosts', 'three', '--specs', 'hostile/*.spec.ts', '--json', 'out/hostile.json'], { cwd: work.dir })
    const json = readResult(work.dir, 'out/hostile.json')
    const failures = notPassed(json)
    expect(failures, run.stdout + run.stderr).toEqual([])
    expect(run.exitCode, run.stdout + run.stderr).toBe(0)
    for (const h of fleet.hosts) expect(existsSync(path.join(h.root, 'pwned')), h.root).toBe(false)
    const after = await fleet.execChannels()
    for (const h of fleet.hosts) expect(after.get(h.address)! - before.get(h.address)!).toBeLessThanOrEqual(2)
  })
})
