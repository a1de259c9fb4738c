// The CLI end to end, as a release engineer runs it: a real sshd serving a fleet of loopback
// hosts, each with its own deploy tree and status app, a hosts.yaml, the example spec.
import { readFileSync, writeFileSync, statSync, readdirSync, lstatSync, existsSync, copyFileSync } from 'node:fs'
import { execFileSync } from 'node:child_process'
import path from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { XMLParser } from 'fast-xml-parser'
import { startFleet, type Fleet } from '../support/sshd.ts'
import { layDeploy, pointCurrent, startStatusApp, RELEASES, type StatusApp } from '../support/deploy-tree.ts'
import { makeWorkdir, readResult, REPO_ROOT, runCli, type Workdir } from '../support/workdir.ts'
import { junitSchemaErrors } from '../support/faults.ts'

let fleet: Fleet
let apps: StatusApp[]
let work: Workdir
const CLOSED_ADDRESS = '127.0.0.250'

function inventory(fleet: Fleet, extraHosts = ''): string {
  const hosts = fleet.hosts
    .map(
      (h, i) =>
        `  ${h.name}: { address: ${h.address}, vars: { appsRoot: ${JSON.stringify(path.join(h.root, 'apps'))}, statusPort: ${apps[i]!.port} } }`,
    )
    .join('\n')
  return `defaults:
  port: ${fleet.port}
  user: ${fleet.user}
  identityFile: ${fleet.identityFile}
  knownHosts: ${fleet.knownHosts}
vars:
  app: blog
hosts:
${hosts}
${extraHosts}
groups:
  staging:
    hosts: [${fleet.hosts
      .slice(0, 3)
      .map(h => h.name)
      .join(', ')}]
  with-down:
    hosts: [${fleet.hosts[0]!.name}, down]
  changed-key:
    hosts: [${fleet.hosts[0]!.name}, ${fleet.hosts[3]!.name}]
`
}

beforeAll(async () => {
  fleet = await startFleet({ hosts: 4, name: 'cli' })
  apps = await Promise.all(fleet.hosts.map(() => startStatusApp()))
  for (const h of fleet.hosts) layDeploy(h.root)
  work = makeWorkdir()
  copyFileSync(path.join(REPO_ROOT, 'specs', 'blog-release.spec.ts'), work.write('specs/blog-release.spec.ts', ''))
  // the modules the example spec shares with the other example apps
  for (const shared of readdirSync(path.join(REPO_ROOT, 'specs', 'shared')))
    copyFileSync(path.join(REPO_ROOT, 'specs', 'shared', shared), work.write(`specs/shared/${shared}`, ''))
  work.write('hosts.yaml', inventory(fleet, `  down: { address: ${CLOSED_ADDRESS}, vars: { statusPort: 1 } }`))
})

afterAll(async () => {
  await Promise.all(apps?.map(a => a.close()) ?? [])
  await fleet?.stop()
  work?.remove()
})

const parseXml = (file: string) => new XMLParser({ ignoreAttributes: false, attributeNamePrefix: '' }).parse(readFileSync(file, 'utf8'))
const asArray = <T>(x: T | T[] | undefined): T[] => (x === undefined ? [] : Array.isArray(x) ? x : [x])

/** Names, types, modes, owners, sizes and mtimes of everything under a tree. */
function snapshot(root: string): string[] {
  const out: string[] = []
  const walk = (dir: string) => {
    for (const name of readdirSync(dir).sort()) {
      const p = path.join(dir, name)
      const s = lstatSync(p)
      out.push(`${path.relative(root, p)} ${s.mode.toString(8)} ${s.uid}:${s.gid} ${s.size} ${s.mtimeMs}`)
      if (s.isDirectory()) walk(p)
    }
  }
  walk(root)
  return out
}

