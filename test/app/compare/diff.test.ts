import { describe, expect, it } from 'vitest'
import { DEFAULT_IGNORES, diffHosts } from '../../../src/app/compare/diff.ts'
import { pairHosts, parsePairing } from '../../../src/app/compare/pair.ts'
import type { HostResult } from '../../../src/model.ts'

const host = (name: string, address: string, facts: Record<string, unknown>, status: 'passed' | 'failed' = 'passed'): HostResult => ({
  host: { name, address, port: 22, transport: 'ssh', groups: [] },
  status: 'verified',
  checks: [{ id: 'specs/a.spec.ts::blog › current', file: 'specs/a.spec.ts', path: ['blog', 'current'], status, durationMs: 1, facts: [] }],
  timings: { totalMs: 1 },
  execChannels: 1,
  recordedFacts: facts,
})

const stat = (over: Record<string, unknown> = {}) => ({
  path: '/apps/blog/current',
  exists: true,
  isSymlink: true,
  linkTarget: '/apps/blog/releases/r2',
  mode: '0777',
  owner: 'deploy',
  group: 'deploy',
  mtime: '2026-11-23T09:12:00.000Z',
  ...over,
})

describe('diffHosts', () => {
  it('compares modes, owners, mtimes and link targets; leaves pids, start times and counters out', () => {
    const old = host('web-1-old', '10.0.0.1', {
      'file:/apps/blog/current': stat(),
      'process-table': { processes: [{ pid: 100 }] },
      'pidfile:/run/blog.pid': 100,
      'command:hostname': { command: 'hostname', exitStatus: 0, stdout: 'web-1-old\n' },
      proc: { pid: 12, startedAt: '2026-11-23T09:00:00Z', user: 'blog' },
    })
    const now = host(
      'web-1-new',
      '10.0.0.2',
      {
        'file:/apps/blog/current': stat({ owner: 'root', mtime: '2026-11-24T10:00:00.000Z', linkTarget: '/apps/blog/releases/r3' }),
        'process-table': { processes: [{ pid: 200 }] },
        'pidfile:/run/blog.pid': 200,
        'command:hostname': { command: 'hostname', exitStatus: 0, stdout: 'web-1-new\n' },
        proc: { pid: 99, startedAt: '2026-11-24T10:00:00Z', user: 'blog' },
      },
      'failed',
    )
    const d = diffHosts(old, now, { ignore: [...DEFAULT_IGNORES, 'pidfile'] })
    expect(d.differences.map(x => [x.fact, x.field, x.old, x.new])).toEqual([
      ['file:/apps/blog/current', 'linkTarget', '/apps/blog/releases/r2', '/apps/blog/releases/r3'],
      ['file:/apps/blog/current', 'mtime', '2026-11-23T09:12:00.000Z', '2026-11-24T10:00:00.000Z'],
      ['file:/apps/blog/current', 'owner', 'deploy', 'root'],
    ])
    // the host's own name is a placeholder on both sides, so `hostname` does not differ
    expect(d.checks).toEqual([{ id: 'specs/a.spec.ts::blog › current', old: 'passed', new: 'failed' }])
  })

  it('matches list entries by path, reports facts read on one side only, and honours key globs', () => {
    const a = host('a', '10.0.0.1', {
      'tree:/etc': {
        entries: [
          { path: 'x', mode: '0644' },
          { path: 'y', mode: '0644' },
        ],
      },
      'file:/var/log/a': stat(),
      'directory:/srv': { entries: ['a', 'b'] },
    })
    const b = host('b', '10.0.0.2', {
      'tree:/etc': { entries: [{ path: 'y', mode: '0600' }] },
      'file:/opt/new': stat(),
      'directory:/srv': { entries: ['b', 'c'] },
    })
    const d = diffHosts(a, b, { ignore: ['file:/var/log/*'] })
    expect(d.differences.map(x => [x.kind, x.fact, x.field, x.old, x.new])).toEqual([
      ['changed', 'directory:/srv', 'entries', ['a'], ['c']],
      ['only-new', 'file:/opt/new', '', undefined, expect.anything()],
      ['changed', 'tree:/etc', 'entries[x]', { path: 'x', mode: '0644' }, undefined],
      ['changed', 'tree:/etc', 'entries[y].mode', '0644', '0600'],
    ])
  })
})

describe('pairing', () => {
  it('by order, by name, against a reference host', () => {
    expect(pairHosts(['a', 'b'], ['c', 'd'], parsePairing('order'))).toEqual([
      ['a', 'c'],
      ['b', 'd'],
    ])
    expect(pairHosts(['web-1-old', 'web-2-old'], ['web-2-new', 'web-1-new'], parsePairing('name:-old=-new'))).toEqual([
      ['web-1-old', 'web-1-new'],
      ['web-2-old', 'web-2-new'],
    ])
    expect(pairHosts(['canary'], ['w1', 'w2'], parsePairing('reference'))).toEqual([
      ['canary', 'w1'],
      ['canary', 'w2'],
    ])
  })

  it('says what does not pair', () => {
    expect(() => pairHosts(['web-1-old'], ['web-2-new', 'web-3-new'], parsePairing('name:-old=-new'))).toThrow(
      /web-1-old: its partner web-1-new is not selected[\s\S]*no partner: web-2-new, web-3-new/,
    )
    expect(() => pairHosts(['a', 'b'], ['c'], parsePairing('reference'))).toThrow(/exactly one reference host/)
    expect(() => parsePairing('zip')).toThrow(/expected order, reference, or name:FROM=TO/)
  })
})
