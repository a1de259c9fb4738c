// What a failing matcher reports: its message and the expected/actual the reporters show.

/** Runs an assertion that must fail; returns its message, expected and actual. */
export function failure(fn: () => void): { message: string; expected?: unknown; actual?: unknown } {
  try {
    fn()
  } catch (e) {
    const err = e as Error & { matcherResult?: { expected?: unknown; actual?: unknown } }
    return { message: err.message, expected: err.matcherResult?.expected, actual: err.matcherResult?.actual }
  }
  throw new Error('expected the assertion to fail')
}
