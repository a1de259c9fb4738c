import { execFileSync } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import tls from 'node:tls'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { ExpectationError } from '../../../src/errors.ts'
import {
  parseDistinguishedName,
  parseOpensslDate,
  parseOpensslX509,
  parseX509Output,
  summarizeOpensslErrors,
  x509,
  x509Fact,
} from '../../../src/resources/system/x509.ts'
import { describeFailure } from '../../../src/runner/check.ts'
import { onLocalHost } from '../../support/local-host.ts'
import { BASIC_TOOLS, runWithTools } from '../../support/restricted-path.ts'
import { selfSignedCert } from '../../support/tls.ts'

const NOW = new Date('2026-11-23T12:00:00Z')

// OpenSSL 3.0.19 (Debian 12): `openssl x509 -noout -subject -issuer -dates -serial -fingerprint -sha256 -ext subjectAltName`.
const OPENSSL_3_0 = `subject=C = US, O = "Acme, Inc.", OU = Ops, OU = Web, CN = blog.example.com
issuer=C = US, O = "Acme, Inc.", OU = Ops, OU = Web, CN = blog.example.com
notBefore=Nov 23 06:42:15 2026 GMT
notAfter=Dec 23 06:42:15 2026 GMT
serial=057F4F74A22DD82527571EBE62848429276AA141
X509v3 Subject Alternative Name: 
    DNS:blog.example.com, DNS:*.example.com, IP Address:127.0.0.1, IP Address:0:0:0:0:0:0:0:1, email:ops@example.com, URI:https://example.com/
sha256 Fingerprint=8F:E9:EB:A9:14:F8:57:D5:AE:53:8F:13:98:16:0B:C0:70:D1:63:10:92:49:08:14:AF:9E:85:6C:7F:CA:52:CA
`

// OpenSSL 1.1.1: same name format ("oneline"), the digest name upper case.
const OPENSSL_1_1_1 = `subject=C = UK, O = eScienceCA, OU = Authority, CN = UK e-Science CA 2B
issuer=C = UK, O = eScienceCA, OU = Authority, CN = UK e-Science Root
notBefore=Jun  1 11:12:13 2021 GMT
notAfter=Jun  1 11:12:13 2026 GMT
serial=0A
X509v3 Subject Alternative Name: critical
    DNS:ca.example.ac.uk
SHA256 Fingerprint=73:0C:1B:DC:D8:5F:57:CE:5D:C0:BB:A7:33:E5:F1:BA:5A:92:5B:2A:77:1D:64:0A:26:F7:A4:54:22:4D:AD:3B
`

// OpenSSL 1.0.2 knows no -ext: the probe falls back to -text, and names come slash-separated.
const OPENSSL_1_0_2_TEXT = `subject= /DC=org/DC=opensciencegrid/O=Open Science Grid/OU=Services/CN=fermicloud321.fnal.gov
issuer= /DC=org/DC=cilogon/C=US/O=CILogon/CN=CILogon OSG CA 1
notBefore=Mar  1 00:00:00 2018 GMT
notAfter=Mar 31 23:59:59 2019 GMT
serial=1A2B3C
SHA256 Fingerprint=01:02:03:04:05:06:07:08:09:0A:0B:0C:0D:0E:0F:10:11:12:13:14:15:16:17:18:19:1A:1B:1C:1D:1E:1F:20
Certificate:
    Data:
        Version: 3 (0x2)
        Subject: DC=org, DC=opensciencegrid, O=Open Science Grid, OU=Services, CN=fermicloud321.fnal.gov
        X509v3 extensions:
            X509v3 Subject Alternative Name: 
                DNS:fermicloud321.fnal.gov, DNS:fermicloud321
            X509v3 Key Usage: critical
                Digital Signature, Key Encipherment
`

