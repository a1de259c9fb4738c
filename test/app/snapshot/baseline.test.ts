import { describe, expect, it } from 'vitest'
import { snapshotFromRun } from '../../../src/app/snapshot/snapshot.ts'
import { makeBaseline } from '../../../src/app/snapshot/baseline.ts'
import { finishRun } from '../../../src/runner/run.ts'
import type { HostResult } from '../../../src/model.ts'

const raw = {
  root: '/apps/blog',
  exists: true,
  current: { kind: 'symlink', target: '/apps/blog/releases/r2', resolved: '/apps/blog/releases/r2' },
  releasesDir: {
    kind: 'directory',
    resolved: '/apps/blog/releases',
    entries: [
      {
        name: 'r1',
        type: 'directory',
        accessible: true,
        empty: false,
        resolved: '/apps/blog/releases/r1',
        revision: { state: 'ok', content: 'aaa1111\n' },
      },
      {
        name: 'r2',
        type: 'directory',
        accessible: true,
        empty: false,
        resolved: '/apps/blog/releases/r2',
        revision: { state: 'ok', content: 'bbb2222\n' },
      },
    ],
  },
}

const host: HostResult = {
  host: { name: 'web-1', address: '10.0.0.1', port: 22, transport: 'ssh', groups: [] },
  status: 'verified',
  checks: [{ id: 's::c', file: 's', path: ['c'], status: 'passed', durationMs: 1, facts: [] }],
  timings: { totalMs: 1 },
  execChannels: 1,
  recordedFacts: {
    'file:/apps/blog/current': {
      path: '/apps/blog/current',
      exists: true,
      isSymlink: true,
      linkTarget: '/apps/blog/releases/r2',
      mtime: '2026-11-23T09:12:00.000Z',
    },
    'release:/apps/blog\u0000REVISION': raw,
    'host-clock': {
      hostNowMs: Date.parse('2026-11-23T09:12:03Z'),
      runnerReceivedMs: Date.parse('2026-11-23T09:12:00Z'),
      offsetMs: 3000,
      precise: true,
    },
    'process-table': {
      processes: [
        {
          pid: 42,
          ppid: 1,
          name: 'puma',
          args: 'puma 6.4 (tcp://0.0.0.0:3000) [blog]',
          argv: [],
          user: 'blog',
          uid: 1001,
          state: 'S',
          startedAt: '2026-11-20T08:00:00.000Z',
          elapsedSeconds: 1,
        },
      ],
      probe: { pid: 1, sessionId: 1, excludedPids: [] },
    },
    // what a process('puma') check read: a part of the whole table, not kept as a fact
    'process-table:name:puma': { processes: [], probe: { pid: 1, sessionId: 1, excludedPids: [] } },
  },
}

describe('snapshot and baseline', () => {
  it('keeps facts, pids, start times and the clock; baseline() gives them back typed', () => {
    const snapshot = snapshotFromRun(finishRun(new Date('2026-11-23T09:11:59Z'), [host], []))
    const h = snapshot.hosts[0]!
    expect(h).toMatchObject({ name: 'web-1', hostTakenAt: '2026-11-23T09:12:03.000Z', clockOffsetMs: 3000, checks: { 's::c': 'passed' } })
    expect(Object.keys(h.facts)).toEqual(['file:/apps/blog/current', 'release:/apps/blog\u0000REVISION'])
    expect(h.processes).toEqual([
      { pid: 42, name: 'puma', args: 'puma 6.4 (tcp://0.0.0.0:3000) [blog]', user: 'blog', startedAt: '2026-11-20T08:00:00.000Z' },
    ])
    const b = makeBaseline(JSON.parse(JSON.stringify(h)))
    expect(b.file('/apps/blog/current')?.mtime).toEqual(new Date('2026-11-23T09:12:00Z'))
    expect(b.release('/apps/blog', { revisionFile: 'REVISION' })).toMatchObject({ current: 'r2', revision: 'bbb2222', previous: 'r1' })
    expect(b.release('/apps/blog')).toBeUndefined()
    expect(b.processes({ args: /\[blog\]/ }).map(p => p.pid)).toEqual([42])
    expect(b.processes('nginx')).toEqual([])
  })
})
