import { describe, expect, it } from 'vitest'
import { isRetryable, runCheckWithPolicies, runWithWait } from '../../src/runner/wait.ts'
import { applySeverity } from '../../src/runner/severity.ts'
import { parseDuration } from '../../src/lib/duration.ts'
import type { CheckResult } from '../../src/model.ts'

const result = (status: CheckResult['status'], extra: Partial<CheckResult> = {}): CheckResult => ({
  id: 's::c',
  file: 's',
  path: ['c'],
  status,
  durationMs: 5,
  facts: ['file:/x'],
  ...extra,
})

/** A fake clock: sleeping advances it, each attempt costs 100 ms. */
function clock() {
  let t = 0
  return {
    now: () => t,
    sleep: async (ms: number) => {
      t += ms
    },
    tick: (ms: number) => {
      t += ms
    },
  }
}

describe('runWithWait', () => {
  it('a stopped run (signal, --deadline) cuts the pause short and makes no further attempt', async () => {
    const stop = new AbortController()
    let attempts = 0
    const started = performance.now()
    const waiting = runWithWait(
      { budgetMs: 600_000, initialDelayMs: 60_000 },
      {
        attempt: async () => {
          attempts++
          return result('failed')
        },
        forget: () => {},
        signal: stop.signal,
      },
    )
    setTimeout(() => stop.abort('SIGTERM'), 20)
    expect(await waiting).toMatchObject({ status: 'failed', attempts: 1 })
    expect(attempts).toBe(1)
    expect(performance.now() - started).toBeLessThan(5_000)
  })

  it('retries a failing check with backoff until it passes, forgetting its facts, and reports time-to-green', async () => {
    const c = clock()
    const sleeps: number[] = []
    const forgotten: string[][] = []
    let n = 0
    const out = await runWithWait(
      { budgetMs: 60_000 },
      {
        attempt: async () => {
          c.tick(100)
          return ++n < 4 ? result('failed') : result('passed', { facts: ['file:/y'] })
        },
        forget: f => forgotten.push([...f]),
        now: c.now,
        sleep: async ms => {
          sleeps.push(ms)
          await c.sleep(ms)
        },
      },
    )
    expect(out).toMatchObject({ status: 'passed', attempts: 4, timeToGreenMs: 400 + 500 + 1000 + 2000 })
    expect(out.facts).toEqual(['file:/x', 'file:/y'])
    expect(sleeps).toEqual([500, 1000, 2000])
    expect(forgotten).toEqual([['file:/x'], ['file:/x'], ['file:/x']])
  })

  it('gives up when the budget is spent, with a last attempt at its end', async () => {
    const c = clock()
    const sleeps: number[] = []
    const out = await runWithWait(
      { budgetMs: 3_000, maxDelayMs: 5_000 },
      {
        attempt: async () => {
          c.tick(100)
          return result('failed')
        },
        forget: () => {},
        now: c.now,
        sleep: async ms => {
          sleeps.push(ms)
          await c.sleep(ms)
        },
      },
    )
    expect(out.status).toBe('failed')
    expect(out.timeToGreenMs).toBeUndefined()
    expect(out.waitedMs).toBeGreaterThanOrEqual(3_000)
    expect(sleeps.at(-1)).toBeLessThan(1000 * 2)
    expect(out.attempts).toBe(sleeps.length + 1)
  })

  it('does not retry a crash or a spec error, and without a budget runs once', async () => {
    expect(isRetryable(result('error', { errorKind: 'crash' }))).toBe(false)
    expect(isRetryable(result('error', { errorKind: 'unreachable' }))).toBe(false)
    expect(isRetryable(result('error', { errorKind: 'http' }))).toBe(true)
    let n = 0
    const once = await runWithWait(
      { budgetMs: 0 },
      {
        attempt: async () => {
          n++
          return result('failed')
        },
        forget: () => {},
      },
    )
    expect(n).toBe(1)
    expect(once.attempts).toBeUndefined()
  })
})

