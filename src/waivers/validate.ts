// `verify check` on the waivers file: a waiver naming a check no spec has (renamed, deleted, typo),
// or one already expired, is a problem at its file:line before the deploy rather than a surprise in it.
import type { CheckResult } from '../model.ts'
import { waiverCoversCheck } from './apply.ts'
import { isExpired, type WaiverFile } from './load.ts'

export function waiverProblems(waivers: WaiverFile, checks: ReadonlyArray<Pick<CheckResult, 'id' | 'path'>>, now: Date): string[] {
  const problems: string[] = []
  for (const waiver of waivers.waivers) {
    if (!checks.some(check => waiverCoversCheck(waiver, check))) {
      problems.push(
        `${waiver.source}: waiver for "${waiver.check}": no such check in the specs (give a check id \`file::describe › it\`, its full title, or a pattern with *)`,
      )
    }
    if (isExpired(waiver, now))
      problems.push(`${waiver.source}: waiver for "${waiver.check}" expired on ${waiver.expires}: ${waiver.justification}`)
  }
  return problems
}
