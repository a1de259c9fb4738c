// x509(pathOrHostPort): a certificate's names, dates and fingerprint, read with the host's own
// openssl: from a file on the host, or from a TLS endpoint as the host under test reaches it
// (`openssl s_client` runs there, so it sees that host's DNS, routes and firewall).
import { isIP } from 'node:net'
import { ExpectationError } from '../../errors.ts'
import { readFact } from '../../dsl/context.ts'
import { defineFact, type FactRequest } from '../../probe/fact.ts'
import { snippet } from '../../probe/snippet.ts'
import { assertPort, normalizeHostName, wholeSeconds } from '../../lib/valid-names.ts'

export interface X509Facts {
  /** The file path, or `host:port`. */
  source: string
  /** Normalized to `C=US, O=Acme\, Inc., CN=blog.example.com`, in the order openssl printed it. */
  subject: string
  issuer: string
  /** Attribute → values (`{ CN: ['blog.example.com'], OU: ['Ops', 'Web'] }`). */
  subjectAttributes: Record<string, string[]>
  issuerAttributes: Record<string, string[]>
  /** The subject's CN, if any. */
  commonName?: string
  /** subjectAltName entries as openssl prints them: `DNS:example.com`, `IP Address:127.0.0.1`. */
  subjectAltNames: string[]
  dnsNames: string[]
  ipAddresses: string[]
  notBefore: Date
  notAfter: Date
  /** Whole days from now (this machine's clock) until notAfter; negative once expired. */
  daysUntilExpiry: number
  expired: boolean
  /** `AB:CD:…`, upper case, as openssl and browsers show it. */
  fingerprintSha256: string
  /** Hex, upper case. */
  serial?: string
  /** host:port only: openssl's verdict on the chain (`0 (ok)`, `18 (self-signed certificate)`). */
  verifyResult?: { code: number; message: string }
}

export type X509Target = string | { path: string } | { host: string; port: number; servername?: string; timeout?: number }

// Both snippets start with x509-openssl.sh (openssl there, its reading functions defined): one
// file of them, joined here, so the two cannot drift apart.
const OPENSSL_PRELUDE = snippet(import.meta.url, 'x509-openssl.sh')
const PATH_SCRIPT = `${OPENSSL_PRELUDE}\n${snippet(import.meta.url, 'x509-file.sh')}`
const ENDPOINT_SCRIPT = `${OPENSSL_PRELUDE}\n${snippet(import.meta.url, 'x509-endpoint.sh')}`

function pathFact(p: string): FactRequest<X509Facts> {
  return defineFact({
    key: `x509.file:${p}`,
    describe: `certificate ${p}`,
    script: PATH_SCRIPT,
    args: [p],
    parse: raw => parseX509Output(p, raw.stdout.toString('utf8')),
  })
}

function endpointFact(hostName: string, port: number, servername: string, timeoutSec: number): FactRequest<X509Facts> {
  const connect = hostName.includes(':') ? `[${hostName}]:${port}` : `${hostName}:${port}`
  return defineFact({
    key: `x509.tls:${JSON.stringify([connect, servername, timeoutSec])}`,
    describe: `certificate of ${connect}${servername && servername !== hostName ? ` (SNI ${servername})` : ''}`,
    script: ENDPOINT_SCRIPT,
    args: [connect, servername, String(timeoutSec)],
    timeoutSec: timeoutSec + 5,
    parse: raw => parseX509Output(connect, raw.stdout.toString('utf8')),
  })
}

/** The probe's first line says what happened: `ok` then openssl's output, or why there is no certificate. */
export function parseX509Output(source: string, out: string, now = new Date()): X509Facts {
  const newline = out.indexOf('\n')
  const tag = newline < 0 ? out.trim() : out.slice(0, newline)
  const rest = newline < 0 ? '' : out.slice(newline + 1)
  if (tag === 'missing') throw new ExpectationError(`certificate ${source}: ${source} does not exist`, 'an existing file', 'missing')
  if (tag === 'notcert') {
    const why = summarizeOpensslErrors(rest)
    throw new ExpectationError(
      `certificate ${source}: not a certificate${why ? ` (${why})` : ''}`,
      'a PEM or DER certificate',
      'not a certificate',
    )
  }
  if (tag === 'noanswer') {
    const why = summarizeOpensslErrors(rest)
    throw new ExpectationError(
      `certificate of ${source}: no certificate from the endpoint${why ? ` (${why})` : ''}`,
      'a TLS certificate',
      why || 'no certificate',
    )
  }
  if (tag !== 'ok') throw new Error(`unexpected output: ${JSON.stringify(out.slice(0, 120))}`)
  return parseOpensslX509(source, rest, now)
}

