// Applies waivers to a run: a failed check a waiver in force covers becomes `waived` (it does not
// fail the gate); one whose waiver has expired stays failed and says so; a waiver that covers no
// check of the run is reported as unmatched. Only failures are waived: a host or check that could
// not be verified (error) still says so.
import { exitCodeFor, summarize, type CheckResult, type HostResult, type RunResult, type WaiverNote } from '../model.ts'
import { isExpired, type Waiver, type WaiverFile } from './load.ts'

/** `*` matches any run of characters; everything else literally. */
export function globRegExp(pattern: string): RegExp {
  return new RegExp(
    `^${pattern
      .split('*')
      .map(part => part.replace(/[.+?^${}()|[\]\\]/g, '\\$&'))
      .join('.*')}$`,
  )
}

/** The check id, or its full title (`describe › it`), equals the waiver's check or matches its `*` pattern. */
export function waiverCoversCheck(waiver: Pick<Waiver, 'check'>, check: Pick<CheckResult, 'id' | 'path'>): boolean {
  const title = check.path.join(' › ')
  if (!waiver.check.includes('*')) return waiver.check === check.id || waiver.check === title
  const re = globRegExp(waiver.check)
  return re.test(check.id) || re.test(title)
}

/** No `hosts:` covers every host; otherwise a name, group or pattern must match the host or one of its groups. */
export function waiverCoversHost(waiver: Pick<Waiver, 'hosts'>, host: Pick<HostResult['host'], 'name' | 'groups'>): boolean {
  if (!waiver.hosts) return true
  return waiver.hosts.some(pattern => {
    const re = globRegExp(pattern)
    return re.test(host.name) || host.groups.some(g => re.test(g))
  })
}

export function expiredMessage(waiver: Pick<Waiver, 'expires' | 'justification'>): string {
  return `waiver expired on ${waiver.expires}: ${waiver.justification}`
}

export function applyWaivers(run: RunResult, waivers: WaiverFile, now: Date): RunResult {
  const used = new Set<Waiver>()
  const hosts = run.hosts.map(host => ({
    ...host,
    checks: host.checks.map(check => {
      const waiver = waivers.waivers.find(w => waiverCoversCheck(w, check) && waiverCoversHost(w, host.host))
      if (!waiver) return check
      used.add(waiver)
      return check.status === 'failed' ? waive(check, waiver, now) : check
    }),
  }))
  const unmatched = waivers.waivers
    .filter(w => !used.has(w))
    .map(w => `${w.source}: waiver for "${w.check}"${w.hosts ? ` on ${w.hosts.join(', ')}` : ''} matches no check of this run`)
  const summary = summarize(hosts)
  return { ...run, hosts, summary, exitCode: exitCodeFor(summary, run.configErrors), waivers: { file: waivers.file, unmatched } }
}

function waive(check: CheckResult, waiver: Waiver, now: Date): CheckResult {
  const note: WaiverNote = { justification: waiver.justification, expires: waiver.expires, source: waiver.source }
  if (!isExpired(waiver, now)) return { ...check, status: 'waived', waiver: note }
  const message = [expiredMessage(waiver), check.message].filter(Boolean).join('\n')
  return { ...check, message, waiver: { ...note, expired: true } }
}
