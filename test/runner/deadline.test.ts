import { describe, expect, it } from 'vitest'
import { DEADLINE_FLOOR_MS, defaultDeadlineMs, isDeadline, markDeadline, startDeadline } from '../../src/runner/deadline.ts'
import { interruptedCheck } from '../../src/runner/interrupt.ts'
import { finishRun } from '../../src/runner/run.ts'

describe('defaultDeadlineMs', () => {
  it('is 15 minutes for a fleet whose own limits add up to less', () => {
    expect(defaultDeadlineMs({ hosts: 50, concurrency: 32, connectTimeoutMs: 10_000, checkTimeoutMs: 30_000 })).toBe(DEADLINE_FLOOR_MS)
  })

  it('grows with the waves of hosts: ⌈hosts / concurrency⌉ × (connect + check + wait + 10 s)', () => {
    // 1000 hosts at 32: 32 waves of 10 + 30 + 60 + 10 s
    expect(defaultDeadlineMs({ hosts: 1000, concurrency: 32, connectTimeoutMs: 10_000, checkTimeoutMs: 30_000, waitMs: 60_000 })).toBe(
      32 * 110_000,
    )
  })
})

describe('startDeadline', () => {
  it('aborts the run signal with a DeadlineError, and unfinished checks become error: deadline', async () => {
    const deadline = startDeadline(performance.now() + 20)
    await new Promise(resolve => deadline.signal.addEventListener('abort', resolve, { once: true }))
    expect(deadline.reached).toBe(true)
    expect(isDeadline(deadline.signal.reason)).toBe(true)
    const check = interruptedCheck({ id: 'a', file: 'a.spec.ts', line: 1, path: ['a'] }, deadline.signal)
    expect(check).toMatchObject({ status: 'error', errorKind: 'deadline' })
    expect(check.message).toMatch(/^the run's --deadline of \d+(\.\d)?s passed before this finished$/)
    // a run that had passed so far still exits 2
    const passed = { ...finishRun(new Date(), [], []), exitCode: 0 as const }
    expect(markDeadline(passed, deadline)).toMatchObject({ exitCode: 2, deadlineReachedMs: deadline.atMs })
    // a stopped run reports, then disposes: the stuck-shutdown exit must not fire
    deadline.dispose()
  })

  it('passes an interrupt through with its own reason, and is not reached by it', () => {
    const outer = new AbortController()
    const deadline = startDeadline(60_000, outer.signal)
    outer.abort('SIGINT')
    expect(deadline.signal.reason).toBe('SIGINT')
    expect(deadline.reached).toBe(false)
    deadline.dispose()
  })
})
