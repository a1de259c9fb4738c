// Typed errors: each maps to an ErrorKind in the report and keeps its cause.
import type { ErrorKind } from './model.ts'

// A spec package may bring its own copy of this module: `instanceof` also recognises an error
// made by another copy, through the class names it records under a global symbol.
const LINEAGE = Symbol.for('postdeploy-verify.error-lineage')

function recordLineage(error: Error, cls: Function): void {
  const names: string[] = []
  for (let c: unknown = cls; typeof c === 'function' && c !== Error; c = Object.getPrototypeOf(c)) names.push((c as Function).name)
  Object.defineProperty(error, LINEAGE, { value: names })
}

function isInstance(cls: Function, value: unknown): boolean {
  if (Function.prototype[Symbol.hasInstance].call(cls, value)) return true
  const lineage = value instanceof Error ? (value as unknown as Record<symbol, unknown>)[LINEAGE] : undefined
  return Array.isArray(lineage) && lineage.includes(cls.name)
}

export class VerifyError extends Error {
  readonly kind: ErrorKind
  constructor(kind: ErrorKind, message: string, options?: { cause?: unknown }) {
    super(message, options)
    this.kind = kind
    this.name = new.target.name
    recordLineage(this, new.target)
  }

  static [Symbol.hasInstance](value: unknown): boolean {
    return isInstance(this, value)
  }
}

export class HostUnreachableError extends VerifyError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('unreachable', message, options)
  }
}
export class AuthError extends VerifyError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('auth', message, options)
  }
}
export class HostKeyError extends VerifyError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('host-key', message, options)
  }
}
export class TimeoutError extends VerifyError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('timeout', message, options)
  }
}
/** The host could not provide a fact: a tool is missing, permission denied, the fact hung or printed too much. */
export class FactError extends VerifyError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('fact', message, options)
  }
}
export class HttpError extends VerifyError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('http', message, options)
  }
}
/** The run was stopped (SIGINT/SIGTERM) before this check or host finished. */
export class InterruptedError extends VerifyError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('interrupted', message, options)
  }
}
/** The run's --deadline passed before this check or host finished. */
export class DeadlineError extends VerifyError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('deadline', message, options)
  }
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
    recordLineage(this, new.target)
  }

  static [Symbol.hasInstance](value: unknown): boolean {
    return isInstance(this, value)
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
