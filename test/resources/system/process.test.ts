import { execFileSync, spawn, type ChildProcess } from 'node:child_process'
import { existsSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { randomBytes } from 'node:crypto'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import {
  matchProcesses,
  parsePidFile,
  parseProcessTable,
  parseStatLine,
  pidFromTable,
  process as proc,
  processTableFact,
  scopeOf,
  type ProcessInfo,
} from '../../../src/resources/system/process.ts'
import { readFact, runInHost, type HostContext } from '../../../src/dsl/context.ts'
import { standaloneScript } from '../../../src/probe/fact.ts'
import { FactBatcher } from '../../../src/probe/batcher.ts'
import { LocalTransport } from '../../../src/transports/local.ts'
import { FactError } from '../../../src/errors.ts'
import { LOCAL_HOST, onLocalHost } from '../../support/local-host.ts'
import { untilRunning } from '../../support/faults.ts'

// Real /proc/<pid>/stat lines: a process run through a symlink named `a) (b c`, and kthreadd.
const ODD_STAT =
  '7046 (a) (b c) S 1 7042 25935 0 -1 4194304 136 0 0 0 0 0 0 0 20 0 1 0 192762 2990080 414 18446744073709551615 94922045931520 94922045949449 140731247453616 0 0 0 0 6 0 1 0 0 17 0 0 0 0 0 0 94922045963536 94922045964800 94922404421632 140731247454947 140731247454963 140731247454963 140731247456235 0\n'
const KTHREADD_STAT =
  '2 (kthreadd) S 0 0 0 0 -1 2129984 0 0 0 0 0 0 0 0 20 0 1 0 14 0 0 18446744073709551615 0 0 0 0 0 0 0 2147483647 0 1 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0\n'
const NEWLINE_STAT =
  '812 (x\ny) z) R 1 812 812 0 -1 4194560 90 0 0 0 0 0 0 0 20 0 1 0 5000 1234 56 18446744073709551615 1 1 0 0 0 0 0 0 0 0 0 0 17 1 0 0 0 0 0\n'

const N = 'V0123456789abcdef01234567'
/** The table snippet's framing, as it prints it (captured shape, with invented records). */
function framed(
  records: Array<{ uid: number; stat: string; cmdline: Buffer | string; parentAhead?: { pid: number; cmdline: Buffer } }>,
  opts: { mounts?: string; uid?: number; groups?: string; passwd?: string; pidFiles?: Record<string, string> } = {},
): Buffer {
  const parts: Buffer[] = [
    Buffer.from(
      `\n${N} H 4242 4200 1795414728 100 1927.89 ${opts.uid ?? 1001}\n\n${N} G ${opts.groups ?? '1001'}\n\n${N} M ${opts.mounts ?? 'rw,nosuid,nodev,noexec,relatime'}\n`,
    ),
    ...Object.entries(opts.pidFiles ?? {}).map(([file, read]) => Buffer.from(`\n${N} F\n${file}\0${read}`)),
  ]
  for (const r of records) {
    if (r.parentAhead) parts.push(Buffer.from(`\n${N} A ${r.parentAhead.pid}\n`), r.parentAhead.cmdline)
    parts.push(Buffer.from(`\n${N} P ${r.uid}\n${r.stat}\n${N} C\n`), Buffer.from(r.cmdline))
  }
  parts.push(
    Buffer.from(
      `\n${N} X 4242 4243\n\n${N} U\n${opts.passwd ?? 'root:x:0:0:root:/root:/bin/bash\nwww-data:x:33:33:www-data:/var/www:/usr/sbin/nologin\n'}\n${N} Z\n`,
    ),
  )
  return Buffer.concat(parts)
}

describe('parseStatLine', () => {
  it('takes comm between the first "(" and the LAST ")": spaces, parens and newlines survive', () => {
    expect(parseStatLine(ODD_STAT)).toEqual({ pid: 7046, name: 'a) (b c', state: 'S', ppid: 1, session: 25935, startTicks: 192762 })
    expect(parseStatLine(KTHREADD_STAT)).toEqual({ pid: 2, name: 'kthreadd', state: 'S', ppid: 0, session: 0, startTicks: 14 })
    expect(parseStatLine(NEWLINE_STAT)).toMatchObject({ pid: 812, name: 'x\ny) z', state: 'R', startTicks: 5000 })
  })

  it('rejects a line it cannot read', () => {
    expect(() => parseStatLine('garbage')).toThrow(/unexpected \/proc\/<pid>\/stat/)
  })
})

describe('parseProcessTable', () => {
  /** A /proc/<pid>/stat line with the fields the table reads, and a NUL-separated cmdline. */
  const stat = (pid: number, comm: string, ppid: number, session: number) =>
    `${pid} (${comm}) S ${ppid} ${pid} ${session} 0 -1 4194304 0 0 0 0 0 0 0 0 20 0 1 0 5000 0 0\n`
  const argv = (...args: string[]) => Buffer.from(args.map(a => `${a}\0`).join(''))
  const table = parseProcessTable(
    framed([
      { uid: 0, stat: KTHREADD_STAT, cmdline: '' },
      { uid: 33, stat: ODD_STAT, cmdline: Buffer.from('/tmp/a) (b c\u00000030\u0000--label=caf\u00e9\u0000\u0000last\u0000') },
      { uid: 1234, stat: NEWLINE_STAT, cmdline: Buffer.from([0x62, 0x69, 0x6e, 0xff, 0x00]) },
    ]),
  )

  it('reads every record: argv split on NUL (empty args kept), users resolved, unknown uids numeric', () => {
    expect(table.probe).toEqual({ pid: 4242, sessionId: 4200, excludedPids: [4242, 4243] })
    expect(table.processes.map(p => p.pid)).toEqual([2, 812, 7046])
    const odd = table.processes.find(p => p.pid === 7046)!
    expect(odd).toMatchObject({
      name: 'a) (b c',
      user: 'www-data',
      uid: 33,
      ppid: 1,
      argv: ['/tmp/a) (b c', '0030', '--label=café', '', 'last'],
      args: '/tmp/a) (b c 0030 --label=café  last',
    })
    expect(table.processes.find(p => p.pid === 2)).toMatchObject({ name: 'kthreadd', user: 'root', args: '', argv: [] })
    expect(table.processes.find(p => p.pid === 812)).toMatchObject({ user: '1234', argv: ['bin\ufffd'] })
  })

  it('start time is boot time + start ticks / CLK_TCK; elapsed is uptime − that', () => {
    const odd = table.processes.find(p => p.pid === 7046)!
    expect(odd.startedAt.toISOString()).toBe(new Date((1795414728 + 1927.62) * 1000).toISOString())
    expect(odd.elapsedSeconds).toBeCloseTo(1927.89 - 1927.62, 2)
  })

  it('a /proc mounted with hidepid is an error for a non-root probe (a partial table would pass "not running")', () => {
    expect(() => parseProcessTable(framed([], { mounts: 'rw,relatime,hidepid=invisible' }))).toThrow(FactError)
    expect(() => parseProcessTable(framed([], { mounts: 'rw,relatime,hidepid=2', uid: 0, groups: '0' }))).not.toThrow()
    expect(() => parseProcessTable(framed([], { mounts: 'rw,hidepid=2,gid=27', groups: '1001 27' }))).not.toThrow()
    expect(() => parseProcessTable(framed([], { mounts: 'rw,hidepid=0' }))).not.toThrow()
  })

  it("another verify probe's sessions are left out: its facts carry paths and names on their command lines", () => {
    const hostile = '$(touch /tmp/x)'
    const t = parseProcessTable(
      framed([
        { uid: 1001, stat: stat(9000, 'sh', 1, 9000), cmdline: argv('/bin/sh', '-s') },
        {
          uid: 1001,
          stat: stat(9001, 'timeout', 9000, 9000),
          cmdline: argv('timeout', '-k', '2', '30', 'sh', '-c', 'getent passwd "$1"', 'verify-probe', hostile),
        },
        { uid: 1001, stat: stat(9002, 'sh', 9001, 9000), cmdline: argv('sh', '-c', 'getent passwd "$1"', 'verify-probe', hostile) },
        { uid: 1001, stat: stat(9003, 'getent', 9002, 9000), cmdline: argv('getent', 'passwd', hostile) },
        // not a probe: the same argument in a session with no marked shell is a process like any other
        { uid: 1001, stat: stat(9100, 'getent', 1, 9100), cmdline: argv('getent', 'passwd', hostile) },
        { uid: 1001, stat: stat(9200, 'sh', 1, 9200), cmdline: argv('sh', '-c', 'sleep 9', 'verify-probe-not') },
      ]),
    )
    expect(t.processes.map(p => p.pid)).toEqual([9100, 9200])
    expect(t.probe.excludedPids).toEqual([4242, 4243, 9000, 9001, 9002, 9003])
    expect(matchProcesses(t.processes, { args: hostile }).map(p => p.pid)).toEqual([9100])
  })

  it("a fact that exec'd its command is left out by its parent, read ahead when its turn had not come (A record)", () => {
    const hostile = '$(touch /tmp/x)'
    // pids wrapped: the exec'd fact (310) comes before its `timeout` (32760), gone by its turn
    const t = parseProcessTable(
      framed([
        {
          uid: 1001,
          stat: stat(310, 'systemctl', 32760, 32700),
          cmdline: argv('systemctl', 'is-enabled', '--', hostile),
          parentAhead: {
            pid: 32760,
            cmdline: argv('timeout', '-k', '2', '30', 'sh', '-c', 'exec systemctl is-enabled -- "$1"', 'verify-probe', hostile),
          },
        },
        { uid: 1001, stat: stat(320, 'od', 32701, 32700), cmdline: argv('od', '-An', '-v', '-tx1', '-N', '1048577') },
        // an ordinary parent read ahead leaves its child in
        {
          uid: 1001,
          stat: stat(400, 'getent', 32761, 32761),
          cmdline: argv('getent', 'passwd', hostile),
          parentAhead: { pid: 32761, cmdline: argv('bash', '-c', 'getent passwd x') },
        },
      ]),
    )
    expect(t.processes.map(p => p.pid)).toEqual([400])
    expect(t.probe.excludedPids).toEqual([310, 320, 4242, 4243])
  })

  // In a new pid namespace pids start at 1, so a probe-like shell can be given pid 9 and its
  // child 10+: the glob visits /proc/1x before /proc/9, the order a pid wrap makes on a host.
  it.skipIf(globalThis.process.getuid?.() !== 0)(
    "the snippet reads a parent whose turn has not come before its child's command line (pid namespace, root)",
    () => {
      const hostile = '$(touch /tmp/verify-pwned-ns)'
      const run = String.raw`while :; do /bin/true & p=$!; wait $p; [ "$p" -ge 8 ] && break; done
setsid sh -c 'sh -c "sleep 3; :" execd "$1"; :' verify-probe "$2" &
sleep 0.5
sh -c "$1" verify-probe`
      const out = execFileSync('unshare', ['-pf', '--mount-proc', 'sh', '-c', run, 'ns', standaloneScript(processTableFact()), hostile])
      const text = out.toString('latin1')
      const nonce = /^\n(V[0-9a-f]{24,32}) /.exec(text)![1]
      const records = text.split(`\n${nonce} `).slice(1)
      const marked = records.findIndex(r => r.startsWith('A ') && r.includes('\0verify-probe\0'))
      const execd = records.findIndex(r => r.startsWith('C\n') && r.includes('\0execd\0'))
      expect(marked).toBeGreaterThan(0)
      expect(execd).toBeGreaterThan(marked)
      const table = parseProcessTable(out)
      expect(matchProcesses(table.processes, { args: hostile })).toEqual([])
      expect(table.processes.map(p => p.name)).not.toContain('sleep')
    },
  )

  it('a read stopped half way (a process exited under mawk) and read again: the last complete table counts, not a fake one in a command line', () => {
    const fake = `\n${N.replace('0', '1')} H 1 1 1 100 1 0\n\n${N.replace('0', '1')} Z\n`
    const partial = framed([{ uid: 0, stat: KTHREADD_STAT, cmdline: '' }]).subarray(0, 200)
    const full = Buffer.from(
      framed([{ uid: 33, stat: ODD_STAT, cmdline: Buffer.from(`x\u0000${fake}\u0000`) }])
        .toString('latin1')
        .replaceAll(N, 'V' + 'a'.repeat(32)),
      'latin1',
    )
    const table = parseProcessTable(Buffer.concat([partial, full]))
    expect(table.processes.map(p => p.pid)).toEqual([7046])
    expect(table.processes[0]!.argv).toEqual(['x', fake])
  })

  it('output cut short is an error, not a shorter table', () => {
    const full = framed([{ uid: 0, stat: KTHREADD_STAT, cmdline: '' }])
    expect(() => parseProcessTable(full.subarray(0, full.length - 10))).toThrow(/ends early/)
    expect(() => parseProcessTable(Buffer.from('ps: not found'))).toThrow(/unexpected process table output/)
  })
})

describe('what the host reads: every process, or the sessions of candidates', () => {
  it('a name or a pid file narrows the read (criteria all hold); args or user alone need every process', () => {
    expect(scopeOf({ name: 'nginx' })).toEqual({ names: ['nginx'] })
    expect(scopeOf({ name: 'nginx', args: /x/, user: 'www-data' })).toEqual({ names: ['nginx'] })
    expect(scopeOf({ pidFile: '/run/a.pid', name: 'a' })).toEqual({ names: ['a'], pidFiles: ['/run/a.pid'] })
    expect(scopeOf({ args: /puma/ })).toBe('all')
    expect(scopeOf({ user: 'deploy', args: 'x' })).toBe('all')
    expect(processTableFact({ names: ['nginx'], pidFiles: ['/run/a.pid'] })).toMatchObject({
      key: 'process-table:name:nginx\0pidfile:/run/a.pid',
      args: ['nnginx', 'f/run/a.pid'],
    })
    // the whole table keeps its key: snapshot, compare and generate read it by that name
    expect(processTableFact()).toMatchObject({ key: 'process-table', args: ['*'] })
  })

  it('each pid file as the table read it: a pid, none (missing), or an error naming the file', () => {
    const t = parseProcessTable(
      framed([], {
        pidFiles: { '/run/a.pid': 'pid:77\n', '/run/b.pid': 'm', '/run/dir': 'd', '/run/c.pid': 'u', '/run/e.pid': 'pid:x\n' },
      }),
    )
    expect(pidFromTable(t, '/run/a.pid')).toBe(77)
    expect(pidFromTable(t, '/run/b.pid')).toBeNull()
    expect(() => pidFromTable(t, '/run/dir')).toThrow('read pid file /run/dir: not a regular file')
    expect(() => pidFromTable(t, '/run/c.pid')).toThrow('read pid file /run/c.pid: permission denied')
    expect(() => pidFromTable(t, '/run/e.pid')).toThrow(/read pid file \/run\/e.pid: does not hold a pid/)
    expect(() => pidFromTable(t, '/run/other.pid')).toThrow(FactError)
    expect(() => pidFromTable(t, 'constructor')).toThrow(FactError)
    expect(pidFromTable(parseProcessTable(framed([], { pidFiles: Object.fromEntries([['__proto__', 'pid:5\n']]) })), '__proto__')).toBe(5)
  })

  // A pid namespace of its own: every process in it is known. Sessions: a candidate with a worker
  // not named like it, an unrelated sleeper, and another verify probe's session running a
  // candidate-named command (left out by the runner, as in the whole table).
  it.skipIf(globalThis.process.getuid?.() !== 0)(
    "reads the candidates' whole sessions and no other command line; other probes' sessions still left out (pid namespace, root)",
    () => {
      const dir = mkdtempSync(path.join(os.tmpdir(), 'verify-proc-scope-'))
      try {
        symlinkSync('/bin/sleep', path.join(dir, 'cand'))
        symlinkSync('/bin/sleep', path.join(dir, 'worker'))
        writeFileSync(path.join(dir, 'none.pid'), '')
        const run = String.raw`d=$2
setsid sh -c '"$1/cand" 100 & exec "$1/worker" 100' x "$d" &
setsid sleep 100 &
setsid sh -c 'sh -c ""\$0" 100" "$1/cand"; :' verify-probe "$d" &
setsid sleep 101 & echo $! > "$d/app.pid"
until [ "$(ls /proc | grep -c '^[0-9]')" -ge 9 ]; do sleep 0.05; done
sleep 0.3
sh -c "$1" verify-probe "ncand" "f$d/app.pid" "f$d/none.pid" "f$d/gone.pid" "f$d"`
        const table = processTableFact({ names: ['cand'] })
        const out = execFileSync('unshare', ['-pf', '--mount-proc', 'sh', '-c', run, 'ns', standaloneScript(table), dir])
        const t = parseProcessTable(out)
        const names = t.processes.map(p => p.name).sort()
        // the candidate's session (cand, its worker, their sh), the pid file's sleeper; the probe-like session left out
        expect(names).toEqual(['cand', 'sleep', 'worker'])
        expect(t.processes.find(p => p.name === 'worker')).toMatchObject({ user: 'root', argv: [path.join(dir, 'worker'), '100'] })
        expect(matchProcesses(t.processes, { name: 'cand' })).toHaveLength(1)
        expect(matchProcesses(t.processes, { pidFile: 'x' }, pidFromTable(t, path.join(dir, 'app.pid'))).map(p => p.argv)).toEqual([
          ['sleep', '101'],
        ])
        expect(() => pidFromTable(t, path.join(dir, 'none.pid'))).toThrow(/does not hold a pid/)
        expect(pidFromTable(t, path.join(dir, 'gone.pid'))).toBeNull()
        expect(() => pidFromTable(t, dir)).toThrow(/not a regular file/)
      } finally {
        rmSync(dir, { recursive: true, force: true })
      }
    },
  )

  // busybox awk drops what follows a NUL: the command lines then come from busybox ps
  it.skipIf(!existsSync('/usr/bin/busybox') && !existsSync('/bin/busybox'))(
    'on busybox (sh, awk, ps): the whole table and a name both find a process, with its arguments',
    async () => {
      const bin = mkdtempSync(path.join(os.tmpdir(), 'verify-busybox-'))
      const busybox = existsSync('/usr/bin/busybox') ? '/usr/bin/busybox' : '/bin/busybox'
      for (const applet of ['sh', 'awk', 'ps']) symlinkSync(busybox, path.join(bin, applet))
      const marker = `verify-bb-${randomBytes(4).toString('hex')}`
      // a session of its own: the table leaves out its reader's session (this test's)
      const child = spawn('sleep', ['1004'], { stdio: 'ignore', argv0: marker, detached: true })
      try {
        await untilRunning(child.pid, [marker, '1004'])
        for (const scope of ['all', { names: ['sleep'] }] as const) {
          const fact = processTableFact(scope)
          const out = execFileSync(path.join(bin, 'sh'), ['-c', standaloneScript(fact), 'verify-probe', ...fact.args], {
            env: { PATH: bin, LC_ALL: 'C' },
          })
          const found = parseProcessTable(out).processes.filter(p => p.pid === child.pid)
          expect(found, JSON.stringify(scope)).toEqual([
            expect.objectContaining({ name: 'sleep', args: expect.stringContaining(`${marker} 1004`) }),
          ])
        }
      } finally {
        child.kill('SIGKILL')
        rmSync(bin, { recursive: true, force: true })
      }
    },
  )
})

describe('matchProcesses', () => {
  const p = (pid: number, name: string, args: string, user = 'root'): ProcessInfo => ({
    pid,
    ppid: 1,
    name,
    args,
    argv: args.split(' '),
    user,
    uid: 0,
    state: 'S',
    startedAt: new Date(0),
    elapsedSeconds: 1,
  })
  const all = [
    p(10, 'nginx', 'nginx: master process /usr/sbin/nginx'),
    p(11, 'nginx', 'nginx: worker process', 'www-data'),
    p(20, 'ruby', 'puma 6.4.2 (tcp://0.0.0.0:3000) [blog]', 'deploy'),
    p(30, 'kube-controller', '/usr/local/bin/kube-controller-manager --leader-elect'),
  ]

  it('by name: exact comm; a name over 15 bytes matches the kernel-truncated comm', () => {
    expect(matchProcesses(all, { name: 'nginx' }).map(x => x.pid)).toEqual([10, 11])
    expect(matchProcesses(all, { name: 'ngin' })).toEqual([])
    expect(matchProcesses(all, { name: 'kube-controller-manager' }).map(x => x.pid)).toEqual([30])
  })

  it('by args: a RegExp (even a /g one, twice), or a literal substring', () => {
    const g = /puma .*\[blog\]/g
    expect(matchProcesses(all, { args: g }).map(x => x.pid)).toEqual([20])
    expect(matchProcesses(all, { args: g }).map(x => x.pid)).toEqual([20])
    expect(matchProcesses(all, { args: '[blog]' }).map(x => x.pid)).toEqual([20])
    expect(matchProcesses(all, { args: '.*' })).toEqual([])
  })

  it('criteria combine: name and user; pid file', () => {
    expect(matchProcesses(all, { name: 'nginx', user: 'www-data' }).map(x => x.pid)).toEqual([11])
    expect(matchProcesses(all, { pidFile: '/run/nginx.pid' }, 10).map(x => x.pid)).toEqual([10])
    expect(matchProcesses(all, { pidFile: '/run/nginx.pid' }, null)).toEqual([])
    expect(matchProcesses(all, { pidFile: '/run/nginx.pid', name: 'ruby' }, 10)).toEqual([])
  })

  it('parsePidFile: a pid, no file, or an error', () => {
    expect(parsePidFile('x', 'pid:1234\n')).toBe(1234)
    expect(parsePidFile('x', 'pid: 77')).toBe(77)
    expect(parsePidFile('x', 'missing\n')).toBeNull()
    expect(() => parsePidFile('read pid file /run/x.pid', 'pid:hello\n')).toThrow(/does not hold a pid/)
  })
})

describe('process() on the local machine', () => {
  const marker = `verify-proc-test-${randomBytes(4).toString('hex')}`
  // the probe's own first command line: a pattern that is in the probe's args
  const probeText = processTableFact().script.split('\n')[0]!
  let dir: string
  const children: ChildProcess[] = []

  function start(command: string, args: string[], argv0?: string): ChildProcess {
    const child = spawn(command, args, { stdio: 'ignore', argv0 })
    children.push(child)
    return child
  }

  beforeAll(async () => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'verify-proc-'))
    symlinkSync('/bin/sleep', path.join(dir, 'odd (name) x'))
  })
  afterAll(() => {
    for (const c of children) if (c.pid && c.exitCode === null) c.kill('SIGKILL')
    rmSync(dir, { recursive: true, force: true })
  })

  it('finds every matching process with pid, ppid, user, args and an absolute start time', async () => {
    const before = Date.now()
    const a = start('sleep', ['1000'], `${marker}-a`)
    const b = start('sleep', ['1001'], `${marker}-b`)
    await untilRunning(a.pid, [`${marker}-a`, '1000'])
    await untilRunning(b.pid, [`${marker}-b`, '1001'])
    const { value } = await onLocalHost(() => proc({ args: new RegExp(`^${marker}-[ab] `) }))
    expect(value.count).toBe(2)
    expect(value.pids.sort()).toEqual([a.pid, b.pid].sort())
    expect([...value].map(p => p.args).sort()).toEqual([`${marker}-a 1000`, `${marker}-b 1001`])
    for (const p of value.processes) {
      expect(p).toMatchObject({ name: 'sleep', ppid: globalThis.process.pid, user: os.userInfo().username, uid: os.userInfo().uid })
      // boot time is whole seconds, so allow a little over a second either way
      expect(p.startedAt.getTime()).toBeGreaterThan(before - 1500)
      expect(p.startedAt.getTime()).toBeLessThan(Date.now() + 1500)
      expect(p.elapsedSeconds).toBeLessThan(5)
    }
  })

  it('by name with spaces and parens, and by pid file', async () => {
    const odd = start(path.join(dir, 'odd (name) x'), ['1002'])
    writeFileSync(path.join(dir, 'odd.pid'), `${odd.pid}\n`)
    writeFileSync(path.join(dir, 'bad.pid'), 'not a pid\n')
    await untilRunning(odd.pid, [path.join(dir, 'odd (name) x'), '1002'])
    const { value, execCount } = await onLocalHost(() =>
      Promise.all([
        proc('odd (name) x'),
        proc({ pidFile: path.join(dir, 'odd.pid') }),
        proc({ pidFile: path.join(dir, 'missing.pid') }),
        proc({ pidFile: path.join(dir, 'bad.pid') }).catch((e: unknown) => e),
      ]),
    )
    expect(value[0].pids).toEqual([odd.pid])
    expect(value[1].pids).toEqual([odd.pid])
    expect(value[2].count).toBe(0)
    expect(value[3]).toBeInstanceOf(FactError)
    expect(execCount).toBe(1) // one table for all of them, pid files in the same batch
  })

  it('checks asking in one batch share one table read, over all their names and pid files; each gets its answer', async () => {
    const a = start('sleep', ['1005'], `${marker}-share`)
    writeFileSync(path.join(dir, 'share.pid'), `${a.pid}\n`)
    await untilRunning(a.pid, [`${marker}-share`, '1005'])
    const transport = new LocalTransport()
    const scripts: string[] = []
    const exec = transport.exec.bind(transport)
    transport.exec = options => (scripts.push(options.script), exec(options))
    const ctx: HostContext = {
      host: LOCAL_HOST,
      transport,
      facts: new FactBatcher(transport, { timeoutSec: 5, maxBytes: 1 << 20 }),
      timeoutMs: 5000,
    }
    const [bySleep, byPidFile, byOther, both] = await runInHost(ctx, () =>
      Promise.all([
        proc('sleep'),
        proc({ pidFile: path.join(dir, 'share.pid') }),
        proc('no-such-process'),
        proc({ name: 'sleep', args: `${marker}-share` }),
      ]),
    )
    expect(scripts).toHaveLength(1)
    const tableCalls = scripts[0]!.split('\n').filter(l => /^__va \d+; __vi\d+ 'nsleep'/.test(l))
    expect(tableCalls).toEqual([expect.stringContaining(`'nsleep' 'f${path.join(dir, 'share.pid')}' 'nno-such-process' </dev/null`)])
    expect(bySleep.pids).toContain(a.pid)
    expect(byPidFile.pids).toEqual([a.pid])
    expect(byOther.count).toBe(0)
    expect(both.pids).toEqual([a.pid])
  })

  it('a check by name asking beside the whole table (verify snapshot) gets the whole table, read once', async () => {
    const transport = new LocalTransport()
    const ctx: HostContext = {
      host: LOCAL_HOST,
      transport,
      facts: new FactBatcher(transport, { timeoutSec: 5, maxBytes: 1 << 20 }),
      timeoutMs: 5000,
    }
    const [bySleep, whole] = await runInHost(ctx, () => Promise.all([proc('sleep'), readFact(processTableFact())]))
    expect(transport.execCount).toBe(1)
    expect(bySleep.pids).toEqual(matchProcesses(whole.processes, { name: 'sleep' }).map(p => p.pid))
    expect(whole.processes.length).toBeGreaterThan(bySleep.count)
  })

  it("never matches its own probe: a pattern equal to the probe's command line matches the real process, not the probe", async () => {
    const twin = start('sleep', ['1003'], probeText)
    await untilRunning(twin.pid, [probeText, '1003'])
    const { value } = await onLocalHost(() => Promise.all([proc({ args: probeText }), readFact(processTableFact())]))
    const [matches, table] = value
    expect(matches.pids).toContain(twin.pid)
    // the probe's session: the batch shell and its watchdog (awk, which reads the table, is not in its own glob)
    const { excludedPids } = table.probe
    expect(excludedPids).toContain(table.probe.pid)
    expect(excludedPids.length).toBeGreaterThanOrEqual(2)
    expect(matches.pids.filter(pid => excludedPids.includes(pid))).toEqual([])
    expect(table.processes.filter(p => excludedPids.includes(p.pid))).toEqual([])
  })

  it('needs a criterion', async () => {
    await expect(proc({})).rejects.toThrow(/give a name/)
  })
})
