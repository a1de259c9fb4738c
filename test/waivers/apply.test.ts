import { describe, expect, it } from 'vitest'
import { ExitCode, summarize, type CheckResult, type HostResult, type RunResult } from '../../src/model.ts'
import { applyWaivers } from '../../src/waivers/apply.ts'
import { waiverProblems } from '../../src/waivers/validate.ts'
import type { Waiver } from '../../src/waivers/load.ts'

const check = (title: string, status: CheckResult['status'], message?: string): CheckResult => ({
  id: `specs/app.spec.ts::app › ${title}`,
  file: 'specs/app.spec.ts',
  path: ['app', title],
  status,
  durationMs: 1,
  facts: [],
  ...(message ? { message } : {}),
})
const host = (name: string, groups: string[], checks: CheckResult[]): HostResult => ({
  host: { name, address: name, port: 22, transport: 'ssh', groups },
  status: 'verified',
  checks,
  timings: { totalMs: 1 },
  execChannels: 1,
})
function run(hosts: HostResult[]): RunResult {
  const summary = summarize(hosts)
  return {
    schemaVersion: 1,
    tool: { name: 'verify', version: '0' },
    startedAt: '',
    finishedAt: '',
    durationMs: 0,
    configErrors: [],
    hosts,
    summary,
    exitCode: summary.failed > 0 ? ExitCode.Failed : ExitCode.Ok,
  }
}
const waiver = (w: Partial<Waiver>): Waiver => ({
  check: 'app › config',
  justification: 'moves in 2.4',
  expires: '2026-12-31',
  source: 'waivers.yaml:2',
  ...w,
})
const NOW = new Date('2026-12-07T12:00:00Z')

describe('applyWaivers', () => {
  it('a covered failure is waived, counted apart, and does not fail the gate', () => {
    const out = applyWaivers(
      run([host('web-1', ['blog'], [check('config', 'failed', 'missing'), check('port', 'passed')])]),
      { file: 'waivers.yaml', waivers: [waiver({ hosts: ['blog'] })] },
      NOW,
    )
    expect(out.hosts[0]!.checks[0]).toMatchObject({
      status: 'waived',
      message: 'missing',
      waiver: { justification: 'moves in 2.4', expires: '2026-12-31', source: 'waivers.yaml:2' },
    })
    expect(out.summary).toMatchObject({ failed: 0, waived: 1, passed: 1, hostsFailed: 0 })
    expect(out.exitCode).toBe(ExitCode.Ok)
    expect(out.waivers).toEqual({ file: 'waivers.yaml', unmatched: [] })
  })

  it('an expired waiver leaves the failure failed and says so first', () => {
    const out = applyWaivers(
      run([host('web-1', [], [check('config', 'failed', 'missing')])]),
      { file: 'w', waivers: [waiver({})] },
      new Date('2027-01-01T00:00:00Z'),
    )
    expect(out.hosts[0]!.checks[0]).toMatchObject({
      status: 'failed',
      message: 'waiver expired on 2026-12-31: moves in 2.4\nmissing',
      waiver: { expired: true },
    })
    expect(out.exitCode).toBe(ExitCode.Failed)
  })

  it('matches hosts by name, group or pattern, checks by id, title or pattern; errors are never waived', () => {
    const hosts = [
      host('web-1', ['blog'], [check('config', 'failed')]),
      host('web-2', ['blog'], [check('config', 'error')]),
      host('db-1', ['db'], [check('config', 'failed')]),
    ]
    const out = applyWaivers(
      run(hosts),
      {
        file: 'w',
        waivers: [
          waiver({ check: 'specs/app.spec.ts::app › conf*', hosts: ['web-*'] }),
          waiver({ check: 'nothing › here', source: 'w:9' }),
        ],
      },
      NOW,
    )
    expect(out.hosts.map(h => h.checks[0]!.status)).toEqual(['waived', 'error', 'failed'])
    expect(out.waivers?.unmatched).toEqual(['w:9: waiver for "nothing › here" matches no check of this run'])
  })
})

describe('waiverProblems (verify check)', () => {
  it('names a waiver for no known check and one already expired', () => {
    const checks = [check('config', 'passed')]
    expect(
      waiverProblems(
        { file: 'w', waivers: [waiver({}), waiver({ check: 'app › gone', source: 'w:7', expires: '2026-01-01' })] },
        checks,
        NOW,
      ),
    ).toEqual([
      'w:7: waiver for "app › gone": no such check in the specs (give a check id `file::describe › it`, its full title, or a pattern with *)',
      'w:7: waiver for "app › gone" expired on 2026-01-01: moves in 2.4',
    ])
  })
})
