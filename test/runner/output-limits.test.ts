// A check's result stays small whatever it saw, and says when the output it judged was cut.
import { describe, expect, it } from 'vitest'
import { capResultTexts, noteTruncatedFacts, RESULT_TEXT_CAP } from '../../src/runner/output-limits.ts'
import type { CheckResult } from '../../src/model.ts'

const base: CheckResult = { id: 's::c', file: 's', path: ['c'], status: 'failed', durationMs: 1, facts: ['command:yes', 'file:/etc/hosts'] }

describe('noteTruncatedFacts', () => {
  const cut = new Map([['command:yes', 1024]])

  it('names the cut facts and says what to do, on a failure', () => {
    const out = noteTruncatedFacts({ ...base, message: 'expected "a"' }, cut)
    expect(out.truncatedFacts).toEqual(['command:yes'])
    expect(out.message).toBe(
      'expected "a"\n[output truncated: command:yes (cut at 1024 bytes); the check saw only the start of it: raise --max-output (or the resource\'s maxBytes) to see more]',
    )
  })

  it('only lists them on a pass (the reporters add a note)', () => {
    const out = noteTruncatedFacts({ ...base, status: 'passed' }, cut)
    expect(out).toEqual({ ...base, status: 'passed', truncatedFacts: ['command:yes'] })
  })

  it('leaves a result that read nothing cut alone', () => {
    const result = { ...base, facts: ['file:/etc/hosts'] }
    expect(noteTruncatedFacts(result, cut)).toBe(result)
  })
})

describe('capResultTexts', () => {
  it('cuts message, expected and actual to the cap, saying how much was left out', () => {
    const huge = 'y'.repeat(RESULT_TEXT_CAP + 500)
    const out = capResultTexts({ ...base, message: huge, expected: '"short"', actual: huge })
    expect(out.expected).toBe('"short"')
    expect(out.actual).toBe(`${'y'.repeat(RESULT_TEXT_CAP)}… [500 more characters not shown]`)
    expect(out.message).toBe(out.actual)
  })

  it('never splits a surrogate pair', () => {
    const text = `${'x'.repeat(RESULT_TEXT_CAP - 1)}😀tail`
    const out = capResultTexts({ ...base, message: text })
    expect(out.message!.startsWith(`${'x'.repeat(RESULT_TEXT_CAP - 1)}…`)).toBe(true)
    expect(out.message).not.toMatch(/[\ud800-\udbff](?![\udc00-\udfff])/)
  })
})
