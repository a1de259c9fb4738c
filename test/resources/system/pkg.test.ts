import { spawnSync } from 'node:child_process'
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { describe, expect, it } from 'vitest'
import { DPKG_ADMIN_DIR, parseDpkgQuery, parseRpmQuery, pkg, pkgFact } from '../../../src/resources/system/pkg.ts'
import { FactError } from '../../../src/errors.ts'
import { standaloneScript, type RawFact } from '../../../src/probe/fact.ts'
import { onLocalHost } from '../../support/local-host.ts'
import { rawFact } from '../../support/raw-fact.ts'

const raw = rawFact

// dpkg-query -W --showformat='${Package}\t${Architecture}\t${db:Status-Abbrev}\t${Version}\n' (Debian 12)
const DPKG_MULTIARCH = 'libc6\tamd64\tii \t2.36-9+deb12u4\nlibc6\ti386\tii \t2.36-9+deb12u4\n'
const DPKG_GLOB = 'libc-bin\tamd64\tii \t2.36-9+deb12u14\nlibc-dbg\t\tun \t\nlibc-dev\t\tun \t\nlibc-dev-bin\tamd64\tii \t2.36-9+deb12u14\n'
const DPKG_REMOVED = 'nginx-core\tamd64\trc \t1.22.1-9\n'
const DPKG_HELD = 'openssh-server\tamd64\thi \t1:9.2p1-2+deb12u3\n'
const DPKG_HALF = 'postgresql-15\tamd64\tiH \t15.6-0+deb12u1\n'
// rpm -q --qf '%{NAME}\t%{ARCH}\t%{EPOCH}\t%{VERSION}\t%{RELEASE}\n' (Rocky 9)
const RPM_KERNELS = 'kernel\tx86_64\t(none)\t5.14.0\t362.8.1.el9_3\nkernel\tx86_64\t(none)\t5.14.0\t427.13.1.el9_4\n'
const RPM_EPOCH = 'openssl\tx86_64\t1\t3.0.7\t27.el9\n'

describe('parseDpkgQuery', () => {
  it('installed, version, architectures (multi-arch)', () => {
    expect(parseDpkgQuery('libc6', DPKG_MULTIARCH)).toEqual({
      name: 'libc6',
      manager: 'dpkg',
      installed: true,
      version: '2.36-9+deb12u4',
      versions: ['2.36-9+deb12u4'],
      architectures: ['amd64', 'i386'],
      status: 'ii',
    })
    expect(parseDpkgQuery('libc6:i386', DPKG_MULTIARCH)).toMatchObject({ installed: true, architectures: ['i386'] })
  })

  it('dpkg-query reads the name as a glob: only the exact name counts', () => {
    expect(parseDpkgQuery('libc*', DPKG_GLOB)).toMatchObject({ installed: false, versions: [] })
    expect(parseDpkgQuery('libc-bin', DPKG_GLOB)).toMatchObject({ installed: true, version: '2.36-9+deb12u14' })
    expect(parseDpkgQuery('libc-dev', DPKG_GLOB)).toMatchObject({ installed: false, status: 'un', version: undefined })
  })

  it('removed with config files left, held, half-installed', () => {
    expect(parseDpkgQuery('nginx-core', DPKG_REMOVED)).toMatchObject({ installed: false, status: 'rc', version: undefined })
    expect(parseDpkgQuery('openssh-server', DPKG_HELD)).toMatchObject({ installed: true, status: 'hi', version: '1:9.2p1-2+deb12u3' })
    expect(parseDpkgQuery('postgresql-15', DPKG_HALF)).toMatchObject({ installed: false, status: 'iH' })
  })
})