/**
 * openssl's error stack lines (`40D79ADCB47F0000:error:8000006F:system library:BIO_connect:Connection refused:…`)
 * reduced to their reason, with its plain lines kept: `Connection refused | connect:errno=111`.
 */
export function summarizeOpensslErrors(text: string): string {
  const parts: string[] = []
  for (const line of text
    .split('\n')
    .map(l => l.trim())
    .filter(l => l !== '')) {
    const stack = /^[0-9A-Fa-f]+:error:[0-9A-Fa-f]+:[^:]*:[^:]*:([^:]*):/.exec(line)
    const part = stack ? stack[1]! : line
    if (part && !parts.includes(part)) parts.push(part)
  }
  return parts.slice(-4).join(' | ')
}

/** Output of `openssl x509 -noout -subject -issuer -dates -serial -fingerprint -sha256 -ext subjectAltName` (or `-text`). */
export function parseOpensslX509(source: string, text: string, now = new Date()): X509Facts {
  const field = (name: string) => new RegExp(`^${name}=\\s*(.*)$`, 'm').exec(text)?.[1]?.trim()
  const subjectText = field('subject')
  const issuerText = field('issuer')
  const notBeforeText = field('notBefore')
  const notAfterText = field('notAfter')
  const fingerprint = /^sha256 Fingerprint=([0-9A-Fa-f:]+)$/im.exec(text)?.[1]
  if (subjectText === undefined || issuerText === undefined || !notBeforeText || !notAfterText || !fingerprint) {
    throw new Error(`unexpected openssl output: ${JSON.stringify(text.slice(0, 200))}`)
  }
  const subject = parseDistinguishedName(subjectText)
  const issuer = parseDistinguishedName(issuerText)
  const subjectAltNames = parseSubjectAltNames(text)
  const notBefore = parseOpensslDate(notBeforeText)
  const notAfter = parseOpensslDate(notAfterText)
  const verify = /Verify return code: (\d+) \((.*)\)/.exec(text)
  return {
    source,
    subject: formatName(subject),
    issuer: formatName(issuer),
    subjectAttributes: groupAttributes(subject),
    issuerAttributes: groupAttributes(issuer),
    commonName: subject.findLast(([k]) => k === 'CN')?.[1],
    subjectAltNames,
    dnsNames: subjectAltNames.filter(n => n.startsWith('DNS:')).map(n => n.slice(4)),
    ipAddresses: subjectAltNames.filter(n => n.startsWith('IP Address:')).map(n => normalizeIp(n.slice('IP Address:'.length))),
    notBefore,
    notAfter,
    daysUntilExpiry: Math.floor((notAfter.getTime() - now.getTime()) / 86_400_000),
    expired: notAfter.getTime() <= now.getTime(),
    fingerprintSha256: fingerprint.toUpperCase(),
    serial: field('serial')?.toUpperCase(),
    verifyResult: verify ? { code: Number(verify[1]), message: verify[2]! } : undefined,
  }
}

type Attribute = [key: string, value: string]
const NEXT_ATTRIBUTE = /^ *[A-Za-z][A-Za-z0-9.-]* *=/

/**
 * The three ways openssl prints a name:
 *   1.0.x     `/C=US/O=Acme, Inc./CN=x`                  (compat, slash-separated)
 *   1.1–3.1   `C = US, O = "Acme, Inc.", CN = x`         (oneline: spaces around =, quotes)
 *   3.2+      `C=US, O=Acme, Inc., CN=x`                 (utf8: no spaces, no quoting at all)
 */
