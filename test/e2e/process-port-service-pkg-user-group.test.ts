// process, port, service, pkg, user and group end to end: the real CLI over the real sshd, as the
// non-root fleet user, against this machine (every loopback host is this machine). One check of
// each resource on 3 hosts in ≤ 2 exec channels per host; hostile names for each resource.
import { spawn, execFileSync, type ChildProcess } from 'node:child_process'
import { chmodSync, existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import net from 'node:net'
import os from 'node:os'
import path from 'node:path'
import { randomBytes } from 'node:crypto'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { fleetHostSpecs, startFleet, type Fleet } from '../support/sshd.ts'
import { makeFleetProject } from '../support/fleet-project.ts'
import { notPassed, readResult, runCli, type Workdir } from '../support/workdir.ts'
import { describeProcess, everyProcess, killTree, pidsWithCmdline, untilRunning, waitFor } from '../support/faults.ts'
import { SshTransport } from '../../src/transports/ssh/transport.ts'
import { FactBatcher } from '../../src/probe/batcher.ts'
import type { FactRequest } from '../../src/probe/fact.ts'
import { runInHost, type HostContext } from '../../src/dsl/context.ts'
import { readFact } from '../../src/dsl/context.ts'
import { process as proc, processTableFact } from '../../src/resources/system/process.ts'

const tag = randomBytes(4).toString('hex')
const MARKER = `verify-proc-test-${tag}`
const PWNED = `/tmp/verify-pwned-${tag}`
const HOSTILE = [`it's "quoted"`, `$(touch ${PWNED})`, `\`touch ${PWNED}\``, 'new\nline', '-rf', '--help', `x; touch ${PWNED}`]

let fleet: Fleet
let work: Workdir
let dir: string
const children: ChildProcess[] = []
const servers: net.Server[] = []
let realProc: ChildProcess
let started = 0
let rootPort = 0
let userPort = 0
let userPortPid = 0
let v6Port = 0

const asRoot = globalThis.process.getuid?.() === 0

function listen(host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer()
    servers.push(s)
    s.once('error', reject)
    s.listen(0, host, () => resolve((s.address() as net.AddressInfo).port))
  })
}

/** A listener owned by the fleet user (perl is Essential on Debian): its owner is visible to that user. */
async function listenAsFleetUser(user: string): Promise<{ port: number; pid: number }> {
  const ids = asRoot
    ? { uid: Number(execFileSync('id', ['-u', user]).toString()), gid: Number(execFileSync('id', ['-g', user]).toString()) }
    : {}
  const child = spawn(
    'perl',
    [
      '-MIO::Socket::INET',
      '-e',
      '$s = IO::Socket::INET->new(LocalAddr => "127.0.0.1", LocalPort => 0, Listen => 5) or die "$!"; $| = 1; print $s->sockport, "\\n"; sleep 1000',
    ],
    { stdio: ['ignore', 'pipe', 'inherit'], ...ids },
  )
  children.push(child)
  const port = await new Promise<number>((resolve, reject) => {
    child.stdout!.once('data', (chunk: Buffer) => resolve(Number(chunk.toString().trim())))
    child.once('exit', code => reject(new Error(`perl listener exited ${code}`)))
  })
  return { port, pid: child.pid! }
}

