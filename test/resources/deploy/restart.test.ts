import { spawn, type ChildProcess } from 'node:child_process'
import * as nodeHttp from 'node:http'
import type { AddressInfo } from 'node:net'
import { randomBytes } from 'node:crypto'
import { setTimeout as sleep } from 'node:timers/promises'
import { afterAll, describe, expect, it } from 'vitest'
import { parseSince, restart, startedBefore } from '../../../src/resources/deploy/restart.ts'
import { parseHostClock } from '../../../src/resources/deploy/clock.ts'
import { expect as verifyExpect } from '../../../src/dsl/expect.ts'
import '../../../src/dsl/matchers/deploy.ts'
import { onLocalHost } from '../../support/local-host.ts'
import { killTree, untilExited, untilRunning } from '../../support/faults.ts'
import { startRestartableApp, type RestartableApp } from '../../support/restartable-app.ts'

const children: ChildProcess[] = []
afterAll(() => {
  for (const c of children) killTree(c)
})

/** A long-lived process whose command line carries `tag` (sh's $0). */
function worker(tag: string): ChildProcess {
  const child = spawn('sh', ['-c', 'sleep 600; :', tag], { stdio: 'ignore' })
  children.push(child)
  return child
}

describe('host clock', () => {
  it('parses GNU date with nanoseconds, and a date without %N to the second', () => {
    expect(parseHostClock('1763980000.250000000\n', 1763979997_000)).toEqual({
      hostNowMs: 1763980000250,
      runnerReceivedMs: 1763979997000,
      offsetMs: 3250,
      precise: true,
    })
    expect(parseHostClock('1763980000.N\n', 1763980000_000)).toMatchObject({ hostNowMs: 1763980000000, precise: false })
    expect(parseHostClock('1763980000.%N\n', 1763980000_000)).toMatchObject({ precise: false })
    expect(() => parseHostClock('Tue Nov 25', 0)).toThrow(/unexpected date output/)
  })
})

describe('restart time comparison', () => {
  const deploy = Date.parse('2026-11-25T12:00:00Z')
  const at = (iso: string) => ({ ms: Date.parse(iso) })

  it('compares in host time: a host whose clock runs 30 s ahead still counts a process started after the deploy', () => {
    // started 10 s after the deploy by the host's clock, which is 30 s ahead: 12:00:40 host time
    const worker = at('2026-11-25T12:00:40Z')
    expect(startedBefore([worker], deploy, +30_000)).toEqual([])
    // comparing the raw host time with the runner's deploy time would be right by accident here …
    const lagging = at('2026-11-25T11:59:35Z') // started 5 s after the deploy on a host 30 s behind
    expect(startedBefore([lagging], deploy, -30_000)).toEqual([])
    // … and wrong here: without the offset this one would count as stale
    expect(startedBefore([lagging], deploy, 0)).toEqual([lagging])
  })

  it('a process started before the deploy is stale, beyond the 1 s tolerance', () => {
    expect(startedBefore([at('2026-11-25T11:59:58Z')], deploy, 0)).toHaveLength(1)
    expect(startedBefore([at('2026-11-25T11:59:59.500Z')], deploy, 0)).toHaveLength(0)
  })

  it('reads --since as ISO 8601 or epoch seconds', () => {
    expect(parseSince('2026-11-25T12:00:00Z')).toBe(deploy)
    expect(parseSince(String(deploy / 1000))).toBe(deploy)
    expect(parseSince(deploy)).toBe(deploy)
    expect(parseSince(undefined)).toBeUndefined()
    expect(() => parseSince('yesterday')).toThrow(/not a time/)
  })
})

describe('restart() on the local machine', () => {
  it('all matching processes must have started after the deploy; process table and clock in one round trip', async () => {
    const tag = `verify-worker-${randomBytes(4).toString('hex')}`
    const old = worker(tag)
    // process start times count whole seconds (1 s tolerance): the deploy falls well between the two workers
    await sleep(1500)
    const since = new Date()
    await sleep(1200)
    const fresh = worker(tag)
    await untilRunning(fresh.pid, ['sh', '-c', 'sleep 600; :', tag])
    const { value: partly, execCount } = await onLocalHost(() => restart({ processes: { args: tag }, since }))
    expect(execCount).toBe(1)
    expect(partly.restarted).toBe(false)
    expect(partly.processes).toMatchObject({ count: 2 })
    expect(partly.processes!.stale.map(p => p.pid)).toEqual([old.pid])
    expect(Math.abs(partly.clockOffsetMs!)).toBeLessThan(1000)
    expect(() => verifyExpect(partly).toBeRestarted()).toThrow(
      new RegExp(`1 of 2 processes matching args "${tag}" started before the deploy .*pid ${old.pid}`),
    )

    killTree(old)
    await untilExited(old.pid)
    const { value: all } = await onLocalHost(() => restart({ processes: { args: tag }, since }))
    expect(all).toMatchObject({ restarted: true, problems: [] })
    verifyExpect(all).toBeRestarted()
  })

  it('no matching process, or no deploy time, is not a restart', async () => {
    const { value } = await onLocalHost(() => restart({ processes: { args: `nothing-${randomBytes(4).toString('hex')}` } }))
    expect(value.restarted).toBe(false)
    expect(value.problems.join('\n')).toMatch(/no process matches[\s\S]*no deploy start time to compare with: pass --since/)
  })
})

