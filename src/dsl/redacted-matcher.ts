// A failed matcher whose values hold a secret is run again on copies with every secret replaced
// by `[secret:name]`, and that run's error is the one reported: the message, expected and actual
// are formatted from values that never held the secret, whatever escaping the formatter does.
import type { SecretRedactor } from '../secrets/redactor.ts'

interface MatcherCall {
  /** `expect` itself, to start the re-run from. */
  expect: (received: unknown) => unknown
  received: unknown
  /** Modifiers between expect() and the matcher: `not`, `resolves`, `rejects`. */
  chain: readonly PropertyKey[]
  matcher: PropertyKey
  args: unknown[]
  /** Sets expected/actual on a matcher error from what the matcher was given. */
  annotate(error: unknown, received: unknown, args: unknown[]): unknown
}

type MatcherError = Error & { matcherResult?: { message?: string; pass?: boolean; expected?: unknown; actual?: unknown } }

/**
 * The error to throw for a failed matcher: the original when nothing involved is secret, else
 * the error of the re-run on redacted copies (a promise of it when the matcher is async).
 */
export function redactMatcherFailure(secrets: SecretRedactor | undefined, call: MatcherCall, error: unknown): unknown {
  if (!secrets || secrets.empty || !involvesSecret(secrets, call, error)) return error
  const settling = call.chain.includes('resolves') || call.chain.includes('rejects')
  if (settling && call.received instanceof Promise) {
    // the received promise has settled by now: re-run on a promise of its redacted outcome
    return call.received.then(
      value => rerun(secrets, call, error, Promise.resolve(secrets.value(value))),
      (reason: unknown) => rerun(secrets, call, error, Promise.reject(secrets.value(reason))),
    )
  }
  return rerun(secrets, call, error, secrets.value(call.received))
}

function involvesSecret(secrets: SecretRedactor, call: MatcherCall, error: unknown): boolean {
  const message = error instanceof Error ? error.message : String(error)
  return (
    secrets.revealedIn(message) !== undefined ||
    secrets.contains(call.received) ||
    secrets.contains(call.args) ||
    secrets.contains((error as MatcherError).matcherResult)
  )
}

/** The re-run's error; a re-run that passes (the secret decided the outcome) gives a generic failure. */
function rerun(secrets: SecretRedactor, call: MatcherCall, original: unknown, received: unknown): unknown {
  const args = secrets.value(call.args)
  const finish = (error: unknown) => withOriginalStack(safeError(secrets, call, original, received, args, error), original)
  try {
    let target = call.expect(received) as Record<PropertyKey, unknown>
    for (const modifier of call.chain) target = target[modifier] as Record<PropertyKey, unknown>
    const out = (target[call.matcher] as (...a: unknown[]) => unknown)(...args)
    if (out instanceof Promise)
      return out.then(
        () => finish(undefined),
        (e: unknown) => finish(e),
      )
    return finish(undefined)
  } catch (e) {
    return finish(e)
  }
}

/** The re-run's error when it failed like the original and shows no secret; otherwise the generic one. */
function safeError(
  secrets: SecretRedactor,
  call: MatcherCall,
  original: unknown,
  received: unknown,
  args: unknown[],
  rerunError: unknown,
): unknown {
  const error = rerunError === undefined ? undefined : call.annotate(rerunError, received, args)
  const failedAlike = (error as MatcherError | undefined)?.matcherResult !== undefined || !(original as MatcherError).matcherResult
  if (error instanceof Error && failedAlike && secrets.revealedIn(error.message) === undefined) return error
  const names = [
    ...new Set([
      ...secrets.namesIn(call.received),
      ...secrets.namesIn(call.args),
      ...secrets.namesIn(original instanceof Error ? original.message : ''),
    ]),
  ]
  const shown = names.map(n => `[secret:${n}]`).join(', ') || 'a secret'
  const matcher = [...call.chain, call.matcher].map(String).join('.')
  const generic: MatcherError = new Error(`expect(received).${matcher}(…) failed; the values are withheld because they contain ${shown}`)
  generic.matcherResult = { pass: false, message: generic.message }
  return call.annotate(generic, received, args)
}

/** Keeps the original's stack frames (where the expect is in the spec) under the new message. */
function withOriginalStack(error: unknown, original: unknown): unknown {
  if (!(error instanceof Error) || !(original instanceof Error) || !original.stack) return error
  const frames = original.stack.indexOf('\n    at ')
  if (frames >= 0) error.stack = `${error.name}: ${error.message}${original.stack.slice(frames)}`
  return error
}