function spec(vars: Record<string, unknown>): string {
  const v = JSON.stringify(vars)
  return `
import { describe, it, expect, process, port, service, pkg, user, group } from 'postdeploy-verify'

const v = ${v}
const HOSTILE = ${JSON.stringify(HOSTILE)}

describe('catalogue', () => {
  it('process: every match, with pid, user, args and start time', async () => {
    const [byArgs, byPidFile] = await Promise.all([process({ args: v.marker }), process({ pidFile: v.pidFile })])
    expect(byArgs.count).toBe(1)
    expect(byArgs.pids).toEqual([v.procPid])
    expect(byPidFile.pids).toEqual([v.procPid])
    expect(byArgs.processes[0]).toMatchObject({ name: 'sleep', user: v.procUser, args: v.marker + ' 1000' })
    expect(byArgs).toAllSatisfy((p) => p.startedAt.getTime() >= v.startedAfter && p.elapsedSeconds < 600, 'started by this test')
  })

  it('port: listening, addresses, owner (hidden without privilege, shown for our own user)', async () => {
    const [rootOwned, mine, mineViaProc, closed] = await Promise.all([port(v.rootPort), port(v.userPort), port(v.userPort, { source: 'proc' }), port(v.rootPort, { protocol: 'udp' })])
    expect(rootOwned).toBeListening()
    expect(rootOwned).toBeListeningOn('127.0.0.1')
    expect(rootOwned).not.toBeListeningOn('127.0.0.2')
    expect(rootOwned.owner).toEqual(v.asRoot ? 'unknown-without-privilege' : [expect.objectContaining({ pid: v.testPid })])
    expect(mine.owner).toEqual([{ name: 'perl', pid: v.userPortPid }])
    expect(mineViaProc).toMatchObject({ source: 'proc', listening: true, addresses: ['127.0.0.1'], owner: [{ name: 'perl', pid: v.userPortPid }] })
    expect(closed).not.toBeListening()
    if (v.v6Port) expect(await port(v.v6Port)).toBeListeningOn('::1')
  })

  it('service: enabled state from the unit links; full state only with systemd running', async () => {
    const [ssh, debugShell, journald, none] = await Promise.all(['ssh', 'debug-shell', 'systemd-journald', 'no-such-unit'].map((n) => service(n).enablement))
    expect(ssh).toMatchObject({ enabled: true, state: 'enabled' })
    expect(debugShell).toMatchObject({ enabled: false, state: 'disabled' })
    expect(journald).toMatchObject({ enabled: true, explicitlyEnabled: false, state: 'static' })
    expect(none).toMatchObject({ enabled: false, state: 'not-found' })
    if (v.systemdRunning) expect(await service('ssh')).toMatchObject({ exists: true, enabled: true })
    else await expect(Promise.resolve(service('ssh'))).rejects.toThrow(/no systemd on this host/)
  })

  it('pkg: installed, version by dpkg ordering', async () => {
    const [sshd, none] = await Promise.all([pkg('openssh-server'), pkg('no-such-package-here')])
    expect(sshd).toMatchObject({ manager: 'dpkg', installed: true })
    expect(sshd).toSatisfyVersion('>= 1:8.0, < 1:99')
    expect(sshd).not.toSatisfyVersion('< 9.9')
    expect(none.installed).toBe(false)
  })

  it('user and group', async () => {
    const [me, grp] = await Promise.all([user(v.user), group(v.group)])
    expect(me).toMatchObject({ exists: true, uid: v.uid, gid: v.gid, home: v.home, shell: v.shell, group: v.group })
    expect(me.groups).toContain(v.group)
    expect(grp).toMatchObject({ exists: true, gid: v.gid })
  })

  it('hostile names are names: nothing found, nothing run', async () => {
    const results = await Promise.all(HOSTILE.map(async (h) => {
      // every probe here runs as the fleet user: that user's processes are where the probe's own
      // (carrying these names on their command lines) would show up; the machine's other
      // processes (the test runner's, CI's) are not this check's subject
      const [byName, byArgs, byPidFile, svc, p, u, g] = await Promise.all([
        process({ name: h, user: v.user }), process({ args: h, user: v.user }), process({ pidFile: h, user: v.user }),
        service(h).enablement, pkg(h), user(h), group(h),
      ])
      const found = [...byName, ...byArgs, ...byPidFile].map((q) => [q.pid, 'parent ' + q.ppid, q.name, q.state, q.user, q.elapsedSeconds + 's', q.args].join(' | '))
      return { counts: [byName.count, byArgs.count, byPidFile.count, svc.enabled, p.installed, u.exists, g.exists], found }
    }))
    // what was found (pid, parent, args) is part of the compared value: a failure shows it
    expect(results).toEqual(HOSTILE.map(() => ({ counts: [0, 0, 0, false, false, false, false], found: [] })))
  })
})
`
}

