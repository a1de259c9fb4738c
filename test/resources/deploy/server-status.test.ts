// Status pages: parsing captured-looking bodies, and serverStatus() against live servers on 127.0.0.1.
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import * as net from 'node:net'
import * as nodeHttp from 'node:http'
import type { Duplex } from 'node:stream'
import { endHostSessions, runInHost, type HostContext } from '../../../src/dsl/context.ts'
import type { Transport } from '../../../src/transports/transport.ts'
import { HttpError } from '../../../src/errors.ts'
import { http } from '../../../src/resources/http/http.ts'
import { parseServerStatus, serverStatus, uptimeMeasuredOnHost } from '../../../src/resources/deploy/server-status.ts'
import { ledgerKey, recordRequestTimes, resetLedgerCache } from '../../../src/resources/http/request-ledger.ts'
import { makeWorkdir } from '../../support/workdir.ts'

const APACHE_EXTENDED = `localhost
ServerVersion: Apache/2.4.62 (Debian)
ServerMPM: event
Server Built: 2024-07-20T18:29:24
CurrentTime: Tuesday, 11-Jun-2024 14:02:09 UTC
RestartTime: Tuesday, 11-Jun-2024 13:46:57 UTC
ParentServerConfigGeneration: 1
ParentServerMPMGeneration: 0
ServerUptimeSeconds: 912
ServerUptime: 15 minutes 12 seconds
Load1: 0.04
Load5: 0.03
Load15: 0.00
Total Accesses: 42
Total kBytes: 120
Total Duration: 35
CPUUser: .12
CPUSystem: .05
CPUChildrenUser: 0
CPUChildrenSystem: 0
CPULoad: .0186404
Uptime: 912
ReqPerSec: .0460526
BytesPerSec: 134.737
BytesPerReq: 2925.71
DurationPerReq: .833333
BusyWorkers: 1
GracefulWorkers: 0
IdleWorkers: 74
Processes: 3
Stopping: 0
ConnsTotal: 1
ConnsAsyncWriting: 0
ConnsAsyncKeepAlive: 0
ConnsAsyncClosing: 0
Scoreboard: __________________________W_______________________________________________..........................................................................
`

// ExtendedStatus Off: no counters, and the uptime only as ServerUptimeSeconds
const APACHE_SHORT = `web-1.example.com
ServerVersion: Apache/2.4.62 (Debian)
ServerMPM: prefork
Server Built: 2024-07-20T18:29:24
CurrentTime: Tuesday, 11-Jun-2024 14:02:09 UTC
RestartTime: Tuesday, 11-Jun-2024 14:01:59 UTC
ParentServerConfigGeneration: 2
ParentServerMPMGeneration: 1
ServerUptimeSeconds: 10
ServerUptime: 10 seconds
Load1: 0.04
Load5: 0.03
Load15: 0.00
BusyWorkers: 1
IdleWorkers: 4
Processes: 5
Stopping: 0
Scoreboard: W____...........................................................
`

const PLACK_WITH_COUNTER = `Uptime: 1718110800 (1 hours, 2 minutes, 3 seconds)
Total Accesses: 1337
Total Kbytes: 2048
BusyWorkers: 1
IdleWorkers: 4
--
pid status remote_addr host method uri protocol ss
23101 A 127.0.0.1 127.0.0.1:5000 GET /server-status HTTP/1.1 0
23102 _ 10.0.4.17 blog.example.com GET /feed.xml HTTP/1.1 4
23103 _ 10.0.4.17 blog.example.com GET / HTTP/1.1 9
23104 _
23105 _
`

