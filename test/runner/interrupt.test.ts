// Stopping a run: a host that is connecting, one whose checks are running and one whose turn
// has not come all end at once when the run's signal aborts, each reporting what finished and
// marking the rest interrupted, with its connection closed. (The CLI's signal handling and
// the reports are tested end to end in test/e2e/faults/signals.test.ts.)
import { describe, expect, it } from 'vitest'
import { verifyHost, type HostRunOptions } from '../../src/runner/host.ts'
import { markInterrupted, untilInterrupted, waitersOn } from '../../src/runner/interrupt.ts'
import { finishRun } from '../../src/runner/run.ts'
import type { CollectedCheck } from '../../src/dsl/registry/types.ts'
import type { HostSpec } from '../../src/model.ts'
import type { HostPlan } from '../../src/runner/plan.ts'
import type { Transport } from '../../src/transports/transport.ts'

const HOST: HostSpec = { name: 'web-1', address: '10.0.0.1', port: 22, transport: 'ssh', groups: [], vars: {} }

function check(title: string, fn: () => unknown): CollectedCheck {
  return { id: `s.spec.ts::${title}`, file: 's.spec.ts', line: 1, path: [title], fn, tags: [], only: false }
}

function plan(...checks: CollectedCheck[]): HostPlan {
  return { host: HOST, entries: checks.map(c => ({ check: c })), runnable: checks.length }
}

/** A transport whose connect() waits for `connected` (forever by default) and records close(). */
function fakeTransport(connected: Promise<void> = new Promise(() => {})) {
  const state = { closed: false }
  const transport: Transport = {
    kind: 'ssh',
    execCount: 0,
    connect: () => connected,
    exec: async () => ({ exitCode: 0, stderr: '' }),
    openTcp: async () => {
      throw new Error('unused')
    },
    close: async () => {
      state.closed = true
    },
  }
  return { transport, state }
}

function options(transport: Transport, signal: AbortSignal): HostRunOptions {
  return { timeoutSec: 10, checkTimeoutMs: 60_000, maxBytes: 1024, createTransport: () => transport, signal }
}

describe('verifyHost when the run is interrupted', () => {
  it('while connecting: the host errors at once, every check interrupted, the half-open connection closed', async () => {
    const controller = new AbortController()
    const { transport, state } = fakeTransport()
    const pending = verifyHost(
      plan(
        check('a', () => {}),
        check('b', () => {}),
      ),
      options(transport, controller.signal),
    )
    setTimeout(() => controller.abort('SIGTERM'), 20)
    const result = await pending
    expect(result.status).toBe('error')
    expect(result.error).toEqual({ kind: 'interrupted', message: 'run interrupted by SIGTERM before this host was verified' })
    expect(result.checks.map(c => [c.path[0], c.status, c.errorKind])).toEqual([
      ['a', 'error', 'interrupted'],
      ['b', 'error', 'interrupted'],
    ])
    expect(state.closed).toBe(true)
  })

  it('while checks run: finished checks keep their result, the rest are interrupted, the connection is closed', async () => {
    const controller = new AbortController()
    const { transport, state } = fakeTransport(Promise.resolve())
    const pending = verifyHost(
      plan(
        check('done', () => {}),
        check('stuck', () => new Promise(() => {})),
        check('failed', () => {
          throw Object.assign(new Error('expected 1, got 2'), { matcherResult: { expected: 1, actual: 2 } })
        }),
      ),
      options(transport, controller.signal),
    )
    setTimeout(() => controller.abort('SIGINT'), 20)
    const result = await pending
    expect(result.checks.map(c => [c.path[0], c.status, c.errorKind])).toEqual([
      ['done', 'passed', undefined],
      ['stuck', 'error', 'interrupted'],
      ['failed', 'failed', undefined],
    ])
    expect(result.checks[1]!.message).toBe('run interrupted by SIGINT before this check finished')
    expect(result.status).toBe('error')
    expect(result.error?.kind).toBe('interrupted')
    expect(state.closed).toBe(true)
  })

  it('before its turn: no connection is attempted', async () => {
    const controller = new AbortController()
    controller.abort('SIGTERM')
    let connects = 0
    const { transport } = fakeTransport(Promise.resolve())
    transport.connect = async () => {
      connects++
    }
    const result = await verifyHost(plan(check('a', () => {})), options(transport, controller.signal))
    expect(connects).toBe(0)
    expect(result.checks[0]).toMatchObject({ status: 'error', errorKind: 'interrupted' })
  })

  it("many checks wait on one signal without tripping Node's listener-leak warning (it would go to stderr)", async () => {
    const warnings: string[] = []
    const onWarning = (w: Error) => warnings.push(w.name)
    process.on('warning', onWarning)
    try {
      const controller = new AbortController()
      const { transport } = fakeTransport(Promise.resolve())
      const checks = Array.from({ length: 30 }, (_, i) => check(`c${i}`, () => {}))
      await Promise.all([1, 2, 3].map(() => verifyHost(plan(...checks), options(transport, controller.signal))))
      await new Promise(resolve => setImmediate(resolve))
      expect(warnings).toEqual([])
    } finally {
      process.off('warning', onWarning)
    }
  })

  it('without a signal, nothing changes', async () => {
    const { transport } = fakeTransport(Promise.resolve())
    const result = await verifyHost(plan(check('a', () => {})), { ...options(transport, new AbortController().signal), signal: undefined })
    expect(result).toMatchObject({ status: 'verified', checks: [{ status: 'passed' }] })
  })
})

