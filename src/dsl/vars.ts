// Typed host vars: a spec declares the vars it needs with a schema (zod, or any library that
// implements Standard Schema), gets them typed, and verify validates every host before connecting.
// Everything here is duck-typed on the schema object, so a second copy of zod (or of this
// package) in node_modules still works.

/** The Standard Schema v1 interface (standardschema.dev), which zod 4, valibot and arktype implement. */
export interface StandardSchemaV1<Input = unknown, Output = Input> {
  readonly '~standard': {
    readonly version: 1
    readonly vendor: string
    readonly validate: (value: unknown) => StandardResult<Output> | Promise<StandardResult<Output>>
    readonly types?: { readonly input: Input; readonly output: Output } | undefined
  }
}

type StandardResult<Output> = { readonly value: Output; readonly issues?: undefined } | { readonly issues: ReadonlyArray<StandardIssue> }

interface StandardIssue {
  readonly message: string
  readonly path?: ReadonlyArray<PropertyKey | { readonly key: PropertyKey }> | undefined
}

/** A schema for a spec's vars: its output must be an object (`z.object({...})`). */
export type VarsSchema = StandardSchemaV1<any, object>

/** The vars a schema gives the spec: `VarsOf<typeof BlogVars>`. */
export type VarsOf<S extends VarsSchema> = Readonly<NonNullable<S['~standard']['types']>['output']>

/**
 * Names a vars schema for reuse across specs (a shared module exports it, specs import it).
 * Returns the schema unchanged; it exists so shared schemas read as what they are.
 */
export function defineVars<S extends VarsSchema>(schema: S): S {
  if (!isSchema(schema)) throw new TypeError('defineVars() takes a schema such as z.object({ app: z.string() })')
  return schema
}

// marked schemas, shared by every copy of this module loaded in the process
const SECRET_KEY = Symbol.for('postdeploy-verify.secret-schemas.v1')
const secretSchemas: WeakSet<object> = ((globalThis as Record<symbol, unknown>)[SECRET_KEY] ??= new WeakSet<object>()) as WeakSet<object>

/**
 * Marks a var as secret: its value is redacted (`[secret:name]`) from the console, JSON and
 * JUnit reports and from every error message. `dbPassword: secret(z.string())`.
 * (`z.string().meta({ secret: true })` is honoured too.)
 */
export function secret<S extends StandardSchemaV1>(schema: S): S {
  if (!isSchema(schema)) throw new TypeError('secret() takes a schema such as z.string()')
  secretSchemas.add(schema)
  return schema
}

export function isSchema(value: unknown): value is VarsSchema {
  const std = (value as { '~standard'?: { validate?: unknown } } | null)?.['~standard']
  return typeof std?.validate === 'function'
}

export type VarPath = ReadonlyArray<string | number>

export interface VarIssue {
  /** Where in the vars: `['statusPort']`, `['db', 'host']`. */
  path: VarPath
  /** `statusPort is required (number)`; never shows the value of a secret var. */
  message: string
}

export type VarsValidation =
  { ok: true; value: Record<string, unknown>; secretPaths: VarPath[] } | { ok: false; issues: VarIssue[]; secretPaths: VarPath[] }

/** Validates a host's merged vars against a spec's schema (synchronously: vars are plain data). */
export function validateVars(schema: VarsSchema, vars: Record<string, unknown>): VarsValidation {
  const secretPaths = findSecretPaths(schema)
  const result = schema['~standard'].validate(vars)
  if (result instanceof Promise) {
    return {
      ok: false,
      secretPaths,
      issues: [{ path: [], message: 'the vars schema is asynchronous; use a synchronous schema (no async refinements)' }],
    }
  }
  if (result.issues) {
    const issues = result.issues.map(issue => describeIssue(issue, vars, secretPaths))
    return { ok: false, secretPaths, issues }
  }
  if (result.value === null || typeof result.value !== 'object') {
    return { ok: false, secretPaths, issues: [{ path: [], message: 'the vars schema must describe an object, e.g. z.object({ ... })' }] }
  }
  return { ok: true, value: result.value as Record<string, unknown>, secretPaths }
}

/**
 * Validates vars some of which came from `--var`, which reads a value as JSON when it parses:
 * `--var expectVersion=20261121` is a number, so a var whose schema wants text is given back
 * the text that was typed (a JSON scalar prints back as typed). What still fails says how
 * --var reads values and how to quote one.
 */
export function validateVarsFromCommandLine(
  schema: VarsSchema,
  vars: Record<string, unknown>,
  fromCommandLine: (path: VarPath) => boolean,
): VarsValidation {
  const first = validateVars(schema, vars)
  if (first.ok) return first
  const typed = first.issues.filter(issue => fromCommandLine(issue.path) && isJsonScalar(valueAtPath(vars, issue.path)))
  let result: VarsValidation & { ok: false } = first
  if (typed.length > 0) {
    const asText = structuredClone(vars)
    for (const issue of typed) setAtPath(asText, issue.path, String(valueAtPath(vars, issue.path)))
    const retried = validateVars(schema, asText)
    if (retried.ok) return retried
    result = retried
  }
  const issues = result.issues.map(issue =>
    fromCommandLine(issue.path) && issue.path.length > 0 ? { ...issue, message: `${issue.message} ${commandLineHint(issue.path)}` } : issue,
  )
  return { ...result, issues }
}

function commandLineHint(path: VarPath): string {
  const name = formatVarPath(path)
  return `(set by --var, which reads a value as JSON when it parses, else as text: --var ${name}=8080 is a number, --var '${name}="8080"' text, --var '${name}=["a","b"]' a list)`
}

