// A fact's raw answer as the batcher hands it to a parser, for tests of what parsers make of it.
import type { RawFact } from '../../src/probe/fact.ts'

export const rawFact = (exitCode: number, stdout = '', stderr = '', truncated = false): RawFact => ({
  stdout: Buffer.from(stdout),
  stderr: Buffer.from(stderr),
  exitCode,
  truncated,
  timedOut: false,
})
