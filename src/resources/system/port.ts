// port(n): is something listening on a TCP port (or bound to a UDP port), on which addresses,
// and which process owns it where the platform tells. One fact per host lists every listening
// socket (`ss -ltnup`; /proc/net/{tcp,tcp6,udp,udp6} when ss is missing), shared by all port checks.
import { isIP } from 'node:net'
import { FactError } from '../../errors.ts'
import { readFact } from '../../dsl/context.ts'
import { defineFact, type FactRequest } from '../../probe/fact.ts'
import { snippet } from '../../probe/snippet.ts'

export type PortProtocol = 'tcp' | 'udp'

export interface OwnerProcess {
  pid: number
  name: string
}

/**
 * Who owns a socket: the processes, or why we cannot tell. Without root, `ss -p` and /proc only
 * show the probe user's own processes: `unknown-without-privilege`. `unknown`: even root was not
 * told (a kernel-owned socket, or a process in another namespace).
 */
export type PortOwner = OwnerProcess[] | 'unknown-without-privilege' | 'unknown' | 'not-read'

export interface Listener {
  protocol: PortProtocol
  /** As the kernel has it, IPv6 compressed: `0.0.0.0`, `127.0.0.1`, `::`, `::1`, `::ffff:10.0.0.5`. */
  address: string
  port: number
  family: 4 | 6
  /** `%lo` in `127.0.0.53%lo:53`: bound to one interface. */
  interface?: string
  /** For `::`: true when it takes IPv6 only, false when IPv4 too (ss shows `*`); undefined when unknown (/proc). */
  v6only?: boolean
  owner: PortOwner
}

export interface PortOptions {
  protocol?: PortProtocol
  /** false: no owners (`owner` is 'not-read'); spares the host `ss -p`'s walk of every process's file descriptors. */
  owner?: boolean
  /** `proc` reads /proc/net even when ss is installed (the fallback path, for comparison). */
  source?: 'auto' | 'proc'
}

export interface PortFacts {
  port: number
  protocol: PortProtocol
  /** TCP: in LISTEN state; UDP: bound and not connected (what `ss -lu` lists). */
  listening: boolean
  /** Distinct addresses it listens on. */
  addresses: string[]
  listeners: Listener[]
  /** Owners of all its sockets merged; [] when nothing listens. */
  owner: PortOwner
  /** Where the answer came from. */
  source: 'ss' | 'proc'
  /** Listening on this address, a wildcard counting: 0.0.0.0 covers IPv4, `::` IPv6 (and IPv4 when dual-stack). */
  listeningOn(address: string): boolean
}

export interface SocketTable {
  source: 'ss' | 'proc'
  /** The probe ran as root: a socket without a visible owner is really unknown, not hidden. */
  privileged: boolean
  listeners: Listener[]
}

const TABLE_SCRIPT = snippet(import.meta.url, 'port.sh')

export function socketTableFact(source: 'auto' | 'proc' = 'auto', owners = true): FactRequest<SocketTable> {
  return defineFact({
    key: `listening-sockets:${source}${owners ? '' : ':no-owners'}`,
    describe: source === 'proc' ? 'listening sockets (/proc/net)' : `listening sockets (ss -ltnu${owners ? 'p' : ''})`,
    script: TABLE_SCRIPT,
    inline: true,
    args: [source, owners ? 'owners' : 'no-owners'],
    maxBytes: 16 * 1024 * 1024,
    parse: (raw, request) => {
      if (raw.truncated) throw new FactError(`${request.describe}: output larger than 16 MiB`)
      return parseSocketTable(raw.stdout.toString('utf8'), owners)
    },
  })
}

export function parseSocketTable(text: string, owners = true): SocketTable {
  // ss was there but failed: what follows is the /proc/net answer
  const fallback = text.indexOf('\n@@fallback\n')
  const out = fallback >= 0 ? text.slice(fallback + '\n@@fallback\n'.length) : text
  const newline = out.indexOf('\n')
  const head = out.slice(0, newline).split(' ')
  const body = out.slice(newline + 1)
  const privileged = head[1] === '0'
  const table =
    head[0] === 'ss'
      ? { source: 'ss' as const, privileged, listeners: parseSs(body, privileged) }
      : head[0] === 'proc'
        ? { source: 'proc' as const, privileged, listeners: parseProcNet(body, privileged, head[2] !== '4142') }
        : undefined
  if (table && !owners) for (const l of table.listeners) l.owner = 'not-read'
  if (table) return table
  throw new Error(`unexpected socket table output: ${JSON.stringify(out.slice(0, 80))}`)
}

