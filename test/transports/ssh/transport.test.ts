import { execFileSync } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import net from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { AuthError, HostKeyError, HostUnreachableError, TimeoutError } from '../../../src/errors.ts'
import type { HostSpec } from '../../../src/model.ts'
import { fingerprintSha256 } from '../../../src/transports/ssh/known-hosts.ts'
import { SshTransport } from '../../../src/transports/ssh/transport.ts'
import { fleetHostSpecs, startFleet, type Fleet } from '../../support/sshd.ts'

let fleet: Fleet
let scratch: string
const transports: SshTransport[] = []
// An empty HOME and no agent: the test must not pick up whoever runs it.
const env = { HOME: '/nonexistent-home', PATH: process.env.PATH }

beforeAll(async () => {
  fleet = await startFleet({ hosts: 4, name: 'ssh-transport' })
  scratch = mkdtempSync(join(tmpdir(), 'ssh-transport-test-'))
})

afterAll(async () => {
  await fleet?.stop()
  rmSync(scratch, { recursive: true, force: true })
})

afterEach(async () => {
  await Promise.all(transports.splice(0).map(t => t.close()))
})

function spec(index: number, overrides: Partial<HostSpec> = {}): HostSpec {
  return { ...fleetHostSpecs(fleet)[index]!, ...overrides }
}

function transport(host: HostSpec, connectTimeoutMs = 10_000): SshTransport {
  const t = new SshTransport({ host, connectTimeoutMs, env })
  transports.push(t)
  return t
}

async function connected(index = 0): Promise<SshTransport> {
  const t = transport(spec(index))
  await t.connect()
  return t
}

async function run(t: SshTransport, script: string, signal?: AbortSignal) {
  const chunks: Buffer[] = []
  const result = await t.exec({ script, onStdout: c => chunks.push(c), ...(signal ? { signal } : {}) })
  return { ...result, stdout: Buffer.concat(chunks).toString() }
}

function newKey(name: string): { file: string; pubLine: string } {
  const file = join(scratch, name)
  execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', name, '-f', file])
  return { file, pubLine: readFileSync(`${file}.pub`, 'utf8').trim().split(/\s+/).slice(0, 2).join(' ') }
}

