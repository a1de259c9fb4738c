// What `verify snapshot` and `verify compare` need from a run beyond `verify`'s own:
// extra built-in specs, every fact's answer kept, the result handed back, no report printed.
import type { LoadedSpec } from '../dsl/registry/types.ts'
import type { RunResult } from '../model.ts'

export interface RunHooks {
  /** Specs already loaded (a spec module is imported once per process: two runs must share them). */
  specs?: LoadedSpec[]
  /** Specs added to the user's (e.g. the snapshot's process table and clock probe). */
  extraSpecs?: LoadedSpec[]
  /** Keep every fact's answer in each HostResult (`recordedFacts`). */
  recordFacts?: boolean
  /** The finished run, secrets already redacted; `redact` for anything else written from it. */
  onResult?(result: RunResult, redact: (text: string) => string): void
  /** No console, JUnit or JSON report of the run itself (the command writes its own). */
  quiet?: boolean
}