// ---------------------------------------------------------------------------------------------
// ss -ltnup

const USERS = /\("((?:[^"]|"(?!,pid=))*)",pid=(\d+),fd=\d+\)/g

/** Lines like `tcp LISTEN 0 128 [::ffff:127.0.0.1]:80 *:* users:(("nginx",pid=12,fd=6))`. */
export function parseSs(text: string, privileged: boolean): Listener[] {
  const listeners: Listener[] = []
  for (const line of text.split('\n')) {
    const fields = line.trim().split(/\s+/)
    const [netid, state, , , local] = fields
    if (!local || (netid !== 'tcp' && netid !== 'udp')) continue // the header, blank lines
    if ((netid === 'tcp' && state !== 'LISTEN') || (netid === 'udp' && state !== 'UNCONN')) continue
    const endpoint = parseSsEndpoint(local)
    if (!endpoint) throw new Error(`unexpected ss local address ${JSON.stringify(local)} in ${JSON.stringify(line)}`)
    const processes = [...line.matchAll(USERS)].map(m => ({ name: m[1]!, pid: Number(m[2]) }))
    listeners.push({ protocol: netid, ...endpoint, owner: ownerOf(processes, privileged) })
  }
  return listeners
}

function parseSsEndpoint(text: string): Omit<Listener, 'protocol' | 'owner'> | undefined {
  let host: string
  let port: string
  if (text.startsWith('[')) {
    // `[::1]:53`, and with an interface `[fe80::1]%eth0:546` (ss puts it outside the brackets)
    const m = /^\[([^\]]+)\](%[^:]+)?:(\d+)$/.exec(text)
    if (!m) return undefined
    host = `${m[1]}${m[2] ?? ''}`
    port = m[3]!
  } else {
    const colon = text.lastIndexOf(':')
    if (colon < 0) return undefined
    host = text.slice(0, colon)
    port = text.slice(colon + 1)
  }
  if (!/^\d+$/.test(port)) return undefined
  const percent = host.indexOf('%')
  const iface = percent >= 0 ? host.slice(percent + 1) : undefined
  if (percent >= 0) host = host.slice(0, percent)
  // ss prints `*` for an IPv6 wildcard that also takes IPv4 (not IPV6_V6ONLY)
  if (host === '*') return { address: '::', port: Number(port), family: 6, v6only: false, ...(iface ? { interface: iface } : {}) }
  const family = isIP(host)
  if (family !== 4 && family !== 6) return undefined
  const address = family === 6 ? compressIPv6(expandIPv6(host)) : host
  return { address, port: Number(port), family, ...(address === '::' ? { v6only: true } : {}), ...(iface ? { interface: iface } : {}) }
}

function ownerOf(processes: OwnerProcess[], privileged: boolean): PortOwner {
  if (processes.length > 0) return processes
  return privileged ? 'unknown' : 'unknown-without-privilege'
}

// ---------------------------------------------------------------------------------------------
// /proc/net/{tcp,tcp6,udp,udp6}

const TCP_LISTEN = '0A'
const UDP_UNCONNECTED = '07'

/** Sections `@tcp`…, `@fd` (ls -l of /proc/<pid>/fd) and `@comm` (pid name), as the snippet prints them. */
export function parseProcNet(text: string, privileged: boolean, littleEndian = true): Listener[] {
  const sections = new Map<string, string[]>()
  let current: string[] | undefined
  for (const line of text.split('\n')) {
    const section = /^@(tcp6?|udp6?|fd|comm)$/.exec(line)?.[1]
    if (section) sections.set(section, (current = []))
    else current?.push(line)
  }
  const owners = socketOwners(sections.get('fd') ?? [], sections.get('comm') ?? [])
  const listeners: Listener[] = []
  for (const table of ['tcp', 'tcp6', 'udp', 'udp6'] as const) {
    const protocol: PortProtocol = table.startsWith('tcp') ? 'tcp' : 'udp'
    for (const line of sections.get(table) ?? []) {
      const socket = parseProcNetLine(line, littleEndian)
      if (!socket || socket.state !== (protocol === 'tcp' ? TCP_LISTEN : UDP_UNCONNECTED)) continue
      listeners.push({
        protocol,
        address: socket.address,
        port: socket.port,
        family: socket.family,
        owner: ownerOf(owners.get(socket.inode) ?? [], privileged),
      })
    }
  }
  return listeners
}

