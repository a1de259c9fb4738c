// Who may ask the gate: loopback binds may go without a token; any other bind needs one (from an
// env var, never a flag, so it stays out of `ps`). Tokens are compared in constant time over their
// SHA-256 digests (equal lengths, so timingSafeEqual never throws), and logged only by an id.
import { createHash, timingSafeEqual } from 'node:crypto'
import { isIP } from 'node:net'

export const TOKEN_ENV = 'VERIFY_SERVE_TOKEN'

export function isLoopback(host: string): boolean {
  if (host === 'localhost' || host === '::1') return true
  return isIP(host) === 4 && host.startsWith('127.')
}

const digest = (text: string) => createHash('sha256').update(text, 'utf8').digest()

/** A token's name in logs: a short digest prefix, never the value. */
export function tokenId(token: string): string {
  return `sha256:${digest(token).toString('hex').slice(0, 8)}`
}

export type AuthOutcome = { ok: true; who?: string } | { ok: false; reason: string }

/** Checks `Authorization: Bearer …` against the expected token; no expected token: everyone (loopback only). */
export function authorize(header: string | undefined, expected: string | undefined): AuthOutcome {
  if (expected === undefined) return { ok: true }
  const match = /^Bearer\s+(\S+)\s*$/i.exec(header ?? '')
  if (!match) return { ok: false, reason: 'missing bearer token' }
  const given = match[1]!
  if (!timingSafeEqual(digest(given), digest(expected))) return { ok: false, reason: `bad token ${tokenId(given)}` }
  return { ok: true, who: tokenId(given) }
}