describe('verify --hosts <group> over real sshd', () => {
  it('passes the deploy postconditions on every host of the group, writes JUnit and JSON, exits 0, leaves the hosts unchanged', async () => {
    const before = fleet.hosts.map(h => snapshot(h.root))
    const channelsBefore = await fleet.execChannels()
    const run = await runCli(['--hosts', 'staging', '--junit', 'out/junit.xml', '--json', 'out/result.json'], { cwd: work.dir })
    // stderr holds the progress, one line per finished host (no terminal), and nothing else
    expect(run.stderr.split('\n').filter(line => line !== '' && !/^\[\d\/3\] ✓ host-\d {2}8 passed {2}\d+\.\ds$/.test(line))).toEqual([])
    expect(run.exitCode, run.stdout + run.stderr).toBe(0)
    for (const h of fleet.hosts.slice(0, 3)) expect(run.stdout).toContain(h.name)
    expect(run.stdout).toMatch(/3 hosts?, 24 checks: 24 passed, 0 failed, 0 errors/)

    const xml = parseXml(path.join(work.dir, 'out/junit.xml'))
    const suites = asArray(xml.testsuites.testsuite)
    expect(suites.map((s: { name: string }) => s.name)).toEqual(['host-1', 'host-2', 'host-3'])
    expect(asArray(suites[0].testcase)).toHaveLength(8)
    expect(junitSchemaErrors(path.join(work.dir, 'out/junit.xml'))).toBe('')

    const json = readResult(work.dir, 'out/result.json')
    expect(json.schemaVersion).toBe(1)
    expect(json.hosts.every(h => h.status === 'verified' && h.checks.every(c => c.status === 'passed'))).toBe(true)
    expect(json.hosts[0]!.checks[0]!.facts).toContain(`file:${path.join(fleet.hosts[0]!.root, 'apps/blog/current')}`)

    // ≤ 2 exec channels per host: the independent checks share one batch; content/listing ride along
    const channels = await fleet.execChannels()
    for (const h of fleet.hosts.slice(0, 3)) expect(channels.get(h.address)! - channelsBefore.get(h.address)!).toBeLessThanOrEqual(2)
    expect(channels.get(fleet.hosts[3]!.address)).toBe(channelsBefore.get(fleet.hosts[3]!.address))

    // read-only: the hosts' trees are exactly as before (the run was as non-root verifytest)
    expect(fleet.hosts.map(h => snapshot(h.root))).toEqual(before)
  })

  it('--timings tells the time from process start to the first connection attempt and to the first byte from a host', async () => {
    const run = await runCli(['--hosts', 'host-1', '--timings', '--json', 'out/timings.json'], { cwd: work.dir })
    expect(run.exitCode, run.stdout + run.stderr).toBe(0)
    expect(run.stderr).toMatch(/\n {2}process start → first connect attempt +\d+\n/)
    expect(run.stderr).toMatch(/\n {2}process start → first byte from a host +\d+\n/)
    const { startupMs, firstConnectMs, firstByteMs } = readResult(work.dir, 'out/timings.json').timings!
    expect(firstConnectMs).toBeGreaterThanOrEqual(startupMs)
    expect(firstByteMs).toBeGreaterThanOrEqual(firstConnectMs!)
  })

  it('a wrong symlink target and a high access counter fail with expected vs actual, naming host, spec and check (exit 1)', async () => {
    const appRoot = path.join(fleet.hosts[1]!.root, 'apps/blog')
    pointCurrent(appRoot, '/srv/elsewhere/blog')
    apps[2]!.accesses = 500
    try {
      const run = await runCli(['--hosts', 'staging', '--json', 'r.json', '--junit', 'r.xml'], { cwd: work.dir })
      expect(run.exitCode, run.stdout + run.stderr).toBe(1)
      expect(junitSchemaErrors(path.join(work.dir, 'r.xml'))).toBe('')
      expect(run.stdout).toMatch(/host-2[\s\S]*current points into releases\/[\s\S]*\/srv\/elsewhere\/blog/)
      expect(run.stdout).toMatch(/host-3[\s\S]*was restarted[\s\S]*Received: +50\d/)
      expect(run.stdout).toContain('specs/blog-release.spec.ts')
      const json = readResult(work.dir, 'r.json')
      const symlink = json.hosts[1]!.checks.find(c => c.path.at(-1) === 'current points into releases/')!
      expect(symlink).toMatchObject({ status: 'failed', actual: 'a dangling symlink to /srv/elsewhere/blog' })
      expect(symlink.expected).toMatch(/^inside \/.*\/releases\/$/)
      expect(symlink.line).toBeGreaterThan(1)
      // the failing expect is in the shared module the spec calls: that is the line shown
      expect(symlink.failedAt).toMatchObject({ file: 'specs/shared/release-layout.ts', line: expect.any(Number) })
      const counter = json.hosts[2]!.checks.find(c => c.path.at(-1)?.startsWith('was restarted'))!
      // 10 besides verify's own requests to the page, the comparison kept
      expect(counter).toMatchObject({ status: 'failed', expected: expect.stringMatching(/^< 1\d$/) })
      expect(Number(counter.actual)).toBeGreaterThanOrEqual(500)
      expect(json.hosts[0]!.checks.every(c => c.status === 'passed')).toBe(true)
    } finally {
      pointCurrent(appRoot, path.join(appRoot, 'releases', RELEASES[1]!))
      apps[2]!.accesses = 0
    }
  })

  it('an unreachable host is an error for that host only; the others still report (exit 2)', async () => {
    const run = await runCli(['--hosts', 'with-down', '--junit', 'down.xml', '--json', 'down.json', '--connect-timeout', '5'], {
      cwd: work.dir,
    })
    expect(run.exitCode, run.stdout + run.stderr).toBe(2)
    expect(junitSchemaErrors(path.join(work.dir, 'down.xml'))).toBe('')
    expect(run.stdout).toMatch(/down[\s\S]*(refused|unreachable)/i)
    const suites = asArray(parseXml(path.join(work.dir, 'down.xml')).testsuites.testsuite)
    const up = suites.find((s: { name: string }) => s.name === 'host-1')
    const down = suites.find((s: { name: string }) => s.name === 'down')
    expect(Number(up.failures) + Number(up.errors), run.stdout).toBe(0)
    expect(Number(down.errors)).toBeGreaterThan(0)
    // the unreachable host's checks are its errors: JUnit counts what the JSON and the console count
    const summary = readResult(work.dir, 'down.json').summary
    expect(suites.reduce((n: number, s: { tests: string }) => n + Number(s.tests), 0)).toBe(summary.checks)
    expect(suites.reduce((n: number, s: { errors: string }) => n + Number(s.errors), 0)).toBe(summary.errors)
    expect(run.stdout).toContain(`${summary.checks} checks`)
    expect(run.ms).toBeLessThan(20_000)
  })

  it('a changed host key is refused: an error for that host, no command runs on it (exit 2)', async () => {
    const otherKey = path.join(work.dir, 'other_key')
    execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', otherKey])
    const pub = readFileSync(`${otherKey}.pub`, 'utf8').trim().split(' ').slice(0, 2).join(' ')
    const target = fleet.hosts[3]!
    const knownHosts = readFileSync(fleet.knownHosts, 'utf8')
      .split('\n')
      .map(l => (l.startsWith(`[${target.address}]:`) ? `[${target.address}]:${fleet.port} ${pub}` : l))
      .join('\n')
    work.write('changed_known_hosts', knownHosts)
    work.write(
      'changed.yaml',
      readFileSync(path.join(work.dir, 'hosts.yaml'), 'utf8').replace(fleet.knownHosts, path.join(work.dir, 'changed_known_hosts')),
    )
    const before = (await fleet.execChannels()).get(target.address)
    const run = await runCli(['--hosts', 'changed-key', '-i', 'changed.yaml', '--json', 'k.json'], { cwd: work.dir })
    expect(run.exitCode, run.stdout + run.stderr).toBe(2)
    const json = readResult(work.dir, 'k.json')
    expect(json.hosts[0]!.status).toBe('verified')
    expect(json.hosts[1]!.status).toBe('error')
    expect(json.hosts[1]!.error?.kind).toBe('host-key')
    expect(json.hosts[1]!.error?.message).toMatch(/SHA256:/)
    expect((await fleet.execChannels()).get(target.address)).toBe(before)
  })
})

