// Property, in-process and fast: for many hostile secrets (seeded, printed), every encoding the
// e2e property test pushes a value through, and pairs of them, is redacted from a text around it.
import { describe, expect, it } from 'vitest'
import { SecretRedactor } from '../../src/secrets/redactor.ts'
import { encodingsOf, hostileSecrets, prng, seedFromEnv } from '../support/hostile-secrets.ts'

const SEED = seedFromEnv()
const REPLAY = `seed ${SEED} (replay: VERIFY_SECRET_SEED=${SEED} npx vitest run test/secrets/redactor-property.test.ts)`
const SECRETS = hostileSecrets(prng(SEED), 60)

/** Encodings a spec applies before a value is shown, alone and one inside another. */
const ENCODE: Record<string, (v: string) => string> = {
  JSON: v => JSON.stringify(v),
  encodeURIComponent,
  URLSearchParams: v => new URLSearchParams({ v }).toString(),
  base64: v => Buffer.from(v).toString('base64'),
  hex: v => Buffer.from(v).toString('hex'),
}

describe(`the redactor on hostile secrets (${REPLAY})`, () => {
  it('no secret survives, raw or encoded once or twice, amid other text', () => {
    const redactor = new SecretRedactor(SECRETS.map((value, i) => ({ name: `s${i}`, value })))
    const leaks: string[] = []
    let tried = 0
    SECRETS.forEach((secret, i) => {
      const forms: Record<string, string> = { ...encodingsOf(secret) }
      for (const [outer, encode] of Object.entries(ENCODE)) {
        for (const [inner, encodeInner] of Object.entries(ENCODE)) forms[`${outer}(${inner})`] = encode(encodeInner(secret))
        forms[`${outer}(user:secret)`] = encode(`deploy:${secret}`)
      }
      for (const [name, form] of Object.entries(forms)) {
        tried++
        const out = redactor.text(`before ${form} after`)
        if (out.includes(form) || !out.startsWith('before ') || !out.endsWith(' after') || redactor.revealedIn(out) !== undefined)
          leaks.push(`s${i} ${name}: ${JSON.stringify(out)}`)
      }
    })
    console.log(`redactor property: ${SECRETS.length} secrets × ${tried / SECRETS.length} forms = ${tried}, ${REPLAY}`)
    expect(leaks, `secrets: ${JSON.stringify(SECRETS)}`).toEqual([])
  })
})