describe('parseServerStatus', () => {
  it('reads Apache mod_status ?auto with ExtendedStatus', () => {
    const status = parseServerStatus(APACHE_EXTENDED, 'http://127.0.0.1/server-status?auto')
    expect(status).toMatchObject({
      format: 'apache',
      totalAccesses: 42,
      totalKBytes: 120,
      uptime: 912,
      busyWorkers: 1,
      idleWorkers: 74,
      verifyRequests: 0,
    })
    expect(status.raw['ServerVersion']).toBe('Apache/2.4.62 (Debian)')
    expect(status.raw['Server Built']).toBe('2024-07-20T18:29:24')
    expect(status.raw['Scoreboard']).toMatch(/^_+W_+\.+$/)
  })

  it('reads Apache without ExtendedStatus: no counters, uptime from ServerUptimeSeconds', () => {
    const status = parseServerStatus(APACHE_SHORT.replaceAll('\n', '\r\n'))
    expect(status).toMatchObject({ format: 'apache', uptime: 10, busyWorkers: 1, idleWorkers: 4 })
    expect(status.totalAccesses).toBeUndefined()
    expect(status.totalKBytes).toBeUndefined()
  })

  it('reads Plack ServerStatus::Lite with a counter file, uptime from its printed duration', () => {
    const status = parseServerStatus(PLACK_WITH_COUNTER)
    expect(status).toMatchObject({
      format: 'plack',
      totalAccesses: 1337,
      totalKBytes: 2048,
      uptime: 3723,
      busyWorkers: 1,
      idleWorkers: 4,
    })
    expect(status.raw['Uptime']).toBe('1718110800 (1 hours, 2 minutes, 3 seconds)')
    // the process table after `--` is not key/value data
    expect(Object.keys(status.raw)).toEqual(['Uptime', 'Total Accesses', 'Total Kbytes', 'BusyWorkers', 'IdleWorkers'])
  })

  it('reads Plack 0.31 text as its middleware prints it: the start epoch and a duration in days, hours, minutes', () => {
    // Lite.pm: "Uptime: $start ($duration)" with "N days, N hours, N minutes, N seconds"; a unit only above it
    const status = parseServerStatus(
      'Uptime: 1718110800 (2 days, 3 hours, 4 minutes, 5 seconds)\nTotal Accesses: 3\nTotal Kbytes: 0\nBusyWorkers: 1\nIdleWorkers: 4\n--\npid status remote_addr host method uri protocol ss\n23101 A 127.0.0.1 127.0.0.1:5000 GET /server-status HTTP/1.1 0',
    )
    expect(status).toMatchObject({ format: 'plack', uptime: 2 * 86_400 + 3 * 3_600 + 4 * 60 + 5, totalAccesses: 3 })
    expect(status.startedAt).toEqual(new Date(1718110800_000))
    expect(uptimeMeasuredOnHost(status)).toBe(true)
  })

  it("takes Apache's uptime from ServerUptimeSeconds (always printed) and has no start epoch", () => {
    const status = parseServerStatus(APACHE_EXTENDED)
    expect(status.uptime).toBe(912)
    expect(status.startedAt).toBeUndefined()
    expect(uptimeMeasuredOnHost(status)).toBe(true)
  })

  it('turns an old Plack start epoch without a duration into seconds since start', () => {
    const start = Math.floor(Date.now() / 1000) - 90
    const status = parseServerStatus(
      `Uptime: ${start}\nBusyWorkers: 2\nIdleWorkers: 3\n--\npid status remote_addr host method uri protocol\n`,
    )
    expect(status.format).toBe('plack')
    expect(status.uptime).toBeGreaterThanOrEqual(89)
    expect(status.uptime).toBeLessThanOrEqual(92)
    expect(status.totalAccesses).toBeUndefined()
  })

  it('reads Plack with the scoreboard disabled', () => {
    const status = parseServerStatus('Uptime: 1718110800 (5 seconds)\nWARN: Scoreboard has been disabled\n')
    expect(status).toMatchObject({ format: 'plack', uptime: 5 })
    expect(status.busyWorkers).toBeUndefined()
  })

  it("reads Plack's ?json variant", () => {
    const start = Math.floor(Date.now() / 1000) - 30
    const body = JSON.stringify({
      Uptime: String(start),
      TotalAccesses: '17',
      TotalKbytes: 9,
      BusyWorkers: '1',
      IdleWorkers: '2',
      stats: [{ pid: '23101', status: 'A', remote_addr: '127.0.0.1', method: 'GET', uri: '/server-status?json', ss: 0 }],
    })
    const status = parseServerStatus(body)
    expect(status).toMatchObject({ format: 'plack', totalAccesses: 17, totalKBytes: 9, busyWorkers: 1, idleWorkers: 2 })
    expect(status.uptime).toBeGreaterThanOrEqual(29)
    expect(status.uptime).toBeLessThanOrEqual(32)
    // only a start epoch: the uptime above was measured against the runner's clock
    expect(status.startedAt).toEqual(new Date(start * 1000))
    expect(uptimeMeasuredOnHost(status)).toBe(false)
  })

  it.each([
    [
      'an HTML status page',
      '<!DOCTYPE HTML PUBLIC "-//W3C//DTD HTML 3.2 Final//EN">\n<html><head>\n<title>Apache Status</title>',
      '"<!DOCTYPE HTML PUBLIC',
    ],
    ['an empty body', '', '(empty body)'],
    ['a 404 text', 'Not Found\n', '"Not Found"'],
    ['JSON that is not a status', '{"status":"ok"}', '"{\\"status\\":\\"ok\\"}"'],
  ])('rejects %s, naming the url and the first line', (_name, body, firstLine) => {
    const parse = () => parseServerStatus(body, 'http://127.0.0.1:8080/server-status?auto')
    expect(parse).toThrow(HttpError)
    expect(parse).toThrow('http://127.0.0.1:8080/server-status?auto is not an Apache mod_status ?auto or Plack ServerStatus::Lite page')
    expect(parse).toThrow(`first line: ${firstLine}`)
  })
})

/** A local transport: openTcp is net.connect, as the 'local' transport does. */
function fakeHost(): HostContext {
  const transport: Transport = {
    kind: 'local',
    execCount: 0,
    connect: async () => {},
    exec: async () => {
      throw new Error('exec is not used by server-status tests')
    },
    openTcp: (host, port) =>
      new Promise<Duplex>((resolve, reject) => {
        const socket = net.connect(port, host, () => resolve(socket))
        socket.once('error', reject)
      }),
    close: async () => {},
  }
  return {
    host: { name: 'web-1', address: '127.0.0.1', port: 22, transport: 'local', groups: [], vars: {} },
    transport,
    // resources under test never read facts
    facts: {} as HostContext['facts'],
    timeoutMs: 5_000,
  }
}

