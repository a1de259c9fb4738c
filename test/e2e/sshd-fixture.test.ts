import { access, readFile, stat } from 'node:fs/promises'
import { execa } from 'execa'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { countExecChannels, startFleet, type Fleet } from '../support/sshd.ts'

describe('sshd fixture', () => {
  let fleet: Fleet

  beforeAll(async () => {
    fleet = await startFleet({ hosts: 3, name: 'self-test' })
  })

  afterAll(async () => {
    await fleet?.stop()
  })

  it('describes three hosts on consecutive loopback aliases', async () => {
    expect(fleet.hosts.map(h => [h.name, h.address])).toEqual([
      ['host-1', '127.0.0.2'],
      ['host-2', '127.0.0.3'],
      ['host-3', '127.0.0.4'],
    ])
    for (const h of fleet.hosts) expect((await stat(h.root)).isDirectory()).toBe(true)
    expect(await countLines(fleet)).toBe(3)
  })

  it('lets OpenSSH log in with strict host key checking and counts the session on its host only', async () => {
    const result = await execa('ssh', [
      '-i',
      fleet.identityFile,
      '-o',
      `UserKnownHostsFile=${fleet.knownHosts}`,
      '-o',
      'StrictHostKeyChecking=yes',
      '-o',
      'BatchMode=yes',
      '-o',
      'IdentitiesOnly=yes',
      '-F',
      '/dev/null',
      '-p',
      String(fleet.port),
      `${fleet.user}@127.0.0.3`,
      'true',
    ])
    expect(result.exitCode).toBe(0)
    expect(Object.fromEntries(await fleet.execChannels())).toEqual({ '127.0.0.2': 0, '127.0.0.3': 1, '127.0.0.4': 0 })
  })

  it('refuses more hosts than sshd can listen on', async () => {
    await expect(startFleet({ hosts: 16 })).rejects.toThrow(/at most 15 hosts/)
  })

  it('stop() removes the temp dir', async () => {
    const other = await startFleet({ hosts: 1, name: 'stop-test' })
    await other.stop()
    await expect(access(other.dir)).rejects.toThrow()
  })
})

describe('countExecChannels', () => {
  it('maps sessions to the server address of their connection, even when a client port is reused', () => {
    const log = [
      'Connection from 127.0.0.1 port 40000 on 127.0.0.2 port 2222 rdomain ""',
      'Accepted publickey for verifytest from 127.0.0.1 port 40000 ssh2: ED25519 SHA256:x',
      'Starting session: command for verifytest from 127.0.0.1 port 40000 id 0',
      'Starting session: command for verifytest from 127.0.0.1 port 40000 id 1',
      'Connection from 127.0.0.1 port 40000 on 127.0.0.3 port 2222',
      'Starting session: shell on pts/0 for verifytest from 127.0.0.1 port 40000 id 0',
      "Starting session: subsystem 'sftp' for verifytest from 127.0.0.1 port 40000 id 1",
    ].join('\n')
    const counts = countExecChannels(log, [{ address: '127.0.0.2' }, { address: '127.0.0.3' }, { address: '127.0.0.4' }])
    expect(Object.fromEntries(counts)).toEqual({ '127.0.0.2': 2, '127.0.0.3': 1, '127.0.0.4': 0 })
  })
})

async function countLines(f: Fleet): Promise<number> {
  return (await readFile(f.knownHosts, 'utf8')).trim().split('\n').length
}