export function parseDistinguishedName(text: string): Attribute[] {
  const t = text.trim()
  if (t === '') return []
  if (t.startsWith('/')) {
    // a value may hold '/', so split only where '/' starts the next `KEY=`
    return t
      .slice(1)
      .split(/\/(?=[A-Za-z][A-Za-z0-9.]*=)/)
      .map(part => {
        const eq = part.indexOf('=')
        return [part.slice(0, eq), part.slice(eq + 1)] as Attribute
      })
  }
  const out: Attribute[] = []
  let i = 0
  while (i < t.length) {
    const eq = t.indexOf('=', i)
    if (eq < 0) break
    const key = t.slice(i, eq).trim()
    let j = eq + 1
    while (t[j] === ' ') j++
    let value = ''
    if (t[j] === '"') {
      j++
      while (j < t.length && t[j] !== '"') {
        if (t[j] === '\\' && j + 1 < t.length) j++
        value += t[j++]
      }
      j++ // closing quote
      while (j < t.length && t[j] !== ',' && t[j] !== '+') j++
    } else {
      // 3.2+ prints commas inside values bare: a ',' or '+' ends the value only before `KEY=`
      while (j < t.length && !((t[j] === ',' || t[j] === '+') && NEXT_ATTRIBUTE.test(t.slice(j + 1)))) {
        if (t[j] === '\\' && j + 1 < t.length) {
          const hex = /^\\([0-9A-Fa-f]{2})/.exec(t.slice(j))
          if (hex) {
            value += String.fromCharCode(Number.parseInt(hex[1]!, 16))
            j += 3
            continue
          }
          j++
        }
        value += t[j++]
      }
      value = value.trim()
    }
    out.push([key, value])
    i = j + 1
    while (t[i] === ' ') i++
  }
  return out
}

function formatName(attrs: Attribute[]): string {
  return attrs.map(([k, v]) => `${k}=${v.replace(/([,\\])/g, '\\$1')}`).join(', ')
}

function groupAttributes(attrs: Attribute[]): Record<string, string[]> {
  const out: Record<string, string[]> = {}
  for (const [k, v] of attrs) (out[k] ??= []).push(v)
  return out
}

/** The line after `X509v3 Subject Alternative Name:` (same in `-ext` and `-text` output). */
export function parseSubjectAltNames(text: string): string[] {
  const lines = text.split('\n')
  const at = lines.findIndex(l => /X509v3 Subject Alternative Name:/.test(l))
  if (at < 0 || at + 1 >= lines.length) return []
  return lines[at + 1]!.trim()
    .split(/,\s*/)
    .filter(n => n !== '')
}

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec']

/** `Dec 23 06:42:15 2026 GMT` (ASN1_TIME_print; the day is space-padded). */
export function parseOpensslDate(text: string): Date {
  const m = /^([A-Z][a-z]{2})\s+(\d{1,2})\s+(\d{2}):(\d{2}):(\d{2})(?:\.\d+)?\s+(\d{4})(?:\s+GMT)?$/.exec(text.trim())
  const month = m ? MONTHS.indexOf(m[1]!) : -1
  if (!m || month < 0) throw new Error(`unexpected openssl date: ${JSON.stringify(text)}`)
  return new Date(Date.UTC(Number(m[6]), month, Number(m[2]), Number(m[3]), Number(m[4]), Number(m[5])))
}

/** openssl prints an IPv6 SAN uncompressed (`0:0:0:0:0:0:0:1`); give the usual short form. */
function normalizeIp(text: string): string {
  const t = text.trim()
  if (!t.includes(':')) return t
  try {
    return new URL(`http://[${t}]/`).hostname.slice(1, -1)
  } catch {
    return t
  }
}

/** `host:port`, `[v6]:port`; anything else is a path. */
function splitEndpoint(target: string): { host: string; port: number } | undefined {
  const m = /^\[([0-9A-Fa-f:.]+(?:%[\w.-]+)?)\]:(\d{1,5})$/.exec(target) ?? /^([A-Za-z0-9_.-]+):(\d{1,5})$/.exec(target)
  if (!m || target.startsWith('/') || target.startsWith('.')) return undefined
  return { host: m[1]!, port: Number(m[2]) }
}

export function x509Fact(target: X509Target): FactRequest<X509Facts> {
  if (typeof target === 'string') {
    if (target === '') throw new TypeError('x509: expected a path or host:port, got ""')
    const endpoint = splitEndpoint(target)
    return endpoint ? x509Fact(endpoint) : pathFact(target)
  }
  if ('path' in target) return pathFact(target.path)
  const hostName = normalizeHostName('x509', target.host)
  assertPort('x509', target.port)
  // no SNI for an IP literal, as browsers do
  const servername = target.servername ?? (isIP(hostName.replace(/%.*$/, '')) ? '' : hostName)
  if (servername !== '') normalizeHostName('x509 servername', servername)
  return endpointFact(hostName, target.port, servername, wholeSeconds('x509', target.timeout ?? 10))
}

/**
 * A certificate file on the host (PEM or DER; the first certificate of a bundle), or `host:port`
 * / `{ host, port, servername }` for the certificate a TLS server presents to the host under test.
 * An invalid target rejects the returned promise.
 */
export async function x509(target: X509Target): Promise<X509Facts> {
  return readFact(x509Fact(target))
}
