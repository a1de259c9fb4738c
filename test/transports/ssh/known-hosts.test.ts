import { execFileSync } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import {
  checkHostKey,
  fingerprintSha256,
  globMatch,
  hostKeyAlgorithmsFor,
  knownHostsLine,
  lookupName,
  parseKnownHosts,
} from '../../../src/transports/ssh/known-hosts.ts'

interface TestKey {
  /** `type base64` as it appears in a .pub file (comment dropped). */
  line: string
  type: string
  blob: Buffer
}

let dir: string
let ed1: TestKey
let ed2: TestKey
let rsa: TestKey
let ecdsa: TestKey

// Keys are made fresh for every run so no key material lives in the repository.
function generateKey(name: string, type: string): TestKey {
  const file = join(dir, name)
  execFileSync('ssh-keygen', ['-q', '-t', type, ...(type === 'rsa' ? ['-b', '2048'] : []), '-N', '', '-C', name, '-f', file])
  const [keyType, b64] = readFileSync(`${file}.pub`, 'utf8').trim().split(/\s+/)
  return { line: `${keyType} ${b64}`, type: keyType!, blob: Buffer.from(b64!, 'base64') }
}

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'known-hosts-test-'))
  ed1 = generateKey('ed1', 'ed25519')
  ed2 = generateKey('ed2', 'ed25519')
  rsa = generateKey('rsa', 'rsa')
  ecdsa = generateKey('ecdsa', 'ecdsa')
})

afterAll(() => {
  rmSync(dir, { recursive: true, force: true })
})

describe('parseKnownHosts', () => {
  it('skips comments, blank lines and malformed lines without throwing', () => {
    const text = [
      '# a comment',
      '',
      '   ',
      `web1 ${ed1.line} a comment here`,
      'garbage-without-key',
      `web2 ssh-ed25519 !!!notbase64!!!`,
      `web3 ssh-rsa ${ed1.line.split(' ')[1]}`, // type disagrees with the blob
      `@bogus-marker web4 ${ed1.line}`,
      `|1|onlysalt ${ed1.line}`,
      `  web5 ${ed2.line}  `,
    ].join('\n')
    const entries = parseKnownHosts(text, 'kh')
    expect(entries.map(e => e.line)).toEqual([4, 10])
    expect(entries[0]).toMatchObject({ marker: undefined, keyType: 'ssh-ed25519', line: 4, source: 'kh' })
    expect(entries[0]!.key.equals(ed1.blob)).toBe(true)
  })

  it('reads markers and CRLF line ends', () => {
    const text = `@revoked * ${ed1.line}\r\n@cert-authority *.example.com ${ed2.line}\r\n`
    const entries = parseKnownHosts(text)
    expect(entries.map(e => e.marker)).toEqual(['revoked', 'cert-authority'])
  })
})

describe('checkHostKey', () => {
  it('matches a plain host on port 22 and reports the line', () => {
    const entries = parseKnownHosts(`other ${ed2.line}\nweb1,10.0.0.1 ${ed1.line}\n`, 'kh')
    expect(checkHostKey(entries, 'web1', 22, ed1.blob)).toEqual({ status: 'match', knownTypes: ['ssh-ed25519'], line: 2, source: 'kh' })
    expect(checkHostKey(entries, '10.0.0.1', 22, ed1.blob).status).toBe('match')
    expect(checkHostKey(entries, 'WEB1', 22, ed1.blob).status).toBe('match')
  })

  it('uses [host]:port for other ports', () => {
    const entries = parseKnownHosts(`[web1]:2222 ${ed1.line}\n`)
    expect(checkHostKey(entries, 'web1', 2222, ed1.blob).status).toBe('match')
    expect(checkHostKey(entries, 'web1', 22, ed1.blob).status).toBe('unknown')
    expect(checkHostKey(entries, 'web1', 2200, ed1.blob).status).toBe('unknown')
  })

  it('reports a changed key as mismatch, pointing at the entry of the same type', () => {
    const entries = parseKnownHosts(`web1 ${rsa.line}\nweb1 ${ed1.line}\n`)
    const result = checkHostKey(entries, 'web1', 22, ed2.blob)
    expect(result.status).toBe('mismatch')
    expect(result.line).toBe(2)
    expect(result.knownTypes).toEqual(['ssh-rsa', 'ssh-ed25519'])
  })

  it('reports unknown for a host with no entries', () => {
    const entries = parseKnownHosts(`web1 ${ed1.line}\n`)
    expect(checkHostKey(entries, 'web2', 22, ed1.blob)).toEqual({ status: 'unknown', knownTypes: [] })
    expect(checkHostKey([], 'web2', 22, ed1.blob).status).toBe('unknown')
  })

  it('matches * and ? wildcards, including in [host]:port form', () => {
    const entries = parseKnownHosts(`*.example.com ${ed1.line}\ndb? ${ed2.line}\n[10.1.*]:2222 ${ecdsa.line}\n`)
    expect(checkHostKey(entries, 'a.b.example.com', 22, ed1.blob).status).toBe('match')
    expect(checkHostKey(entries, 'example.com', 22, ed1.blob).status).toBe('unknown')
    expect(checkHostKey(entries, 'db1', 22, ed2.blob).status).toBe('match')
    expect(checkHostKey(entries, 'db12', 22, ed2.blob).status).toBe('unknown')
    expect(checkHostKey(entries, '10.1.2.3', 2222, ecdsa.blob).status).toBe('match')
    expect(checkHostKey(entries, '10.1.2.3', 22, ecdsa.blob).status).toBe('unknown')
  })

  it('lets a negated pattern veto the line', () => {
    const entries = parseKnownHosts(`*.example.com,!secret.example.com ${ed1.line}\n`)
    expect(checkHostKey(entries, 'www.example.com', 22, ed1.blob).status).toBe('match')
    expect(checkHostKey(entries, 'secret.example.com', 22, ed1.blob).status).toBe('unknown')
  })

  it('refuses a @revoked key for every host, even one it otherwise matches', () => {
    const entries = parseKnownHosts(`web1 ${ed1.line}\n@revoked unrelated-host ${ed1.line}\n`)
    expect(checkHostKey(entries, 'web1', 22, ed1.blob)).toMatchObject({ status: 'revoked', line: 2 })
    expect(checkHostKey(entries, 'web9', 2222, ed1.blob).status).toBe('revoked')
    expect(checkHostKey(entries, 'web1', 22, ed2.blob).status).toBe('mismatch')
  })

  it('ignores @cert-authority lines for matching but says when only they named the host', () => {
    const entries = parseKnownHosts(`@cert-authority *.example.com ${ed1.line}\n`)
    const result = checkHostKey(entries, 'web.example.com', 22, ed1.blob)
    expect(result).toMatchObject({ status: 'cert-authority-only', knownTypes: [], line: 1 })
    expect(checkHostKey(entries, 'elsewhere', 22, ed1.blob).status).toBe('unknown')
  })

  it('matches names hashed by ssh-keygen -H, with and without a port', () => {
    const file = join(dir, 'hashed_known_hosts')
    writeFileSync(file, `web1 ${ed1.line}\n[127.0.0.2]:2222 ${rsa.line}\n`)
    execFileSync('ssh-keygen', ['-q', '-H', '-f', file], { stdio: 'ignore' })
    const text = readFileSync(file, 'utf8')
    expect(text).not.toContain('web1')
    expect(text).toMatch(/^\|1\|/)
    const entries = parseKnownHosts(text, file)
    expect(entries.every(e => e.hosts.kind === 'hashed')).toBe(true)
    expect(checkHostKey(entries, 'web1', 22, ed1.blob).status).toBe('match')
    expect(checkHostKey(entries, 'web1', 22, ed2.blob).status).toBe('mismatch')
    expect(checkHostKey(entries, '127.0.0.2', 2222, rsa.blob)).toMatchObject({ status: 'match', knownTypes: ['ssh-rsa'] })
    expect(checkHostKey(entries, 'web2', 22, ed1.blob).status).toBe('unknown')
  })
})

