// Typed errors: each maps to an ErrorKind in the report and keeps its cause.
import type { ErrorKind } from './model.ts'

export class VerifyError extends Error {
  readonly kind: ErrorKind
  constructor(kind: ErrorKind, message: string, options?: { cause?: unknown }) {
    super(message, options)
    this.kind = kind
    this.name = new.target.name
  }
}

export class HostUnreachableError extends VerifyError {
  constructor(message: string, options?: { cause?: unknown }) { super('unreachable', message, options) }
}
export class AuthError extends VerifyError {
  constructor(message: string, options?: { cause?: unknown }) { super('auth', message, options) }
}
export class HostKeyError extends VerifyError {
  constructor(message: string, options?: { cause?: unknown }) { super('host-key', message, options) }
}
export class TimeoutError extends VerifyError {
  constructor(message: string, options?: { cause?: unknown }) { super('timeout', message, options) }
}
/** The host could not provide a fact: a tool is missing, permission denied, the fact hung or printed too much. */
export class FactError extends VerifyError {
  constructor(message: string, options?: { cause?: unknown }) { super('fact', message, options) }
}
export class HttpError extends VerifyError {
  constructor(message: string, options?: { cause?: unknown }) { super('http', message, options) }
}

/**
 * The host answered, and the answer fails the check (e.g. reading the content of a file that
 * does not exist): reported as a failed check, not as an infrastructure error.
 */
export class ExpectationError extends Error {
  readonly expected: string
  readonly actual: string
  constructor(message: string, expected: string, actual: string) {
    super(message)
    this.name = 'ExpectationError'
    this.expected = expected
    this.actual = actual
  }
}

/** A configuration problem that stops the run before it starts (exit 3): inventory, flags, specs. */
export class ConfigError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options)
    this.name = 'ConfigError'
  }
}
/** hosts.yaml is malformed; the message starts with `file:line`. */
export class InventoryError extends ConfigError {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options)
    this.name = 'InventoryError'
  }
}
