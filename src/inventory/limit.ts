// Rollout host selection on top of `--hosts`: `--limit` narrows it by name, glob or group,
// `--hosts -` reads the wave from stdin, `--shard i/n` splits it across CI jobs.
import { ConfigError } from '../errors.ts'
import type { HostSpec } from '../model.ts'

export interface Shard {
  /** 1-based. */
  index: number
  count: number
}

/**
 * Keeps the hosts matching `--limit`: comma-separated patterns, each a host name, a glob over
 * names and addresses (`web-*`, `web-[1-3]`, `db-?`) or a group the host belongs to; a
 * pattern starting with `!` removes what it matches. Only excludes: everything else kept.
 */
export function applyLimit(hosts: readonly HostSpec[], limit: string): HostSpec[] {
  const patterns = limit
    .split(',')
    .map(p => p.trim())
    .filter(p => p !== '')
  if (patterns.length === 0) throw new ConfigError(`--limit "${limit}" has no pattern`)
  const includes = patterns.filter(p => !p.startsWith('!'))
  const excludes = patterns.filter(p => p.startsWith('!')).map(p => p.slice(1))
  const unmatched = [...includes, ...excludes].filter(p => !hosts.some(h => hostMatches(h, p)))
  if (unmatched.length > 0) {
    throw new ConfigError(
      `--limit: ${unmatched.map(p => `"${p}"`).join(', ')} match${unmatched.length === 1 ? 'es' : ''} none of the ${hosts.length} hosts selected by --hosts (${describeNames(hosts)})`,
    )
  }
  const kept = hosts.filter(h => (includes.length === 0 || includes.some(p => hostMatches(h, p))) && !excludes.some(p => hostMatches(h, p)))
  if (kept.length === 0) throw new ConfigError(`--limit "${limit}" leaves none of the ${hosts.length} selected hosts`)
  return kept
}

export function hostMatches(host: Pick<HostSpec, 'name' | 'address' | 'groups'>, pattern: string): boolean {
  if (host.name === pattern || host.groups.includes(pattern)) return true
  if (!/[*?[]/.test(pattern)) return false
  const re = globToRegExp(pattern)
  return re.test(host.name) || re.test(host.address)
}

/** `*` any run, `?` one character, `[a-c]` / `[!a-c]` a class; everything else literal. */
export function globToRegExp(glob: string): RegExp {
  let re = ''
  for (let i = 0; i < glob.length; i++) {
    const ch = glob[i]!
    if (ch === '*') re += '.*'
    else if (ch === '?') re += '.'
    else if (ch === '[') {
      const end = glob.indexOf(']', i + 2)
      if (end < 0) {
        re += '\\['
        continue
      }
      let body = glob.slice(i + 1, end)
      const negate = body.startsWith('!') || body.startsWith('^')
      if (negate) body = body.slice(1)
      re += `[${negate ? '^' : ''}${body.replace(/[\\\]^]/g, '\\$&')}]`
      i = end
    } else re += ch.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')
  }
  return new RegExp(`^${re}$`)
}

/** `i/n` with 1 ≤ i ≤ n. */
export function parseShard(text: string): Shard {
  const match = /^(\d+)\/(\d+)$/.exec(text.trim())
  const index = Number(match?.[1])
  const count = Number(match?.[2])
  if (!match || count < 1 || index < 1 || index > count) throw new ConfigError(`--shard "${text}": expected i/n with 1 ≤ i ≤ n, e.g. 2/4`)
  return { index, count }
}

/**
 * The hosts of shard i of n: sort every selected host by name (code-point order, the same on
 * every machine), deal them out round-robin, keep deal i. Output keeps the selection order.
 * Every host lands in exactly one shard, whatever order --hosts listed them in.
 */
export function selectShard(hosts: readonly HostSpec[], shard: Shard): HostSpec[] {
  const sorted = [...hosts].map(h => h.name).sort((a, b) => (a < b ? -1 : a > b ? 1 : 0))
  const mine = new Set(sorted.filter((_, i) => i % shard.count === shard.index - 1))
  return hosts.filter(h => mine.has(h.name))
}

/**
 * The targets of `--hosts -`: stdin, one per line or comma-separated; blank lines and `#`
 * comments ignored (a load balancer's or deploy tool's listing pasted as is).
 */
export function parseHostList(text: string): string[] {
  return text
    .split('\n')
    .map(line => line.replace(/#.*$/, ''))
    .flatMap(line => line.split(/[,\s]+/))
    .map(t => t.trim())
    .filter(t => t !== '')
}

export async function readHostsFromStdin(stdin: NodeJS.ReadStream = process.stdin): Promise<string> {
  if (stdin.isTTY)
    throw new ConfigError('--hosts -: reads host names from stdin, but stdin is a terminal; pipe the list in (… | verify --hosts -)')
  const chunks: Buffer[] = []
  for await (const chunk of stdin) chunks.push(Buffer.isBuffer(chunk) ? chunk : Buffer.from(String(chunk)))
  const targets = parseHostList(Buffer.concat(chunks).toString('utf8'))
  if (targets.length === 0) throw new ConfigError('--hosts -: stdin held no host names')
  return targets.join(',')
}

function describeNames(hosts: readonly HostSpec[]): string {
  const names = hosts
    .slice(0, 8)
    .map(h => h.name)
    .join(', ')
  return hosts.length > 8 ? `${names}, …` : names
}
