// Ready-made `when` predicates that say in the report why a block was skipped on a host
// ("host is not in group web" rather than the predicate's source text).

/** What a spec sees of the host it runs on. */
export interface HostInfo {
  name: string
  address: string
  port: number
  user?: string
  groups: readonly string[]
  transport: 'ssh' | 'local'
  /** The host's merged vars as written in hosts.yaml (top < group < host < --var), not validated. */
  vars: Readonly<Record<string, any>>
}

/** Decides whether a describe or it applies to a host; false reports it as skipped there. */
export type When = (host: HostInfo) => boolean

const DESCRIPTION = Symbol.for('postdeploy-verify.when-description')

function labelled(fn: When, whyNot: string): When {
  Object.defineProperty(fn, DESCRIPTION, { value: whyNot })
  return fn
}

/** Applies on hosts in any of these groups (directly or through a parent group). */
export function inGroup(...groups: string[]): When {
  const list = groups.join(' or ')
  return labelled(host => host.groups.some(g => groups.includes(g)), `host is not in group ${list}`)
}

/** Applies on hosts in none of these groups. */
export function notInGroup(...groups: string[]): When {
  return labelled(host => !host.groups.some(g => groups.includes(g)), `host is in group ${groups.join(' or ')}`)
}

/** Applies on hosts where every one of these vars is set (not undefined or null). */
export function hasVars(...names: string[]): When {
  return labelled(
    host => names.every(n => host.vars[n] !== undefined && host.vars[n] !== null),
    `host does not set var ${names.join(', ')}`,
  )
}

/** Applies when a var equals one of the values: `varIs('app', 'shop')`. */
export function varIs(name: string, ...values: unknown[]): When {
  const wanted = values.map(v => JSON.stringify(v)).join(' or ')
  return labelled(host => values.includes(host.vars[name]), `var ${name} is not ${wanted}`)
}

/** Why `when` ruled a host out: the helper's wording, else the predicate's own source. */
export function describeWhenFalse(when: When): string {
  const own = (when as unknown as Record<symbol, unknown>)[DESCRIPTION]
  if (typeof own === 'string') return own
  const source = Function.prototype.toString.call(when).replace(/\s+/g, ' ').trim()
  return `when ${source.length > 100 ? `${source.slice(0, 99)}…` : source} is false for this host`
}
