// Bastions and ProxyCommand over the real sshd fleet: host-1 (and host-2) serve as bastions for
// the others, reached the way people configure it, through an ssh_config file.
import { appendFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { HostKeyError, HostUnreachableError } from '../../../src/errors.ts'
import type { HostSpec } from '../../../src/model.ts'
import { SshSession } from '../../../src/transports/ssh/session.ts'
import { SshTransport } from '../../../src/transports/ssh/transport.ts'
import { startFleet, type Fleet } from '../../support/sshd.ts'

let fleet: Fleet
let scratch: string
let proxyLog: string
const sessions: SshSession[] = []
const transports: SshTransport[] = []
const env = { HOME: '/nonexistent-home', PATH: process.env.PATH }

beforeAll(async () => {
  fleet = await startFleet({ hosts: 6, name: 'bastion' })
  scratch = mkdtempSync(join(tmpdir(), 'bastion-test-'))
  proxyLog = join(scratch, 'proxy.log')
  // A ProxyCommand as cloudflared or `ssh -W` would be: stdio <-> TCP, noting each use.
  writeFileSync(
    join(scratch, 'proxy.mjs'),
    `import net from 'node:net'
import { appendFileSync } from 'node:fs'
const [host, port, log] = process.argv.slice(2)
appendFileSync(log, host + ':' + port + '\\n')
if (host === 'unreachable.test') { process.stderr.write('proxy: no route to ' + host + '\\n'); process.exit(1) }
const socket = net.connect(Number(port), host)
process.stdin.pipe(socket).pipe(process.stdout)
socket.on('error', (e) => { process.stderr.write('proxy: ' + e.message + '\\n'); process.exit(1) })
socket.on('close', () => process.exit(0))
`,
  )
})

afterAll(async () => {
  await fleet?.stop()
  rmSync(scratch, { recursive: true, force: true })
})

afterEach(async () => {
  await Promise.all(transports.splice(0).map(t => t.close()))
  await Promise.all(sessions.splice(0).map(s => s.close()))
})

/** An ssh_config that knows the fleet: `bastion` and `bastion2` are host-1 and host-2. */
function sshConfig(extra: string, bastionKnownHosts = fleet.knownHosts): string {
  const file = join(scratch, `config-${Math.random().toString(36).slice(2)}`)
  writeFileSync(
    file,
    `${extra}
Host bastion
  HostName ${fleet.hosts[0]!.address}
  UserKnownHostsFile ${bastionKnownHosts}
Host bastion2
  HostName ${fleet.hosts[1]!.address}
Host *
  Port ${fleet.port}
  User ${fleet.user}
  IdentityFile ${fleet.identityFile}
  UserKnownHostsFile ${fleet.knownHosts}
`,
  )
  return file
}

function session(configFile: string): SshSession {
  const s = new SshSession({ configFile, env })
  sessions.push(s)
  return s
}

/** A host as hosts.yaml would give it with nothing but its name: everything else from ssh_config. */
function aliasHost(name: string): HostSpec {
  return { name, address: name, port: 22, transport: 'ssh', groups: [], vars: {}, explicit: [] }
}

async function echo(s: SshSession, host: HostSpec): Promise<string> {
  const t = new SshTransport({ host, connectTimeoutMs: 10_000, session: s, env })
  transports.push(t)
  await t.connect()
  const chunks: Buffer[] = []
  await t.exec({ script: 'echo "$SSH_CONNECTION"\n', onStdout: c => chunks.push(c) })
  return Buffer.concat(chunks).toString().trim()
}

/** TCP connections sshd accepted on each address so far. */
function connectionsTo(address: string): number {
  const log = readFileSync(fleet.logFile, 'utf8')
  return log.split('\n').filter(l => new RegExp(`Connection from \\S+ port \\d+ on ${address.replaceAll('.', '\\.')} port`).test(l)).length
}

describe('ProxyJump', () => {
  it('reaches three hosts through one shared bastion connection, each host on its own', async () => {
    const behind = fleet.hosts.slice(2, 5)
    const config = sshConfig(behind.map((h, i) => `Host app-${i + 1}\n  HostName ${h.address}\n  ProxyJump bastion`).join('\n'))
    const s = session(config)
    const before = { bastion: connectionsTo(fleet.hosts[0]!.address), targets: behind.map(h => connectionsTo(h.address)) }
    const seen = await Promise.all(behind.map((_, i) => echo(s, aliasHost(`app-${i + 1}`))))
    // SSH_CONNECTION's server address is the target's: the session ran on the host behind the bastion
    seen.forEach((line, i) => expect(line.split(' ')[2]).toBe(behind[i]!.address))
    expect(s.jumps.connectionsMade).toBe(1)
    expect(connectionsTo(fleet.hosts[0]!.address) - before.bastion).toBe(1)
    behind.forEach((h, i) => expect(connectionsTo(h.address) - before.targets[i]!).toBe(1))
  })

  it('follows a chain of bastions, one connection per hop', async () => {
    const target = fleet.hosts[5]!
    const s = session(sshConfig(`Host deep\n  HostName ${target.address}\n  ProxyJump bastion,bastion2`))
    const before = [connectionsTo(fleet.hosts[0]!.address), connectionsTo(fleet.hosts[1]!.address)]
    expect((await echo(s, aliasHost('deep'))).split(' ')[2]).toBe(target.address)
    expect(s.jumps.connectionsMade).toBe(2)
    expect(connectionsTo(fleet.hosts[0]!.address) - before[0]!).toBe(1)
    expect(connectionsTo(fleet.hosts[1]!.address) - before[1]!).toBe(1)
  })

  it("checks the bastion's host key and names the bastion when it is unknown", async () => {
    const empty = join(scratch, 'known_hosts_empty')
    writeFileSync(empty, '')
    const s = session(sshConfig(`Host guarded\n  HostName ${fleet.hosts[2]!.address}\n  ProxyJump bastion`, empty))
    const err = await echo(s, aliasHost('guarded')).catch((e: unknown) => e)
    expect(err).toBeInstanceOf(HostKeyError)
    expect((err as Error).message).toMatch(
      new RegExp(
        `^bastion bastion: ${fleet.user}@${fleet.hosts[0]!.address.replaceAll('.', '\\.')}:${fleet.port}: host key .* is not in .*known_hosts_empty`,
      ),
    )
  })

  it('says which bastion could not reach the target', async () => {
    const s = session(sshConfig(`Host closed\n  HostName ${fleet.hosts[2]!.address}\n  Port 1\n  ProxyJump bastion`))
    const err = await echo(s, aliasHost('closed')).catch((e: unknown) => e)
    expect(err).toBeInstanceOf(HostUnreachableError)
    expect((err as Error).message).toContain(`bastion bastion cannot reach ${fleet.hosts[2]!.address}:1`)
  })

  it('takes a proxyJump written in the inventory over ssh_config', async () => {
    const s = session(sshConfig(''))
    const host: HostSpec = { ...aliasHost('direct'), address: fleet.hosts[3]!.address, proxyJump: 'bastion2', explicit: ['proxyJump'] }
    const before = connectionsTo(fleet.hosts[1]!.address)
    expect((await echo(s, host)).split(' ')[2]).toBe(fleet.hosts[3]!.address)
    expect(connectionsTo(fleet.hosts[1]!.address) - before).toBe(1)
  })
})

describe('ProxyCommand', () => {
  it("speaks SSH over the command's stdio", async () => {
    const target = fleet.hosts[4]!
    const s = session(
      sshConfig(
        `Host via-proxy\n  HostName ${target.address}\n  ProxyCommand ${process.execPath} ${join(scratch, 'proxy.mjs')} %h %p ${proxyLog}`,
      ),
    )
    appendFileSync(proxyLog, '')
    const before = readFileSync(proxyLog, 'utf8')
    expect((await echo(s, aliasHost('via-proxy'))).split(' ')[2]).toBe(target.address)
    expect(readFileSync(proxyLog, 'utf8').slice(before.length)).toBe(`${target.address}:${fleet.port}\n`)
  })

  it('reports a failing ProxyCommand with what it said on stderr', async () => {
    const s = session(
      sshConfig(
        `Host lost\n  HostName unreachable.test\n  ProxyCommand ${process.execPath} ${join(scratch, 'proxy.mjs')} %h %p ${proxyLog}`,
      ),
    )
    const err = await echo(s, aliasHost('lost')).catch((e: unknown) => e)
    expect(err).toBeInstanceOf(HostUnreachableError)
    expect((err as Error).message).toContain('ProxyCommand said: proxy: no route to unreachable.test')
  })
})
