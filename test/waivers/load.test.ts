import { describe, expect, it } from 'vitest'
import { ConfigError } from '../../src/errors.ts'
import { isExpired, parseWaivers, waiverNow } from '../../src/waivers/load.ts'

describe('parseWaivers', () => {
  it('reads each waiver with its file:line', () => {
    const file = parseWaivers(
      `waivers:
  - check: "app › config"
    hosts: [web-*, canary]
    justification: moves in 2.4
    expires: 2026-12-31
  - check: specs/a.spec.ts::a › b
    justification: known
    expires: 2027-01-15
`,
      'waivers.yaml',
    )
    expect(file.waivers).toEqual([
      { check: 'app › config', hosts: ['web-*', 'canary'], justification: 'moves in 2.4', expires: '2026-12-31', source: 'waivers.yaml:2' },
      { check: 'specs/a.spec.ts::a › b', justification: 'known', expires: '2027-01-15', source: 'waivers.yaml:6' },
    ])
  })

  it('lists every problem at once, each at its line', () => {
    const text = `waivers:
  - check: a
    expires: 2026-12-31
  - check: b
    justification: why
    expires: 2026-02-30
  - justification: why
    expires: 2026-12-31
    host: web-1
`
    expect(() => parseWaivers(text, 'w.yaml')).toThrow(ConfigError)
    const problems: string[] = []
    parseWaivers(text, 'w.yaml', problems)
    expect(problems).toEqual([
      'w.yaml:2: waiver without justification (say why the failure is accepted, and who decided)',
      'w.yaml:4: expires "2026-02-30" is not a date (YYYY-MM-DD)',
      'w.yaml:9: unknown key "host" (expected check, hosts, justification, expires)',
      'w.yaml:7: waiver without check',
    ])
  })

  it('an empty file waives nothing; another shape is a problem', () => {
    expect(parseWaivers('', 'w.yaml').waivers).toEqual([])
    expect(() => parseWaivers('- check: a\n', 'w.yaml')).toThrow('w.yaml:1: expected `waivers:`')
  })
})

describe('expiry', () => {
  it('holds through the expiry day (UTC) and has expired from the next', () => {
    expect(isExpired({ expires: '2026-12-31' }, new Date('2026-12-31T23:59:59Z'))).toBe(false)
    expect(isExpired({ expires: '2026-12-31' }, new Date('2027-01-01T00:00:00Z'))).toBe(true)
  })

  it('VERIFY_NOW sets the time waivers are judged at', () => {
    expect(waiverNow({ VERIFY_NOW: '2026-12-31T00:00:00Z' }).toISOString()).toBe('2026-12-31T00:00:00.000Z')
    expect(() => waiverNow({ VERIFY_NOW: 'tomorrow' })).toThrow(/VERIFY_NOW="tomorrow" is not a date/)
  })
})
