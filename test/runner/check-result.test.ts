import { describe, expect, it } from 'vitest'
import type { CollectedCheck } from '../../src/dsl/registry/types.ts'
import { HostUnreachableError } from '../../src/errors.ts'
import type { HostSpec } from '../../src/model.ts'
import { checkResult } from '../../src/runner/check-result.ts'
import { verifyHost } from '../../src/runner/host.ts'
import { interruptedCheck } from '../../src/runner/interrupt.ts'
import type { Transport } from '../../src/transports/transport.ts'

const declared: CollectedCheck = {
  id: 'specs/app.spec.ts::app › listens',
  file: 'specs/app.spec.ts',
  line: 7,
  path: ['app', 'listens'],
  fn: () => {},
  tags: ['smoke', 'web'],
  only: false,
  definedAt: 'specs/shared/web.ts:12',
}

describe('checkResult', () => {
  it('carries the declaration: id, file:line, path, tags and where a shared module declared it', () => {
    expect(checkResult(declared, { status: 'passed', durationMs: 12, facts: ['port:80'] })).toEqual({
      id: declared.id,
      file: 'specs/app.spec.ts',
      line: 7,
      path: ['app', 'listens'],
      tags: ['smoke', 'web'],
      source: 'specs/shared/web.ts:12',
      status: 'passed',
      durationMs: 12,
      facts: ['port:80'],
    })
  })

  it('took no time and read no fact unless said; no tags or source keys when the check has none', () => {
    const result = checkResult({ id: 'a::x', file: 'a', line: undefined, path: ['x'], tags: [] }, { status: 'skipped', message: 'why' })
    expect(result).toEqual({
      id: 'a::x',
      file: 'a',
      line: undefined,
      path: ['x'],
      status: 'skipped',
      message: 'why',
      durationMs: 0,
      facts: [],
    })
    expect('tags' in result || 'source' in result).toBe(false)
  })

  it('copies the tags: a result never shares the declaration array', () => {
    const result = checkResult(declared, { status: 'passed' })
    expect(result.tags).not.toBe(declared.tags)
  })
})

describe('every way a check ends keeps its tags and source', () => {
  it('interrupted', () => {
    const stop = new AbortController()
    stop.abort('SIGTERM')
    expect(interruptedCheck(declared, stop.signal)).toMatchObject({
      status: 'error',
      errorKind: 'interrupted',
      tags: ['smoke', 'web'],
      source: 'specs/shared/web.ts:12',
    })
  })

  it('not run because its host could not be reached', async () => {
    const host: HostSpec = { name: 'web-1', address: '192.0.2.1', port: 22, transport: 'ssh', groups: [], vars: {} }
    const transport: Transport = {
      kind: 'ssh',
      execCount: 0,
      connect: () => Promise.reject(new HostUnreachableError('web-1: connection refused')),
      exec: () => Promise.reject(new Error('not connected')),
      openTcp: () => Promise.reject(new Error('not connected')),
      close: () => Promise.resolve(),
    }
    const result = await verifyHost(
      { host, entries: [{ check: declared }], runnable: 1 },
      { timeoutSec: 5, checkTimeoutMs: 5_000, maxBytes: 1024, createTransport: () => transport },
    )
    expect(result.status).toBe('error')
    expect(result.checks).toEqual([
      expect.objectContaining({ status: 'error', errorKind: 'unreachable', tags: ['smoke', 'web'], source: 'specs/shared/web.ts:12' }),
    ])
  })
})
