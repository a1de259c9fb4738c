// Where a host's var got its value, for error messages: the hosts.yaml line of the var (or of
// its nearest parent map that is set), else of the host's own definition.
import type { HostSpec } from '../model.ts'

/** `hosts.yaml:14` for the var at `path`, `--var`, or undefined when no layer sets it or a parent. */
export function varSourceOf(host: Pick<HostSpec, 'varSources'>, path: ReadonlyArray<string | number>): string | undefined {
  const sources = host.varSources
  if (!sources) return undefined
  for (let n = path.length; n > 0; n--) {
    const source = sources[path.slice(0, n).join('.')]
    if (source !== undefined) return source
  }
  return undefined
}

/** The var's line, else the host's line, else how the host was given on the command line. */
export function whereVarIsSet(host: Pick<HostSpec, 'varSources' | 'source' | 'name'>, path: ReadonlyArray<string | number>): string {
  return varSourceOf(host, path) ?? host.source ?? `--hosts ${host.name}`
}