describe('parseRpmQuery', () => {
  it('several installed versions: highest first, by rpm ordering', () => {
    expect(parseRpmQuery('kernel', RPM_KERNELS)).toEqual({
      name: 'kernel',
      manager: 'rpm',
      installed: true,
      version: '5.14.0-427.13.1.el9_4',
      versions: ['5.14.0-427.13.1.el9_4', '5.14.0-362.8.1.el9_3'],
      architectures: ['x86_64'],
    })
  })

  it('an epoch is part of the version; (none) is no epoch', () => {
    expect(parseRpmQuery('openssl', RPM_EPOCH)).toMatchObject({ installed: true, version: '1:3.0.7-27.el9' })
  })

  it('not installed; a name-version query only counts the exact name', () => {
    expect(parseRpmQuery('nosuch', 'package nosuch is not installed\n')).toMatchObject({ installed: false, versions: [] })
    expect(parseRpmQuery('kernel-5.14.0', RPM_KERNELS)).toMatchObject({ installed: false })
  })
})

describe('pkg fact outcomes', () => {
  const parse = (name: string, r: RawFact) => pkgFact(name).parse(r)

  it('dpkg "no packages found" is the answer "not installed"; other dpkg failures are errors', () => {
    expect(parse('nosuch', raw(1, 'dpkg\n', 'dpkg-query: no packages found matching nosuch\n'))).toMatchObject({
      manager: 'dpkg',
      installed: false,
    })
    expect(() => parse('x', raw(2, 'dpkg\n', 'dpkg-query: error: cannot access archive: Permission denied\n'))).toThrow(FactError)
  })

  it('rpm exits with the count of packages not found; an unreadable database is an error, not "not installed"', () => {
    expect(parse('nosuch', raw(1, 'rpm\npackage nosuch is not installed\n'))).toMatchObject({ manager: 'rpm', installed: false })
    expect(parse('openssl', raw(0, `rpm\n${RPM_EPOCH}`))).toMatchObject({ installed: true })
    expect(() =>
      parse('bash', raw(1, 'rpm\npackage bash is not installed\n', 'error: cannot open Packages database in /var/lib/rpm\n')),
    ).toThrow(FactError)
  })

  it('no package manager at all', () => {
    expect(() => parse('x', raw(3, '', 'no package manager on this host (neither dpkg-query nor rpm is installed)\n'))).toThrow(
      /package x: no package manager on this host/,
    )
  })
})

describe.runIf(existsSync('/usr/bin/dpkg-query'))('pkg() on the local machine (Debian)', () => {
  it('installed packages with their versions, and hostile names as names', async () => {
    const names = ['dpkg', 'no-such-package-here', '-x', "it's $(touch /tmp/verify-pwned)", '`touch /tmp/verify-pwned`', 'a\nb', 'dpk*']
    const { value, execCount } = await onLocalHost(() => Promise.all(names.map(n => pkg(n))))
    expect(execCount).toBe(1)
    expect(value[0]).toMatchObject({ manager: 'dpkg', installed: true })
    expect(value[0]!.version).toMatch(/^1\.\d+/)
    expect(value.slice(1).map(p => p.installed)).toEqual([false, false, false, false, false, false])
    expect(existsSync('/tmp/verify-pwned')).toBe(false)
  })

  it('manager: rpm asks rpm only (an error when it is missing, never "not installed")', async () => {
    const result = await onLocalHost(() => pkg('dpkg', { manager: 'rpm' })).then(
      r => r.value,
      (e: unknown) => e,
    )
    if (existsSync('/usr/bin/rpm')) expect(result).toMatchObject({ manager: 'rpm' })
    else expect(String(result)).toMatch(/no package manager on this host \(rpm is not installed\)/)
  })
})

