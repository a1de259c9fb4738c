// become over real SSH as the non-root test user, with real sudoers rules: root-only facts fail
// without it and pass with it; with a password, the password never shows up anywhere.
import { execFileSync } from 'node:child_process'
import { chmodSync, mkdirSync, renameSync, rmSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { FactError } from '../../../src/errors.ts'
import { becomeFailure, becomeInvocation, BECOME_MARKER, scrub } from '../../../src/transports/ssh/become.ts'
import type { BecomeSpec, HostSpec } from '../../../src/model.ts'
import { SshSession } from '../../../src/transports/ssh/session.ts'
import { SshTransport } from '../../../src/transports/ssh/transport.ts'
import { fleetHostSpecs, startFleet, TEST_USER, type Fleet } from '../../support/sshd.ts'

const isRoot = process.getuid?.() === 0
const SUDOERS = `/etc/sudoers.d/verify_become_test_${process.pid}`
const APP_USER = 'verifyapp'
const PASSWORD = `pw-${Math.random().toString(36).slice(2)}'"$(id)\`x\``

let fleet: Fleet
let vault: string
const transports: SshTransport[] = []
const sessions: SshSession[] = []

/** Installs a sudoers drop-in only after `visudo -cf` accepts it (a broken one would lock sudo out). */
function sudoers(rules: string): void {
  const staged = `${fleet.dir}/sudoers.staged`
  writeFileSync(staged, `Defaults:${TEST_USER} !lecture, passwd_tries=1\n${rules}\n`, { mode: 0o440 })
  execFileSync('visudo', ['-cf', staged])
  renameSync(staged, SUDOERS)
}

describe.skipIf(!isRoot)('become over SSH with sudo', () => {
  beforeAll(async () => {
    fleet = await startFleet({ hosts: 1, name: 'become' })
    // a directory only root may read: the kind of fact become is for
    vault = join(fleet.dir, 'vault')
    mkdirSync(vault, { mode: 0o700 })
    chmodSync(vault, 0o700)
    writeFileSync(join(vault, 'token'), 'root-only\n')
    if (
      execFileSync('sh', ['-c', `id -u ${APP_USER} >/dev/null 2>&1 && echo yes || echo no`])
        .toString()
        .trim() === 'no'
    ) {
      execFileSync('useradd', ['-M', '-d', '/', '-s', '/bin/sh', APP_USER])
    }
    execFileSync('chpasswd', { input: `${TEST_USER}:${PASSWORD}\n` })
  })

  afterAll(async () => {
    rmSync(SUDOERS, { force: true })
    if (isRoot) execFileSync('usermod', ['-p', '*', TEST_USER])
    await fleet?.stop()
  })

  afterEach(async () => {
    await Promise.all(transports.splice(0).map(t => t.close()))
    await Promise.all(sessions.splice(0).map(s => s.close()))
  })

  function host(become?: BecomeSpec): HostSpec {
    return { ...fleetHostSpecs(fleet)[0]!, ...(become ? { become } : {}) }
  }

  async function run(
    spec: HostSpec,
    script: string,
    env: NodeJS.ProcessEnv = {},
  ): Promise<{ stdout: string; stderr: string; exitCode: number | null }> {
    const fullEnv = { HOME: '/nonexistent-home', PATH: process.env.PATH, ...env }
    const session = new SshSession({ configFile: 'none', env: fullEnv })
    sessions.push(session)
    const t = new SshTransport({ host: spec, connectTimeoutMs: 10_000, session, env: fullEnv })
    transports.push(t)
    await t.connect()
    const chunks: Buffer[] = []
    const result = await t.exec({ script, onStdout: c => chunks.push(c) })
    return { ...result, stdout: Buffer.concat(chunks).toString() }
  }

  it('a root-only fact fails without become and passes with sudo -n to root', async () => {
    sudoers(`${TEST_USER} ALL=(root) NOPASSWD: /bin/sh -s`)
    const script = `ls ${vault}; id -un\n`
    const plain = await run(host(), script)
    expect(plain.stderr).toMatch(/Permission denied/)
    expect(plain.stdout).toBe(`${TEST_USER}\n`)
    const root = await run(host({ user: 'root' }), script)
    expect(root).toMatchObject({ exitCode: 0, stdout: 'token\nroot\n' })
  })

  it('becomes an app user', async () => {
    sudoers(`${TEST_USER} ALL=(${APP_USER}) NOPASSWD: /bin/sh -s`)
    expect((await run(host({ user: APP_USER }), 'id -un\n')).stdout).toBe(`${APP_USER}\n`)
  })

  it('sudo -n refused: a FactError that says what to add, not a silent empty answer', async () => {
    sudoers(`${TEST_USER} ALL=(root) /bin/sh -s`)
    const err = await run(host({ user: 'root' }), 'id -un\n').catch((e: unknown) => e)
    expect(err).toBeInstanceOf(FactError)
    expect((err as Error).message).toMatch(/become \(sudo -n -u root\) failed: sudo: a password is required: .*NOPASSWD/)
  })

  it('feeds the password from an env var to sudo -S; the script runs as root and the password appears nowhere', async () => {
    sudoers(`${TEST_USER} ALL=(root) /bin/sh -c *`)
    const spec = host({ user: 'root', passwordEnv: 'SUDO_PW' })
    const first = await run(spec, `ls ${vault}; id -un; echo done >&2\n`, { SUDO_PW: PASSWORD })
    expect(first).toMatchObject({ exitCode: 0, stdout: 'token\nroot\n', stderr: 'done\n' })
    expect(JSON.stringify(first)).not.toContain(PASSWORD)
  })

  it('skips the password line when sudo does not ask for it (NOPASSWD rule), never running it', async () => {
    sudoers(`${TEST_USER} ALL=(root) NOPASSWD: /bin/sh -c *`)
    const result = await run(host({ user: 'root', passwordEnv: 'SUDO_PW' }), 'id -un\n', { SUDO_PW: PASSWORD })
    expect(result).toEqual({ exitCode: 0, stdout: 'root\n', stderr: '' })
  })

  it('a wrong password is a FactError that does not echo it', async () => {
    sudoers(`${TEST_USER} ALL=(root) /bin/sh -c *`)
    const wrong = `${PASSWORD}-wrong`
    const err = await run(host({ user: 'root', passwordEnv: 'SUDO_PW' }), 'id -un\n', { SUDO_PW: wrong }).catch((e: unknown) => e)
    expect(err).toBeInstanceOf(FactError)
    expect((err as Error).message).toMatch(/become \(sudo -S -u root \(password from SUDO_PW\)\) failed: .*incorrect password/)
    expect((err as Error).message).not.toContain(wrong)
  })

  it('names a password env var that is not set', async () => {
    const err = await run(host({ user: 'root', passwordEnv: 'UNSET_SUDO_PW' }), 'id -un\n').catch((e: unknown) => e)
    expect(err).toBeInstanceOf(FactError)
    expect((err as Error).message).toContain('UNSET_SUDO_PW is not set')
  })
})

describe('becomeInvocation and becomeFailure', () => {
  it('runs sudo -n with the user quoted and nothing on stdin before the script', () => {
    expect(becomeInvocation({ user: "app'user" }, {})).toMatchObject({
      command: `sudo -n -u 'app'\\''user' -- /bin/sh -s`,
      stdinPrefix: '',
    })
  })

  it('puts the password only on stdin, ahead of the marker, never on the command line', () => {
    const inv = becomeInvocation({ user: 'root', passwordEnv: 'PW' }, { PW: 'p$(w)d' })
    expect(inv.command).toMatch(/^sudo -S -p '' -u 'root' -- \/bin\/sh -c '.*' sh$/)
    expect(inv.command).not.toContain('p$(w)d')
    expect(inv.stdinPrefix).toBe(`p$(w)d\n${BECOME_MARKER}\n`)
    expect(() => becomeInvocation({ user: 'root', passwordEnv: 'PW' }, { PW: 'a\nb' })).toThrow(/line break/)
  })

  it("tells sudo's refusals from a probe that ran, and scrubs the secret", () => {
    const inv = becomeInvocation({ user: 'root' }, {})
    expect(becomeFailure(inv, 1, false, 'sudo: a password is required\n')?.message).toMatch(/NOPASSWD/)
    expect(becomeFailure(inv, 127, false, 'sh: 1: sudo: not found\n')?.message).toMatch(/sudo is not installed/)
    expect(becomeFailure(inv, 1, true, 'sudo: whatever')).toBeUndefined()
    expect(becomeFailure(inv, 0, false, '')).toBeUndefined()
    expect(scrub('echoed hunter2 twice: hunter2', 'hunter2')).toBe('echoed [redacted] twice: [redacted]')
  })
})
