import net from 'node:net'
import dgram from 'node:dgram'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import {
  compressIPv6,
  covers,
  expandIPv6,
  parseProcNet,
  parseProcNetLine,
  parseSocketTable,
  parseSs,
  port,
} from '../../../src/resources/system/port.ts'
import { onLocalHost } from '../../support/local-host.ts'

// Captured from `ss -ltnup` (iproute2 6.1) as root, with a node process listening on each kind of address.
const SS_ROOT = `Netid State  Recv-Q Send-Q      Local Address:Port  Peer Address:PortProcess
udp   UNCONN 0      0                 0.0.0.0:38085      0.0.0.0:*    users:(("node",pid=8963,fd=24))
udp   UNCONN 0      0                   [::1]:38086         [::]:*    users:(("node",pid=8963,fd=25))
udp   UNCONN 0      0           127.0.0.53%lo:53         0.0.0.0:*    users:(("systemd-resolve",pid=612,fd=13))
udp   UNCONN 0      0      [fe80::5054:ff:fe12:3456]%eth0:546       [::]:*    users:(("systemd-network",pid=598,fd=22))
tcp   LISTEN 0      511             127.0.0.1:38080      0.0.0.0:*    users:(("node",pid=8963,fd=19))
tcp   LISTEN 0      511                     *:38082            *:*    users:(("node",pid=8963,fd=21))
tcp   LISTEN 0      511                  [::]:38083         [::]:*    users:(("node",pid=8963,fd=22))
tcp   LISTEN 0      511    [::ffff:127.0.0.1]:38084            *:*    users:(("node",pid=8963,fd=23))
tcp   LISTEN 0      511                 [::1]:38081         [::]:*    users:(("node",pid=8963,fd=20))
tcp   LISTEN 0      511               0.0.0.0:80         0.0.0.0:*    users:(("nginx",pid=1201,fd=6),("nginx",pid=1200,fd=6),("nginx",pid=1199,fd=6))
tcp   LISTEN 0      128               0.0.0.0:2024       0.0.0.0:*
tcp   LISTEN 0      128               0.0.0.0:8125       0.0.0.0:*    users:(("we\\"ird, (x)",pid=77,fd=3))
`
// The same sockets seen by a non-root user: no Process column for other users' sockets.
const SS_USER = `Netid State  Recv-Q Send-Q      Local Address:Port  Peer Address:PortProcess
udp   UNCONN 0      0                 0.0.0.0:38085      0.0.0.0:*
tcp   LISTEN 0      511             127.0.0.1:38080      0.0.0.0:*
tcp   LISTEN 0      511                     *:38082            *:*
tcp   LISTEN 0      128             127.0.0.2:45453      0.0.0.0:*    users:(("sshd",pid=25273,fd=7))
`
// Captured /proc/net lines (x86_64, little-endian) for the same listeners, then ls -l of fds and comms.
const PROC_NET = `@tcp
  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode
   1: 0100007F:94C0 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 118459 1 00000000b6758fec 100 0 0 10 0
   2: 0100007F:A2F2 0100007F:94C0 01 00000000:00000000 00:00000000 00000000     0        0 118999 1 00000000b6758fec 100 0 0 10 0
@tcp6
  sl  local_address                         remote_address                        st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode
   0: 00000000000000000000000000000000:94C2 00000000000000000000000000000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 118461 1 00000000da70d8a6 100 0 0 10 0
   1: 00000000000000000000000000000000:94C3 00000000000000000000000000000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 118462 1 000000009989fa5c 100 0 0 10 0
   2: 0000000000000000FFFF00000100007F:94C4 00000000000000000000000000000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 118463 1 00000000299c0072 100 0 0 10 0
   3: 00000000000000000000000001000000:94C1 00000000000000000000000000000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 118460 1 000000009c00ecf3 100 0 0 10 0
@udp
   sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode ref pointer drops
 2193: 00000000:94C5 00000000:0000 07 00000000:00000000 00:00000000 00000000     0        0 118464 2 00000000475efec3 0
@udp6
  sl  local_address                         remote_address                        st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode ref pointer drops
 2194: 00000000000000000000000001000000:94C6 00000000000000000000000000000000:0000 07 00000000:00000000 00:00000000 00000000     0        0 118465 2 00000000705b106e 0
@fd
/proc/8963/fd:
lrwx------ 1 root root 64 Nov 23 06:51 19 -> socket:[118459]
lrwx------ 1 root root 64 Nov 23 06:51 20 -> socket:[118460]
lr-x------ 1 root root 64 Nov 23 06:51 7 -> /tmp/x -> socket:[118461]
/proc/9001/fd:
lrwx------ 1 root root 64 Nov 23 06:51 4 -> socket:[118459]
@comm
8963 node
9001 node worker
`