function isJsonScalar(value: unknown): boolean {
  return typeof value === 'number' || typeof value === 'boolean' || value === null
}

function setAtPath(vars: Record<string, unknown>, path: VarPath, value: unknown): void {
  let target = vars as Record<string | number, unknown>
  for (const seg of path.slice(0, -1)) target = target[seg] as Record<string | number, unknown>
  target[path[path.length - 1]!] = value
}

export function formatVarPath(path: VarPath): string {
  if (path.length === 0) return 'vars'
  return path.map((seg, i) => (typeof seg === 'number' ? `[${seg}]` : i === 0 ? seg : `.${seg}`)).join('')
}

export function valueAtPath(vars: unknown, path: VarPath): unknown {
  let value = vars
  for (const seg of path) {
    if (value === null || typeof value !== 'object' || !Object.hasOwn(value, seg)) return undefined
    value = (value as Record<string | number, unknown>)[seg]
  }
  return value
}

// ---------------------------------------------------------------- issues -> messages

interface IssueDetails {
  code?: string
  expected?: string
  values?: unknown[]
  keys?: string[]
}

function describeIssue(issue: StandardIssue, vars: Record<string, unknown>, secretPaths: VarPath[]): VarIssue {
  const path = (issue.path ?? []).map(seg => normalizeSegment(seg))
  const details = issue as StandardIssue & IssueDetails
  const name = formatVarPath(path)
  const actual = valueAtPath(vars, path)
  const isSecret = secretPaths.some(p => startsWith(path, p))
  if (details.code === 'unrecognized_keys' && details.keys) {
    return {
      path,
      message: `${details.keys.map(k => formatVarPath([...path, k])).join(', ')}: not a var this spec declares (its schema is strict)`,
    }
  }
  const wanted = expectedText(details)
  if (actual === undefined && (details.code === 'invalid_type' || details.code === 'invalid_value')) {
    return { path, message: `${name} is required${wanted ? ` (${wanted})` : ''}` }
  }
  const got = isSecret ? 'a value (secret, not shown)' : showValue(actual)
  if (details.code === 'invalid_type' || details.code === 'invalid_value') {
    return { path, message: `${name} must be ${wanted ? article(wanted) : 'valid'}, got ${got}` }
  }
  return { path, message: `${name}: ${issue.message}${isSecret ? '' : `, got ${got}`}` }
}

function expectedText(details: IssueDetails): string | undefined {
  if (details.code === 'invalid_value' && details.values) return `one of ${details.values.map(v => JSON.stringify(v)).join(', ')}`
  return details.expected
}

function article(wanted: string): string {
  if (wanted.startsWith('one of')) return wanted
  return /^[aeiou]/.test(wanted) ? `an ${wanted}` : `a ${wanted}`
}

function showValue(value: unknown): string {
  const text = JSON.stringify(value) ?? String(value)
  return text.length > 40 ? `${text.slice(0, 37)}...` : text
}

function normalizeSegment(seg: PropertyKey | { readonly key: PropertyKey }): string | number {
  const key = typeof seg === 'object' ? seg.key : seg
  return typeof key === 'number' ? key : String(key)
}

function startsWith(path: VarPath, prefix: VarPath): boolean {
  return prefix.length <= path.length && prefix.every((seg, i) => String(seg) === String(path[i]))
}

// ---------------------------------------------------------------- secrets

interface SchemaInternals {
  shape?: Record<string, unknown>
  meta?: () => Record<string, unknown> | undefined
  _zod?: { def?: { shape?: Record<string, unknown>; innerType?: unknown; in?: unknown; type?: string } }
}

/** Paths of the vars a schema marks secret, through optional/default/nullable wrappers and nested objects. */
export function findSecretPaths(schema: unknown, prefix: VarPath = [], depth = 0): VarPath[] {
  const shape = shapeOf(schema)
  if (!shape || depth > 8) return []
  return Object.entries(shape).flatMap(([key, field]) => {
    const path = [...prefix, key]
    if (isMarkedSecret(field)) return [path]
    return findSecretPaths(unwrap(field), path, depth + 1)
  })
}

function isMarkedSecret(schema: unknown, depth = 0): boolean {
  if (schema === null || typeof schema !== 'object' || depth > 8) return false
  if (secretSchemas.has(schema)) return true
  const internals = schema as SchemaInternals
  try {
    if (typeof internals.meta === 'function' && internals.meta()?.secret === true) return true
  } catch {
    // a schema whose meta() is something else: not marked
  }
  const inner = innerOf(schema)
  return inner !== undefined && isMarkedSecret(inner, depth + 1)
}

function shapeOf(schema: unknown): Record<string, unknown> | undefined {
  if (schema === null || typeof schema !== 'object') return undefined
  const internals = schema as SchemaInternals
  const shape = internals._zod?.def?.shape ?? internals.shape
  return shape !== null && typeof shape === 'object' ? shape : undefined
}

/** The schema inside a wrapper (optional, default, nullable, pipe…), else the schema itself. */
function unwrap(schema: unknown, depth = 0): unknown {
  const inner = innerOf(schema)
  return inner === undefined || depth > 8 ? schema : unwrap(inner, depth + 1)
}

function innerOf(schema: unknown): unknown {
  if (schema === null || typeof schema !== 'object') return undefined
  const def = (schema as SchemaInternals)._zod?.def
  return def?.innerType ?? def?.in
}