/** An Apache look-alike that, like Apache, counts a request once it has been answered. */
function apacheLike(startAccesses: number): nodeHttp.Server {
  let accesses = startAccesses
  return nodeHttp.createServer((req, res) => {
    res.on('finish', () => accesses++)
    if (req.url === '/server-status?auto') {
      res.writeHead(200, { 'content-type': 'text/plain; charset=ISO-8859-1' })
      res.end(
        `localhost\nServerVersion: Apache/2.4.62 (Debian)\nTotal Accesses: ${accesses}\nTotal kBytes: 3\nUptime: 8\nBusyWorkers: 1\nIdleWorkers: 9\nScoreboard: W_________\n`,
      )
    } else if (req.url === '/html-status') {
      res.writeHead(200, { 'content-type': 'text/html' })
      res.end('<!DOCTYPE html>\n<html><body><h1>Apache Server Status</h1></body></html>\n')
    } else if (req.url === '/') {
      res.end('home')
    } else {
      res.writeHead(404, { 'content-type': 'text/plain' })
      res.end('404 page not found\n')
    }
  })
}

let server: nodeHttp.Server
let origin: string

beforeAll(async () => {
  server = apacheLike(5)
  await new Promise<void>(resolve => server.listen(0, '127.0.0.1', resolve))
  origin = `http://127.0.0.1:${(server.address() as net.AddressInfo).port}`
})

afterAll(async () => {
  server.closeAllConnections()
  await new Promise(resolve => server.close(resolve))
})

describe('serverStatus', () => {
  it('reports the counters with the requests verify itself made, for a "was restarted" threshold', async () => {
    const ctx = fakeHost()
    const url = `${origin}/server-status?auto`
    const [first, second, fromRunner] = await runInHost(ctx, async () => {
      const first = await serverStatus(url, { via: 'host' })
      await http(`${origin}/`, { via: 'host' })
      const second = await serverStatus(url, { via: 'host' })
      return [first, second, await serverStatus(url)]
    })
    expect(first).toMatchObject({ format: 'apache', totalAccesses: 5, uptime: 8, verifyRequests: 0 })
    // 5 real accesses, then our first status request and our home page request
    expect(second).toMatchObject({ totalAccesses: 7, verifyRequests: 2 })
    expect(second.totalAccesses! - second.verifyRequests).toBe(5)
    expect(second.totalAccesses! - second.verifyRequests).toBeLessThan(10)
    // the same origin seen from the runner is counted apart
    expect(fromRunner).toMatchObject({ totalAccesses: 8, verifyRequests: 0 })
    await endHostSessions(ctx)
  })

  it("discounts earlier runs' requests (the request ledger) that the running server counted: those since its start", async () => {
    const state = makeWorkdir({})
    const previous = process.env['VERIFY_STATE_DIR']
    process.env['VERIFY_STATE_DIR'] = state.dir
    resetLedgerCache()
    try {
      const ctx = fakeHost()
      const url = `${origin}/server-status?auto`
      const now = Date.now()
      // the page says Uptime: 8: two requests of earlier runs came after its start, one before (counted by the old process)
      recordRequestTimes([{ key: ledgerKey('web-1', 'host', origin), times: [now - 60_000, now - 5_000, now - 4_000] }])
      // another host's and another vantage point's requests are not this counter's
      recordRequestTimes([
        { key: ledgerKey('web-2', 'host', origin), times: [now - 1_000] },
        { key: ledgerKey('web-1', 'runner', origin), times: [now - 1_000] },
      ])
      const status = await runInHost(ctx, () => serverStatus(url, { via: 'host' }))
      expect(status.verifyRequests).toBe(2)
      await endHostSessions(ctx)
    } finally {
      if (previous === undefined) delete process.env['VERIFY_STATE_DIR']
      else process.env['VERIFY_STATE_DIR'] = previous
      resetLedgerCache()
      state.remove()
    }
  })

  it('treats a missing status page as an error, not a count', async () => {
    const ctx = fakeHost()
    const url = `${origin}/server-status`
    const failure = runInHost(ctx, () => serverStatus(url, { via: 'host' }))
    await expect(failure).rejects.toThrow(HttpError)
    await expect(failure).rejects.toThrow(`server-status ${url} answered HTTP 404; first line: "404 page not found"`)
    await endHostSessions(ctx)
  })

  it('rejects an HTML page served with 200', async () => {
    const ctx = fakeHost()
    const url = `${origin}/html-status`
    const failure = runInHost(ctx, () => serverStatus(url, { via: 'host' }))
    await expect(failure).rejects.toThrow(HttpError)
    await expect(failure).rejects.toThrow(
      `${url} (HTTP 200) is not an Apache mod_status ?auto or Plack ServerStatus::Lite page; first line: "<!DOCTYPE html>"`,
    )
    await endHostSessions(ctx)
  })
})
