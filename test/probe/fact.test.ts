// defineFact: the default "exit ≠ 0 → factFailure", and what a resource may say instead.
import { describe, expect, it } from 'vitest'
import { ExpectationError, FactError } from '../../src/errors.ts'
import { defineFact, missingPathFailure, type RawFact } from '../../src/probe/fact.ts'
import { rawFact } from '../support/raw-fact.ts'

const raw = rawFact
const text = (r: RawFact) => r.stdout.toString()

describe('defineFact', () => {
  it("parses exit 0; any other status is factFailure with the host's words; args default to none", () => {
    const fact = defineFact({ key: 'k', describe: 'read x', script: 'cat x', parse: text })
    expect(fact.args).toEqual([])
    expect(fact.parse(raw(0, 'hello'))).toBe('hello')
    expect(() => fact.parse(raw(2, '', 'cat: x: Permission denied'))).toThrow(
      new FactError('read x: failed with exit 2: cat: x: Permission denied'),
    )
    expect(() => fact.parse(raw(127, '', 'sh: cat: not found'))).toThrow(/a required command is missing on the host/)
  })

  it('answers: statuses that are answers ("any": parse reads the status); failure: the error for the others', () => {
    const grep = defineFact({
      key: 'g',
      describe: 'search f',
      script: 'grep -c',
      answers: [0, 1],
      failure: (request, r) => missingPathFailure(request, 'f', r),
      parse: r => r.exitCode,
    })
    expect(grep.parse(raw(1, '0'))).toBe(1)
    expect(() => grep.parse(raw(2, '', 'grep: f: No such file or directory'))).toThrow(ExpectationError)
    const any = defineFact({ key: 'a', describe: 'a', script: 'x', answers: 'any', parse: (r, request) => `${request.key} ${r.exitCode}` })
    expect(any.parse(raw(9))).toBe('a 9')
  })

  it('cut: output cut at its cap is that error first, even on exit 0', () => {
    const fact = defineFact({ key: 'c', describe: 'read big', script: 'cat', cut: 'larger than 10 bytes', parse: text })
    expect(() => fact.parse(raw(0, 'x'.repeat(10), '', true))).toThrow(new FactError('read big: larger than 10 bytes'))
    expect(() => fact.parse(raw(141, '', '', true))).toThrow('read big: larger than 10 bytes')
  })
})
