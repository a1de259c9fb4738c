// Vars schemas: the messages a host's wrong vars produce, and which vars are secret.
import { describe, expect, it } from 'vitest'
import { z } from 'zod'
import { defineVars, findSecretPaths, secret, validateVars, formatVarPath } from '../../src/dsl/vars.ts'

const Schema = z.object({
  app: z.string(),
  statusPort: z.number().int().min(1),
  mode: z.enum(['push', 'pull']).default('push'),
  db: z.object({ host: z.string(), password: secret(z.string()) }),
  apiKey: z.string().meta({ secret: true }).optional(),
  token: secret(z.string()).optional(),
})

describe('validateVars', () => {
  it('returns the parsed vars with defaults', () => {
    const result = validateVars(Schema, { app: 'blog', statusPort: 5000, db: { host: 'db-1', password: 'pw' }, extra: true })
    expect(result).toMatchObject({ ok: true, value: { app: 'blog', statusPort: 5000, mode: 'push', db: { host: 'db-1', password: 'pw' } } })
  })

  it('says which var is missing or wrong, and what it should be', () => {
    const result = validateVars(Schema, { statusPort: 'abc', mode: 'sync', db: { password: 7 } })
    expect(result.ok).toBe(false)
    expect(!result.ok && result.issues.map(i => [formatVarPath(i.path), i.message])).toEqual([
      ['app', 'app is required (string)'],
      ['statusPort', 'statusPort must be a number, got "abc"'],
      ['mode', 'mode must be one of "push", "pull", got "sync"'],
      ['db.host', 'db.host is required (string)'],
      // a secret's value is never shown
      ['db.password', 'db.password must be a string, got a value (secret, not shown)'],
    ])
  })

  it('describes refinements with the schema message and the value', () => {
    const result = validateVars(Schema, { app: 'blog', statusPort: 0, db: { host: 'h', password: 'p' } })
    expect(!result.ok && result.issues[0]!.message).toMatch(/^statusPort: Too small.*, got 0$/)
  })

  it('names unknown vars when the schema is strict', () => {
    const result = validateVars(z.strictObject({ app: z.string() }), { app: 'blog', statsPort: 1 })
    expect(!result.ok && result.issues[0]!.message).toBe('statsPort: not a var this spec declares (its schema is strict)')
  })

  it('refuses an asynchronous schema', () => {
    const result = validateVars(z.object({ a: z.string().refine(async () => true) }), { a: 'x' })
    expect(!result.ok && result.issues[0]!.message).toMatch(/asynchronous/)
  })
})

describe('secrets', () => {
  it('finds vars marked with secret() or meta({ secret: true }), through wrappers and nested objects', () => {
    expect(findSecretPaths(Schema)).toEqual([['db', 'password'], ['apiKey'], ['token']])
  })

  it('defineVars returns the schema itself and rejects what is not one', () => {
    expect(defineVars(Schema)).toBe(Schema)
    expect(() => defineVars({ app: 'string' } as never)).toThrow(/takes a schema/)
    expect(() => secret('x' as never)).toThrow(/takes a schema/)
  })
})
