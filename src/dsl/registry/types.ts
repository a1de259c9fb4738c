// The registry's types: the public ones spec authors write against (describe/it forms, options,
// the spec context), and what loading and collecting a spec produce for the runner.
import type { VarPath, VarsOf, VarsSchema } from '../vars.ts'
import type { HostInfo, When } from '../when.ts'

export type { HostInfo } from '../when.ts'

/** Vars from hosts.yaml (top < group < host < --var). */
export type Vars = Readonly<Record<string, any>>

export interface SpecContext<V = Vars> {
  host: HostInfo
  /** The vars the describe's schema gave (typed), or the host's raw vars when it has no schema. */
  vars: V
}

export type DescribeBody<V = Vars> = (ctx: SpecContext<V>) => void
export type CheckFn = () => unknown

/** Options of `it`, and of `describe` (where they apply to every check inside). */
export interface CheckOptions {
  /** Tags for `--tags` / `--exclude-tags`; a describe's tags apply to everything inside it. */
  tags?: readonly string[]
  /** Runs only on hosts for which this returns true; elsewhere reported as skipped (see inGroup, hasVars, varIs). */
  when?: When
  /** Skipped everywhere: `true`, or the reason to report (`skip: 'until #123 ships'`). */
  skip?: boolean | string
  /** Focus: when any check is marked only, the others are skipped (`verify check` flags a left-over only). */
  only?: boolean
  /** `warn`: a failure is reported as a warning and never fails the gate (errors still count). Default `fail`. */
  severity?: 'warn' | 'fail'
  /** Retry budget for this check when it fails (`'2m'`, `'90s'`, or seconds), overriding `--wait`. */
  wait?: string | number
}

export interface DescribeOptions<S extends VarsSchema = VarsSchema> extends CheckOptions {
  /** The vars this block needs: validated on every host it applies to before connecting, and typed in the body. */
  vars?: S
}

type TypedOptions<S extends VarsSchema> = DescribeOptions<S> & { vars: S }

export interface DescribeFn {
  (title: string, body: DescribeBody): void
  <S extends VarsSchema>(title: string, options: TypedOptions<S>, body: DescribeBody<VarsOf<S>>): void
  (title: string, options: CheckOptions, body: DescribeBody): void
}

/** `describe.skip(title, [options], body, [reason])`. */
export interface DescribeSkipFn {
  (title: string, body: DescribeBody, reason?: string): void
  <S extends VarsSchema>(title: string, options: TypedOptions<S>, body: DescribeBody<VarsOf<S>>, reason?: string): void
  (title: string, options: CheckOptions, body: DescribeBody, reason?: string): void
}

/** `describe.each(rows)(title, [options], (row, ctx) => …)`; `$key`, `%s`, `%j`, `%#` in the title. */
export interface DescribeEachFn<T> {
  (title: string, body: (row: T, ctx: SpecContext) => void): void
  <S extends VarsSchema>(title: string, options: TypedOptions<S>, body: (row: T, ctx: SpecContext<VarsOf<S>>) => void): void
  (title: string, options: CheckOptions, body: (row: T, ctx: SpecContext) => void): void
}

export interface Describe extends DescribeFn {
  skip: DescribeSkipFn
  only: DescribeFn
  each<T>(rows: readonly T[]): DescribeEachFn<T>
}

export interface ItFn {
  (title: string, fn: CheckFn): void
  (title: string, options: CheckOptions, fn: CheckFn): void
}

/** `it.skip(title, [options], fn, [reason])`. */
export interface ItSkipFn {
  (title: string, fn: CheckFn, reason?: string): void
  (title: string, options: CheckOptions, fn: CheckFn, reason?: string): void
}

export interface ItEachFn<T> {
  (title: string, fn: (row: T) => unknown): void
  (title: string, options: CheckOptions, fn: (row: T) => unknown): void
}

export interface It extends ItFn {
  skip: ItSkipFn
  only: ItFn
  each<T>(rows: readonly T[]): ItEachFn<T>
}

export interface Located {
  title: string
  file: string
  line?: number
  /** `specs/shared/x.ts:12` when declared by a shared module rather than the spec file itself. */
  definedAt?: string
}
export type Definition =
  | (Located & { kind: 'describe'; options: NormalizedOptions; body: DescribeBody<any> })
  | (Located & { kind: 'it'; options: NormalizedOptions; fn: CheckFn })

export interface LoadedSpec {
  file: string
  /** Absolute path, to find the spec's lines in stack traces. */
  absFile?: string
  definitions: Definition[]
}

export interface CollectedCheck {
  id: string
  file: string
  line?: number
  /** describe titles, then the it title. */
  path: string[]
  fn: CheckFn
  /** Own tags and those of every enclosing describe. */
  tags: readonly string[]
  /** Marked `.only` (itself or through a describe). */
  only: boolean
  /** Why it does not run on this host (`skip`, `when`); undefined when it runs. */
  skipped?: string
  /** A describe skipped as a whole: its checks were never collected for this host. */
  block?: boolean
  definedAt?: string
  /** `warn` from the check's or an enclosing describe's options. */
  severity?: 'warn'
  /** Own wait budget in ms (the nearest `wait` option), overriding `--wait`. */
  waitMs?: number
}

/** A describe body (or a `when`) that threw while collecting checks for a host. */
export interface CollectError {
  file: string
  line?: number
  path: string[]
  error: unknown
}

/** A host var that fails a describe's schema. */
export interface VarProblem {
  file: string
  line?: number
  /** The describe's path. */
  path: string[]
  varPath: VarPath
  message: string
}

export interface Collection {
  /** In declaration order, skipped ones included. */
  checks: CollectedCheck[]
  errors: CollectError[]
  varProblems: VarProblem[]
  /** Vars marked secret by the schemas of this spec (where the host's values must be redacted). */
  secretPaths: VarPath[]
}

/** Options as declared, checked and with the modifier (`.skip`, `.only`) applied. */
export interface NormalizedOptions {
  tags: string[]
  when?: When
  skip?: string
  only: boolean
  vars?: VarsSchema
  severity?: 'warn' | 'fail'
  waitMs?: number
}

/** Where a block was declared: its line in the spec, and the shared module's file:line when that declared it. */
export interface At {
  line?: number
  definedAt?: string
}
