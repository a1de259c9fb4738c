// networkInterface(name) / iface(name): a network interface of the host: link state and MTU
// from /sys/class/net, addresses from `ip -o addr`, else ifconfig (IPv4) and /proc/net/if_inet6.
import { FactError } from '../../errors.ts'
import { readFact } from '../../dsl/context.ts'
import { defineFact, type FactRequest } from '../../probe/fact.ts'
import { snippet } from '../../probe/snippet.ts'

export interface InterfaceAddress {
  family: 'inet' | 'inet6'
  /** As the host prints it: `192.0.2.2`, `fe80::fc:ff:fe00:1`. */
  address: string
  prefixLength: number
  /** `192.0.2.2/24`. */
  cidr: string
  /** `host`, `link`, `global`, … when the host says. */
  scope?: string
}

export interface InterfaceFacts {
  name: string
  exists: boolean
  /** Administratively up (IFF_UP: `ip link set NAME up`). */
  adminUp: boolean
  /** Up and with a carrier: traffic can flow (what `ip link` shows as UP,LOWER_UP). */
  up: boolean
  /** The kernel's operstate: `up`, `down`, `unknown` (loopback), `dormant`, …; Serverspec's `be_up` is `operState === 'up'`. */
  operState?: string
  mtu?: number
  /** Link-layer address (`02:fc:00:00:00:01`). */
  mac?: string
  /** Link speed in Mb/s, when the driver reports one. */
  speed?: number
  addresses: InterfaceAddress[]
  /** Where the addresses came from: `ip`, `ifconfig` (IPv4) + `/proc/net/if_inet6`. */
  addressSource?: 'ip' | 'ifconfig'
}

const IFACE_SCRIPT = snippet(import.meta.url, 'interface.sh')

const IFF_UP = 0x1

/** Linux's own rule for interface names (dev_valid_name): short, no '/', ':' or space, not '.' or '..'. */
function assertInterfaceName(name: string): void {
  if (typeof name !== 'string' || name.length === 0 || name.length > 15 || name === '.' || name === '..' || /[/:\s]/.test(name)) {
    throw new TypeError(`networkInterface: ${JSON.stringify(name)} is not a valid interface name`)
  }
}

export function interfaceFact(name: string): FactRequest<InterfaceFacts> {
  return defineFact({
    key: `interface:${name}`,
    describe: `interface ${name}`,
    script: IFACE_SCRIPT,
    args: [name],
    parse: raw => parseInterface(name, raw.stdout.toString('utf8')),
  })
}

export function parseInterface(name: string, out: string): InterfaceFacts {
  const lines = out.split('\n')
  if (lines[0] === 'missing') return { name, exists: false, adminUp: false, up: false, addresses: [] }
  if (lines[0] !== 'ok') throw new Error(`unexpected interface output: ${JSON.stringify(out.slice(0, 80))}`)
  const attrs = new Map<string, string>()
  let i = 1
  for (; i < lines.length && !lines[i]!.startsWith('--'); i++) {
    const eq = lines[i]!.indexOf('=')
    if (eq > 0) attrs.set(lines[i]!.slice(0, eq), lines[i]!.slice(eq + 1).trim())
  }
  const sections = splitSections(lines.slice(i))
  let addresses: InterfaceAddress[]
  let addressSource: InterfaceFacts['addressSource']
  if (sections.has('ip')) {
    addresses = parseIpAddr(sections.get('ip')!)
    addressSource = 'ip'
  } else if (sections.has('ifconfig')) {
    addresses = [...parseIfconfigInet(sections.get('ifconfig')!), ...parseIfInet6(sections.get('if_inet6') ?? '', name)]
    addressSource = 'ifconfig'
  } else {
    throw new FactError(`interface ${name}: neither ip nor ifconfig is installed on the host, so its IPv4 addresses cannot be read`)
  }
  const flags = Number.parseInt(attrs.get('flags') ?? '0', 16)
  const adminUp = (flags & IFF_UP) !== 0
  const speed = numberOr(attrs.get('speed'))
  return {
    name,
    exists: true,
    adminUp,
    // carrier cannot be read while the interface is down: no carrier then
    up: adminUp && attrs.get('carrier') === '1',
    operState: attrs.get('operstate'),
    mtu: numberOr(attrs.get('mtu')),
    mac: attrs.get('address') || undefined,
    speed: speed !== undefined && speed > 0 ? speed : undefined,
    addresses,
    addressSource,
  }
}

