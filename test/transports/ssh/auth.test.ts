// Credentials and host keys the way CI systems hand them out: a key's content and known_hosts
// content in env vars, a passphrase from an env var, and first contact with --accept-new-host-keys.
import { execFileSync } from 'node:child_process'
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { AuthError, HostKeyError } from '../../../src/errors.ts'
import type { HostSpec } from '../../../src/model.ts'
import { hostMatches, parseKnownHosts } from '../../../src/transports/ssh/known-hosts.ts'
import { SshSession } from '../../../src/transports/ssh/session.ts'
import { SshTransport } from '../../../src/transports/ssh/transport.ts'
import { fleetHostSpecs, startFleet, type Fleet } from '../../support/sshd.ts'

let fleet: Fleet
let scratch: string
const transports: SshTransport[] = []
const sessions: SshSession[] = []
const baseEnv = { HOME: '/nonexistent-home', PATH: process.env.PATH }

beforeAll(async () => {
  fleet = await startFleet({ hosts: 2, name: 'ssh-auth' })
  scratch = mkdtempSync(join(tmpdir(), 'ssh-auth-test-'))
})

afterAll(async () => {
  await fleet?.stop()
  rmSync(scratch, { recursive: true, force: true })
})

afterEach(async () => {
  await Promise.all(transports.splice(0).map(t => t.close()))
  await Promise.all(sessions.splice(0).map(s => s.close()))
})

function host(overrides: Partial<HostSpec> = {}): HostSpec {
  return { ...fleetHostSpecs(fleet)[0]!, ...overrides }
}

async function connect(
  spec: HostSpec,
  env: NodeJS.ProcessEnv,
  options: { acceptNew?: boolean; notices?: string[] } = {},
): Promise<SshTransport> {
  const session = new SshSession({
    configFile: 'none',
    env,
    acceptNewHostKeys: options.acceptNew ?? false,
    notice: m => options.notices?.push(m),
  })
  sessions.push(session)
  const t = new SshTransport({ host: spec, connectTimeoutMs: 10_000, session, env })
  transports.push(t)
  await t.connect()
  return t
}

async function whoami(t: SshTransport): Promise<string> {
  const chunks: Buffer[] = []
  await t.exec({ script: 'id -un\n', onStdout: c => chunks.push(c) })
  return Buffer.concat(chunks).toString().trim()
}

/** An encrypted copy of the fleet's client key: same public half, so authorized_keys accepts it. */
function encryptedKey(passphrase: string): string {
  const file = join(scratch, `id_encrypted_${Math.random().toString(36).slice(2)}`)
  writeFileSync(file, readFileSync(fleet.identityFile), { mode: 0o600 })
  execFileSync('ssh-keygen', ['-q', '-p', '-a', '2', '-f', file, '-P', '', '-N', passphrase])
  return file
}

describe('keys from the environment', () => {
  it('authenticates with a private key given as the content of an env var, never written to disk', async () => {
    const key = readFileSync(fleet.identityFile, 'utf8')
    const t = await connect(host({ identityFile: undefined, identityEnv: 'CI_DEPLOY_KEY' }), { ...baseEnv, CI_DEPLOY_KEY: key })
    expect(await whoami(t)).toBe(fleet.user)
  })

  it('accepts a key pasted with literal \\n (as some CI variable UIs store it)', async () => {
    const key = readFileSync(fleet.identityFile, 'utf8').trimEnd().replaceAll('\n', '\\n')
    const t = await connect(host({ identityFile: undefined, identityEnv: 'KEY' }), { ...baseEnv, KEY: key })
    expect(await whoami(t)).toBe(fleet.user)
  })

  it('offers $VERIFY_SSH_KEY without any configuration', async () => {
    const t = await connect(host({ identityFile: undefined }), { ...baseEnv, VERIFY_SSH_KEY: readFileSync(fleet.identityFile, 'utf8') })
    expect(await whoami(t)).toBe(fleet.user)
  })

  it('decrypts an encrypted key with the passphrase from the named env var', async () => {
    const passphrase = 'correct horse $(battery) staple'
    const file = encryptedKey(passphrase)
    const t = await connect(host({ identityFile: file, passphraseEnv: 'DEPLOY_KEY_PASS' }), { ...baseEnv, DEPLOY_KEY_PASS: passphrase })
    expect(await whoami(t)).toBe(fleet.user)
  })

  it('says which env var to set for an encrypted key, without the passphrase in the message', async () => {
    const file = encryptedKey('s3cret-passphrase')
    const err = await connect(host({ identityFile: file }), baseEnv).catch((e: unknown) => e)
    expect(err).toBeInstanceOf(AuthError)
    expect((err as Error).message).toMatch(/set VERIFY_KEY_PASSPHRASE/)
    const wrong = await connect(host({ identityFile: file }), { ...baseEnv, VERIFY_KEY_PASSPHRASE: 'nope-not-it' }).catch((e: unknown) => e)
    expect(wrong).toBeInstanceOf(AuthError)
    expect((wrong as Error).message).not.toContain('nope-not-it')
  })

  it('names an identityEnv that is not set', async () => {
    const err = await connect(host({ identityFile: undefined, identityEnv: 'MISSING_KEY' }), baseEnv).catch((e: unknown) => e)
    expect(err).toBeInstanceOf(AuthError)
    expect((err as Error).message).toContain('identityEnv MISSING_KEY is not set')
  })
})