describe('parseSs', () => {
  const root = parseSs(SS_ROOT, true)

  it('reads TCP LISTEN and UDP UNCONN sockets, IPv4 and IPv6, with owners', () => {
    expect(root.find(l => l.port === 38080)).toEqual({
      protocol: 'tcp',
      address: '127.0.0.1',
      port: 38080,
      family: 4,
      owner: [{ name: 'node', pid: 8963 }],
    })
    expect(root.find(l => l.port === 38081)).toMatchObject({ address: '::1', family: 6 })
    expect(root.find(l => l.port === 38086)).toMatchObject({ protocol: 'udp', address: '::1', family: 6 })
    expect(root.find(l => l.port === 38085)).toMatchObject({ protocol: 'udp', address: '0.0.0.0', family: 4 })
  })

  it('tells `*` (IPv6 wildcard taking IPv4 too) from `[::]` (IPv6 only)', () => {
    expect(root.find(l => l.port === 38082)).toMatchObject({ address: '::', family: 6, v6only: false })
    expect(root.find(l => l.port === 38083)).toMatchObject({ address: '::', family: 6, v6only: true })
    expect(root.find(l => l.port === 38084)).toMatchObject({ address: '::ffff:127.0.0.1', family: 6 })
  })

  it('keeps the interface of a scoped address, every process of a shared socket, odd process names', () => {
    expect(root.find(l => l.port === 53)).toMatchObject({
      address: '127.0.0.53',
      interface: 'lo',
      owner: [{ name: 'systemd-resolve', pid: 612 }],
    })
    expect(root.find(l => l.port === 546)).toMatchObject({ address: 'fe80::5054:ff:fe12:3456', interface: 'eth0' })
    expect(root.find(l => l.port === 80)!.owner).toEqual([
      { name: 'nginx', pid: 1201 },
      { name: 'nginx', pid: 1200 },
      { name: 'nginx', pid: 1199 },
    ])
    expect(root.find(l => l.port === 8125)!.owner).toEqual([{ name: 'we\\"ird, (x)', pid: 77 }])
  })

  it('root without an owner: unknown; a user without an owner: unknown-without-privilege', () => {
    expect(root.find(l => l.port === 2024)!.owner).toBe('unknown')
    const user = parseSs(SS_USER, false)
    expect(user.find(l => l.port === 38080)!.owner).toBe('unknown-without-privilege')
    expect(user.find(l => l.port === 45453)!.owner).toEqual([{ name: 'sshd', pid: 25273 }])
  })

  it("parseSocketTable picks the parser from the snippet's first line", () => {
    expect(parseSocketTable(`ss 1001\n${SS_USER}`)).toMatchObject({ source: 'ss', privileged: false })
    expect(parseSocketTable(`proc 0 4241\n${PROC_NET}`)).toMatchObject({ source: 'proc', privileged: true })
    expect(() => parseSocketTable('garbage')).toThrow(/unexpected socket table output/)
  })
})

