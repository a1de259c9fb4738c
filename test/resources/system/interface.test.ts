import { describe, expect, it } from 'vitest'
import { FactError } from '../../../src/errors.ts'
import {
  compressIpv6,
  expandIpv6,
  hasAddress,
  iface,
  interfaceFact,
  networkInterface,
  parseIfconfigInet,
  parseIfInet6,
  parseInterface,
  parseIpAddr,
  sameAddress,
} from '../../../src/resources/system/interface.ts'
import { onLocalHost } from '../../support/local-host.ts'
import { BASIC_TOOLS, runWithTools } from '../../support/restricted-path.ts'

// `ip -o addr show` on a Debian 12 host, plus a point-to-point tunnel and a labelled secondary address.
const IP_ADDR = `1: lo    inet 127.0.0.1/8 scope host lo\\       valid_lft forever preferred_lft forever
1: lo    inet6 ::1/128 scope host \\       valid_lft forever preferred_lft forever
4: eth0    inet 192.0.2.2/24 brd 192.0.2.255 scope global eth0\\       valid_lft forever preferred_lft forever
4: eth0    inet 192.0.2.9/24 brd 192.0.2.255 scope global secondary eth0:1\\       valid_lft forever preferred_lft forever
4: eth0    inet6 fd00::2/64 scope global nodad \\       valid_lft forever preferred_lft forever
4: eth0    inet6 fe80::fc:ff:fe00:1/64 scope link \\       valid_lft forever preferred_lft forever
7: tun0    inet 10.8.0.1 peer 10.8.0.2/32 scope global tun0\\       valid_lft forever preferred_lft forever
`

// net-tools ifconfig (Debian 12) and the older/busybox layout.
const IFCONFIG_NET_TOOLS = `eth0: flags=4163<UP,BROADCAST,RUNNING,MULTICAST>  mtu 1400
        inet 192.0.2.2  netmask 255.255.255.0  broadcast 192.0.2.255
        inet6 fe80::fc:ff:fe00:1  prefixlen 64  scopeid 0x20<link>
        ether 02:fc:00:00:00:01  txqueuelen 1000  (Ethernet)
`
const IFCONFIG_BUSYBOX = `eth0      Link encap:Ethernet  HWaddr 02:42:AC:11:00:02
          inet addr:172.17.0.2  Bcast:172.17.255.255  Mask:255.255.0.0
          inet6 addr: fe80::42:acff:fe11:2/64 Scope:Link
          UP BROADCAST RUNNING MULTICAST  MTU:1500  Metric:1
`
const IF_INET6 = `fe8000000000000000fc00fffe000001 04 40 20 80     eth0
00000000000000000000000000000001 01 80 10 80       lo
fd000000000000000000000000000002 04 40 00 82     eth0
`

describe('address parsing', () => {
  it('ip -o addr: IPv4 and IPv6 with prefix and scope, secondary addresses, point-to-point peers', () => {
    const all = parseIpAddr(IP_ADDR)
    expect(all.map(a => a.cidr)).toEqual([
      '127.0.0.1/8',
      '::1/128',
      '192.0.2.2/24',
      '192.0.2.9/24',
      'fd00::2/64',
      'fe80::fc:ff:fe00:1/64',
      '10.8.0.1/32',
    ])
    expect(all[5]).toEqual({
      family: 'inet6',
      address: 'fe80::fc:ff:fe00:1',
      prefixLength: 64,
      cidr: 'fe80::fc:ff:fe00:1/64',
      scope: 'link',
    })
  })

  it('ifconfig, both layouts, IPv4 with the netmask turned into a prefix', () => {
    expect(parseIfconfigInet(IFCONFIG_NET_TOOLS).map(a => a.cidr)).toEqual(['192.0.2.2/24'])
    expect(parseIfconfigInet(IFCONFIG_BUSYBOX).map(a => a.cidr)).toEqual(['172.17.0.2/16'])
  })

  it('/proc/net/if_inet6: hex address and prefix of the named interface only, compressed', () => {
    expect(parseIfInet6(IF_INET6, 'eth0')).toEqual([
      { family: 'inet6', address: 'fe80::fc:ff:fe00:1', prefixLength: 64, cidr: 'fe80::fc:ff:fe00:1/64', scope: 'link' },
      { family: 'inet6', address: 'fd00::2', prefixLength: 64, cidr: 'fd00::2/64', scope: 'global' },
    ])
    expect(parseIfInet6(IF_INET6, 'lo')[0]).toMatchObject({ address: '::1', prefixLength: 128, scope: 'host' })
  })

  it('IPv6 spellings compare equal', () => {
    expect(expandIpv6('fd00::2')).toBe('fd00:0:0:0:0:0:0:2')
    expect(expandIpv6('::ffff:192.0.2.1')).toBe('0:0:0:0:0:ffff:c000:201')
    expect(expandIpv6('1::2::3')).toBeUndefined()
    expect(compressIpv6('0:0:0:0:0:0:0:1')).toBe('::1')
    expect(compressIpv6('2001:db8:0:0:1:0:0:1')).toBe('2001:db8::1:0:0:1')
    expect(sameAddress('FD00:0000::0002', 'fd00::2')).toBe(true)
    expect(sameAddress('10.0.0.1', '10.0.0.10')).toBe(false)
  })

  it('hasAddress: with or without prefix', () => {
    const facts = { addresses: parseIpAddr(IP_ADDR) }
    expect(hasAddress(facts, '192.0.2.2')).toBe(true)
    expect(hasAddress(facts, '192.0.2.2/24')).toBe(true)
    expect(hasAddress(facts, '192.0.2.2/16')).toBe(false)
    expect(hasAddress(facts, 'fd00:0::2/64')).toBe(true)
    expect(hasAddress(facts, '192.0.2.3')).toBe(false)
  })
})

