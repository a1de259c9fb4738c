// describe / it. Loading a spec file only records its top-level blocks; the runner then
// calls each describe body once per host (with that host and its vars) to collect checks.
import type { HostSpec } from '../model.ts'

/** What a spec sees of the host it runs on. */
export interface HostInfo {
  name: string
  address: string
  port: number
  user?: string
  groups: readonly string[]
  transport: 'ssh' | 'local'
}

/** Vars from hosts.yaml (top < group < host < --var). */
export type Vars = Readonly<Record<string, any>>

export interface SpecContext {
  host: HostInfo
  vars: Vars
}

export type DescribeBody = (ctx: SpecContext) => void
export type CheckFn = () => unknown

interface Located {
  title: string
  file: string
  line?: number
}
type Definition = (Located & { kind: 'describe'; body: DescribeBody }) | (Located & { kind: 'it'; fn: CheckFn })

export interface LoadedSpec {
  file: string
  definitions: Definition[]
}

export interface CollectedCheck {
  id: string
  file: string
  line?: number
  /** describe titles, then the it title. */
  path: string[]
  fn: CheckFn
}

/** A describe body that threw while collecting checks for a host. */
export interface CollectError {
  file: string
  line?: number
  path: string[]
  error: unknown
}

let loading: LoadedSpec | undefined
let collecting: { ctx: SpecContext; file: string; path: string[]; checks: CollectedCheck[] } | undefined

/** Groups checks. The body runs once per host, synchronously, with `{ host, vars }`. */
export function describe(title: string, body: DescribeBody): void {
  if (collecting) return collectNested(title, body, collecting)
  if (!loading) throw new Error(`describe("${title}") was called outside a spec file loaded by verify`)
  loading.definitions.push({ kind: 'describe', title, body, file: loading.file, line: callerLine(loading.file) })
}

/** One check. Checks of a host run concurrently: do not share mutable state between them. */
export function it(title: string, fn: CheckFn): void {
  if (collecting) {
    const { file, path, checks } = collecting
    const fullPath = [...path, title]
    checks.push({ id: checkId(file, fullPath), file, line: callerLine(file), path: fullPath, fn })
    return
  }
  if (!loading) throw new Error(`it("${title}") was called outside a spec file loaded by verify`)
  loading.definitions.push({ kind: 'it', title, fn, file: loading.file, line: callerLine(loading.file) })
}

function collectNested(title: string, body: DescribeBody, state: NonNullable<typeof collecting>): void {
  state.path.push(title)
  try {
    const returned: unknown = body(state.ctx)
    if (returned instanceof Promise) throw new Error(`describe("${title}") body must be synchronous: declare checks with it(), and await inside them`)
  } finally {
    state.path.pop()
  }
}

/** Records the top-level blocks a spec file declares while it is imported. */
export async function loadSpec(file: string, importer: () => Promise<unknown>): Promise<LoadedSpec> {
  const spec: LoadedSpec = { file, definitions: [] }
  loading = spec
  try {
    await importer()
  } finally {
    loading = undefined
  }
  return spec
}

/** Calls the spec's describe bodies for one host; a throwing body errors its own checks only. */
export function collectChecks(spec: LoadedSpec, host: HostSpec): { checks: CollectedCheck[]; errors: CollectError[] } {
  const ctx: SpecContext = { host: hostInfo(host), vars: host.vars }
  const checks: CollectedCheck[] = []
  const errors: CollectError[] = []
  for (const def of spec.definitions) {
    if (def.kind === 'it') {
      checks.push({ id: checkId(spec.file, [def.title]), file: spec.file, line: def.line, path: [def.title], fn: def.fn })
      continue
    }
    const state = { ctx, file: spec.file, path: [] as string[], checks: [] as CollectedCheck[] }
    collecting = state
    try {
      collectNested(def.title, def.body, state)
      checks.push(...state.checks)
    } catch (error) {
      errors.push({ file: spec.file, line: def.line, path: [def.title], error })
    } finally {
      collecting = undefined
    }
  }
  return { checks, errors }
}

export function checkId(file: string, path: readonly string[]): string {
  return `${file}::${path.join(' › ')}`
}

function hostInfo(host: HostSpec): HostInfo {
  return Object.freeze({ name: host.name, address: host.address, port: host.port, user: host.user, groups: Object.freeze([...host.groups]), transport: host.transport })
}

/** Line of the spec file in the current call stack (tsx maps it back to the .ts source). */
function callerLine(file: string): number | undefined {
  const stack = new Error().stack ?? ''
  const base = file.split('/').pop() ?? file
  for (const frame of stack.split('\n').slice(1)) {
    if (!frame.includes(base)) continue
    const match = /:(\d+):\d+\)?$/.exec(frame)
    if (match) return Number(match[1])
  }
  return undefined
}
