import { existsSync, rmSync } from 'node:fs'
import { describe, expect, it } from 'vitest'
import { FactError } from '../../src/errors.ts'
import { FactBatcher } from '../../src/probe/batcher.ts'
import type { FactRequest, RawFact } from '../../src/probe/fact.ts'
import { LocalTransport } from '../../src/transports/local.ts'
import { waitFor } from '../support/faults.ts'

const raw = (key: string, script: string, args: string[] = [], extra: Partial<FactRequest<RawFact>> = {}): FactRequest<RawFact> => ({
  key,
  describe: key,
  script,
  args,
  parse: r => r,
  ...extra,
})

function makeBatcher(timeoutSec = 5, maxBytes = 1024 * 1024) {
  const transport = new LocalTransport()
  return { transport, batcher: new FactBatcher(transport, { timeoutSec, maxBytes }) }
}

describe('FactBatcher over /bin/sh', () => {
  it('returns stdout, stderr and exit status of a fact separately', async () => {
    const { batcher } = makeBatcher()
    const r = await batcher.get(raw('a', 'printf out; printf err >&2; exit 3'))
    expect(r.stdout.toString()).toBe('out')
    expect(r.stderr.toString()).toBe('err')
    expect(r.exitCode).toBe(3)
    expect(r.truncated).toBe(false)
  })

  it('answers 25 facts requested in the same tick with one exec', async () => {
    const { batcher, transport } = makeBatcher()
    const answers = await Promise.all(Array.from({ length: 25 }, (_, i) => batcher.get(raw(`f${i}`, 'echo "$1"', [String(i)]))))
    expect(answers.map(a => a.stdout.toString().trim())).toEqual(Array.from({ length: 25 }, (_, i) => String(i)))
    expect(transport.execCount).toBe(1)
    expect(batcher.rounds).toBe(1)
  })

  it('counts the time in round trips, a batch still running up to now', async () => {
    const { batcher } = makeBatcher()
    expect(batcher.probeMs).toBe(0)
    // the first fact answers at once; the batch runs on for the second
    const first = batcher.get(raw('quick', 'echo hi'))
    const slow = batcher.get(raw('slow', 'sleep 0.3'))
    await first
    const whileRunning = batcher.probeMs
    expect(whileRunning).toBeGreaterThan(0)
    expect(whileRunning).toBeLessThan(300)
    await slow
    // the channel closes a moment after the last answer: until then probeMs moves between two reads
    expect(await waitFor(() => batcher.probeMs === batcher.probeMs, 10_000)).toBe(true)
    expect(batcher.probeMs).toBeGreaterThanOrEqual(300)
    const done = batcher.probeMs
    await new Promise(r => setTimeout(r, 50)) // time passing is the point: nothing in flight, nothing counted
    expect(batcher.probeMs).toBe(done) // nothing in flight: no longer counting
  })

  it('shares one answer between requests with the same key', async () => {
    const { batcher, transport } = makeBatcher()
    const [a, b] = await Promise.all([batcher.get(raw('same', 'echo $$')), batcher.get(raw('same', 'echo $$'))])
    expect(a).toBe(b)
    expect(transport.execCount).toBe(1)
  })

  it('passes hostile values as data, never as code', async () => {
    const marker = `/tmp/verify-pwned-${process.pid}`
    rmSync(marker, { force: true })
    const hostile = [`$(touch ${marker})`, `\`touch ${marker}\``, `a'b"c`, `x\ntouch ${marker}`, `-n`, ` spaced out `, `;touch ${marker};`]
    const { batcher } = makeBatcher()
    const answers = await Promise.all(hostile.map((h, i) => batcher.get(raw(`h${i}`, 'printf "%s" "$1"', [h]))))
    expect(answers.map(a => a.stdout.toString())).toEqual(hostile)
    expect(existsSync(marker)).toBe(false)
  })

  it('keeps binary output intact', async () => {
    const { batcher } = makeBatcher()
    const r = await batcher.get(raw('bin', "printf '\\000\\001\\377\\n\\033[31m'"))
    expect([...r.stdout]).toEqual([0, 1, 255, 10, 27, 91, 51, 49, 109])
  })

  it('times out a hung fact on the host (killed there); facts before it answer, facts after it go in the next batch', async () => {
    const { batcher, transport } = makeBatcher(1)
    const started = Date.now()
    const tag = `verify-hung-${process.pid}-${Date.now()}`
    const [before, hung, after] = await Promise.all([
      batcher.get(raw('before', 'echo before')),
      batcher.get(raw('hung', 'exec sleep 30', [tag])),
      batcher.get(raw('after', 'echo after')),
    ])
    expect(before.stdout.toString()).toBe('before\n')
    expect(hung.timedOut).toBe(true)
    expect(after.stdout.toString()).toBe('after\n')
    expect(Date.now() - started).toBeLessThan(8000)
    expect(transport.execCount).toBe(2)
    // the watchdog killed the batch's process group: nothing of the hung fact is left running
    const { execFileSync } = await import('node:child_process')
    const left = execFileSync('ps', ['-eo', 'args'])
      .toString()
      .split('\n')
      .filter(l => l.includes(tag))
    expect(left).toEqual([])
  })

  it('caps a fact that prints too much and says so', async () => {
    const { batcher } = makeBatcher(10, 1000)
    const [big, small] = await Promise.all([
      batcher.get(raw('big', 'yes hello | head -c 5000000')),
      batcher.get(raw('small', 'echo small')),
    ])
    expect(big.truncated).toBe(true)
    expect(big.stdout.length).toBe(1000)
    expect(small.stdout.toString()).toBe('small\n')
    expect(small.truncated).toBe(false)
  })

  it('output exactly at the cap is not reported as truncated', async () => {
    const { batcher } = makeBatcher(10, 10)
    const r = await batcher.get(raw('ten', 'printf 0123456789'))
    expect(r.truncated).toBe(false)
    expect(r.stdout.toString()).toBe('0123456789')
  })

  it('turns a parse failure into a FactError for that fact only', async () => {
    const { batcher } = makeBatcher()
    const bad = batcher.get({
      ...raw('bad', 'echo x'),
      parse: () => {
        throw new Error('unparseable')
      },
    })
    const good = batcher.get(raw('good', 'echo y'))
    await expect(bad).rejects.toBeInstanceOf(FactError)
    await expect(bad).rejects.toThrow(/bad: unparseable/)
    expect((await good).stdout.toString()).toBe('y\n')
  })

  it('a later request goes in a second round', async () => {
    const { batcher, transport } = makeBatcher()
    await batcher.get(raw('one', 'echo 1'))
    await batcher.get(raw('two', 'echo 2'))
    expect(transport.execCount).toBe(2)
  })
})

describe('FactBatcher rounds', () => {
  it('facts asked while a batch runs wait for it and go together in the next one', async () => {
    const { batcher, transport } = makeBatcher()
    // two checks that each read one fact (answered at different times), then ask another
    const chain = async (first: string, delay: string, second: string) => {
      await batcher.get(raw(first, `sleep ${delay}; echo ${first}`))
      return batcher.get(raw(second, `echo ${second}`))
    }
    const answers = await Promise.all([chain('a', '0', 'a2'), chain('b', '0.3', 'b2')])
    expect(answers.map(a => a.stdout.toString())).toEqual(['a2\n', 'b2\n'])
    expect(transport.execCount).toBe(2)
  })
})