describe('restart() by the status page', () => {
  let app: RestartableApp
  afterAll(async () => {
    await app?.close()
  })

  it('with a deploy time, the uptime decides: a busy counter does not matter, a server up since before the deploy is not restarted', async () => {
    app = await startRestartableApp(500)
    const url = `http://127.0.0.1:${app.port}/server-status?auto`
    // up longer than the 1 s tolerance for the uptime's rounding (the clock is the point: a fixed wait)
    await sleep(2500)
    const before = new Date(app.startedAt - 3_000)
    const { value: restarted, execCount } = await onLocalHost(() => restart({ statusPage: { url }, since: before }))
    expect(restarted).toMatchObject({ restarted: true, statusPage: { decidedBy: 'uptime', totalAccesses: 500 } })
    // an uptime measured on the host against a runner-clock deploy time needs no probe
    expect(execCount).toBe(0)
    const { value: stale } = await onLocalHost(() => restart({ statusPage: { url, maxAccesses: 1000 }, since: new Date() }))
    expect(stale.restarted).toBe(false)
    expect(stale.problems[0]).toMatch(
      new RegExp(
        `^${url.replace(/[.?]/g, '\\$&')} has been up \\d+s, since \\S+, before the deploy began \\(\\S+\\): the app was not restarted$`,
      ),
    )
  })

  it("a page with only a start epoch (Plack ?json) is compared on the host's clock, read in one probe", async () => {
    const started = Math.floor(Date.now() / 1000) - 30
    const server = nodeHttp.createServer((_req, res) =>
      res.end(JSON.stringify({ Uptime: started, TotalAccesses: 900, BusyWorkers: 1, IdleWorkers: 3, stats: [] })),
    )
    await new Promise<void>(resolve => server.listen(0, '127.0.0.1', resolve))
    try {
      const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/server-status?json`
      const { value: after, execCount } = await onLocalHost(() => restart({ statusPage: { url }, since: new Date((started - 60) * 1000) }))
      expect(after).toMatchObject({
        restarted: true,
        statusPage: { decidedBy: 'uptime', serverStartedAt: new Date(started * 1000).toISOString() },
      })
      expect(execCount).toBe(1)
      const { value: before } = await onLocalHost(() => restart({ statusPage: { url }, since: new Date((started + 10) * 1000) }))
      expect(before.problems[0]).toMatch(
        /has been up 3\ds, since \S+, before the deploy began \(\S+ host time, clock offset [+−]\d+\.\ds vs the runner\): the app was not restarted/,
      )
    } finally {
      server.close()
    }
  })

  it('without a deploy time, the counter decides, and without maxAccesses it says it cannot tell', async () => {
    const url = `http://127.0.0.1:${app.port}/server-status?auto`
    const { value: busy } = await onLocalHost(() => restart({ statusPage: { url, maxAccesses: 10 } }))
    expect(busy.restarted).toBe(false)
    expect(busy.statusPage).toMatchObject({ decidedBy: 'counter' })
    expect(busy.problems[0]).toMatch(/counted 50\d accesses since its start besides verify's 0 \(at most 9 expected\)/)
    await app.restart(50)
    const { value: quiet } = await onLocalHost(() => restart({ statusPage: { url, maxAccesses: 10 } }))
    expect(quiet).toMatchObject({ restarted: true, statusPage: { decidedBy: 'counter', totalAccesses: 0, accesses: 0 } })
    const { value: unjudged } = await onLocalHost(() => restart({ statusPage: { url } }))
    expect(unjudged.problems).toEqual([
      'no deploy start time (--since, --baseline or since), and no maxAccesses to judge the access counter by: cannot tell a restart from the status page',
    ])
  })
})