function splitSections(lines: string[]): Map<string, string> {
  const sections = new Map<string, string>()
  let current: string | undefined
  for (const line of lines) {
    if (line.startsWith('--') && /^--[a-z_0-9]+$/.test(line)) {
      current = line.slice(2)
      sections.set(current, '')
    } else if (current) {
      sections.set(current, `${sections.get(current)}${line}\n`)
    }
  }
  return sections
}

function numberOr(text: string | undefined): number | undefined {
  if (text === undefined || !/^-?\d+$/.test(text)) return undefined
  return Number(text)
}

/**
 * `ip -o addr show dev NAME`: one line per address, e.g.
 * `4: eth0    inet 192.0.2.2/24 brd 192.0.2.255 scope global eth0\       valid_lft forever …`
 * or, point-to-point, `inet 10.0.0.1 peer 10.0.0.2/32 scope global tun0`.
 */
export function parseIpAddr(text: string): InterfaceAddress[] {
  const out: InterfaceAddress[] = []
  for (const line of text.split('\n')) {
    const m = /\s(inet6?)\s+([0-9A-Fa-f.:]+)(?:\/(\d+))?(?:\s+peer\s+[0-9A-Fa-f.:]+\/(\d+))?/.exec(line)
    if (!m) continue
    const family = m[1] as 'inet' | 'inet6'
    const prefix = Number(m[3] ?? m[4] ?? (family === 'inet' ? 32 : 128))
    const scope = /\sscope\s+(\S+)/.exec(line)?.[1]
    out.push(address(family, m[2]!, prefix, scope))
  }
  return out
}

/** net-tools `inet 192.0.2.2  netmask 255.255.255.0` and busybox/old `inet addr:192.0.2.2  Mask:255.255.255.0`. */
export function parseIfconfigInet(text: string): InterfaceAddress[] {
  const out: InterfaceAddress[] = []
  for (const line of text.split('\n')) {
    const m = /\binet (?:addr:)?(\d+\.\d+\.\d+\.\d+)/.exec(line)
    if (!m) continue
    const mask = /(?:netmask |Mask:)(\d+\.\d+\.\d+\.\d+|0x[0-9a-fA-F]{8})/.exec(line)?.[1]
    out.push(address('inet', m[1]!, mask ? maskToPrefix(mask) : 32))
  }
  return out
}

/** /proc/net/if_inet6: `fe8000000000000000fc00fffe000001 04 40 20 80     eth0` (address, index, prefix, scope, flags, name; hex). */
export function parseIfInet6(text: string, name: string): InterfaceAddress[] {
  const out: InterfaceAddress[] = []
  for (const line of text.split('\n')) {
    const f = line.trim().split(/\s+/)
    if (f.length < 6 || f[5] !== name || !/^[0-9a-fA-F]{32}$/.test(f[0]!)) continue
    const scopeId = Number.parseInt(f[3]!, 16) & 0xf0
    const scope = scopeId === 0x10 ? 'host' : scopeId === 0x20 ? 'link' : scopeId === 0x40 ? 'site' : 'global'
    out.push(address('inet6', compressIpv6(f[0]!.match(/.{4}/g)!.join(':')), Number.parseInt(f[2]!, 16), scope))
  }
  return out
}

function address(family: 'inet' | 'inet6', addr: string, prefixLength: number, scope?: string): InterfaceAddress {
  return { family, address: addr, prefixLength, cidr: `${addr}/${prefixLength}`, scope }
}

function maskToPrefix(mask: string): number {
  const value = mask.startsWith('0x') ? Number.parseInt(mask, 16) : mask.split('.').reduce((acc, octet) => acc * 256 + Number(octet), 0)
  let bits = 0
  for (let v = value >>> 0; v & 0x80000000; v = (v << 1) >>> 0) bits++
  return bits
}