/** `   0: 0100007F:1F90 00000000:0000 0A … uid timeout inode …` → local endpoint, state, inode. */
export function parseProcNetLine(
  line: string,
  littleEndian = true,
): { address: string; port: number; family: 4 | 6; state: string; inode: string } | undefined {
  const fields = line.trim().split(/\s+/)
  if (!/^\d+:$/.test(fields[0] ?? '')) return undefined // the header
  const [hexAddress = '', hexPort = ''] = (fields[1] ?? '').split(':')
  const state = fields[3] ?? ''
  const inode = fields[9] ?? ''
  if (hexAddress.length === 8)
    return { address: hexToIPv4(hexAddress, littleEndian), port: Number.parseInt(hexPort, 16), family: 4, state, inode }
  if (hexAddress.length === 32)
    return { address: hexToIPv6(hexAddress, littleEndian), port: Number.parseInt(hexPort, 16), family: 6, state, inode }
  throw new Error(`unexpected /proc/net line: ${JSON.stringify(line)}`)
}

/** The kernel prints each 32-bit word of the address in host byte order. */
function wordBytes(word: string, littleEndian: boolean): number[] {
  const bytes = [0, 2, 4, 6].map(i => Number.parseInt(word.slice(i, i + 2), 16))
  return littleEndian ? bytes.reverse() : bytes
}

function hexToIPv4(hex: string, littleEndian: boolean): string {
  return wordBytes(hex, littleEndian).join('.')
}

function hexToIPv6(hex: string, littleEndian: boolean): string {
  const bytes = [0, 8, 16, 24].flatMap(i => wordBytes(hex.slice(i, i + 8), littleEndian))
  const groups: number[] = []
  for (let i = 0; i < 16; i += 2) groups.push((bytes[i]! << 8) | bytes[i + 1]!)
  return compressIPv6(groups)
}

/** socket inode → owning processes, from `ls -l /proc/<pid>/fd` (headers `/proc/<pid>/fd:`). */
function socketOwners(fdLines: string[], commLines: string[]): Map<string, OwnerProcess[]> {
  const names = new Map<number, string>()
  for (const line of commLines) {
    const space = line.indexOf(' ')
    if (space > 0) names.set(Number(line.slice(0, space)), line.slice(space + 1))
  }
  const owners = new Map<string, OwnerProcess[]>()
  let pid: number | undefined
  for (const line of fdLines) {
    const header = /^\/proc\/(\d+)\/fd:$/.exec(line)
    if (header) {
      pid = Number(header[1])
      continue
    }
    // `lrwx------ 1 root root 64 Jun  1 12:00 3 -> socket:[12345]`: the target after the fd number
    const inode = / \d+ -> socket:\[(\d+)\]$/.exec(line)?.[1]
    if (inode === undefined || pid === undefined) continue
    const list = owners.get(inode) ?? []
    if (!list.some(p => p.pid === pid)) list.push({ pid, name: names.get(pid) ?? '?' })
    owners.set(inode, list)
  }
  return owners
}

// ---------------------------------------------------------------------------------------------
// IPv6 text forms

/** Eight 16-bit groups from any valid text form (`::`, `::1`, `::ffff:1.2.3.4`). */
export function expandIPv6(address: string): number[] {
  let text = address.toLowerCase()
  const v4 = /(\d+\.\d+\.\d+\.\d+)$/.exec(text)?.[1]
  if (v4) {
    const [a, b, c, d] = v4.split('.').map(Number) as [number, number, number, number]
    text = `${text.slice(0, -v4.length)}${((a << 8) | b).toString(16)}:${((c << 8) | d).toString(16)}`
  }
  const [left = '', right] = text.split('::')
  const head = left ? left.split(':') : []
  const tail = right ? right.split(':') : []
  const zeros = right === undefined ? [] : new Array<string>(8 - head.length - tail.length).fill('0')
  return [...head, ...zeros, ...tail].map(g => Number.parseInt(g, 16))
}