describe('runWithWait --consecutive, --interval, --initial-delay', () => {
  it('is green only after N passes in a row; a failure starts the count again; the timeline lists every attempt', async () => {
    const c = clock()
    const sleeps: number[] = []
    const outcomes = ['passed', 'failed', 'passed', 'passed', 'passed'] as const
    let n = 0
    const out = await runWithWait(
      { budgetMs: 60_000, consecutive: 3, intervalMs: 1_000, startDelayMs: 250 },
      {
        attempt: async () => {
          c.tick(100)
          return result(outcomes[n++]!, outcomes[n - 1] === 'failed' ? { message: 'expected 1\nmore' } : {})
        },
        forget: () => {},
        now: c.now,
        sleep: async ms => {
          sleeps.push(ms)
          await c.sleep(ms)
        },
      },
    )
    expect(n).toBe(5)
    expect(sleeps).toEqual([250, 1_000, 1_000, 1_000, 1_000]) // the initial delay, then a fixed interval
    expect(out).toMatchObject({ status: 'passed', attempts: 5, timeToGreenMs: 5 * 100 + 4 * 1_000 })
    expect(out.attemptLog?.map(a => [a.atMs, a.status, a.message])).toEqual([
      [0, 'passed', undefined],
      [1_100, 'failed', 'expected 1'],
      [2_200, 'passed', undefined],
      [3_300, 'passed', undefined],
      [4_400, 'passed', undefined],
    ])
  })

  it('a check still short of its streak when the budget runs out fails and says so', async () => {
    const c = clock()
    let n = 0
    const out = await runWithWait(
      { budgetMs: 2_500, consecutive: 3, intervalMs: 1_000 },
      {
        attempt: async () => {
          c.tick(100)
          return result(n++ % 2 === 0 ? 'passed' : 'failed')
        },
        forget: () => {},
        now: c.now,
        sleep: c.sleep,
      },
    )
    expect(out.status).toBe('failed')
    expect(out.timeToGreenMs).toBeUndefined()
    expect(out.attemptLog!.length).toBe(out.attempts)
  })

  it('without --wait, N passes are still required and the first failure ends it', async () => {
    let n = 0
    const green = await runWithWait(
      { budgetMs: 0, consecutive: 3, intervalMs: 10 },
      {
        attempt: async () => {
          n++
          return result('passed')
        },
        forget: () => {},
      },
    )
    expect([n, green.status, green.attempts]).toEqual([3, 'passed', 3])
    n = 0
    const red = await runWithWait(
      { budgetMs: 0, consecutive: 3, intervalMs: 10 },
      { attempt: async () => (++n === 2 ? result('failed') : result('passed')), forget: () => {} },
    )
    expect([n, red.status]).toEqual([2, 'failed'])
  })
})

describe('severity warn', () => {
  it('turns a failure into a passed check carrying the warning; errors stay errors', () => {
    const failed = applySeverity(result('failed', { message: 'expires in 20 days', expected: '> 30', actual: '20' }), 'warn')
    expect(failed).toMatchObject({
      status: 'passed',
      severity: 'warn',
      warning: { message: 'expires in 20 days', expected: '> 30', actual: '20' },
    })
    expect(failed.message).toBeUndefined()
    expect(applySeverity(result('error', { errorKind: 'fact' }), 'warn')).toMatchObject({ status: 'error', severity: 'warn' })
    expect(applySeverity(result('failed'), undefined).status).toBe('failed')
  })

  it('a warn check is not waited for under --wait unless it has its own budget', async () => {
    let n = 0
    const out = await runCheckWithPolicies(
      { severity: 'warn' },
      async () => {
        n++
        return result('failed')
      },
      { waitMs: 60_000, forget: () => {} },
    )
    expect(n).toBe(1)
    expect(out.status).toBe('passed')
  })
})

describe('parseDuration', () => {
  it('reads 90s, 2m, 1m30s, 500ms, bare seconds', () => {
    expect([
      parseDuration('90s'),
      parseDuration('2m'),
      parseDuration('1m30s'),
      parseDuration('500ms'),
      parseDuration('45'),
      parseDuration('1h'),
    ]).toEqual([90_000, 120_000, 90_000, 500, 45_000, 3_600_000])
    for (const bad of ['', 'soon', '5 m', '1d', 'm5']) expect(() => parseDuration(bad)).toThrow(/not a duration/)
  })
})
