import { setTimeout as sleep } from 'node:timers/promises'
import { describe, expect, it } from 'vitest'
import { ConnectPacer } from '../../../src/transports/ssh/connect-pacer.ts'

/** Runs `n` handshakes of `holdMs` each at `endpoint`; returns the most that were in progress at once, and each start time. */
async function storm(pacer: ConnectPacer, endpoint: string, n: number, holdMs: number) {
  let inProgress = 0
  let most = 0
  const starts: number[] = []
  await Promise.all(
    Array.from({ length: n }, async () => {
      const release = await pacer.acquire(endpoint)
      starts.push(performance.now())
      most = Math.max(most, ++inProgress)
      await sleep(holdMs)
      inProgress--
      release()
      release() // a second release is a no-op, not a freed slot
    }),
  )
  return { most, starts }
}

describe('ConnectPacer', () => {
  it('keeps at most maxPerEndpoint handshakes in progress against one address:port', async () => {
    const pacer = new ConnectPacer({ ratePerSec: 0, maxPerEndpoint: 3 })
    const { most, starts } = await storm(pacer, '127.0.0.2:22', 20, 10)
    expect(most).toBe(3)
    expect(starts).toHaveLength(20)
    expect(pacer.active('127.0.0.2:22')).toBe(0)
  })

  it('endpoints do not wait for each other: one sshd per host is no storm', async () => {
    const pacer = new ConnectPacer({ ratePerSec: 0, maxPerEndpoint: 1 })
    const started = performance.now()
    await Promise.all(Array.from({ length: 10 }, (_, i) => storm(pacer, `10.0.0.${i}:22`, 1, 50)))
    expect(performance.now() - started).toBeLessThan(400) // ten at once, not ten in a row (≥ 500 ms)
  })

  it('starts at most ratePerSec handshakes per second across every endpoint, after a burst that does not wait', async () => {
    const pacer = new ConnectPacer({ ratePerSec: 50, maxPerEndpoint: 0, burst: 4 })
    const t0 = performance.now()
    const results = await Promise.all(Array.from({ length: 10 }, (_, i) => storm(pacer, `10.0.1.${i}:22`, 1, 0)))
    const starts = results
      .flatMap(r => r.starts)
      .sort((a, b) => a - b)
      .map(t => t - t0)
    // the first 4 at once, then one every 20 ms: the 10th 6 × 20 = 120 ms in (timers may fire a little early)
    expect(starts[3]!).toBeLessThan(15)
    expect(starts[4]!).toBeGreaterThanOrEqual(15)
    expect(starts[9]!).toBeGreaterThanOrEqual(115)
  })

  it('0 and 0 is no pacing at all', async () => {
    const pacer = new ConnectPacer({ ratePerSec: 0, maxPerEndpoint: 0 })
    const { most } = await storm(pacer, 'bastion:22', 50, 5)
    expect(most).toBe(50)
  })
})
