import { describe, expect, it } from 'vitest'
import { allowedFailures, applyThreshold, parseThreshold } from '../../src/runner/gate.ts'
import { describeGate } from '../../src/reporters/rollout-notes.ts'
import { finishRun } from '../../src/runner/run.ts'
import type { CheckResult, HostResult } from '../../src/model.ts'

const check = (status: CheckResult['status']): CheckResult => ({
  id: `s::${status}`,
  file: 's',
  path: [status],
  status,
  durationMs: 1,
  facts: [],
})
const host = (name: string, statuses: CheckResult['status'][], error = false): HostResult => ({
  host: { name, address: name, port: 22, transport: 'ssh', groups: [] },
  status: error ? 'error' : 'verified',
  ...(error ? { error: { kind: 'unreachable' as const, message: 'refused' } } : {}),
  checks: statuses.map(check),
  timings: { totalMs: 1 },
  execChannels: 1,
})
const run = (hosts: HostResult[]) => finishRun(new Date(), hosts, [])

describe('--max-failing-hosts', () => {
  it('parses counts and percentages', () => {
    expect(parseThreshold('2')).toEqual({ text: '2', count: 2 })
    expect(parseThreshold('10%')).toEqual({ text: '10%', percent: 10 })
    for (const bad of ['-1', 'x', '101%', '1.5', '']) expect(() => parseThreshold(bad)).toThrow(/expected a host count/)
  })

  it('a percentage is of the hosts in the run, rounded down', () => {
    expect(allowedFailures(parseThreshold('10%'), 30)).toBe(3)
    expect(allowedFailures(parseThreshold('10%'), 29)).toBe(2)
    expect(allowedFailures(parseThreshold('25%'), 3)).toBe(0)
  })

  it('failures within the threshold exit 0 and are named; beyond it the strict code stands', () => {
    const hosts = [
      host('web-1', ['passed']),
      host('web-2', ['failed', 'passed']),
      host('web-3', ['passed']),
      host('web-4', ['passed'], true),
    ]
    const strict = run(hosts)
    expect(strict.exitCode).toBe(2)
    const tolerated = applyThreshold(strict, parseThreshold('2'))
    expect(tolerated.exitCode).toBe(0)
    expect(tolerated.gate).toEqual({
      maxFailingHosts: '2',
      allowed: 2,
      failingHosts: ['web-2', 'web-4'],
      tolerated: true,
      strictExitCode: 2,
    })
    expect(describeGate(tolerated)).toBe('--max-failing-hosts 2 tolerated 2 failing hosts of 4 (allowed 2): web-2, web-4')
    const exceeded = applyThreshold(strict, parseThreshold('25%'))
    expect(exceeded.exitCode).toBe(2)
    expect(describeGate(exceeded)).toBe('--max-failing-hosts 25%: 2 failing hosts of 4 exceed the 1 allowed: web-2, web-4')
  })

  it('never tolerates a config error or a run that verified nothing', () => {
    const config = finishRun(new Date(), [], ['hosts.yaml:3: bad'])
    expect(applyThreshold(config, parseThreshold('100%')).exitCode).toBe(3)
  })
})
