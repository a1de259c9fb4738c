// Which host of --hosts is compared with which host of --against. Always explicit:
//   order          the i-th of each selection (as listed), same count required
//   name:FROM=TO   the old host's name with FROM replaced by TO names its partner (web-1-old → web-1-new)
//   reference      --hosts is one reference host; every --against host is compared with it (canary vs fleet)
import { ConfigError } from '../../errors.ts'

export type Pairing = { mode: 'order' } | { mode: 'name'; from: string; to: string } | { mode: 'reference' }

export function parsePairing(text: string): Pairing {
  if (text === 'order' || text === 'reference') return { mode: text }
  const match = /^name:(.+)=(.*)$/.exec(text)
  if (match) return { mode: 'name', from: match[1]!, to: match[2]! }
  throw new ConfigError(`--pair "${text}": expected order, reference, or name:FROM=TO (e.g. name:-old=-new)`)
}

export function describePairing(p: Pairing): string {
  if (p.mode === 'name') return `by name (${p.from} → ${p.to})`
  return p.mode === 'order' ? 'by order' : 'against the reference host'
}

export function pairHosts(old: readonly string[], now: readonly string[], pairing: Pairing): Array<[string, string]> {
  if (pairing.mode === 'reference') {
    if (old.length !== 1)
      throw new ConfigError(
        `--pair reference: --hosts must select exactly one reference host, it selects ${old.length} (${old.join(', ')})`,
      )
    return now.map(n => [old[0]!, n])
  }
  if (pairing.mode === 'order') {
    if (old.length !== now.length)
      throw new ConfigError(
        `--pair order: --hosts selects ${old.length} hosts and --against ${now.length}; pair them by name (--pair name:FROM=TO) or against one reference host`,
      )
    return old.map((o, i) => [o, now[i]!])
  }
  const present = new Set(now)
  const pairs: Array<[string, string]> = []
  const problems: string[] = []
  for (const o of old) {
    const partner = o.includes(pairing.from) ? o.replace(pairing.from, pairing.to) : undefined
    if (partner === undefined) problems.push(`${o}: its name has no "${pairing.from}"`)
    else if (!present.has(partner)) problems.push(`${o}: its partner ${partner} is not selected by --against`)
    else pairs.push([o, partner])
  }
  const paired = new Set(pairs.map(([, n]) => n))
  const unpaired = now.filter(n => !paired.has(n))
  if (unpaired.length > 0) problems.push(`--against hosts with no partner: ${unpaired.join(', ')}`)
  if (problems.length > 0) throw new ConfigError(`--pair name:${pairing.from}=${pairing.to}:\n  ${problems.join('\n  ')}`)
  return pairs
}