describe('hostile values and hung facts', () => {
  it('checks adversarial paths as paths: nothing runs, the odd names are found (exit 0)', async () => {
    const root = fleet.hosts[0]!.root
    const odd = [`it's "odd"`, 'spa ce', 'new\nline', '-rf']
    for (const n of odd) writeFileSync(path.join(root, n), 'x')
    work.write(
      'hostile/hostile.spec.ts',
      `
import { describe, it, expect, file, directory } from 'postdeploy-verify'
describe('hostile', ({ vars }) => {
  const odd = ${JSON.stringify(odd)}
  for (const name of odd) it('finds ' + JSON.stringify(name), async () => { expect(await file(vars.root + '/' + name)).toBeFile() })
  for (const evil of ['$(touch ' + vars.root + '/pwned)', '\`touch ' + vars.root + '/pwned\`', "'; touch " + vars.root + "/pwned; '", 'x\\ntouch ' + vars.root + '/pwned']) {
    it('does not run ' + JSON.stringify(evil), async () => {
      expect(await file(vars.root + '/' + evil)).not.toExist()
      expect((await directory(vars.root + '/' + evil)).exists).toBe(false)
    })
  }
})
`,
    )
    const run = await runCli(['--hosts', 'host-1', '--specs', 'hostile/*.spec.ts', '--var', `root=${root}`], { cwd: work.dir })
    expect(run.stdout).toMatch(/8 passed/)
    expect(run.exitCode, run.stdout + run.stderr).toBe(0)
    expect(existsSync(path.join(root, 'pwned'))).toBe(false)
  })

  it('a fact that hangs errors only the checks that need it, within its time limit (exit 2)', async () => {
    work.write(
      'hang/hang.spec.ts',
      `
import { describe, it, expect, file, command } from 'postdeploy-verify'
describe('hang', ({ vars }) => {
  it('hangs', async () => { expect((await command('sleep 60')).exitStatus).toBe(0) })
  it('still answers', async () => { expect(await file(vars.appsRoot + '/blog/current')).toBeSymlink() })
  it('also answers', async () => { expect((await command('echo hi')).stdout).toBe('hi\\n') })
})
`,
    )
    const run = await runCli(['--hosts', 'host-1', '--specs', 'hang/*.spec.ts', '--timeout', '2', '--json', 'h.json'], { cwd: work.dir })
    expect(run.exitCode, run.stdout + run.stderr).toBe(2)
    const checks = readResult(work.dir, 'h.json').hosts[0]!.checks
    expect(checks.map(c => [c.path.at(-1), c.status, c.errorKind])).toEqual([
      ['hangs', 'error', 'timeout'],
      ['still answers', 'passed', undefined],
      ['also answers', 'passed', undefined],
    ])
    expect(run.ms).toBeLessThan(20_000)
  })
})