describe('/proc/net fallback', () => {
  it('decodes little-endian hex addresses, IPv6 words, ports; LISTEN and unconnected UDP only', () => {
    const listeners = parseProcNet(PROC_NET, true)
    expect(listeners.map(l => `${l.protocol} ${l.address} ${l.port}`)).toEqual([
      'tcp 127.0.0.1 38080',
      'tcp :: 38082',
      'tcp :: 38083',
      'tcp ::ffff:127.0.0.1 38084',
      'tcp ::1 38081',
      'udp 0.0.0.0 38085',
      'udp ::1 38086',
    ])
    // /proc cannot tell IPV6_V6ONLY: left unknown, so `::` is not taken to cover IPv4
    expect(listeners.find(l => l.port === 38082)!.v6only).toBeUndefined()
  })

  it('owners come from socket inodes in /proc/<pid>/fd; a target that only ends like a socket is not one', () => {
    const listeners = parseProcNet(PROC_NET, true)
    expect(listeners.find(l => l.port === 38080)!.owner).toEqual([
      { pid: 8963, name: 'node' },
      { pid: 9001, name: 'node worker' },
    ])
    expect(listeners.find(l => l.port === 38081)!.owner).toEqual([{ pid: 8963, name: 'node' }])
    expect(listeners.find(l => l.port === 38082)!.owner).toBe('unknown')
    expect(parseProcNet(PROC_NET, false).find(l => l.port === 38085)!.owner).toBe('unknown-without-privilege')
  })

  it('decodes big-endian hosts too', () => {
    expect(parseProcNetLine('   0: 7F000001:0050 00000000:0000 0A 0 0 0 0 0 0 1 1 1', false)).toMatchObject({
      address: '127.0.0.1',
      port: 80,
    })
    expect(
      parseProcNetLine('   0: 00000000000000000000000000000001:0050 00000000000000000000000000000000:0000 0A 0 0 0 0 0 0 1', false),
    ).toMatchObject({ address: '::1' })
    expect(parseProcNetLine('  sl  local_address rem_address   st', true)).toBeUndefined()
  })
})

describe('addresses', () => {
  it('IPv6 text forms round-trip to RFC 5952', () => {
    expect(compressIPv6(expandIPv6('::'))).toBe('::')
    expect(compressIPv6(expandIPv6('0:0:0:0:0:0:0:1'))).toBe('::1')
    expect(compressIPv6(expandIPv6('2001:DB8:0:0:1:0:0:1'))).toBe('2001:db8::1:0:0:1')
    expect(compressIPv6(expandIPv6('::ffff:7f00:1'))).toBe('::ffff:127.0.0.1')
    expect(compressIPv6(expandIPv6('fe80::1:0'))).toBe('fe80::1:0')
  })

  it('0.0.0.0 covers IPv4; :: covers IPv6, and IPv4 only when known dual-stack', () => {
    expect(covers({ address: '0.0.0.0', family: 4 }, '127.0.0.1')).toBe(true)
    expect(covers({ address: '0.0.0.0', family: 4 }, '::1')).toBe(false)
    expect(covers({ address: '::', family: 6, v6only: true }, '::1')).toBe(true)
    expect(covers({ address: '::', family: 6, v6only: true }, '127.0.0.1')).toBe(false)
    expect(covers({ address: '::', family: 6, v6only: false }, '127.0.0.1')).toBe(true)
    expect(covers({ address: '::', family: 6 }, '127.0.0.1')).toBe(false)
    expect(covers({ address: '127.0.0.1', family: 4 }, '127.0.0.2')).toBe(false)
    expect(covers({ address: '::ffff:127.0.0.1', family: 6 }, '127.0.0.1')).toBe(true)
    expect(covers({ address: '::1', family: 6 }, '[0:0::1]')).toBe(true)
    expect(() => covers({ address: '::1', family: 6 }, 'localhost')).toThrow(/not an IP address/)
  })
})