describe('untilInterrupted', () => {
  it('settles with the work when it finishes first, and ignores a later abort', async () => {
    const controller = new AbortController()
    await expect(untilInterrupted(controller.signal, Promise.resolve(1), () => 2)).resolves.toBe(1)
    controller.abort('SIGINT')
  })

  it("passes the work's rejection through", async () => {
    await expect(untilInterrupted(new AbortController().signal, Promise.reject(new Error('boom')), () => 2)).rejects.toThrow('boom')
  })

  it('a finished work stops waiting at once: 500 hosts × 22 checks must not stay reachable until the run ends', async () => {
    const controller = new AbortController()
    const finished = Array.from({ length: 1000 }, (_, i) => untilInterrupted(controller.signal, Promise.resolve(i), () => -1))
    let release!: (v: number) => void
    const pending = untilInterrupted(
      controller.signal,
      new Promise<number>(r => {
        release = r
      }),
      () => -1,
    )
    expect(waitersOn(controller.signal)).toBe(1001)
    await Promise.all(finished)
    expect(waitersOn(controller.signal)).toBe(1) // only the one still running
    controller.abort('SIGINT')
    await expect(pending).resolves.toBe(-1)
    release(7)
    expect(waitersOn(controller.signal)).toBe(0)
  })

  it('lets onInterrupt reject', async () => {
    const controller = new AbortController()
    controller.abort('SIGTERM')
    await expect(
      untilInterrupted(controller.signal, new Promise(() => {}), () => {
        throw new Error('stopped')
      }),
    ).rejects.toThrow('stopped')
  })
})

describe('markInterrupted', () => {
  it('records the signal and raises the exit code to at least 2, keeping 3', () => {
    const ok = finishRun(
      new Date(),
      [
        {
          host: HOST,
          status: 'verified',
          checks: [{ id: 'x', file: 'x', path: ['x'], status: 'passed', durationMs: 1, facts: [] }],
          timings: { totalMs: 1 },
          execChannels: 1,
        },
      ],
      [],
    )
    expect(ok.exitCode).toBe(0)
    expect(markInterrupted(ok, { reason: 'SIGTERM' })).toMatchObject({ interrupted: 'SIGTERM', exitCode: 2 })
    expect(markInterrupted(ok, { reason: undefined })).toBe(ok)
    const config = finishRun(new Date(), [], ['bad inventory'])
    expect(markInterrupted(config, { reason: 'SIGINT' }).exitCode).toBe(3)
  })
})