describe('host keys', () => {
  it('reads known_hosts content from $VERIFY_KNOWN_HOSTS (ephemeral CI runners have no file)', async () => {
    const t = await connect(host({ knownHosts: join(scratch, 'no-such-file') }), {
      ...baseEnv,
      VERIFY_KNOWN_HOSTS: readFileSync(fleet.knownHosts, 'utf8'),
    })
    expect(await whoami(t)).toBe(fleet.user)
  })

  it('refuses a changed key from $VERIFY_KNOWN_HOSTS, naming the variable and line', async () => {
    const wrong = `# pinned\n[${fleet.hosts[0]!.address}]:${fleet.port} ${execFileSync('sh', [
      '-c',
      `ssh-keygen -q -t ed25519 -N '' -f ${scratch}/other-$$ && cat ${scratch}/other-$$.pub`,
    ])
      .toString()
      .split(' ')
      .slice(0, 2)
      .join(' ')}\n`
    const err = await connect(host({ knownHosts: join(scratch, 'no-such-file') }), { ...baseEnv, PINNED: wrong }).catch((e: unknown) => e)
    expect(err).toBeInstanceOf(HostKeyError)
    const viaEnv = await connect(host({ knownHosts: join(scratch, 'no-such-file'), knownHostsEnv: 'PINNED' }), {
      ...baseEnv,
      PINNED: wrong,
    }).catch((e: unknown) => e)
    expect((viaEnv as Error).message).toContain('HOST KEY CHANGED')
    expect((viaEnv as Error).message).toContain('$PINNED:2')
  })

  it('--accept-new-host-keys records an unknown key and trusts it from then on', async () => {
    const dir = join(scratch, 'tofu')
    const file = join(dir, 'known_hosts')
    const notices: string[] = []
    const t = await connect(host({ knownHosts: file }), baseEnv, { acceptNew: true, notices })
    expect(await whoami(t)).toBe(fleet.user)
    const entries = parseKnownHosts(readFileSync(file, 'utf8'))
    expect(entries).toHaveLength(1)
    expect(hostMatches(entries[0]!.hosts, `[${fleet.hosts[0]!.address}]:${fleet.port}`)).toBe(true)
    expect(statSync(file).mode & 0o777).toBe(0o600)
    expect(notices.join('\n')).toMatch(/first contact, host key ssh-ed25519 SHA256:\S+ .* added to .*tofu\/known_hosts/)
    // strict again: the recorded key now matches
    expect(await whoami(await connect(host({ knownHosts: file }), baseEnv))).toBe(fleet.user)
  })

  it('--accept-new-host-keys still refuses a changed key', async () => {
    const file = join(scratch, 'changed_known_hosts')
    execFileSync('sh', [
      '-c',
      `ssh-keygen -q -t ed25519 -N '' -f ${scratch}/impostor && printf '[%s]:%s %s\\n' ${fleet.hosts[0]!.address} ${fleet.port} "$(cut -d' ' -f1,2 ${scratch}/impostor.pub)" > ${file}`,
    ])
    const before = readFileSync(file, 'utf8')
    const err = await connect(host({ knownHosts: file }), baseEnv, { acceptNew: true }).catch((e: unknown) => e)
    expect(err).toBeInstanceOf(HostKeyError)
    expect((err as Error).message).toContain('HOST KEY CHANGED')
    expect(readFileSync(file, 'utf8')).toBe(before)
  })

  it('explains that @cert-authority cannot vouch for a host (ssh2 has no host certificates)', async () => {
    const file = join(scratch, 'ca_known_hosts')
    execFileSync('sh', [
      '-c',
      `ssh-keygen -q -t ed25519 -N '' -f ${scratch}/host_ca && printf '@cert-authority *.example.com,[127.0.0.*]:* %s\\n' "$(cut -d' ' -f1,2 ${scratch}/host_ca.pub)" > ${file}`,
    ])
    const err = await connect(host({ knownHosts: file }), baseEnv, { acceptNew: true }).catch((e: unknown) => e)
    expect(err).toBeInstanceOf(HostKeyError)
    expect((err as Error).message).toMatch(/only a @cert-authority line .* \(ssh2\) cannot negotiate \*-cert-v01@openssh.com host keys/)
    expect(existsSync(file) && readFileSync(file, 'utf8').split('\n').filter(Boolean)).toHaveLength(1)
  })
})