describe('a check whose own code has a bug', () => {
  it('is a spec error pointing at the spec line, not a host error; the others pass (exit 3)', async () => {
    work.write(
      'crash/crash.spec.ts',
      `
import { describe, it, expect, file } from 'postdeploy-verify'
describe('crash', ({ vars }) => {
  it('throws', async () => {
    const f = await file(vars.appsRoot + '/blog/current')
    ;(f as any).nothing.here()
  })
  it('fine', async () => { expect(await file(vars.appsRoot + '/blog/current')).toBeSymlink() })
})
`,
    )
    const run = await runCli(['--hosts', 'host-1', '--specs', 'crash/*.spec.ts', '--json', 'c.json'], { cwd: work.dir })
    expect(run.exitCode, run.stdout + run.stderr).toBe(3)
    const [throws, fine] = readResult(work.dir, 'c.json').hosts[0]!.checks
    expect(throws).toMatchObject({ status: 'error', errorKind: 'spec', failedAt: { file: 'crash/crash.spec.ts', line: 6 } })
    expect(throws!.message).toMatch(/^crash\/crash\.spec\.ts:6:\d+: TypeError: .*'here'.*\n.*npx verify check/)
    expect(run.stdout).toMatch(/SPEC ERROR \(exit 3\)/)
    expect(fine).toMatchObject({ status: 'passed' })
  })
})

describe('exit 3: nothing verified', () => {
  it('an unknown flag', async () => {
    const run = await runCli(['--hosts', 'staging', '--frobnicate'], { cwd: work.dir })
    expect(run.exitCode, run.stdout + run.stderr).toBe(3)
    expect(run.stderr).toMatch(/unknown option '--frobnicate'/)
  })

  it('a broken inventory names the file and line', async () => {
    work.write('broken.yaml', 'hosts:\n  web-1: { port: "abc" }\n')
    const run = await runCli(['--hosts', 'web-1', '-i', 'broken.yaml', '--junit', 'b.xml'], { cwd: work.dir })
    expect(run.exitCode, run.stdout + run.stderr).toBe(3)
    expect(run.stderr).toMatch(/broken\.yaml:2/)
    expect(readFileSync(path.join(work.dir, 'b.xml'), 'utf8')).toMatch(/<error/)
  })

  it('an unknown group', async () => {
    const run = await runCli(['--hosts', 'stagign'], { cwd: work.dir })
    expect(run.exitCode, run.stdout + run.stderr).toBe(3)
    expect(run.stderr).toMatch(/stagign/)
  })

  it('a spec that does not load names the file and line', async () => {
    work.write('bad/syntax.spec.ts', `import { describe } from 'postdeploy-verify'\ndescribe('x', () => {\n  const = 1\n})\n`)
    const run = await runCli(['--hosts', 'local', '--specs', 'bad/*.spec.ts'], { cwd: work.dir })
    expect(run.exitCode, run.stdout + run.stderr).toBe(3)
    expect(run.stderr).toMatch(/bad\/syntax\.spec\.ts:3/)
  })

  it('zero checks collected', async () => {
    work.write('empty/empty.spec.ts', `import { describe } from 'postdeploy-verify'\ndescribe('nothing', () => {})\n`)
    const run = await runCli(['--hosts', 'local', '--specs', 'empty/*.spec.ts'], { cwd: work.dir })
    expect(run.exitCode, run.stdout + run.stderr).toBe(3)
    expect(run.stderr).toMatch(/no checks/)
  })
})
