// The plan: what runs where before connecting. Filters (--tags, --exclude-tags, --grep, only)
// skip with a reason; var problems name the hosts.yaml line, the host, the var and the spec;
// secret values are collected for redaction.
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, describe as suite, expect, it as test } from 'vitest'
import { z } from 'zod'
import { describe, it, loadSpec } from '../../src/dsl/registry/declare.ts'
import type { LoadedSpec } from '../../src/dsl/registry/types.ts'
import { inGroup } from '../../src/dsl/when.ts'
import { secret } from '../../src/dsl/vars.ts'
import { loadInventory } from '../../src/inventory/load.ts'
import { selectHosts } from '../../src/inventory/select.ts'
import { noChecksApply, planRun, varProblemsMessage, type HostPlan } from '../../src/runner/plan.ts'
import type { HostSpec } from '../../src/model.ts'

const host = (name: string, groups: string[], vars: Record<string, unknown> = {}): HostSpec => ({
  name,
  address: name,
  port: 22,
  transport: 'ssh',
  groups,
  vars,
})
const web = host('web-1', ['web'], { app: 'blog', statusPort: 5000 })
const worker = host('worker-1', ['workers'], { app: 'blog' })

const spec = (file: string, body: () => void): Promise<LoadedSpec> => loadSpec(file, async () => body())
const rows = (plan: HostPlan) =>
  plan.entries.map(e => [e.check?.path.join(' › ') ?? e.result!.path.join(' › '), e.check ? 'runs' : e.result!.message])

const dirs: string[] = []
afterAll(() => Promise.all(dirs.map(d => rm(d, { recursive: true, force: true }))))

suite('planRun', () => {
  test('each host gets only its checks; the others are skipped with the reason', async () => {
    const specs = [
      await spec('specs/app.spec.ts', () => {
        describe('web', { when: inGroup('web') }, () => it('serves', () => {}))
        describe('workers', { when: inGroup('workers') }, () => it('consumes', () => {}))
      }),
    ]
    const plan = planRun([web, worker], specs)
    expect(rows(plan.hosts[0]!)).toEqual([
      ['web › serves', 'runs'],
      ['workers', 'host is not in group workers'],
    ])
    expect(rows(plan.hosts[1]!)).toEqual([
      ['web', 'host is not in group web'],
      ['workers › consumes', 'runs'],
    ])
    expect(plan.runnable).toBe(2)
  })

  test('--tags, --exclude-tags and --grep skip what they leave out, saying which flag did', async () => {
    const specs = [
      await spec('specs/app.spec.ts', () => {
        describe('app', { tags: ['web'] }, () => {
          it('health', { tags: ['smoke'] }, () => {})
          it('slow crawl', { tags: ['slow'] }, () => {})
          it('config', () => {})
        })
      }),
    ]
    expect(rows(planRun([web], specs, { tags: ['smoke', 'slow'], excludeTags: ['slow'] }).hosts[0]!)).toEqual([
      ['app › health', 'runs'],
      ['app › slow crawl', 'tagged slow (--exclude-tags)'],
      ['app › config', 'not tagged smoke or slow (--tags)'],
    ])
    // a describe's tag applies to everything inside it
    expect(planRun([web], specs, { tags: ['web'] }).runnable).toBe(3)
    expect(rows(planRun([web], specs, { grep: /heal|conf/ }).hosts[0]!)).toEqual([
      ['app › health', 'runs'],
      ['app › slow crawl', 'title does not match --grep heal|conf'],
      ['app › config', 'runs'],
    ])
    expect(planRun([web], specs, { grep: /app\.spec/ }).runnable).toBe(3)
  })

  test('only: when any check is focused, every other one is skipped, on every host', async () => {
    const specs = [
      await spec('specs/a.spec.ts', () => {
        it.only('focused', () => {})
        it('other', () => {})
      }),
      await spec('specs/b.spec.ts', () => it('elsewhere', () => {})),
    ]
    const plan = planRun([web, worker], specs)
    expect(plan.focused).toHaveLength(1)
    expect(rows(plan.hosts[1]!)).toEqual([
      ['focused', 'runs'],
      ['other', expect.stringMatching(/^not focused: only is used at specs\/a\.spec\.ts/)],
      ['elsewhere', expect.stringMatching(/^not focused/)],
    ])
  })

  test('a host on which every check is skipped is flagged; one with a spec error is not', async () => {
    const specs = [
      await spec('specs/a.spec.ts', () => {
        describe('web', { when: inGroup('web') }, () => it('serves', () => {}))
        describe('throws on workers', ({ host }) => {
          if (host.groups.includes('workers')) throw new Error('boom')
        })
      }),
    ]
    const plan = planRun([web, worker, host('db-1', ['db'])], specs)
    expect(plan.hosts.map(h => [h.host.name, noChecksApply(h)])).toEqual([
      ['web-1', false],
      ['worker-1', false],
      ['db-1', true],
    ])
    expect(plan.hosts[1]!.entries[0]!.result).toMatchObject({ status: 'error', errorKind: 'spec', message: expect.stringMatching(/boom/) })
  })

  test('var problems name the hosts.yaml line, the host, the var and the spec', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'plan-'))
    dirs.push(dir)
    await writeFile(
      join(dir, 'hosts.yaml'),
      [
        'vars:',
        '  app: blog',
        'hosts:',
        '  web-1: { vars: { statusPort: 5000 } }',
        '  web-2: { vars: { statusPort: "5000" } }',
        '  web-3:',
        '  worker-1:',
        'groups:',
        '  web: { hosts: [web-1, web-2, web-3] }',
        '  workers: { hosts: [worker-1] }',
        '',
      ].join('\n'),
    )
    const inv = await loadInventory(join(dir, 'hosts.yaml'))
    const hosts = selectHosts(inv, 'web,workers', {})
    const specs = [
      await spec('specs/blog.spec.ts', () => {
        describe('Blog', { when: inGroup('web'), vars: z.object({ app: z.string(), statusPort: z.number() }) }, () => it('x', () => {}))
      }),
    ]
    const plan = planRun(hosts, specs)
    expect(plan.varProblems).toEqual([
      `${inv.file}:5 web-2: statusPort must be a number, got "5000" — specs/blog.spec.ts "Blog"`,
      `${inv.file}:6 web-3: statusPort is required (number) — specs/blog.spec.ts "Blog"`,
    ])
    expect(varProblemsMessage(plan.varProblems, 1)).toMatch(/nothing was connected to[\s\S]*web-2[\s\S]*… and 1 more$/)
  })

  test('secret values are collected from every host, even where the block does not apply', async () => {
    const specs = [
      await spec('specs/shop.spec.ts', () => {
        describe(
          'Shop',
          {
            when: inGroup('shop'),
            vars: z.object({ token: secret(z.string()), db: secret(z.object({ user: z.string(), password: z.string() })) }),
          },
          () => it('x', () => {}),
        )
      }),
    ]
    const plan = planRun(
      [
        host('shop-1', ['shop'], { token: 't0ken-1', db: { user: 'shop', password: 'pw-1' } }),
        host('web-1', ['web'], { token: 't0ken-2' }),
      ],
      specs,
    )
    expect(plan.secrets).toEqual([
      { name: 'token', value: 't0ken-1' },
      { name: 'db.user', value: 'shop' },
      { name: 'db.password', value: 'pw-1' },
      { name: 'token', value: 't0ken-2' },
    ])
  })
})