beforeAll(async () => {
  fleet = await startFleet({ hosts: 3, name: 'process-port-service-pkg-user-group' })
  dir = mkdtempSync(path.join(os.tmpdir(), 'verify-process-port-service-pkg-user-group-'))
  chmodSync(dir, 0o755)
  started = Date.now() - 1500 // boot time is whole seconds
  realProc = spawn('sleep', ['1000'], { stdio: 'ignore', argv0: MARKER })
  children.push(realProc)
  writeFileSync(path.join(dir, 'app.pid'), `${realProc.pid}\n`, { mode: 0o644 })
  rootPort = await listen('127.0.0.1')
  try {
    v6Port = await listen('::1')
  } catch {
    v6Port = 0 // no IPv6 here: the parsers are covered on captured lines
  }
  ;({ port: userPort, pid: userPortPid } = await listenAsFleetUser(fleet.user))
  const [name, , uid, gid, , home, shell] = execFileSync('getent', ['passwd', fleet.user]).toString().trim().split(':')
  const vars = {
    marker: MARKER,
    pidFile: path.join(dir, 'app.pid'),
    procPid: realProc.pid,
    procUser: os.userInfo().username,
    startedAfter: started,
    rootPort,
    userPort,
    userPortPid,
    v6Port,
    asRoot,
    testPid: globalThis.process.pid,
    systemdRunning: existsSync('/run/systemd/system'),
    user: name,
    uid: Number(uid),
    gid: Number(gid),
    home,
    shell,
    group: execFileSync('id', ['-gn', fleet.user]).toString().trim(),
  }
  work = makeFleetProject(fleet, { files: { 'specs/catalogue.spec.ts': spec(vars) } })
  await untilRunning(realProc.pid, [MARKER, '1000']) // sleep exec'd under its argv0
})

afterAll(async () => {
  for (const c of children) killTree(c)
  await Promise.all(servers.map(s => new Promise(r => s.close(r))))
  await fleet?.stop()
  work?.remove()
  if (dir) rmSync(dir, { recursive: true, force: true })
})

