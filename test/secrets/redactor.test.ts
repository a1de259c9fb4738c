import { inspect } from 'node:util'
import { describe, expect, it } from 'vitest'
import { SecretRedactor } from '../../src/secrets/redactor.ts'
import { shellQuote } from '../../src/probe/quote.ts'

const TOKEN = 'tk "q\\7 a/b+c&d=e%f é-Zq9'
const r = new SecretRedactor([{ name: 'token', value: TOKEN }])
const L = '[secret:token]'

describe('SecretRedactor.text: the secret in any encoding a spec can give it', () => {
  const b64 = Buffer.from(TOKEN).toString('base64')
  const cases: Array<[string, string]> = [
    ['raw', `Bearer ${TOKEN}!`],
    ['JSON', JSON.stringify({ t: TOKEN })],
    ['JSON twice', JSON.stringify(JSON.stringify({ t: TOKEN }))],
    ['inspect', inspect({ t: TOKEN })],
    ['encodeURIComponent', `?t=${encodeURIComponent(TOKEN)}&x=1`],
    ['encodeURI', encodeURI(`http://h/${TOKEN}`)],
    ['URLSearchParams', `http://h/p?${new URLSearchParams({ a: '1', t: TOKEN, z: '2' })}`],
    ['escape()', escape(TOKEN)],
    ['base64', `Basic ${b64}`],
    ['base64url', Buffer.from(TOKEN).toString('base64url')],
    ['base64 of user:token', `Authorization: Basic ${Buffer.from(`admin:${TOKEN}`).toString('base64')}`],
    ['base64 after a path', `/v1/x${Buffer.from(`xx${TOKEN}`).toString('base64')}`],
    ['hex', Buffer.from(TOKEN).toString('hex')],
    ['base64 of JSON', Buffer.from(JSON.stringify({ t: TOKEN })).toString('base64')],
    ['percent-encoded base64', encodeURIComponent(b64)],
    ['XML attribute', `<failure message="${TOKEN.replaceAll('&', '&amp;').replaceAll('"', '&quot;')}"/>`],
    ['shell quoted', `command:printf %s ${shellQuote(TOKEN)}`],
  ]
  for (const [name, text] of cases) {
    it(name, () => {
      const out = r.text(text)
      expect(out).toContain(L)
      expect(r.revealedIn(out)).toBeUndefined()
      expect(out).not.toContain('Zq9')
    })
  }

  it('keeps the text around a URL component', () => {
    expect(r.text(`http://h/p?a=1&t=${encodeURIComponent(TOKEN)}&z=2`)).toBe(`http://h/p?a=1&t=${L}&z=2`)
  })

  it('leaves texts without the secret alone, labels included', () => {
    for (const text of ['plain', 'a%20b \\n', L, `x ${L} y`, Buffer.from('hello world, nothing here').toString('base64')])
      expect(r.text(text)).toBe(text)
  })
})

it('util.inspect of the redactor (say, in the async context a promise prints) shows no value', () => {
  expect(inspect(r, { showHidden: true, depth: 10 })).not.toContain('Zq9')
})

describe('SecretRedactor.value', () => {
  it('copies what holds a secret, keeping prototypes, and returns the rest as it is', () => {
    class Box {
      constructor(readonly t: string) {}
    }
    const plain = { a: 1, b: ['x'] }
    expect(r.value(plain)).toBe(plain)
    const v = r.value({ box: new Box(TOKEN), list: [TOKEN, 2], map: new Map([[TOKEN, 1]]), err: new Error(`boom ${TOKEN}`) })
    expect(v.box).toBeInstanceOf(Box)
    expect(v.box.t).toBe(L)
    expect(v.list).toEqual([L, 2])
    expect([...v.map.keys()]).toEqual([L])
    expect(v.err).toBeInstanceOf(Error)
    expect(v.err.message).toBe(`boom ${L}`)
    expect(v.err.stack).not.toContain('Zq9')
  })

  it('handles cycles', () => {
    const a: Record<string, unknown> = { t: TOKEN }
    a.self = a
    const v = r.value(a)
    expect(v.t).toBe(L)
    expect(v.self).toBe(v)
  })

  it('numbers that are a secret', () => {
    const n = new SecretRedactor([{ name: 'pin', value: '482913' }])
    expect(n.value({ pin: 482913 })).toEqual({ pin: '[secret:pin]' })
  })
})