describe('port() on the local machine, through ss and through /proc', () => {
  const servers: net.Server[] = []
  const sockets: dgram.Socket[] = []
  let v4 = 0
  let dual = 0
  let v6 = 0
  let udp = 0
  let ipv6 = true

  const listen = (options: net.ListenOptions) =>
    new Promise<number>((resolve, reject) => {
      const s = net.createServer()
      servers.push(s)
      s.once('error', reject)
      s.listen({ port: 0, ...options }, () => resolve((s.address() as net.AddressInfo).port))
    })

  /** True when no process here holds `port` for `protocol` on any address (binding the wildcards works). */
  const freeFor = async (protocol: 'tcp' | 'udp', port: number): Promise<boolean> => {
    for (const host of ['0.0.0.0', '::']) {
      try {
        if (protocol === 'tcp') {
          const s = net.createServer()
          await new Promise<void>((resolve, reject) => {
            s.once('error', reject)
            s.listen({ port, host }, resolve)
          })
          await new Promise(r => s.close(r))
        } else {
          const u = dgram.createSocket(host === '::' ? 'udp6' : 'udp4')
          await new Promise<void>((resolve, reject) => {
            u.once('error', reject)
            u.bind(port, host, resolve)
          }).finally(() => u.close())
        }
      } catch (error) {
        // any other error (no IPv6 here): nothing can hold the port there either
        if ((error as NodeJS.ErrnoException).code === 'EADDRINUSE') return false
      }
    }
    return true
  }

  beforeAll(async () => {
    // "udp port as tcp: not listening" needs no other process of the suite listening on TCP
    // with the same number (and the other way round): ports are drawn until that holds
    for (let i = 0; i < 20; i++) {
      v4 = await listen({ host: '127.0.0.1' })
      if (await freeFor('udp', v4)) break
    }
    try {
      dual = await listen({ host: '::' })
      v6 = await listen({ host: '::1' })
    } catch {
      ipv6 = false // no IPv6 on this machine: the parsers are still tested on captured lines
    }
    for (let i = 0; i < 20; i++) {
      const u = dgram.createSocket('udp4')
      sockets.push(u)
      udp = await new Promise<number>(resolve => u.bind(0, '127.0.0.1', () => resolve(u.address().port)))
      if (await freeFor('tcp', udp)) break
    }
  })
  afterAll(async () => {
    await Promise.all(servers.map(s => new Promise(r => s.close(r))))
    for (const u of sockets) u.close()
  })

  it.each(['auto', 'proc'] as const)('source %s: listening, addresses, owner (our own process)', async source => {
    const { value, execCount } = await onLocalHost(() =>
      Promise.all([
        port(v4, { source }),
        port(udp, { protocol: 'udp', source }),
        port(udp, { source }),
        port(v4, { protocol: 'udp', source }),
      ]),
    )
    const [tcp, udpPort, udpAsTcp, tcpAsUdp] = value
    expect(execCount).toBe(1)
    expect(tcp).toMatchObject({ listening: true, addresses: ['127.0.0.1'], source: source === 'auto' ? 'ss' : 'proc' })
    expect(tcp.listeningOn('127.0.0.1')).toBe(true)
    expect(tcp.listeningOn('127.0.0.2')).toBe(false)
    expect(tcp.owner).toEqual(expect.arrayContaining([expect.objectContaining({ pid: globalThis.process.pid })]))
    expect(udpPort).toMatchObject({ listening: true, protocol: 'udp', addresses: ['127.0.0.1'] })
    expect(udpAsTcp.listening).toBe(false)
    expect(tcpAsUdp.listening).toBe(false)
    expect(udpAsTcp.owner).toEqual([])
  })

  it.each(['auto', 'proc'] as const)('source %s: IPv6 and the dual-stack wildcard', async source => {
    if (!ipv6) return
    const {
      value: [d, six],
    } = await onLocalHost(() => Promise.all([port(dual, { source }), port(v6, { source })]))
    expect(d.addresses).toEqual(['::'])
    expect(d.listeningOn('::1')).toBe(true)
    // ss says whether `::` takes IPv4 too; /proc cannot, so it does not claim it
    expect(d.listeningOn('127.0.0.1')).toBe(source === 'auto')
    expect(six.addresses).toEqual(['::1'])
    expect(six.listeningOn('::1')).toBe(true)
    expect(six.listeningOn('127.0.0.1')).toBe(false)
  })

  it("a port that is not a port is the spec's error", async () => {
    await expect(port(0)).rejects.toThrow(/1 to 65535/)
    await expect(port(65536)).rejects.toThrow(/1 to 65535/)
  })
})
