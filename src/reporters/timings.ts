// `--timings`: where a run's time went. The run's own phases in order, then each host phase as
// median / p95 / max over the hosts that went through it, then the slowest hosts.
import type { ConnectTimings, HostResult, HostTimings, RunResult } from '../model.ts'

type Row = [label: string, pick: (t: HostTimings) => number | undefined]

const CONNECT_ROWS: Array<[string, keyof ConnectTimings]> = [
  ['waiting for a handshake slot', 'queueMs'],
  ['ssh_config (in-process; ssh -G for Match exec…)', 'resolveMs'],
  ['route (bastion, ProxyCommand)', 'routeMs'],
  ['TCP connect', 'tcpMs'],
  ['key exchange + host key', 'handshakeMs'],
  ['authentication', 'authMs'],
]

const HOST_ROWS: Row[] = [
  ...CONNECT_ROWS.map(([label, key]): Row => [`  ${label}`, t => t.connect?.[key]]),
  ['connect, all phases and retries', t => t.connectMs],
  ['  probe round trips (time)', t => t.probeMs],
  ['  probe round trips (count)', t => t.rounds],
  ['  HTTP requests (summed)', t => t.httpMs],
  ['checks', t => t.checksMs],
  ['host, in all', t => t.totalMs],
]

export function renderTimings(result: RunResult): string {
  const lines = ['', 'Timings (ms)']
  const run = result.timings
  if (run) {
    const phases: Array<[string, number | undefined]> = [
      ['start-up (Node, loader, CLI modules)', run.startupMs],
      ['inventory read, hosts selected', run.inventoryMs],
      ['spec files loaded', run.specsMs],
      ['checks planned, vars validated', run.planMs],
      ['hosts connected and checked', run.hostsMs],
      ['console report and JUnit written', run.reportMs],
    ]
    for (const [label, value] of phases) if (value !== undefined) lines.push(`  ${label.padEnd(40)}${String(value).padStart(8)}`)
    // not phases: the two marks that say how soon a host is reached, whatever ran before
    const contact: Array<[string, number | undefined]> = [
      ['process start → first connect attempt', run.firstConnectMs],
      ['process start → first byte from a host', run.firstByteMs],
    ]
    for (const [label, value] of contact) if (value !== undefined) lines.push(`  ${label.padEnd(40)}${String(value).padStart(8)}`)
  }
  const connected = result.hosts.filter(h => h.timings.connectMs !== undefined)
  if (connected.length > 0) {
    lines.push(
      '',
      `Per host (${connected.length} connected)${' '.repeat(Math.max(1, 22 - String(connected.length).length))}median      p95      max`,
    )
    for (const [label, pick] of HOST_ROWS) {
      const values = connected
        .map(h => pick(h.timings))
        .filter((v): v is number => v !== undefined)
        .sort((a, b) => a - b)
      if (values.length === 0) continue
      lines.push(`  ${label.padEnd(40)}${[0.5, 0.95, 1].map(q => String(quantile(values, q)).padStart(8)).join(' ')}`)
    }
    const retried = connected.filter(h => (h.timings.connect?.attempts ?? 1) > 1)
    if (retried.length > 0)
      lines.push(
        `  handshakes retried on ${retried.length} host${retried.length === 1 ? '' : 's'}: ${retried
          .slice(0, 5)
          .map(h => `${h.host.name} (${h.timings.connect!.attempts} attempts)`)
          .join(', ')}${retried.length > 5 ? ', …' : ''}`,
      )
    lines.push('', `Slowest: ${slowest(connected).join(', ')}`)
  }
  return `${lines.join('\n')}\n`
}

/** Nearest-rank quantile of sorted values. */
function quantile(sorted: number[], q: number): number {
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))]!
}

function slowest(hosts: HostResult[]): string[] {
  return [...hosts]
    .sort((a, b) => b.timings.totalMs - a.timings.totalMs)
    .slice(0, 3)
    .map(h => `${h.host.name} ${h.timings.totalMs} ms (connect ${h.timings.connectMs ?? 0}, checks ${h.timings.checksMs ?? 0})`)
}