/** RFC 5952 text: longest zero run as `::`, IPv4-mapped addresses as `::ffff:a.b.c.d`. */
export function compressIPv6(groups: number[]): string {
  if (groups.slice(0, 5).every(g => g === 0) && groups[5] === 0xffff) {
    return `::ffff:${groups[6]! >> 8}.${groups[6]! & 255}.${groups[7]! >> 8}.${groups[7]! & 255}`
  }
  let bestStart = -1
  let bestLength = 0
  for (let i = 0; i < 8;) {
    if (groups[i] !== 0) {
      i++
      continue
    }
    let j = i
    while (j < 8 && groups[j] === 0) j++
    if (j - i > bestLength && j - i > 1) {
      bestStart = i
      bestLength = j - i
    }
    i = j
  }
  const hex = groups.map(g => g.toString(16))
  if (bestStart < 0) return hex.join(':')
  return `${hex.slice(0, bestStart).join(':')}::${hex.slice(bestStart + bestLength).join(':')}`
}

// ---------------------------------------------------------------------------------------------
// Coverage

function normalizeAddress(address: string): { family: 4 | 6; text: string } {
  const bare = address.replace(/^\[(.*)\]$/, '$1').replace(/%.*$/, '')
  const family = isIP(bare)
  if (family === 4) return { family: 4, text: bare }
  if (family === 6) {
    const text = compressIPv6(expandIPv6(bare))
    // an IPv4-mapped address is the IPv4 address as far as who accepts it goes
    return text.startsWith('::ffff:') && isIP(text.slice(7)) === 4 ? { family: 4, text: text.slice(7) } : { family: 6, text }
  }
  throw new Error(`listeningOn(${JSON.stringify(address)}): not an IP address`)
}

/** Whether a socket bound as `listener` accepts connections to `address`. */
export function covers(listener: Pick<Listener, 'address' | 'family' | 'v6only'>, address: string): boolean {
  const target = normalizeAddress(address)
  const bound = normalizeAddress(listener.address)
  if (bound.family === 4 && bound.text === '0.0.0.0') return target.family === 4
  if (bound.family === 6 && bound.text === '::') return target.family === 6 || (target.family === 4 && listener.v6only === false)
  return bound.family === target.family && bound.text === target.text
}

function portFacts(port: number, protocol: PortProtocol, table: SocketTable): PortFacts {
  const listeners = table.listeners.filter(l => l.port === port && l.protocol === protocol)
  const facts: PortFacts = {
    port,
    protocol,
    listening: listeners.length > 0,
    addresses: [...new Set(listeners.map(l => l.address))],
    listeners,
    owner: mergeOwners(listeners),
    source: table.source,
    listeningOn: (address: string) => listeners.some(l => covers(l, address)),
  }
  // a method, not data: keep it out of toEqual and JSON
  Object.defineProperty(facts, 'listeningOn', { enumerable: false })
  return facts
}

function mergeOwners(listeners: Listener[]): PortOwner {
  const known = new Map<number, OwnerProcess>()
  for (const l of listeners) if (Array.isArray(l.owner)) for (const p of l.owner) known.set(p.pid, p)
  if (known.size > 0 || listeners.length === 0) return [...known.values()]
  if (listeners.some(l => l.owner === 'not-read')) return 'not-read'
  return listeners.some(l => l.owner === 'unknown-without-privilege') ? 'unknown-without-privilege' : 'unknown'
}

/** `port(443)`, `port(53, { protocol: 'udp' })`: listening, on which addresses, owned by whom. */
export async function port(n: number, options: PortOptions = {}): Promise<PortFacts> {
  if (!Number.isInteger(n) || n < 1 || n > 65535) throw new Error(`port(${n}): a port is an integer from 1 to 65535`)
  const table = await readFact(socketTableFact(options.source ?? 'auto', options.owner ?? true))
  return portFacts(n, options.protocol ?? 'tcp', table)
}