describe('globMatch', () => {
  it.each([
    ['*', '', true],
    ['a*b*c', 'aXbYbZc', true],
    ['a*b', 'ab', true],
    ['a*b', 'abc', false],
    ['?', '', false],
    ['[h]:22', '[h]:22', true],
  ])('%s vs %s → %s', (pattern, text, expected) => {
    expect(globMatch(pattern, text)).toBe(expected)
  })
})

describe('hostKeyAlgorithmsFor', () => {
  it('puts known types first and keeps the rest', () => {
    const algos = hostKeyAlgorithmsFor(['ssh-rsa'])
    expect(algos.slice(0, 3)).toEqual(['rsa-sha2-512', 'rsa-sha2-256', 'ssh-rsa'])
    expect(algos).toContain('ssh-ed25519')
    expect(new Set(algos).size).toBe(algos.length)
  })

  it('prefers ed25519 when it is known', () => {
    expect(hostKeyAlgorithmsFor(['ecdsa-sha2-nistp256', 'ssh-ed25519']).slice(0, 2)).toEqual(['ecdsa-sha2-nistp256', 'ssh-ed25519'])
    expect(hostKeyAlgorithmsFor([])[0]).toBe('ssh-ed25519')
  })
})

describe('fingerprintSha256', () => {
  it('prints the fingerprint the way ssh-keygen -l does', () => {
    const out = execFileSync('ssh-keygen', ['-l', '-E', 'sha256', '-f', join(dir, 'ed1.pub')], { encoding: 'utf8' })
    expect(out).toContain(fingerprintSha256(ed1.blob))
  })
})

describe('knownHostsLine (what --accept-new-host-keys appends)', () => {
  const key = Buffer.from('AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl', 'base64')

  it('writes `[host]:port type base64`, or a HostKeyAlias as is, and matches it back', () => {
    const line = knownHostsLine(lookupName('10.0.0.5', 2222), key, false)
    expect(line).toBe(`[10.0.0.5]:2222 ssh-ed25519 ${key.toString('base64')}`)
    expect(checkHostKey(parseKnownHosts(line), '10.0.0.5', 2222, key).status).toBe('match')
    expect(lookupName('10.0.0.5', 2222, 'Web-1-Key')).toBe('web-1-key')
  })

  it('hashes the name when HashKnownHosts is on, and the hashed line still matches', () => {
    const line = knownHostsLine(lookupName('web-1.example.com', 22), key, true)
    expect(line).toMatch(/^\|1\|[A-Za-z0-9+/=]+\|[A-Za-z0-9+/=]+ ssh-ed25519 /)
    expect(line).not.toContain('web-1')
    expect(checkHostKey(parseKnownHosts(line), 'web-1.example.com', 22, key).status).toBe('match')
    expect(checkHostKey(parseKnownHosts(line), 'web-2.example.com', 22, key).status).toBe('unknown')
  })
})
