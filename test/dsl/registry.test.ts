// describe / it: the option forms, skip / only / each, `when` per host, tags, typed vars
// validated per host, and errors confined to the block that threw.
import { describe as suite, expect as assert, it as test } from 'vitest'
import { z } from 'zod'
import { describe, it, loadSpec, formatTitle } from '../../src/dsl/registry/declare.ts'
import { collectChecks } from '../../src/dsl/registry/collect.ts'
import type { LoadedSpec } from '../../src/dsl/registry/types.ts'
import { inGroup, hasVars, varIs, notInGroup } from '../../src/dsl/when.ts'
import { secret } from '../../src/dsl/vars.ts'
import type { HostSpec } from '../../src/model.ts'

function host(name: string, groups: string[] = [], vars: Record<string, unknown> = {}): HostSpec {
  return { name, address: name, port: 22, transport: 'ssh', groups, vars }
}

const load = (body: () => void): Promise<LoadedSpec> => loadSpec('specs/x.spec.ts', async () => body())
const summary = (spec: LoadedSpec, h: HostSpec) => collectChecks(spec, h).checks.map(c => [c.path.join(' › '), c.skipped ?? 'runs'])

suite('describe / it forms', () => {
  test('accept options between title and body, and keep the two-argument form', async () => {
    const spec = await load(() => {
      describe('plain', () => it('a', () => {}))
      describe('with options', { tags: ['web'] }, () => {
        it('b', () => {})
        it('c', { tags: ['slow'] }, () => {})
      })
      it('top-level', { tags: ['x'] }, () => {})
    })
    const { checks } = collectChecks(spec, host('h'))
    assert(checks.map(c => [c.path, c.tags])).toEqual([
      [['plain', 'a'], []],
      [['with options', 'b'], ['web']],
      [
        ['with options', 'c'],
        ['web', 'slow'],
      ],
      [['top-level'], ['x']],
    ])
    assert(checks.every(c => c.id.startsWith('specs/x.spec.ts::'))).toBe(true)
  })

  test('skip: .skip with an optional reason, or { skip: "reason" }; a skipped describe is one entry', async () => {
    const spec = await load(() => {
      it.skip('quick skip', () => {})
      it.skip('skip with reason', () => {}, 'flaky until #12')
      it('skip option', { skip: 'waiting for the CDN' }, () => {})
      it('skip: false runs', { skip: false }, () => {})
      describe.skip('whole block', () => it('never collected', () => {}), 'not deployed yet')
      describe('inner', () => {
        it.skip('inner skip', { tags: ['t'] }, () => {})
      })
    })
    assert(summary(spec, host('h'))).toEqual([
      ['quick skip', 'marked skip in the spec'],
      ['skip with reason', 'flaky until #12'],
      ['skip option', 'waiting for the CDN'],
      ['skip: false runs', 'runs'],
      ['whole block', 'not deployed yet'],
      ['inner › inner skip', 'marked skip in the spec'],
    ])
    assert(collectChecks(spec, host('h')).checks[4]!.block).toBe(true)
  })

  test('only marks the check and everything inside an only describe', async () => {
    const spec = await load(() => {
      describe.only('focused', () => it('a', () => {}))
      it.only('b', () => {})
      it('c', { only: true }, () => {})
      it('d', () => {})
    })
    assert(collectChecks(spec, host('h')).checks.map(c => [c.path.at(-1), c.only])).toEqual([
      ['a', true],
      ['b', true],
      ['c', true],
      ['d', false],
    ])
  })

  test('each: a row per describe or check, with $key, %s, %j and %# in the title', async () => {
    const spec = await load(() => {
      describe.each([
        { app: 'blog', port: 1 },
        { app: 'shop', port: 2 },
      ])('$app', { tags: ['app'] }, (row, { host }) => {
        it(`listens on ${row.port} on ${host.name}`, () => {})
      })
      it.each(['/', '/cart'])('GET %s', page => assert(page).toBeTypeOf('string'))
      it.each([1, 2])('same title', () => {})
    })
    assert(collectChecks(spec, host('h')).checks.map(c => c.path.join(' › '))).toEqual([
      'blog › listens on 1 on h',
      'shop › listens on 2 on h',
      'GET /',
      'GET /cart',
      'same title [0]',
      'same title [1]',
    ])
    assert(formatTitle('%# %j', { a: 1 }, 3, 5)).toBe('3 {"a":1}')
  })

  test('it.each passes the row to the check function', async () => {
    const seen: string[] = []
    const spec = await load(() =>
      it.each(['a', 'b'])('row %s', row => {
        seen.push(row)
      }),
    )
    for (const c of collectChecks(spec, host('h')).checks) await c.fn()
    assert(seen).toEqual(['a', 'b'])
  })

  test('bad arguments are errors at load time, naming the block', async () => {
    await assert(load(() => it('x', { tag: ['a'] } as never, () => {}))).rejects.toThrow(/it\("x"\): unknown option "tag"/)
    await assert(load(() => it('x', { when: 'web' } as never, () => {}))).rejects.toThrow(/when must be a function/)
    await assert(load(() => describe('x', { vars: { app: 'string' } } as never, () => {}))).rejects.toThrow(/vars must be a schema/)
    await assert(load(() => it('x', { vars: z.object({}) } as never, () => {}))).rejects.toThrow(/vars schemas belong on describe/)
    await assert(load(() => (it as unknown as (t: string) => void)('no function'))).rejects.toThrow(/needs a function/)
    assert(() => describe('outside', () => {})).toThrow(/outside a spec file/)
  })
})

