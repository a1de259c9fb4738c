// known_hosts handling for the ssh transport: ssh2 never reads known_hosts, so we parse the
// OpenSSH format ourselves and decide whether the key a server presents is the one we expect.
import { createHash, createHmac, randomBytes, timingSafeEqual } from 'node:crypto'
import type { ServerHostKeyAlgorithm } from 'ssh2'

export type KnownHostMarker = 'revoked' | 'cert-authority'

/** One `pattern` of a comma-separated host list; `!pattern` negates. */
export interface HostPattern {
  pattern: string
  negated: boolean
}

/** The host field of a line: a pattern list, or a hashed name (`|1|salt|hmac`, from `ssh-keygen -H`). */
export type HostField = { kind: 'patterns'; patterns: HostPattern[] } | { kind: 'hashed'; salt: Buffer; hash: Buffer }

export interface KnownHostEntry {
  marker: KnownHostMarker | undefined
  hosts: HostField
  /** Key type as written on the line, e.g. `ssh-ed25519`. */
  keyType: string
  /** The key in ssh wire format (the base64 field decoded). */
  key: Buffer
  /** 1-based line number in the file. */
  line: number
  /** The file the line came from, for messages. */
  source?: string
}

export type HostKeyStatus = 'match' | 'revoked' | 'mismatch' | 'unknown' | 'cert-authority-only'

export interface HostKeyCheck {
  /**
   * match: a plain entry for the host holds this key. revoked: a @revoked line holds it.
   * mismatch: the host has plain entries, none with this key. unknown: nothing for the host.
   * cert-authority-only: only @cert-authority lines name the host (ssh2 cannot use host certificates).
   */
  status: HostKeyStatus
  /** Key types of the plain (non-marker) entries that name the host. */
  knownTypes: string[]
  /** The deciding line: the matching, revoked or offending entry. */
  line?: number
  source?: string
}

const HASH_MAGIC = '|1|'
const BASE64 = /^[A-Za-z0-9+/]+={0,2}$/

export function parseKnownHosts(text: string, source?: string): KnownHostEntry[] {
  const entries: KnownHostEntry[] = []
  const lines = text.split(/\r?\n/)
  for (let i = 0; i < lines.length; i++) {
    const entry = parseLine(lines[i]!, i + 1, source)
    if (entry) entries.push(entry)
  }
  return entries
}

/** Returns undefined for blank lines, comments and lines OpenSSH would also skip as malformed. */
function parseLine(raw: string, line: number, source: string | undefined): KnownHostEntry | undefined {
  const text = raw.trim()
  if (text === '' || text.startsWith('#')) return undefined
  const fields = text.split(/\s+/)
  let marker: KnownHostMarker | undefined
  if (fields[0]!.startsWith('@')) {
    marker = parseMarker(fields.shift()!)
    if (!marker) return undefined
  }
  const [hostText, keyType, keyText] = fields
  if (!hostText || !keyType || !keyText || !BASE64.test(keyText)) return undefined
  const key = Buffer.from(keyText, 'base64')
  // The blob names its own type; a disagreement means a corrupt or hand-mangled line.
  if (blobKeyType(key) !== keyType) return undefined
  const hosts = parseHostField(hostText)
  if (!hosts) return undefined
  return { marker, hosts, keyType, key, line, ...(source !== undefined ? { source } : {}) }
}

function parseMarker(field: string): KnownHostMarker | undefined {
  if (field === '@revoked') return 'revoked'
  if (field === '@cert-authority') return 'cert-authority'
  return undefined
}

function parseHostField(text: string): HostField | undefined {
  if (text.startsWith(HASH_MAGIC)) {
    const [salt, hash] = text.slice(HASH_MAGIC.length).split('|')
    if (!salt || !hash || !BASE64.test(salt) || !BASE64.test(hash)) return undefined
    return { kind: 'hashed', salt: Buffer.from(salt, 'base64'), hash: Buffer.from(hash, 'base64') }
  }
  const patterns = text
    .split(',')
    .filter(p => p !== '')
    .map(p => (p.startsWith('!') ? { pattern: p.slice(1).toLowerCase(), negated: true } : { pattern: p.toLowerCase(), negated: false }))
  return patterns.length > 0 ? { kind: 'patterns', patterns } : undefined
}

/** The first ssh string of a wire-format key blob: its type name. */
export function blobKeyType(blob: Buffer): string | undefined {
  if (blob.length < 4) return undefined
  const len = blob.readUInt32BE(0)
  if (len === 0 || 4 + len > blob.length) return undefined
  return blob.subarray(4, 4 + len).toString('latin1')
}

/** The name known_hosts stores for a host: plain on port 22, `[host]:port` otherwise. */
export function knownHostsName(host: string, port: number): string {
  const name = host.toLowerCase()
  return port === 22 ? name : `[${name}]:${port}`
}

export function hostMatches(field: HostField, name: string): boolean {
  if (field.kind === 'hashed') {
    const digest = createHmac('sha1', field.salt).update(name).digest()
    return digest.length === field.hash.length && timingSafeEqual(digest, field.hash)
  }
  let matched = false
  for (const { pattern, negated } of field.patterns) {
    if (!globMatch(pattern, name)) continue
    // A matching negated pattern vetoes the whole line, whatever else matched (as in OpenSSH).
    if (negated) return false
    matched = true
  }
  return matched
}