async function unusedPort(): Promise<number> {
  const server = net.createServer()
  await new Promise<void>(resolve => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as net.AddressInfo
  await new Promise(resolve => server.close(resolve))
  return port
}

describe('SshTransport exec', () => {
  it('streams stdout, collects stderr and reports the exit code', async () => {
    const t = await connected()
    const chunks: string[] = []
    const result = await t.exec({
      script: 'echo first; echo oops >&2; sleep 0.2; echo second; exit 3\n',
      onStdout: c => chunks.push(c.toString()),
    })
    expect(chunks.join('')).toBe('first\nsecond\n')
    expect(result).toEqual({ exitCode: 3, stderr: 'oops\n' })
    expect(t.execCount).toBe(1)
  })

  it('runs 20 concurrent execs on one connection by queueing channels', async () => {
    const t = await connected(1)
    const started = Date.now()
    const results = await Promise.all(Array.from({ length: 20 }, (_, i) => run(t, `sleep 0.3; echo job-${i}\n`)))
    results.forEach((r, i) => expect(r).toMatchObject({ exitCode: 0, stdout: `job-${i}\n`, stderr: '' }))
    // Eight at a time: 20 jobs need three waves (sshd itself would refuse past MaxSessions=10).
    expect(Date.now() - started).toBeGreaterThanOrEqual(3 * 300)
    expect(t.execCount).toBe(20)
    expect((await fleet.execChannels()).get(fleet.hosts[1]!.address)).toBe(20)
  })

  it('resolves an aborted exec without waiting for the script', async () => {
    const t = await connected()
    const controller = new AbortController()
    const started = Date.now()
    let pid = ''
    const pending = t.exec({
      script: 'echo $$; sleep 30\n',
      onStdout: c => {
        pid += c.toString().trim()
        controller.abort()
      },
      signal: controller.signal,
    })
    expect((await pending).exitCode).toBeNull()
    expect(Date.now() - started).toBeLessThan(5_000)
    // The remote script was stopped, not left sleeping, and the connection still serves the next batch.
    // Within 5 s on a loaded machine (the script would sleep 30 s); a zombie counts as stopped.
    const probe = `i=0; while [ $i -lt 25 ]; do i=$((i+1)); s=$(sed 's/.*) //' /proc/${pid}/stat 2>/dev/null | cut -c1); { [ -z "$s" ] || [ "$s" = Z ]; } && { echo gone; exit 0; }; sleep 0.2; done; echo alive\n`
    expect((await run(t, probe)).stdout).toBe('gone\n')
  })

  it('rejects with HostUnreachableError when the connection drops', async () => {
    const t = await connected()
    // sshd runs `sh -c '/bin/sh -s'`: the parent of that `sh -c` is the sshd process serving this connection.
    const killSshd = 'read -r _ _ _ sshd _ < /proc/$PPID/stat; kill -9 "$sshd"; sleep 5\n'
    const started = Date.now()
    await expect(run(t, killSshd)).rejects.toBeInstanceOf(HostUnreachableError)
    expect(Date.now() - started).toBeLessThan(4_000)
    await expect(run(t, 'true\n')).rejects.toBeInstanceOf(HostUnreachableError)
  })
})

describe('SshTransport openTcp', () => {
  it('tunnels a TCP stream to a port seen from the host', async () => {
    const echo = net.createServer(socket => socket.pipe(socket))
    await new Promise<void>(resolve => echo.listen(0, '127.0.0.1', resolve))
    try {
      const t = await connected()
      const stream = await t.openTcp('127.0.0.1', (echo.address() as net.AddressInfo).port)
      const reply = new Promise<string>(resolve => stream.once('data', (c: Buffer) => resolve(c.toString())))
      stream.write('ping through ssh')
      expect(await reply).toBe('ping through ssh')
      stream.end()
      expect(t.execCount).toBe(0)
    } finally {
      await new Promise(resolve => echo.close(resolve))
    }
  })

  it('reports a closed remote port like net.connect does', async () => {
    const t = await connected()
    const port = await unusedPort()
    await expect(t.openTcp('127.0.0.1', port)).rejects.toMatchObject({ code: 'ECONNREFUSED' })
  })
})

describe('SshTransport connect failures', () => {
  it('fails fast with HostUnreachableError on a closed port', async () => {
    const port = await unusedPort()
    const t = transport(spec(0, { port }))
    const started = Date.now()
    const err = await t.connect().catch((e: unknown) => e)
    expect(err).toBeInstanceOf(HostUnreachableError)
    expect((err as Error).message).toContain(`${fleet.user}@127.0.0.2:${port}`)
    expect(Date.now() - started).toBeLessThan(2_000)
  })

  it('times out with TimeoutError when the server never speaks', async () => {
    const sockets: net.Socket[] = []
    const silent = net.createServer(s => sockets.push(s))
    await new Promise<void>(resolve => silent.listen(0, '127.0.0.1', resolve))
    try {
      const t = transport(spec(0, { address: '127.0.0.1', port: (silent.address() as net.AddressInfo).port }), 500)
      await expect(t.connect()).rejects.toThrow(TimeoutError)
      await expect(t.connect()).rejects.toThrow(/connect timed out after 0.5s/)
    } finally {
      sockets.forEach(s => s.destroy())
      await new Promise(resolve => silent.close(resolve))
    }
  })

  it('refuses a changed host key with HostKeyError and runs nothing', async () => {
    const host = fleet.hosts[3]!
    const knownHosts = join(scratch, 'known_hosts_wrong')
    writeFileSync(knownHosts, `# stale entry\n[${host.address}]:${fleet.port} ${newKey('impostor').pubLine}\n`)
    const t = transport(spec(3, { knownHosts }))
    const err = await t.connect().catch((e: unknown) => e)
    expect(err).toBeInstanceOf(HostKeyError)
    const message = (err as Error).message
    expect(message).toContain('HOST KEY CHANGED')
    expect(message).toContain(`${knownHosts}:2`)
    expect(message).toContain(serverFingerprint())
    expect(message).toContain(`ssh-keyscan -p ${fleet.port} ${host.address} >> ${knownHosts}`)
    await expect(t.exec({ script: 'true', onStdout: () => {} })).rejects.toBeInstanceOf(HostKeyError)
    expect((await fleet.execChannels()).get(host.address)).toBe(0)
  })

  it('refuses an unknown host with HostKeyError that says how to add it', async () => {
    const knownHosts = join(scratch, 'known_hosts_empty')
    writeFileSync(knownHosts, '')
    const err = await transport(spec(3, { knownHosts }))
      .connect()
      .catch((e: unknown) => e)
    expect(err).toBeInstanceOf(HostKeyError)
    expect((err as Error).message).toMatch(/is not in .*known_hosts_empty/)
    expect((err as Error).message).toContain(serverFingerprint())
    expect((await fleet.execChannels()).get(fleet.hosts[3]!.address)).toBe(0)
  })

  it('refuses a key listed as @revoked even when it is also known', async () => {
    const knownHosts = join(scratch, 'known_hosts_revoked')
    writeFileSync(knownHosts, `${readFileSync(fleet.knownHosts, 'utf8')}@revoked * ${fleet.hostKeyPub}\n`)
    const err = await transport(spec(3, { knownHosts }))
      .connect()
      .catch((e: unknown) => e)
    expect(err).toBeInstanceOf(HostKeyError)
    expect((err as Error).message).toContain('@revoked')
  })

  it('rejects a wrong client key with AuthError', async () => {
    const t = transport(spec(2, { identityFile: newKey('stranger').file }))
    const err = await t.connect().catch((e: unknown) => e)
    expect(err).toBeInstanceOf(AuthError)
    expect((err as Error).message).toContain(`${fleet.user}@127.0.0.4:${fleet.port}`)
  })

  it('rejects a missing identity file with AuthError naming it', async () => {
    const t = transport(spec(2, { identityFile: join(scratch, 'no-such-key') }))
    await expect(t.connect()).rejects.toThrow(/cannot read identity file .*no-such-key/)
  })
})

function serverFingerprint(): string {
  return fingerprintSha256(Buffer.from(fleet.hostKeyPub.split(' ')[1]!, 'base64'))
}
