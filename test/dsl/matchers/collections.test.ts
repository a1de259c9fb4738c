import { describe, expect as vitestExpect, it } from 'vitest'
import { expect } from '../../../src/dsl/expect.ts'
import { failure } from '../../support/assertion-failure.ts'
import type { ProcessInfo } from '../../../src/resources/system/process.ts'

const deploy = new Date('2024-05-14T10:00:00Z')
const proc = (pid: number, started: string, args = `puma 6.4.2 (tcp://0.0.0.0:3000) [blog] worker ${pid}`): ProcessInfo => ({
  pid,
  ppid: 1,
  name: 'ruby',
  args,
  argv: args.split(' '),
  user: 'deploy',
  uid: 1001,
  state: 'S',
  startedAt: new Date(started),
  elapsedSeconds: 10,
})
const restarted = [proc(101, '2024-05-14T10:01:00Z'), proc(102, '2024-05-14T10:01:01Z')]
const oneOld = [proc(101, '2024-05-14T10:01:00Z'), proc(77, '2024-05-01T08:00:00Z')]

describe('toAllSatisfy', () => {
  it('passes when every element satisfies the predicate', () => {
    expect(restarted).toAllSatisfy((p: ProcessInfo) => p.startedAt > deploy, 'started after the deploy')
    expect(new Set([2, 4])).toAllSatisfy((n: number) => n % 2 === 0)
  })

  it('names the elements that failed, with the description', () => {
    const f = failure(() => expect(oneOld).toAllSatisfy((p: ProcessInfo) => p.startedAt > deploy, 'started after the deploy'))
    vitestExpect(f.message).toContain('expected every element to satisfy started after the deploy, but 1 of 2 did not:')
    vitestExpect(f.message).toContain('pid 77 "puma 6.4.2 (tcp://0.0.0.0:3000) [blog] worker 77" started 2024-05-01T08:00:00.000Z')
    vitestExpect(f.message).not.toContain('pid 101')
    vitestExpect(f.expected).toBe('every element: started after the deploy')
    vitestExpect(f.actual).toEqual(['pid 77 "puma 6.4.2 (tcp://0.0.0.0:3000) [blog] worker 77" started 2024-05-01T08:00:00.000Z'])
  })

  it('an empty collection fails: nothing matched is not "all restarted"', () => {
    const f = failure(() => expect([]).toAllSatisfy(() => true, 'started after the deploy'))
    vitestExpect(f.message).toMatch(/there are no elements \(nothing matched, so nothing was checked\)/)
    vitestExpect(f.actual).toBe('an empty collection')
  })

  it("without a description the predicate's source says what was asked; long lists are cut", () => {
    const f = failure(() => expect(Array.from({ length: 15 }, (_, i) => i)).toAllSatisfy((n: number) => n > 100))
    vitestExpect(f.message).toContain('(n) => n > 100')
    vitestExpect(f.message).toContain('15 of 15 did not')
    vitestExpect(f.message).toContain('… and 5 more')
  })

  it('.not passes when some element fails', () => {
    expect(oneOld).not.toAllSatisfy((p: ProcessInfo) => p.startedAt > deploy)
    const f = failure(() => expect(restarted).not.toAllSatisfy((p: ProcessInfo) => p.startedAt > deploy, 'started after the deploy'))
    vitestExpect(f.message).toContain('expected not every element to satisfy started after the deploy, but all 2 did')
  })

  it('a promise or a non-collection is a clear failure', () => {
    vitestExpect(failure(() => expect(Promise.resolve([])).toAllSatisfy(() => true)).message).toMatch(/did you forget `await`/)
    vitestExpect(failure(() => expect('abc').toAllSatisfy(() => true)).message).toMatch(/expected an array or other iterable/)
    vitestExpect(failure(() => expect(42).toAllSatisfy(() => true)).message).toMatch(/received number/)
  })
})

describe('toSomeSatisfy', () => {
  it('passes when one element does; fails listing the elements when none does', () => {
    expect(oneOld).toSomeSatisfy((p: ProcessInfo) => p.startedAt < deploy, 'started before the deploy')
    const f = failure(() => expect(restarted).toSomeSatisfy((p: ProcessInfo) => p.startedAt < deploy, 'started before the deploy'))
    vitestExpect(f.message).toContain('expected some element to satisfy started before the deploy, but none of 2 did:')
    vitestExpect(f.message).toContain('pid 101')
    vitestExpect(f.expected).toBe('some element: started before the deploy')
  })

  it('.not names the elements that did satisfy it; empty collections', () => {
    const f = failure(() => expect(oneOld).not.toSomeSatisfy((p: ProcessInfo) => p.startedAt < deploy, 'started before the deploy'))
    vitestExpect(f.message).toContain('expected no element to satisfy started before the deploy, but 1 of 2 did:')
    vitestExpect(f.message).toContain('pid 77')
    expect([]).not.toSomeSatisfy(() => true)
    vitestExpect(failure(() => expect([]).toSomeSatisfy(() => true)).message).toContain('there are no elements')
  })

  it('plain values are printed short', () => {
    const f = failure(() => expect([{ a: 1 }, 'x']).toSomeSatisfy(() => false, 'is wanted'))
    vitestExpect(f.message).toContain('{"a": 1}')
    vitestExpect(f.message).toContain('"x"')
  })
})