describe('process, port, service, pkg, user, group over real sshd', () => {
  it('every check passes on 3 hosts as the non-root fleet user, in ≤ 2 exec channels per host; hostile names run nothing', async () => {
    const before = await fleet.execChannels()
    const carriers = () => pidsWithCmdline(PWNED).map(describeProcess)
    const carriersBefore = carriers()
    const machineBefore = everyProcess()
    // one host at a time: the hosts are aliases of this machine, and another host's probe running
    // the same hostile names at the same moment is a different subject (the next test's)
    const run = await runCli(['--hosts', 'fleet', '--concurrency', '1', '--json', 'out.json'], { cwd: work.dir })
    const result = readResult(work.dir, 'out.json')
    const failures = notPassed(result)
    if (failures.length > 0) {
      // kept past the run (CI's /tmp outlives it): every process on the machine around the run
      const file = path.join(os.tmpdir(), `verify-process-port-service-pkg-user-group-failure-${tag}.json`)
      writeFileSync(
        file,
        JSON.stringify({ failures, stdout: run.stdout, stderr: run.stderr, before: machineBefore, after: everyProcess() }, null, 1),
      )
      console.log(`process-port-service-pkg-user-group: the machine's processes around the failed run are in ${file}`)
    }
    // any process outside the run carrying a hostile name, before or after it, is named here
    expect(
      failures,
      `${run.stdout}${run.stderr}\nprocesses carrying ${PWNED} before the run: ${JSON.stringify(carriersBefore)}, after: ${JSON.stringify(carriers())}`,
    ).toEqual([])
    expect(run.exitCode).toBe(0)
    expect(result.hosts.map(h => h.checks.length)).toEqual([6, 6, 6])
    const after = await fleet.execChannels()
    for (const h of fleet.hosts) expect(after.get(h.address)! - before.get(h.address)!).toBeLessThanOrEqual(2)
    expect(existsSync(PWNED)).toBe(false)
    console.log(
      `process-port-service-pkg-user-group: 3 hosts × 6 checks in ${run.ms} ms, exec channels per host: ${fleet.hosts.map(h => after.get(h.address)! - before.get(h.address)!).join(', ')}`,
    )
  })

  it("over ssh the probe never matches itself: a process carrying the probe's own command line is found, the probe is not", async () => {
    const probeText = processTableFact().script.split('\n')[0]!
    const twin = spawn('sleep', ['1001'], { stdio: 'ignore', argv0: probeText })
    children.push(twin)
    await untilRunning(twin.pid, [probeText, '1001'])
    const transport = new SshTransport({
      host: fleetHostSpecs(fleet)[0]!,
      connectTimeoutMs: 10_000,
      env: { HOME: '/nonexistent-home', PATH: globalThis.process.env.PATH },
    })
    try {
      await transport.connect()
      const ctx: HostContext = {
        host: fleetHostSpecs(fleet)[0]!,
        transport,
        facts: new FactBatcher(transport, { timeoutSec: 20, maxBytes: 1024 * 1024 }),
        timeoutMs: 20_000,
      }
      const [matches, table] = await runInHost(ctx, () => Promise.all([proc({ args: probeText }), readFact(processTableFact())]))
      expect(matches.pids).toContain(twin.pid)
      const { excludedPids } = table.probe
      // sshd's session: the batch's /bin/sh -s (the login shell exec'd it), its watchdog, awk
      expect(excludedPids).toContain(table.probe.pid)
      expect(excludedPids.length).toBeGreaterThanOrEqual(3)
      expect(matches.pids.filter(pid => excludedPids.includes(pid))).toEqual([])
      // sshd, the probe's ancestor outside its session, is an ordinary process to match
      const sshd = table.processes.filter(p => p.name === 'sshd' && p.args.includes(fleet.dir))
      expect(sshd.length).toBeGreaterThan(0)
    } finally {
      twin.kill('SIGKILL')
      await transport.close()
    }
  })

  it("another probe's facts running at the moment of the read are not matched, even exec'd; the same args outside a probe are", async () => {
    // not a superstring of the first test's hostile names: each test can only find its own processes
    const hostile = `$(touch ${PWNED}-other) other-probe`
    // a fact of another probe (host-2, another session of this machine) that exec'd its command
    // and left a child of its own: neither carries the marker; that probe's watchdog does, in the
    // same session
    const busy: FactRequest<string> = {
      key: 'busy',
      describe: 'busy',
      args: [hostile],
      timeoutSec: 20,
      script: `sh -c 'sleep 6' child "$1" & exec sh -c 'sleep 6; wait' execd "$1"`,
      parse: raw => `exit ${raw.exitCode}`,
    }
    const outside = spawn('setsid', ['sh', '-c', 'sleep 9', 'outside', hostile], { stdio: 'ignore' })
    children.push(outside)
    const [h1, h2] = fleetHostSpecs(fleet)
    const opts = { connectTimeoutMs: 10_000, env: { HOME: '/nonexistent-home', PATH: globalThis.process.env.PATH } }
    const reader = new SshTransport({ host: h1!, ...opts })
    const other = new SshTransport({ host: h2!, ...opts })
    try {
      await Promise.all([reader.connect(), other.connect()])
      const otherFacts = new FactBatcher(other, { timeoutSec: 20, maxBytes: 1024 * 1024 })
      const running = otherFacts.get(busy)
      // the other probe's processes carrying the argument, once settled: the exec'd fact, its child
      const carrying = () => pidsWithCmdline('other-probe').filter(pid => pid !== outside.pid)
      expect(await waitFor(() => carrying().length === 2, 5000)).toBe(true)
      const before = carrying()
      const ctx: HostContext = {
        host: h1!,
        transport: reader,
        facts: new FactBatcher(reader, { timeoutSec: 20, maxBytes: 1024 * 1024 }),
        timeoutMs: 20_000,
      }
      const [matches, table] = await runInHost(ctx, () => Promise.all([proc({ args: hostile }), readFact(processTableFact())]))
      // still running after the read, so running during it: seen, and left out
      expect(carrying()).toEqual(before)
      expect(table.probe.excludedPids).toEqual(expect.arrayContaining(before))
      expect(matches.processes.map(p => p.args)).toEqual([`sh -c sleep 9 outside ${hostile}`])
      expect(matches.pids).toEqual([outside.pid])
      expect(await running).toBe('exit 0')
    } finally {
      killTree(outside)
      await Promise.all([reader.close(), other.close()])
    }
  })
})