suite('when: per host', () => {
  const web = host('web-1', ['web', 'staging'], { app: 'blog', statusPort: 5000 })
  const worker = host('worker-1', ['workers', 'staging'], { app: 'blog' })

  test('a describe or check that does not apply is skipped there with the reason', async () => {
    const spec = await load(() => {
      describe('web', { when: inGroup('web') }, () => it('serves', () => {}))
      describe('workers', { when: inGroup('workers') }, () => it('consumes', () => {}))
      it('status page', { when: hasVars('statusPort') }, () => {})
      it('blog only', { when: varIs('app', 'shop') }, () => {})
      it('not on workers', { when: notInGroup('workers') }, () => {})
      it('custom', { when: h => h.vars.app === 'shop' }, () => {})
    })
    assert(summary(spec, web)).toEqual([
      ['web › serves', 'runs'],
      ['workers', 'host is not in group workers'],
      ['status page', 'runs'],
      ['blog only', 'var app is not "shop"'],
      ['not on workers', 'runs'],
      ['custom', assert.stringMatching(/^when \(h\) => h\.vars\.app === .shop. is false for this host$/)],
    ])
    assert(summary(spec, worker)).toEqual([
      ['web', 'host is not in group web'],
      ['workers › consumes', 'runs'],
      ['status page', 'host does not set var statusPort'],
      ['blog only', 'var app is not "shop"'],
      ['not on workers', 'host is in group workers'],
      ['custom', assert.stringMatching(/is false for this host$/)],
    ])
  })

  test('the describe body runs only on hosts it applies to', async () => {
    const ran: string[] = []
    const spec = await load(() =>
      describe('web', { when: inGroup('web') }, ({ host }) => {
        ran.push(host.name)
      }),
    )
    collectChecks(spec, web)
    collectChecks(spec, worker)
    assert(ran).toEqual(['web-1'])
  })

  test('a when that throws errors that block on that host only', async () => {
    const spec = await load(() => {
      it('fragile', { when: h => (h.vars.app as string).length > 0 }, () => {})
      it('fine', () => {})
    })
    const out = collectChecks(spec, host('bare'))
    assert(out.checks.map(c => c.path[0])).toEqual(['fine'])
    assert(String(out.errors[0]!.error)).toMatch(/when\(\) threw/)
  })
})

