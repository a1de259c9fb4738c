// `verify list` / `--list`: the plan, without connecting: per host, the checks that would run
// and the ones skipped there with the reason.
import type { CheckResult } from '../model.ts'
import { noChecksApply, type HostPlan, type RunPlan } from '../runner/plan.ts'
import { sanitizeLine } from './sanitize.ts'

export function renderList(plan: RunPlan): string {
  const lines: string[] = []
  for (const hostPlan of plan.hosts) lines.push(...hostLines(hostPlan), '')
  const skipped = plan.hosts.reduce((n, h) => n + h.entries.filter(e => e.result?.status === 'skipped').length, 0)
  const unchecked = plan.hosts.filter(noChecksApply).length
  const tail = unchecked > 0 ? `; no check applies on ${unchecked} ${unchecked === 1 ? 'host' : 'hosts'}` : ''
  lines.push(
    `${plan.hosts.length} ${plan.hosts.length === 1 ? 'host' : 'hosts'}: ${plan.runnable} checks would run, ${skipped} skipped${tail} (nothing was connected to)`,
  )
  if (plan.focused.length > 0) lines.push(`focused: only is used at ${plan.focused.join(', ')}`)
  return `${lines.join('\n')}\n`
}

function hostLines(plan: HostPlan): string[] {
  const { host } = plan
  const address = host.transport === 'local' ? 'local' : `${host.user ? `${host.user}@` : ''}${host.address}:${host.port}`
  const groups = host.groups.length > 0 ? `  groups: ${sanitizeLine(host.groups.join(', '))}` : ''
  const flag = noChecksApply(plan) ? '  NO CHECKS APPLY' : ''
  const lines = [`${sanitizeLine(host.name)} (${sanitizeLine(address)})${groups}${flag}`]
  let file: string | undefined
  for (const entry of plan.entries) {
    const item = entry.check ?? entry.result
    if (item.file !== file) lines.push(`  ${sanitizeLine(item.file)}`)
    file = item.file
    const title = sanitizeLine(item.path.join(' › '))
    const source = entry.check?.definedAt ?? entry.result?.source
    const at = `${item.line === undefined ? '' : `  :${item.line}`}${source ? ` (${sanitizeLine(source)})` : ''}`
    if (entry.check) lines.push(`    • ${title}${tags(entry.check.tags)}${at}`)
    else lines.push(`    ${marker(entry.result)} ${title}  ${describeResult(entry.result)}${at}`)
  }
  const skipped = plan.entries.length - plan.runnable
  lines.push(`  ${plan.runnable} would run, ${skipped} skipped`)
  return lines
}

function marker(result: CheckResult): string {
  return result.status === 'skipped' ? '-' : '!'
}

function describeResult(result: CheckResult): string {
  const text = sanitizeLine(result.message ?? result.status)
  return result.status === 'skipped' ? `skipped: ${text}` : `${result.errorKind ?? 'error'}: ${text}`
}

function tags(list: readonly string[]): string {
  return list.length > 0 ? `  [${list.map(sanitizeLine).join(', ')}]` : ''
}