/** OpenSSH wildcards: `*` any run of characters, `?` exactly one; everything else literal. */
export function globMatch(pattern: string, text: string): boolean {
  let p = 0
  let t = 0
  let starP = -1
  let starT = 0
  while (t < text.length) {
    if (p < pattern.length && pattern[p] === '*') {
      starP = p++
      starT = t
    } else if (p < pattern.length && (pattern[p] === '?' || pattern[p] === text[t])) {
      p++
      t++
    } else if (starP >= 0) {
      // Backtrack: let the last `*` swallow one more character.
      p = starP + 1
      t = ++starT
    } else {
      return false
    }
  }
  while (p < pattern.length && pattern[p] === '*') p++
  return p === pattern.length
}

/** Key types of the plain entries naming the host: what to prefer when negotiating. */
export function knownTypesFor(entries: KnownHostEntry[], host: string, port: number): string[] {
  const name = knownHostsName(host, port)
  const plain = entries.filter(e => e.marker === undefined && hostMatches(e.hosts, name))
  return [...new Set(plain.map(e => e.keyType))]
}

export function checkHostKey(entries: KnownHostEntry[], host: string, port: number, key: Buffer): HostKeyCheck {
  // Revocation is about the key, not the name: a revoked key is refused for every host.
  const revoked = entries.find(e => e.marker === 'revoked' && e.key.equals(key))
  const name = knownHostsName(host, port)
  const forHost = entries.filter(e => e.marker !== 'revoked' && hostMatches(e.hosts, name))
  const plain = forHost.filter(e => e.marker === undefined)
  const knownTypes = [...new Set(plain.map(e => e.keyType))]
  if (revoked) return located('revoked', knownTypes, revoked)
  const match = plain.find(e => e.key.equals(key))
  if (match) return located('match', knownTypes, match)
  if (plain.length > 0) {
    // Point at an entry of the presented type when there is one: that is the line to fix.
    const sameType = plain.find(e => e.keyType === blobKeyType(key))
    return located('mismatch', knownTypes, sameType ?? plain[0]!)
  }
  const ca = forHost.find(e => e.marker === 'cert-authority')
  if (ca) return located('cert-authority-only', knownTypes, ca)
  return { status: 'unknown', knownTypes }
}

function located(status: HostKeyStatus, knownTypes: string[], entry: KnownHostEntry): HostKeyCheck {
  return { status, knownTypes, line: entry.line, ...(entry.source !== undefined ? { source: entry.source } : {}) }
}

/** The fingerprint as OpenSSH prints it: `SHA256:` and unpadded base64. */
export function fingerprintSha256(key: Buffer): string {
  return 'SHA256:' + createHash('sha256').update(key).digest('base64').replace(/=+$/, '')
}

// ssh2's default host key preference (Node 20 always has ed25519).
const DEFAULT_HOST_KEY_ALGORITHMS: ServerHostKeyAlgorithm[] = [
  'ssh-ed25519',
  'ecdsa-sha2-nistp256',
  'ecdsa-sha2-nistp384',
  'ecdsa-sha2-nistp521',
  'rsa-sha2-512',
  'rsa-sha2-256',
  'ssh-rsa',
]

/** Signature algorithms that prove possession of a key of the given known_hosts type. */
function algorithmsForKeyType(keyType: string): ServerHostKeyAlgorithm[] {
  switch (keyType) {
    case 'ssh-rsa':
      return ['rsa-sha2-512', 'rsa-sha2-256', 'ssh-rsa']
    case 'ssh-ed25519':
    case 'ecdsa-sha2-nistp256':
    case 'ecdsa-sha2-nistp384':
    case 'ecdsa-sha2-nistp521':
    case 'ssh-dss':
      return [keyType]
    default:
      return []
  }
}

/**
 * Host key algorithms to offer, known types first (as OpenSSH does): a server with several host
 * keys then presents the one we hold, rather than an unknown one we would have to refuse.
 */
export function hostKeyAlgorithmsFor(knownTypes: string[]): ServerHostKeyAlgorithm[] {
  const preferred = knownTypes.flatMap(algorithmsForKeyType)
  const ordered = [...preferred, ...DEFAULT_HOST_KEY_ALGORITHMS]
  return [...new Set(ordered)]
}

/** The name a known_hosts line is filed under: a HostKeyAlias as is, else `host` or `[host]:port`. */
export function lookupName(host: string, port: number, hostKeyAlias?: string): string {
  return hostKeyAlias !== undefined ? hostKeyAlias.toLowerCase() : knownHostsName(host, port)
}

/** A known_hosts line for a key, hashed (`|1|salt|hmac`, as HashKnownHosts yes writes) when asked. */
export function knownHostsLine(name: string, key: Buffer, hashed: boolean, salt: Buffer = randomBytes(20)): string {
  const type = blobKeyType(key) ?? 'unknown'
  const field = hashed ? `${HASH_MAGIC}${salt.toString('base64')}|${createHmac('sha1', salt).update(name).digest('base64')}` : name
  return `${field} ${type} ${key.toString('base64')}`
}
