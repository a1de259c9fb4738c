// `${env:NAME}` in var values: resolved from the environment of the verify process, for the
// selected hosts only (a production secret need not be set to verify staging). A reference
// to an unset variable is an error naming it and the hosts.yaml line, unless it has a
// default (`${env:NAME:-default}`); `$${env:NAME}` is the literal text `${env:NAME}`.
import { ConfigError } from '../errors.ts'
import type { HostSpec } from '../model.ts'
import { isPlainObject, setOwn } from './vars.ts'
import { whereVarIsSet } from './var-source.ts'

const ENV_REF = /(\$?)\$\{env:([^}:]*)(?::-([^}]*))?\}/g
const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/

export interface EnvResolution {
  hosts: HostSpec[]
  /** `hosts.yaml:9 web-1, web-2: dbPassword: environment variable DB_PASSWORD is not set`. */
  problems: string[]
  /** Per host, the dotted var paths left as written because their variable is unset (lenient mode). */
  unresolved: Map<string, Set<string>>
}

/** Resolves every `${env:NAME}`; `lenient` leaves unset ones in place instead of reporting them (`verify check`). */
export function resolveEnvRefs(
  hosts: readonly HostSpec[],
  env: NodeJS.ProcessEnv = process.env,
  options: { lenient?: boolean } = {},
): EnvResolution {
  const problems = new Map<string, { where: string; path: string; message: string; hosts: string[] }>()
  const unresolved = new Map<string, Set<string>>()
  const resolved = hosts.map(host => {
    const report = (path: string[], message: string, missing: boolean): void => {
      const dotted = path.join('.')
      if (missing && options.lenient) {
        if (!unresolved.has(host.name)) unresolved.set(host.name, new Set())
        unresolved.get(host.name)!.add(dotted)
        return
      }
      const where = whereVarIsSet(host, path)
      const key = `${where}\u0000${dotted}\u0000${message}`
      const entry = problems.get(key) ?? { where, path: dotted, message, hosts: [] }
      entry.hosts.push(host.name)
      problems.set(key, entry)
    }
    return { ...host, vars: resolveValue(host.vars, [], env, report) as Record<string, unknown> }
  })
  return {
    hosts: resolved,
    problems: [...problems.values()].map(p => `${p.where} ${hostList(p.hosts)}: ${p.path}: ${p.message}`),
    unresolved,
  }
}

/** resolveEnvRefs, throwing a ConfigError (exit 3) that lists every problem. */
export function resolveEnvRefsOrThrow(hosts: readonly HostSpec[], env: NodeJS.ProcessEnv = process.env): HostSpec[] {
  const { hosts: resolved, problems } = resolveEnvRefs(hosts, env)
  if (problems.length > 0)
    throw new ConfigError(`vars refer to environment variables that are not set:\n${problems.map(p => `  ${p}`).join('\n')}`)
  return resolved
}

type Report = (path: string[], message: string, missing: boolean) => void

function resolveValue(value: unknown, path: string[], env: NodeJS.ProcessEnv, report: Report): unknown {
  if (typeof value === 'string') return value.includes('${') ? resolveString(value, path, env, report) : value
  if (Array.isArray(value)) return value.map((item, i) => resolveValue(item, [...path, String(i)], env, report))
  if (!isPlainObject(value)) return value
  const out: Record<string, unknown> = {}
  for (const [key, inner] of Object.entries(value)) setOwn(out, key, resolveValue(inner, [...path, key], env, report))
  return out
}

function resolveString(text: string, path: string[], env: NodeJS.ProcessEnv, report: Report): string {
  return text.replace(ENV_REF, (match, escape: string, name: string, fallback: string | undefined) => {
    if (escape === '$') return match.slice(1)
    if (!ENV_NAME.test(name)) {
      report(path, `"${match}" is not a valid reference (write \${env:NAME}, NAME letters, digits and _)`, false)
      return match
    }
    const value = env[name]
    if (value !== undefined) return value
    if (fallback !== undefined) return fallback
    report(path, `environment variable ${name} is not set`, true)
    return match
  })
}

/** One line per set of unresolved vars: `readinessToken on shop-1, jobs-1`. */
export function describeUnresolved(unresolved: ReadonlyMap<string, ReadonlySet<string>>): string[] {
  const hostsByVars = new Map<string, string[]>()
  for (const [host, paths] of unresolved) {
    const key = [...paths].join(', ')
    hostsByVars.set(key, [...(hostsByVars.get(key) ?? []), host])
  }
  return [...hostsByVars].map(([vars, hosts]) => `${vars} on ${hostList(hosts)}`)
}

function hostList(names: string[]): string {
  return names.length <= 5 ? names.join(', ') : `${names.slice(0, 5).join(', ')} (+${names.length - 5} more)`
}
