// A large RunResult made up for report tests (HTML, GitHub): `hosts` × `checks` with failure
// patterns shared by groups of hosts, unreachable hosts, skips, warnings and waits, deterministic.
import { exitCodeFor, SCHEMA_VERSION, summarize, type CheckResult, type HostResult, type RunResult } from '../../src/model.ts'

export interface FleetShape {
  hosts: number
  checks: number
}

const SPECS = ['specs/blog-release.spec.ts', 'specs/shop.spec.ts', 'specs/system.spec.ts']

export function fleetResult({ hosts, checks }: FleetShape): RunResult {
  const results: HostResult[] = []
  for (let h = 0; h < hosts; h++) {
    const name = `web-${String(h + 1).padStart(3, '0')}.prod.example.com`
    const unreachable = h % 97 === 13
    const list: CheckResult[] = []
    for (let c = 0; c < checks; c++) {
      const file = SPECS[c % SPECS.length]!
      const path = [`suite ${Math.floor(c / 10) + 1}`, `check ${c + 1} reads its facts`]
      const base: CheckResult = {
        id: `${file}::${path.join(' › ')}`,
        file,
        line: 10 + c,
        path,
        status: 'passed',
        durationMs: 20 + ((h * 7 + c * 13) % 180),
        facts: [`file:/apps/blog/current`, `command:systemctl is-active app-${c % 5}`],
      }
      if (unreachable)
        list.push({
          ...base,
          status: 'error',
          errorKind: 'unreachable',
          message: `connect ECONNREFUSED 10.0.${h}.1:22`,
          durationMs: 0,
          facts: [],
        })
      else if (h % 25 === 3 && (c === 4 || c === 17))
        list.push({
          ...base,
          status: 'failed',
          expected: '"20260107-1200"',
          actual: '"20251231-0900"',
          message: `expect(received).toBe(expected)\n\nExpected: "20260107-1200"\nReceived: "20251231-0900"`,
          failedAt: {
            file,
            line: 11 + c,
            column: 5,
            frame: `  ${10 + c} | it('check ${c + 1}', async () => {\n> ${11 + c} |   expect(rel.current).toBe(vars.expectVersion)\n     |   ^`,
          },
        })
      else if (h % 40 === 7 && c === 30)
        list.push({ ...base, status: 'error', errorKind: 'timeout', message: 'stat /mnt/nfs: timed out on the host after 10s' })
      else if (c % 29 === 28)
        list.push({ ...base, status: 'skipped', durationMs: 0, message: 'host is not in group shop-workers', facts: [] })
      else if (h % 50 === 11 && c === 9)
        list.push({ ...base, severity: 'warn', warning: { message: 'disk 91% full', expected: '< 90', actual: '91' } })
      else if (c === 2 && h % 10 === 0) list.push({ ...base, attempts: 4, timeToGreenMs: 12_400 + h })
      else list.push(base)
    }
    results.push({
      host: {
        name,
        address: `10.0.${Math.floor(h / 250)}.${(h % 250) + 1}`,
        port: 22,
        user: 'deploy',
        transport: 'ssh',
        groups: [h % 2 ? 'web' : 'shop-web', 'prod'],
      },
      status: unreachable ? 'error' : 'verified',
      ...(unreachable ? { error: { kind: 'unreachable' as const, message: `connect ECONNREFUSED 10.0.${h}.1:22` } } : {}),
      checks: list,
      timings: { totalMs: 800 + (h % 300) },
      execChannels: unreachable ? 0 : 2,
    })
  }
  const summary = summarize(results)
  return {
    schemaVersion: SCHEMA_VERSION,
    tool: { name: 'postdeploy-verify', version: '0.1.0' },
    startedAt: '2026-01-07T12:00:00.000Z',
    finishedAt: '2026-01-07T12:01:04.000Z',
    durationMs: 64_000,
    configErrors: [],
    hosts: results,
    summary,
    exitCode: exitCodeFor(summary, []),
    selection: { limit: 'web-*', shard: '1/2' },
    target: { hosts: 'prod', inventory: ['hosts.yaml'], expectVersion: '20260107-1200' },
  }
}
