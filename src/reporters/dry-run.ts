// `--dry-run` output: per host, how it would be reached, the first round's script verbatim,
// the HTTP requests and from where, the checks that would run and those that would not.
import type { HostSpec } from '../model.ts'
import type { DryRunHost } from '../runner/dry-run.ts'
import { sanitize, sanitizeLine } from './sanitize.ts'

// header values that are credentials: named, never printed
const SECRET_HEADER = /^(authorization|proxy-authorization|cookie|x-api-key)$|token|secret|password/i

export function renderDryRun(hosts: readonly DryRunHost[]): string {
  const lines: string[] = []
  for (const h of hosts) lines.push(...hostLines(h), '')
  const run = hosts.reduce((n, h) => n + h.checks.length, 0)
  const notRun = hosts.reduce((n, h) => n + h.notRun.length, 0)
  lines.push(
    `dry run: ${hosts.length} ${hosts.length === 1 ? 'host' : 'hosts'}, ${run} checks would run, ${notRun} would not; nothing was connected to`,
  )
  return `${lines.join('\n')}\n`
}

function hostLines(h: DryRunHost): string[] {
  const { host } = h
  const lines = [`== ${sanitizeLine(host.name)} (${sanitizeLine(target(host))})`]
  lines.push(`  checks that would run (${h.checks.length}):`)
  for (const c of h.checks)
    lines.push(`    • ${sanitizeLine(c.path.join(' › '))}  ${sanitizeLine(c.file)}${c.line === undefined ? '' : `:${c.line}`}`)
  if (h.notRun.length > 0) {
    lines.push(`  would not run (${h.notRun.length}):`)
    for (const r of h.notRun) {
      const why = r.status === 'skipped' ? `skipped: ${r.message ?? ''}` : `${r.errorKind ?? 'error'}: ${r.message ?? ''}`
      lines.push(`    - ${sanitizeLine(r.path.join(' › '))}  ${sanitizeLine(why)}`)
    }
  }
  if (h.firstRound.length === 0) {
    lines.push(
      h.checks.length === 0
        ? '  no connection: nothing would run here'
        : "  round 1: no host fact is read before the checks' first HTTP request or assertion",
    )
  } else {
    lines.push(`  round 1: one connection, one exec channel running ${h.remoteCommand}, with this script on stdin${stdinNote(host)}:`)
    for (const script of h.firstRound) for (const line of sanitize(script).replace(/\n$/, '').split('\n')) lines.push(`    | ${line}`)
    lines.push('    (__vN, the frame marker, is drawn afresh for every round)')
  }
  if (h.laterFacts > 0) lines.push(`  later rounds: ${h.laterFacts} more facts, asked after round 1's answers`)
  else if (h.firstRound.length > 0)
    lines.push('  later rounds: only checks that read a fact to decide what to ask next make one; they depend on the answers')
  if (h.http.length > 0) {
    lines.push(`  HTTP requests (${h.http.length}):`)
    for (const r of h.http) {
      const from =
        r.via === 'host' ? `via host: tunnelled through ${sanitizeLine(host.name)}'s SSH connection` : 'via runner: from this machine'
      lines.push(`    ${r.method} ${sanitizeLine(r.url)}  (${from})`)
      for (const [name, value] of Object.entries(r.headers))
        lines.push(`      ${sanitizeLine(name)}: ${SECRET_HEADER.test(name) ? '[hidden]' : sanitizeLine(String(value))}`)
      if (r.body) lines.push('      (with a request body)')
    }
  }
  return lines
}

function target(host: HostSpec): string {
  if (host.transport === 'local') return 'local, through /bin/sh on this machine'
  const via = host.proxyJump ? `, via ${host.proxyJump}` : ''
  return `ssh ${host.user ? `${host.user}@` : ''}${host.address}:${host.port}${via}; ~/.ssh/config may still change it`
}

function stdinNote(host: HostSpec): string {
  return host.become?.passwordEnv ? ` (after the sudo password from $${host.become.passwordEnv} and a marker line)` : ''
}
