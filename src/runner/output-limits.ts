// What one check's result may hold: it notes the facts whose output was cut at the byte cap
// (so a failure on cut output says why), and caps its own texts so one huge value (a
// 1 MiB stdout in expected/actual) cannot multiply into every report of every host.
import type { CheckResult } from '../model.ts'

/** Characters kept of a check's message, expected and actual; the reports hold this much per check at most. */
export const RESULT_TEXT_CAP = 64 * 1024

/** Adds `truncatedFacts` and, to a failure or error, a note saying the output it saw was cut. */
export function noteTruncatedFacts(result: CheckResult, truncated: ReadonlyMap<string, number>): CheckResult {
  const cut = result.facts.filter(key => truncated.has(key))
  if (cut.length === 0) return result
  const noted: CheckResult = { ...result, truncatedFacts: cut }
  if (result.status === 'failed' || result.status === 'error') {
    const what = cut.map(key => `${key} (cut at ${truncated.get(key)} bytes)`).join(', ')
    noted.message =
      `${result.message ?? ''}\n[output truncated: ${what}; the check saw only the start of it: raise --max-output (or the resource's maxBytes) to see more]`.trimStart()
  }
  return noted
}

/** Cuts message, expected and actual to RESULT_TEXT_CAP characters, saying how much was left out. */
export function capResultTexts(result: CheckResult): CheckResult {
  const capped = { ...result }
  for (const field of ['message', 'expected', 'actual'] as const) {
    const text = capped[field]
    if (text !== undefined && text.length > RESULT_TEXT_CAP) capped[field] = capText(text)
  }
  return capped
}

function capText(text: string): string {
  let end = RESULT_TEXT_CAP
  // never split a surrogate pair
  if (/[\ud800-\udbff]/.test(text.charAt(end - 1))) end--
  return `${text.slice(0, end)}… [${text.length - end} more characters not shown]`
}
