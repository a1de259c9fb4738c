// Every CheckResult a check gets is built here, from the check as declared: id, file:line, path,
// its tags and where a shared module declared it, so no way a check ends drops them.
import type { CollectedCheck } from '../dsl/registry/types.ts'
import type { CheckResult } from '../model.ts'

/** What a result takes from its check's declaration (tags and definedAt when it has them). */
export type DeclaredCheck = Pick<CollectedCheck, 'id' | 'file' | 'line' | 'path'> & Partial<Pick<CollectedCheck, 'tags' | 'definedAt'>>

/** How the check ended; it took no time and read no fact unless said. */
export type CheckOutcome = Omit<CheckResult, 'id' | 'file' | 'line' | 'path' | 'tags' | 'source' | 'durationMs' | 'facts'> &
  Partial<Pick<CheckResult, 'durationMs' | 'facts'>>

export function checkResult(check: DeclaredCheck, outcome: CheckOutcome): CheckResult {
  const { durationMs = 0, facts = [], ...rest } = outcome
  return {
    id: check.id,
    file: check.file,
    line: check.line,
    path: check.path,
    ...(check.tags && check.tags.length > 0 ? { tags: [...check.tags] } : {}),
    ...(check.definedAt ? { source: check.definedAt } : {}),
    ...rest,
    durationMs,
    facts,
  }
}
