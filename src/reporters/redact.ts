// The last line of defence: every report is a view of the RunResult, so redacting its strings
// once more covers console, JSON and JUnit. Secrets are already replaced where values are made
// (matchers, check results, recorded facts: see src/secrets/); this pass catches what slipped by.
import type { RunResult } from '../model.ts'
import { SecretRedactor, type SecretValue } from '../secrets/redactor.ts'

export type { SecretValue }

export type Redactor = (text: string) => string

/** A function replacing every secret value, as it is or in any encoding src/secrets knows, by `[secret:name]`. */
export function makeRedactor(secrets: readonly SecretValue[] | SecretRedactor): Redactor {
  const redactor = secrets instanceof SecretRedactor ? secrets : new SecretRedactor(secrets)
  if (redactor.empty) return text => text
  return text => redactor.text(text)
}

/** A copy of the run with every string redacted (keys stay as they are). */
export function redactRun(run: RunResult, redact: Redactor): RunResult {
  return redactDeep(run, redact) as RunResult
}

/** A copy of plain data (parsed JSON) with every string, keys included, redacted. */
export function redactStrings<T>(value: T, redact: Redactor): T {
  if (typeof value === 'string') return redact(value) as T
  if (Array.isArray(value)) return value.map((item: unknown) => redactStrings(item, redact)) as T
  if (value === null || typeof value !== 'object') return value
  return Object.fromEntries(Object.entries(value).map(([key, inner]) => [redact(key), redactStrings(inner, redact)])) as T
}

function redactDeep(value: unknown, redact: Redactor): unknown {
  if (typeof value === 'string') return redact(value)
  if (Array.isArray(value)) return value.map(item => redactDeep(item, redact))
  if (value === null || typeof value !== 'object') return value
  const out: Record<string, unknown> = {}
  for (const [key, inner] of Object.entries(value)) out[key] = redactDeep(inner, redact)
  return out
}
