// Failed matchers whose values hold a secret: re-run on redacted copies, so the error's message,
// expected and actual never saw the value, whatever the matcher and its modifiers.
import { describe, expect as vitestExpect, it } from 'vitest'
import { expect } from '../../src/dsl/expect.ts'
import { runInHost, type HostContext } from '../../src/dsl/context.ts'
import { describeFailure } from '../../src/runner/check.ts'
import { SecretRedactor } from '../../src/secrets/redactor.ts'

const TOKEN = 'tk "q\\7 a/b+c&d=e%f é-Zq9'
const ctx = { secrets: new SecretRedactor([{ name: 'token', value: TOKEN }]) } as unknown as HostContext

/** What the report would hold for the assertion's failure. */
async function failure(assertion: () => unknown): Promise<{ message?: string; expected?: string; actual?: string; status: string }> {
  try {
    await runInHost(ctx, async () => assertion())
  } catch (error) {
    return describeFailure(error)
  }
  throw new Error('the assertion passed')
}

function shown(outcome: { message?: string; expected?: string; actual?: string }): string {
  return `${outcome.message}\n${outcome.expected}\n${outcome.actual}`
}

describe('a failed matcher involving a secret', () => {
  const cases: Array<[string, () => unknown]> = [
    ['toEqual on an object', () => expect({ t: TOKEN }).toEqual({ t: 'x' })],
    ['toBe on a template string', () => expect(`Bearer ${TOKEN}`).toBe('Bearer x')],
    ['not.toContain', () => expect([TOKEN]).not.toContain(TOKEN)],
    ['toMatch with the secret in the pattern', () => expect('nothing').toMatch(new RegExp(TOKEN.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')))],
    ['toStrictEqual on JSON', () => expect(JSON.stringify({ t: TOKEN })).toStrictEqual('{}')],
    ['resolves.toEqual', () => expect(Promise.resolve({ t: TOKEN })).resolves.toEqual({ t: 'x' })],
    ['rejects.toThrow', () => expect(Promise.reject(new Error(`bad ${TOKEN}`))).rejects.toThrow('other')],
    [
      'toThrow',
      () =>
        expect(() => {
          throw new Error(`bad ${TOKEN}`)
        }).toThrow('other'),
    ],
  ]
  for (const [name, assertion] of cases) {
    it(`${name}: fails, shows [secret:token], never the value`, async () => {
      const outcome = await failure(assertion)
      vitestExpect(outcome.status).toBe('failed')
      vitestExpect(shown(outcome)).toMatch(/\[secret:token\]/)
      vitestExpect(shown(outcome)).not.toContain('Zq9')
    })
  }

  it('a copy that passes (the secret decided the outcome): still failed, values withheld', async () => {
    const outcome = await failure(() => expect(TOKEN).not.toHaveLength(TOKEN.length))
    vitestExpect(outcome.status).toBe('failed')
    vitestExpect(outcome.message).toMatch(/values are withheld because they contain \[secret:token\]/)
    vitestExpect(shown(outcome)).not.toContain('Zq9')
  })

  it('a failure without a secret is reported as before', async () => {
    const outcome = await failure(() => expect({ t: 'a' }).toEqual({ t: 'b' }))
    vitestExpect(outcome.actual).toBe("{ t: 'a' }")
    vitestExpect(outcome.message).toContain('toEqual')
  })
})
