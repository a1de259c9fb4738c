// The note a passed check gets when the output it judged was cut at --max-output (a failed or
// errored one carries it in its message already): it passed on the start of the output only.
import type { CheckResult } from '../model.ts'
import { sanitizeLine } from './sanitize.ts'

/** `output truncated: command:yes (raise --max-output to see more)`, or '' when nothing was cut. */
export function truncationNote(check: Pick<CheckResult, 'status' | 'truncatedFacts'>): string {
  if (check.status !== 'passed' || !check.truncatedFacts?.length) return ''
  return `output truncated: ${check.truncatedFacts.map(sanitizeLine).join(', ')} (the check saw only the start; raise --max-output to see more)`
}
