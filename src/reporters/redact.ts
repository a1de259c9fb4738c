// Removes the values of secret vars from everything verify prints or writes: every report is
// a view of the RunResult, so redacting its strings once covers console, JSON and JUnit.
import type { RunResult } from '../model.ts'

export interface SecretValue {
  /** The var's dotted path, shown in place of the value: `[secret:dbPassword]`. */
  name: string
  value: string
}

export type Redactor = (text: string) => string

/** A function replacing every secret value (also as escaped in JSON strings and URLs) in one pass. */
export function makeRedactor(secrets: readonly SecretValue[]): Redactor {
  const replacements = new Map<string, string>()
  for (const { name, value } of secrets) {
    if (value === '') continue
    const label = `[secret:${name}]`
    replacements.set(value, label)
    // the forms a value takes inside a JSON string and inside a URL
    for (const form of [JSON.stringify(value).slice(1, -1), encodeURIComponent(value), encodeURI(value)]) {
      if (form !== value && !replacements.has(form)) replacements.set(form, label)
    }
  }
  if (replacements.size === 0) return (text) => text
  // longest first, so a secret containing another is replaced whole
  const alternatives = [...replacements.keys()].sort((a, b) => b.length - a.length).map(escapeRegExp)
  const pattern = new RegExp(alternatives.join('|'), 'g')
  return (text) => text.replace(pattern, (match) => replacements.get(match) ?? match)
}

/** A copy of the run with every string redacted (keys stay as they are). */
export function redactRun(run: RunResult, redact: Redactor): RunResult {
  return redactDeep(run, redact) as RunResult
}

function redactDeep(value: unknown, redact: Redactor): unknown {
  if (typeof value === 'string') return redact(value)
  if (Array.isArray(value)) return value.map((item) => redactDeep(item, redact))
  if (value === null || typeof value !== 'object') return value
  const out: Record<string, unknown> = {}
  for (const [key, inner] of Object.entries(value)) out[key] = redactDeep(inner, redact)
  return out
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')
}