// pkg.sh reads dpkg's status file with awk instead of running dpkg-query (~15 ms of CPU on every
// host, against ~2): its lines must be dpkg-query's, byte for byte.
describe.runIf(existsSync('/usr/bin/dpkg-query'))("pkg.sh's dpkg reader against dpkg-query", () => {
  const FORMAT = '${Package}\t${Architecture}\t${db:Status-Abbrev}\t${Version}\n'
  const run = (name: string, adminDir = DPKG_ADMIN_DIR) => {
    const fact = pkgFact(name)
    const args = [...fact.args.slice(0, 4), adminDir]
    const r = spawnSync('sh', ['-c', standaloneScript(fact), 'verify-probe', ...args], { encoding: 'utf8' })
    return { status: r.status, stdout: r.stdout, stderr: r.stderr }
  }
  const dpkgQuery = (name: string) => spawnSync('dpkg-query', ['-W', `--showformat=${FORMAT}`, '--', name], { encoding: 'utf8' })

  it('prints what dpkg-query prints, for a sample of this machine’s packages and for names it does not know', () => {
    const all = dpkgQuery('*').stdout.split('\n').filter(Boolean)
    const names = [...new Set(all.map(l => l.split('\t')[0]!))]
    const sample = names.filter((_, i) => i % Math.ceil(names.length / 40) === 0)
    const multiArch = all.map(l => l.split('\t')).find(([n, a]) => a && a !== 'all' && names.includes(n!))
    if (multiArch) sample.push(`${multiArch[0]}:${multiArch[1]}`)
    for (const name of [...sample, 'no-such-package-here', 'dpk*']) {
      const ours = run(name)
      const theirs = dpkgQuery(name)
      expect({ name, status: ours.status, stdout: ours.stdout }).toEqual({ name, status: theirs.status, stdout: `dpkg\n${theirs.stdout}` })
      if (theirs.status !== 0) expect(ours.stderr).toMatch(/no packages found matching/)
    }
  })

  it('reads every state dpkg writes, and leaves a pending journal to dpkg-query', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'verify-dpkg-'))
    mkdirSync(path.join(dir, 'updates'))
    const paragraph = (name: string, arch: string, status: string, version = '1.0-1') =>
      `Package: ${name}\nStatus: ${status}\nPriority: optional\nArchitecture: ${arch}\nVersion: ${version}\nDescription: x\n Package: ${name}-not-a-field\n`
    writeFileSync(
      path.join(dir, 'status'),
      [
        paragraph('libfake', 'amd64', 'install ok installed', '2.36-9'),
        paragraph('libfake', 'i386', 'install ok installed', '2.36-9'),
        paragraph('gone', 'amd64', 'deinstall ok config-files'),
        paragraph('held', 'amd64', 'hold ok installed', '1:9.2p1-2'),
        paragraph('broken', 'amd64', 'install reinstreq half-installed'),
        paragraph('pending', 'all', 'install ok triggers-pending'),
      ].join('\n'),
    )
    try {
      expect(run('libfake', dir).stdout).toBe('dpkg\nlibfake\tamd64\tii \t2.36-9\nlibfake\ti386\tii \t2.36-9\n')
      expect(run('libfake:i386', dir).stdout).toBe('dpkg\nlibfake\ti386\tii \t2.36-9\n')
      expect(run('gone', dir).stdout).toBe('dpkg\ngone\tamd64\trc \t1.0-1\n')
      expect(run('held', dir).stdout).toBe('dpkg\nheld\tamd64\thi \t1:9.2p1-2\n')
      expect(run('broken', dir).stdout).toBe('dpkg\nbroken\tamd64\tiHR\t1.0-1\n')
      expect(run('pending', dir).stdout).toBe('dpkg\npending\tall\tit \t1.0-1\n')
      expect(run('libfake-not-a-field', dir)).toMatchObject({ status: 1, stdout: 'dpkg\n' })
      // a journal entry not yet merged into status: dpkg-query answers (from the real database)
      writeFileSync(path.join(dir, 'updates', '0001'), 'Package: libfake\nStatus: deinstall ok config-files\n')
      expect(run('libfake', dir)).toMatchObject({
        status: 1,
        stdout: 'dpkg\n',
        stderr: expect.stringMatching(/no packages found matching libfake/),
      })
    } finally {
      rmSync(dir, { recursive: true, force: true })
    }
  })
})
