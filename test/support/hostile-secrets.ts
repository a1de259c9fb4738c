// Secrets from a hostile alphabet, drawn by a seeded PRNG (the seed is printed by the tests that
// use it, so a failure replays), and the encodings a spec can push a value through.
import { inspect } from 'node:util'

/** mulberry32: small, fast, good enough to spread test inputs; the same seed gives the same stream. */
export function prng(seed: number): () => number {
  let a = seed >>> 0
  return () => {
    a = (a + 0x6d2b79f5) >>> 0
    let t = a
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

/** The seed to use: `$VERIFY_SECRET_SEED` to replay one, else a fresh one. */
export function seedFromEnv(): number {
  const given = process.env.VERIFY_SECRET_SEED
  return given ? Number(given) >>> 0 : (Math.random() * 2 ** 32) >>> 0
}

/** Characters that each escape differently in JSON, URLs, forms, shells, XML and inspect. */
export const HOSTILE = [
  '"',
  "'",
  '\\',
  ' ',
  '/',
  '+',
  '&',
  '=',
  '%',
  '?',
  '#',
  'é',
  'ß',
  'ж',
  '€',
  '😀',
  '\n',
  '$',
  '`',
  '<',
  '>',
  ';',
  ':',
]
const ALNUM = 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789'

/**
 * `count` distinct secrets of 10 to 20 characters, about half of them hostile. Every fourth has
 * no letter or digit at all (the hardest case for the redactor's shortcuts); the others carry at
 * least four, so no secret is a piece of ordinary report text.
 */
export function hostileSecrets(random: () => number, count: number): string[] {
  const pick = <T>(list: ArrayLike<T>): T => list[Math.floor(random() * list.length)]!
  const out = new Set<string>()
  while (out.size < count) {
    const noAlnum = out.size % 4 === 3
    const length = 10 + Math.floor(random() * 11)
    const chars: string[] = []
    for (let i = 0; i < length; i++) chars.push(noAlnum || random() < 0.5 ? pick(HOSTILE) : pick(ALNUM))
    if (!noAlnum) for (let i = 0; i < 4; i++) chars.splice(Math.floor(random() * chars.length), 0, pick(ALNUM))
    // ordinary report text has runs of spaces and of one punctuation mark; make each secret unmistakable
    if (!noAlnum || new Set(chars).size >= 6) out.add(chars.join(''))
  }
  return [...out]
}

/** Every form a value takes through the encodings the property test pushes it through, by name. */
export function encodingsOf(value: string): Record<string, string> {
  const json = JSON.stringify(value).slice(1, -1)
  return {
    raw: value,
    json,
    'json twice': JSON.stringify(json).slice(1, -1),
    inspect: inspect(value).slice(1, -1),
    'pretty-format': value.replace(/["\\]/g, '\\$&'),
    encodeURIComponent: encodeURIComponent(value),
    encodeURI: encodeURI(value),
    URLSearchParams: new URLSearchParams({ v: value }).toString().slice(2),
    escape: escape(value),
    base64: Buffer.from(value).toString('base64'),
    base64url: Buffer.from(value).toString('base64url'),
    hex: Buffer.from(value).toString('hex'),
    xml: value.replace(/&/g, '&amp;').replace(/"/g, '&quot;').replace(/'/g, '&apos;').replace(/</g, '&lt;').replace(/>/g, '&gt;'),
    'shell single-quoted': value.replaceAll("'", `'\\''`),
  }
}