/** Eight 16-bit groups, lower case, no leading zeros: the form every IPv6 spelling maps to. */
export function expandIpv6(addr: string): string | undefined {
  let text = addr.toLowerCase().replace(/%.*$/, '')
  // an embedded IPv4 tail (::ffff:192.0.2.1) becomes two groups
  const v4 = /(\d+)\.(\d+)\.(\d+)\.(\d+)$/.exec(text)
  if (v4) {
    const [a, b, c, d] = v4.slice(1).map(Number) as [number, number, number, number]
    text = `${text.slice(0, v4.index)}${((a << 8) | b).toString(16)}:${((c << 8) | d).toString(16)}`
  }
  const halves = text.split('::')
  if (halves.length > 2) return undefined
  const head = halves[0] ? halves[0].split(':') : []
  const tail = halves.length === 2 && halves[1] ? halves[1].split(':') : []
  const missing = 8 - head.length - tail.length
  if (halves.length === 1 ? missing !== 0 : missing < 1) return undefined
  const groups = [...head, ...Array<string>(halves.length === 2 ? missing : 0).fill('0'), ...tail]
  if (!groups.every(g => /^[0-9a-f]{1,4}$/.test(g))) return undefined
  return groups.map(g => Number.parseInt(g, 16).toString(16)).join(':')
}

/** RFC 5952 text form: the longest run of zero groups (two or more) becomes `::`. */
export function compressIpv6(addr: string): string {
  const full = expandIpv6(addr)
  if (!full) return addr
  const groups = full.split(':')
  let bestStart = -1
  let bestLen = 1
  for (let i = 0; i < 8;) {
    if (groups[i] !== '0') {
      i++
      continue
    }
    let j = i
    while (j < 8 && groups[j] === '0') j++
    if (j - i > bestLen) {
      bestStart = i
      bestLen = j - i
    }
    i = j
  }
  if (bestStart < 0) return groups.join(':')
  return `${groups.slice(0, bestStart).join(':')}::${groups.slice(bestStart + bestLen).join(':')}`
}

/** Same address, however it is spelled (IPv6 zero compression, case). */
export function sameAddress(a: string, b: string): boolean {
  if (a.includes(':') || b.includes(':')) {
    const x = expandIpv6(a)
    return x !== undefined && x === expandIpv6(b)
  }
  return a === b
}

/**
 * `192.0.2.2` matches that address with any prefix; `192.0.2.2/24` also needs the prefix
 * (Serverspec's have_ipv4_address takes both forms).
 */
export function hasAddress(facts: Pick<InterfaceFacts, 'addresses'>, wanted: string): boolean {
  const [addr, prefix] = wanted.split('/') as [string, string | undefined]
  return facts.addresses.some(a => sameAddress(a.address, addr) && (prefix === undefined || a.prefixLength === Number(prefix)))
}

export class InterfaceRef implements PromiseLike<InterfaceFacts> {
  constructor(readonly name: string) {}

  then<A = InterfaceFacts, B = never>(
    onFulfilled?: ((value: InterfaceFacts) => A | PromiseLike<A>) | null,
    onRejected?: ((reason: unknown) => B | PromiseLike<B>) | null,
  ): Promise<A | B> {
    return readFact(interfaceFact(this.name)).then(onFulfilled, onRejected)
  }

  /** IPv4 addresses as `address/prefix`. */
  get ipv4(): Promise<string[]> {
    return this.then(f => f.addresses.filter(a => a.family === 'inet').map(a => a.cidr))
  }

  /** IPv6 addresses as `address/prefix`. */
  get ipv6(): Promise<string[]> {
    return this.then(f => f.addresses.filter(a => a.family === 'inet6').map(a => a.cidr))
  }

  /** The interface carries this address (`10.0.0.5`, or with its prefix, `10.0.0.5/24`; IPv6 in any spelling). */
  hasAddress(address: string): Promise<boolean> {
    return this.then(f => hasAddress(f, address))
  }
}

export function networkInterface(name: string): InterfaceRef {
  assertInterfaceName(name)
  return new InterfaceRef(name)
}

/** Short name for networkInterface (`interface` is a reserved word in TypeScript). */
export const iface = networkInterface