suite('typed vars', () => {
  const Vars = z.object({
    app: z.string(),
    statusPort: z.number().int(),
    root: z.string().default('/apps'),
    token: secret(z.string()).optional(),
  })

  test('the body gets the parsed vars (defaults applied); the host is not mutated', async () => {
    let seen: unknown
    const spec = await load(() =>
      describe('typed', { vars: Vars }, ({ vars }) => {
        seen = vars
        it('x', () => {})
      }),
    )
    const h = host('web-1', [], { app: 'blog', statusPort: 5000, other: 1 })
    const out = collectChecks(spec, h)
    assert(out.varProblems).toEqual([])
    assert(seen).toEqual({ app: 'blog', statusPort: 5000, root: '/apps' })
    assert(h.vars).toEqual({ app: 'blog', statusPort: 5000, other: 1 })
    assert(out.secretPaths).toContainEqual(['token'])
  })

  test('missing or mistyped vars are problems naming the var; the block declares nothing on that host', async () => {
    const spec = await load(() => describe('typed', { vars: Vars }, () => it('x', () => {})))
    const out = collectChecks(spec, host('web-3', [], { app: 'blog', statusPort: 'abc' }))
    assert(out.checks).toEqual([])
    assert(out.varProblems.map(p => [p.path, p.varPath, p.message])).toEqual([
      [['typed'], ['statusPort'], 'statusPort must be a number, got "abc"'],
    ])
    const missing = collectChecks(spec, host('web-4', [], { app: 'blog' }))
    assert(missing.varProblems.map(p => p.message)).toEqual(['statusPort is required (number)'])
  })

  test('vars are only validated where the block applies', async () => {
    const spec = await load(() => describe('typed', { when: inGroup('web'), vars: Vars }, () => it('x', () => {})))
    assert(collectChecks(spec, host('worker', ['workers'], {})).varProblems).toEqual([])
    assert(collectChecks(spec, host('web', ['web'], {})).varProblems).toHaveLength(2)
  })
})

suite('collect errors', () => {
  test('a nested describe that throws errors only itself; an async body is an error', async () => {
    const spec = await load(() => {
      describe('outer', () => {
        it('kept', () => {})
        describe('broken', () => {
          it('dropped', () => {})
          throw new Error('boom')
        })
        it('also kept', () => {})
      })
      describe('async', (async () => {}) as never)
    })
    const out = collectChecks(spec, host('h'))
    assert(out.checks.map(c => c.path.join(' › '))).toEqual(['outer › kept', 'outer › also kept'])
    assert(out.errors.map(e => [e.path.join(' › '), String(e.error)])).toEqual([
      ['outer › broken', 'Error: boom'],
      ['async', assert.stringMatching(/must be synchronous/)],
    ])
  })
})

suite('one registry per process', () => {
  test('a second copy of the module records into the same spec (state lives on a global symbol)', async () => {
    // a fresh module instance, as a spec package with its own nested copy would load
    const url = `${new URL('../../src/dsl/registry/declare.ts', import.meta.url).href}?copy=${Date.now()}`
    const copy = (await import(/* @vite-ignore */ url)) as typeof import('../../src/dsl/registry/declare.ts')
    assert(copy.describe).not.toBe(describe)
    const spec = await load(() => {
      copy.describe('from the copy', () => copy.it('a', () => {}))
      it('from the original', () => {})
    })
    assert(collectChecks(spec, host('h')).checks.map(c => c.path.join(' › '))).toEqual(['from the copy › a', 'from the original'])
  })
})

suite('one registry state per process', () => {
  test('a second copy of the state module finds the same state (a global symbol, not the module cache)', async () => {
    const { state } = await import('../../src/dsl/registry/state.ts')
    const url = `${new URL('../../src/dsl/registry/state.ts', import.meta.url).href}?copy=${Date.now()}`
    const copy = (await import(/* @vite-ignore */ url)) as typeof import('../../src/dsl/registry/state.ts')
    assert(copy.state).toBe(state)
  })
})