describe('openssl output parsing', () => {
  it('OpenSSL 3.0: quoted values with commas, repeated OUs, SANs of every kind, dates, fingerprint', () => {
    const c = parseOpensslX509('/etc/ssl/blog.pem', OPENSSL_3_0, NOW)
    expect(c).toMatchObject({
      subject: 'C=US, O=Acme\\, Inc., OU=Ops, OU=Web, CN=blog.example.com',
      commonName: 'blog.example.com',
      subjectAttributes: { C: ['US'], O: ['Acme, Inc.'], OU: ['Ops', 'Web'], CN: ['blog.example.com'] },
      dnsNames: ['blog.example.com', '*.example.com'],
      ipAddresses: ['127.0.0.1', '::1'],
      notBefore: new Date('2026-11-23T06:42:15Z'),
      notAfter: new Date('2026-12-23T06:42:15Z'),
      daysUntilExpiry: 29,
      expired: false,
      fingerprintSha256: '8F:E9:EB:A9:14:F8:57:D5:AE:53:8F:13:98:16:0B:C0:70:D1:63:10:92:49:08:14:AF:9E:85:6C:7F:CA:52:CA',
      serial: '057F4F74A22DD82527571EBE62848429276AA141',
    })
    expect(c.subjectAltNames).toContain('email:ops@example.com')
  })

  it('OpenSSL 1.1.1: a critical SAN, an expired certificate', () => {
    const c = parseOpensslX509('ca.pem', OPENSSL_1_1_1, NOW)
    expect(c).toMatchObject({
      commonName: 'UK e-Science CA 2B',
      issuer: 'C=UK, O=eScienceCA, OU=Authority, CN=UK e-Science Root',
      dnsNames: ['ca.example.ac.uk'],
      expired: true,
      serial: '0A',
    })
    expect(c.daysUntilExpiry).toBeLessThan(0)
  })

  it('OpenSSL 1.0.2: slash names, SANs from -text', () => {
    const c = parseOpensslX509('host.pem', OPENSSL_1_0_2_TEXT, NOW)
    expect(c.subjectAttributes).toEqual({
      DC: ['org', 'opensciencegrid'],
      O: ['Open Science Grid'],
      OU: ['Services'],
      CN: ['fermicloud321.fnal.gov'],
    })
    expect(c.issuer).toBe('DC=org, DC=cilogon, C=US, O=CILogon, CN=CILogon OSG CA 1')
    expect(c.dnsNames).toEqual(['fermicloud321.fnal.gov', 'fermicloud321'])
  })

  it('every way openssl has printed a name gives the same attributes', () => {
    const expected = [
      ['C', 'US'],
      ['O', 'Acme, Inc.'],
      ['CN', 'x.example'],
    ]
    expect(parseDistinguishedName('C = US, O = "Acme, Inc.", CN = x.example')).toEqual(expected) // 1.1.0–3.1 oneline
    expect(parseDistinguishedName('C=US, O=Acme, Inc., CN=x.example')).toEqual(expected) // 3.2+ utf8, commas bare
    expect(parseDistinguishedName('C=US, O=Acme\\, Inc., CN=x.example')).toEqual(expected) // RFC 2253 escapes
    expect(parseDistinguishedName(' /C=US/O=Acme, Inc./CN=x.example')).toEqual(expected) // 1.0.x compat
    expect(parseDistinguishedName('CN = x')).toEqual([['CN', 'x']])
    expect(parseDistinguishedName('CN=x')).toEqual([['CN', 'x']])
    expect(parseDistinguishedName('/CN=a/b.example')).toEqual([['CN', 'a/b.example']])
    expect(parseDistinguishedName('CN = a + UID = 42, O = o')).toEqual([
      ['CN', 'a'],
      ['UID', '42'],
      ['O', 'o'],
    ])
    expect(parseDistinguishedName('')).toEqual([])
  })

  it('dates as ASN1_TIME_print writes them (space-padded day)', () => {
    expect(parseOpensslDate('Jun  1 11:12:13 2021 GMT')).toEqual(new Date('2021-06-01T11:12:13Z'))
    expect(() => parseOpensslDate('2021-06-01')).toThrow(/unexpected openssl date/)
  })

  it('what the probe reports before openssl output: missing, not a certificate, no answer', () => {
    expect(() => parseX509Output('/x', 'missing\n')).toThrow(ExpectationError)
    const notCert = (() => {
      try {
        parseX509Output('/etc/hostname', 'notcert\nCould not read certificate from /etc/hostname\nUnable to load certificate\n')
      } catch (e) {
        return e
      }
    })()
    expect(describeFailure(notCert)).toMatchObject({ status: 'failed', actual: 'not a certificate' })
    const refused =
      'noanswer\n40D79ADCB47F0000:error:8000006F:system library:BIO_connect:Connection refused:../crypto/bio/bio_sock2.c:117:calling connect()\nconnect:errno=111\n'
    expect(() => parseX509Output('127.0.0.1:1', refused)).toThrow(
      /no certificate from the endpoint \(Connection refused \| connect:errno=111\)/,
    )
    expect(summarizeOpensslErrors('a\na\nb')).toBe('a | b')
  })
})

