// Type-level tests, checked by `tsc --noEmit -p .` (this file is in the project): vars are
// typed from a describe's schema in the editor, and misuse does not compile. The bodies are
// never run; vitest only sees the one test below.
import { expectTypeOf, it as test } from 'vitest'
import { describe, it, defineVars, secret, inGroup, z, type HostInfo, type VarsOf } from '../../src/index.ts'

const AppVars = defineVars(z.object({ app: z.string(), appsRoot: z.string().default('/apps') }))
const BlogVars = AppVars.extend({ statusPort: z.number(), dbPassword: secret(z.string()).optional() })

export function typedVars(): void {
  describe('Blog', { vars: BlogVars }, ({ vars, host }) => {
    expectTypeOf(vars.app).toEqualTypeOf<string>()
    expectTypeOf(vars.statusPort).toEqualTypeOf<number>()
    // a default makes the output non-optional
    expectTypeOf(vars.appsRoot).toEqualTypeOf<string>()
    expectTypeOf(vars.dbPassword).toEqualTypeOf<string | undefined>()
    expectTypeOf(host).toEqualTypeOf<HostInfo>()
    // @ts-expect-error a var the schema does not declare
    vars.statusPrt
    // @ts-expect-error vars are read-only
    vars.app = 'shop'
    it('uses them', async () => `http://127.0.0.1:${vars.statusPort}/`)
  })

  // a shared schema module gives the same type to every spec that imports it
  expectTypeOf<VarsOf<typeof AppVars>>().toEqualTypeOf<Readonly<{ app: string; appsRoot: string }>>()

  // with other options too, and in describe.each / .skip / .only
  describe('Blog on web', { when: inGroup('web'), tags: ['smoke'], vars: BlogVars }, ({ vars }) => {
    expectTypeOf(vars.statusPort).toEqualTypeOf<number>()
  })
  describe.each([{ page: '/' }, { page: '/cart' }])('$page', { vars: BlogVars }, (row, { vars }) => {
    expectTypeOf(row.page).toEqualTypeOf<string>()
    expectTypeOf(vars.statusPort).toEqualTypeOf<number>()
  })
  describe.skip('later', { vars: BlogVars }, ({ vars }) => expectTypeOf(vars.app).toEqualTypeOf<string>(), 'not yet')
  describe.only('focus', { vars: BlogVars }, ({ vars }) => expectTypeOf(vars.app).toEqualTypeOf<string>())
  it.each([1, 2])('row %s', n => expectTypeOf(n).toEqualTypeOf<number>())

  // without a schema, vars stay loosely typed (what hosts.yaml holds)
  describe('untyped', ({ vars }) => {
    expectTypeOf(vars).toEqualTypeOf<Readonly<Record<string, any>>>()
  })
}

export function misuse(): void {
  // @ts-expect-error tags must be strings
  it('x', { tags: [1] }, () => {})
  // @ts-expect-error when takes the host and returns a boolean
  it('x', { when: (host: HostInfo) => host.name }, () => {})
  // @ts-expect-error skip is true or a reason
  it('x', { skip: 3 }, () => {})
  // @ts-expect-error an unknown option
  describe('x', { tag: ['a'] }, () => {})
  // @ts-expect-error vars belong on describe
  it('x', { vars: BlogVars }, () => {})
  // @ts-expect-error vars must be a schema
  describe('x', { vars: { app: 'string' } }, () => {})
  // @ts-expect-error a var the schema does not declare
  describe('x', { vars: BlogVars }, ({ vars }) => vars.nope)
}

test('typed vars compile (checked by tsc, not at run time)', () => {
  expectTypeOf(typedVars).toBeFunction()
})