describe('parseInterface', () => {
  const sys = 'ok\nflags=0x1003\noperstate=up\nmtu=1400\naddress=02:fc:00:00:00:01\ncarrier=1\nspeed=-1\n'

  it('link state from /sys: admin up, carrier, operstate, MTU; a bogus speed is dropped', () => {
    const f = parseInterface('eth0', `${sys}--ip\n${IP_ADDR}`)
    expect(f).toMatchObject({
      name: 'eth0',
      exists: true,
      adminUp: true,
      up: true,
      operState: 'up',
      mtu: 1400,
      mac: '02:fc:00:00:00:01',
      speed: undefined,
      addressSource: 'ip',
    })
  })

  it('an interface that is administratively down has no carrier file to read: down', () => {
    const f = parseInterface('ifb0', 'ok\nflags=0x82\noperstate=down\nmtu=1500\n--ip\n')
    expect(f).toMatchObject({ exists: true, adminUp: false, up: false, operState: 'down', addresses: [] })
  })

  it('without ip: ifconfig for IPv4 and if_inet6 for IPv6; without either: an error naming both', () => {
    const f = parseInterface('eth0', `${sys}--ifconfig\n${IFCONFIG_NET_TOOLS}--if_inet6\n${IF_INET6}`)
    expect(f.addresses.map(a => a.cidr)).toEqual(['192.0.2.2/24', 'fe80::fc:ff:fe00:1/64', 'fd00::2/64'])
    expect(f.addressSource).toBe('ifconfig')
    expect(() => parseInterface('eth0', `${sys}--none\n--if_inet6\n${IF_INET6}`)).toThrow(FactError)
    expect(() => parseInterface('eth0', `${sys}--none\n--if_inet6\n`)).toThrow(/neither ip nor ifconfig/)
  })

  it('a missing interface does not exist (an answer, not an error)', () => {
    expect(parseInterface('nope', 'missing\n')).toEqual({ name: 'nope', exists: false, adminUp: false, up: false, addresses: [] })
  })
})

describe('networkInterface() on this machine', () => {
  it('lo: up, MTU, 127.0.0.1/8', async () => {
    const { value, execCount } = await onLocalHost(() =>
      Promise.all([iface('lo'), iface('lo').ipv4, iface('lo').hasAddress('127.0.0.1/8'), networkInterface('nope0')]),
    )
    expect(value[0]).toMatchObject({ exists: true, adminUp: true, up: true })
    expect(value[0].mtu).toBeGreaterThan(0)
    expect(value[1]).toContain('127.0.0.1/8')
    expect(value[2]).toBe(true)
    expect(value[3].exists).toBe(false)
    expect(execCount).toBe(1)
  })

  it('hostile names are data: no interface of that name, nothing runs', async () => {
    const names = ['$(id>&2)', '`id`', "it's", '-rf', 'a"b;id']
    const { value } = await onLocalHost(() => Promise.all(names.map(n => iface(n))))
    expect(value.every(f => !f.exists)).toBe(true)
  })

  it('names Linux could never have are refused here', () => {
    for (const bad of ['', '.', '..', 'a/b', 'eth0:1', 'has space', 'x'.repeat(16), 'new\nline'])
      expect(() => iface(bad)).toThrow(TypeError)
  })

  it('the same answers from ifconfig + /proc/net/if_inet6 when ip is missing; an error when ifconfig is missing too', async () => {
    const viaIfconfig = await runWithTools(interfaceFact('lo'), [...BASIC_TOOLS, 'ifconfig'])
    const facts = viaIfconfig.parse()
    expect(facts.addressSource).toBe('ifconfig')
    expect(facts.addresses.map(a => a.cidr)).toContain('127.0.0.1/8')
    const bare = await runWithTools(interfaceFact('lo'), BASIC_TOOLS)
    expect(() => bare.parse()).toThrow(/neither ip nor ifconfig/)
  })
})