describe('x509() on this machine', () => {
  let dir: string
  let server: tls.Server
  let port: number
  const gen = (name: string, subj: string, days: number, san?: string) => {
    selfSignedCert({
      key: path.join(dir, `${name}.key`),
      cert: path.join(dir, `${name}.pem`),
      subject: subj,
      days,
      ...(san ? { san } : {}),
    })
    return { key: readFileSync(path.join(dir, `${name}.key`)), cert: readFileSync(path.join(dir, `${name}.pem`)) }
  }

  beforeAll(async () => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'verify-x509-'))
    const main = gen('main', '/O=Acme, Inc./CN=blog.example.com', 30, 'DNS:blog.example.com,IP:127.0.0.1')
    const other = gen('other', '/CN=other.example.com', 400, 'DNS:other.example.com')
    execFileSync('openssl', ['x509', '-in', path.join(dir, 'main.pem'), '-outform', 'DER', '-out', path.join(dir, 'main.der')])
    writeFileSync(path.join(dir, 'junk.pem'), 'not a certificate\n')
    const otherContext = tls.createSecureContext(other)
    server = tls.createServer(
      { ...main, SNICallback: (name, cb) => cb(null, name === 'other.example.com' ? otherContext : undefined) },
      socket => socket.end(),
    )
    await new Promise<void>(resolve => server.listen(0, '127.0.0.1', resolve))
    port = (server.address() as { port: number }).port
  })
  afterAll(async () => {
    await new Promise(resolve => server.close(resolve))
    rmSync(dir, { recursive: true, force: true })
  })

  it('a PEM and a DER file, and the same certificate from a TLS server, by SNI; one exec', async () => {
    const { value, execCount } = await onLocalHost(
      () =>
        Promise.all([
          x509(path.join(dir, 'main.pem')),
          x509({ path: path.join(dir, 'main.der') }),
          x509(`127.0.0.1:${port}`),
          x509({ host: '127.0.0.1', port, servername: 'other.example.com' }),
        ]),
      15,
    )
    expect(value[0]).toMatchObject({
      commonName: 'blog.example.com',
      subjectAttributes: { O: ['Acme, Inc.'] },
      dnsNames: ['blog.example.com'],
      ipAddresses: ['127.0.0.1'],
    })
    expect([29, 30]).toContain(value[0].daysUntilExpiry)
    expect(value[1].fingerprintSha256).toBe(value[0].fingerprintSha256)
    expect(value[2].fingerprintSha256).toBe(value[0].fingerprintSha256)
    expect(value[2].verifyResult?.code).toBeGreaterThan(0) // self-signed
    expect(value[3].commonName).toBe('other.example.com')
    expect(execCount).toBe(1)
  })

  it('the -text fallback (old openssl) reads the same SANs from real output', () => {
    const text = execFileSync(
      'openssl',
      ['x509', '-noout', '-subject', '-issuer', '-dates', '-serial', '-fingerprint', '-sha256', '-text', '-in', path.join(dir, 'main.pem')],
      { encoding: 'utf8' },
    )
    expect(parseOpensslX509('main.pem', text).dnsNames).toEqual(['blog.example.com'])
  })

  it('a missing file and a non-certificate fail the check; a closed port fails it too', async () => {
    const outcomes = await Promise.all(
      [path.join(dir, 'nope.pem'), path.join(dir, 'junk.pem'), '127.0.0.1:1'].map(t =>
        onLocalHost(() => x509(t)).catch((e: unknown) => describeFailure(e)),
      ),
    )
    expect(outcomes.map(o => 'status' in o && o.status)).toEqual(['failed', 'failed', 'failed'])
  })

  it('without openssl on the host: an error naming openssl', async () => {
    const run = await runWithTools(x509Fact(path.join(dir, 'main.pem')), BASIC_TOOLS)
    expect(() => run.parse()).toThrow(/openssl is not installed/)
  })

  it('hostile paths are paths; hostile endpoints are refused before anything runs', async () => {
    const { value } = await onLocalHost(() =>
      Promise.all(['$(touch pwned)', '`id`', "it's", '-in', 'a\nb'].map(n => x509(path.join(dir, n)).catch((e: Error) => e.message))),
    )
    expect(value.every(m => typeof m === 'string' && /does not exist/.test(m))).toBe(true)
    await expect(x509({ host: '-connect', port: 443 })).rejects.toThrow(TypeError)
    await expect(x509({ host: 'a.example', port: 443, servername: '$(id)' })).rejects.toThrow(TypeError)
    await expect(x509({ host: 'a.example', port: 0 })).rejects.toThrow(TypeError)
    expect(x509Fact('[::1]:443').args[0]).toBe('[::1]:443')
    expect(x509Fact('./blog.example.com:443').args[0]).toBe('./blog.example.com:443') // a relative path, not an endpoint
  })
})
