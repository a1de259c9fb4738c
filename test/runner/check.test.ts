// How a thrown thing becomes a check's outcome: a failed expectation (exit 1), a bug in the spec
// (exit 3), or a fault of the host or of verify itself (exit 2); and where the spec failed.
// This test file stands in for a spec: it is the project's code, not verify's.
import { describe, expect as vitestExpect, it } from 'vitest'
import { expect } from '../../src/dsl/expect.ts'
import { describeFailure } from '../../src/runner/check.ts'
import { codeFrame } from '../../src/runner/failure-location.ts'
import { FactError } from '../../src/errors.ts'
import { ExitCode, exitCodeFor, summarize, type CheckResult, type HostResult } from '../../src/model.ts'
import { fileURLToPath } from 'node:url'
import { readFileSync } from 'node:fs'

const THIS_FILE = fileURLToPath(import.meta.url)
// The line a `// line-of:NAME` comment sits on, so the expected file:line follows edits and formatting.
const SOURCE_LINES = readFileSync(THIS_FILE, 'utf8').split('\n')
const lineOf = (name: string): number => SOURCE_LINES.findIndex(line => line.endsWith(`// line-of:${name}`)) + 1

function thrown(fn: () => unknown): unknown {
  try {
    fn()
  } catch (e) {
    return e
  }
  throw new Error('expected a throw')
}

describe('failed expectations (exit 1)', () => {
  it('a matcher given undefined where it needs a string fails, with actual: undefined and the expect line', () => {
    const linkTarget: string | undefined = undefined
    const outcome = describeFailure(thrown(() => expect(linkTarget).toMatch(/releases/))) // line-of:undefined
    vitestExpect(outcome).toMatchObject({ status: 'failed', expected: '/releases/', actual: 'undefined' })
    vitestExpect(outcome.message).toMatch(/received value must be a string/)
    vitestExpect(outcome.failedAt).toMatchObject({ file: 'test/runner/check.test.ts', line: lineOf('undefined') })
    vitestExpect(outcome.failedAt!.frame).toContain(
      `> ${lineOf('undefined')} |     const outcome = describeFailure(thrown(() => expect(linkTarget).toMatch(/releases/)))`,
    )
  })

  it('a comparison keeps its operator: expected < 10, actual 1398', () => {
    vitestExpect(describeFailure(thrown(() => expect(1398).toBeLessThan(10)))).toMatchObject({
      status: 'failed',
      expected: '< 10',
      actual: '1398',
    })
    vitestExpect(describeFailure(thrown(() => expect(3).not.toBeGreaterThanOrEqual(2)))).toMatchObject({
      expected: 'not >= 2',
      actual: '3',
    })
  })

  it('an Error the spec throws itself is its own assertion failing', () => {
    const outcome = describeFailure(
      thrown(() => {
        throw new Error('no release found') // line-of:own-error
      }),
    )
    vitestExpect(outcome).toMatchObject({ status: 'failed', message: 'Error: no release found', failedAt: { line: lineOf('own-error') } })
  })
})

describe('bugs in the spec (exit 3)', () => {
  it('a mistyped matcher: spec error with file:line, a suggestion and `verify check`', () => {
    const outcome = describeFailure(thrown(() => (expect(1) as unknown as { toBeSymLink(): void }).toBeSymLink())) // line-of:typo
    vitestExpect(outcome).toMatchObject({
      status: 'error',
      errorKind: 'spec',
      failedAt: { file: 'test/runner/check.test.ts', line: lineOf('typo') },
    })
    vitestExpect(outcome.message).toMatch(
      new RegExp(
        `^test/runner/check\\.test\\.ts:${lineOf('typo')}:\\d+: TypeError: .*toBeSymLink is not a function \\(did you mean toBeSymlink\\?\\)\\n.*npx verify check`,
      ),
    )
  })

  it('a property read on undefined (ReferenceError alike)', () => {
    const facts = { linkTarget: undefined as string | undefined }
    vitestExpect(describeFailure(thrown(() => facts.linkTarget!.startsWith('/')))).toMatchObject({ status: 'error', errorKind: 'spec' })
    // @ts-expect-error: a name that does not exist, as a typo in a spec would be
    vitestExpect(describeFailure(thrown(() => releseRoot))).toMatchObject({ status: 'error', errorKind: 'spec' })
  })

  it("a matcher called wrongly (its own argument is bad) is the spec's error, not the host's", async () => {
    vitestExpect(describeFailure(thrown(() => expect('1.2').toSatisfyVersion('~> 1.2')))).toMatchObject({
      status: 'error',
      errorKind: 'spec',
    })
    vitestExpect(describeFailure(thrown(() => expect('x').toMatch(42 as unknown as string)))).toMatchObject({
      status: 'error',
      errorKind: 'spec',
    })
    const notAPromise = await (async () => expect(1).resolves.toBe(1))().catch((e: unknown) => e)
    vitestExpect(describeFailure(notAPromise)).toMatchObject({ status: 'error', errorKind: 'spec' })
  })
})

describe('faults of the host or of verify (exit 2)', () => {
  it('a typed host error keeps its kind; a TypeError inside verify is a crash', async () => {
    vitestExpect(describeFailure(new FactError('stat: permission denied'))).toMatchObject({ status: 'error', errorKind: 'fact' })
    const inTool = new TypeError('x is not a function')
    inTool.stack = `TypeError: x is not a function\n    at probe (${fileURLToPath(new URL('../../src/probe/batcher.ts', import.meta.url))}:10:5)\n    at spec (${THIS_FILE}:1:1)`
    vitestExpect(describeFailure(inTool)).toMatchObject({ status: 'error', errorKind: 'crash' })
  })
})

describe('the exit code', () => {
  const host = (checks: Partial<CheckResult>[]): HostResult => ({
    host: { name: 'web-1', address: 'web-1', port: 22, transport: 'ssh', groups: [] },
    status: 'verified',
    checks: checks.map((c, i) => ({ id: `c${i}`, file: 'a.spec.ts', path: [`c${i}`], status: 'passed', durationMs: 1, facts: [], ...c })),
    timings: { totalMs: 1 },
    execChannels: 1,
  })
  it('a spec error wins over failures and host errors: exit 3', () => {
    const summary = summarize([
      host([{ status: 'failed' }, { status: 'error', errorKind: 'fact' }, { status: 'error', errorKind: 'spec' }]),
    ])
    vitestExpect(summary.specErrors).toBe(1)
    vitestExpect(exitCodeFor(summary, [])).toBe(ExitCode.Usage)
    vitestExpect(exitCodeFor(summarize([host([{ status: 'failed' }])]), [])).toBe(ExitCode.Failed)
  })
})

describe('codeFrame', () => {
  it('marks the line and the column, with two lines either side', () => {
    const frame = codeFrame(THIS_FILE, 3, 4)!
    vitestExpect(frame.split('\n')).toEqual([
      "  1 | // How a thrown thing becomes a check's outcome: a failed expectation (exit 1), a bug in the spec",
      '  2 | // (exit 3), or a fault of the host or of verify itself (exit 2); and where the spec failed.',
      "> 3 | // This test file stands in for a spec: it is the project's code, not verify's.",
      '    |    ^',
      "  4 | import { describe, expect as vitestExpect, it } from 'vitest'",
      "  5 | import { expect } from '../../src/dsl/expect.ts'",
    ])
  })
})
