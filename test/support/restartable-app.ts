// An app with a status page (Apache mod_status `?auto` or Plack ServerStatus::Lite text) that
// can be stopped and started again on the same port, its access counter and uptime reset as a
// real restart resets them: the app of a simulated deploy. Like both servers, it counts a
// request once answered, so a status page does not count itself.
import http from 'node:http'
import type { AddressInfo } from 'node:net'

export type StatusFormat = 'apache' | 'plack'

export interface RestartableApp {
  port: number
  accesses: number
  /** When the app last started listening (ms). */
  startedAt: number
  /** Stop, stay down for `downMs`, then listen again with the counter at zero. */
  restart(downMs: number): Promise<void>
  close(): Promise<void>
}

export async function startRestartableApp(initialAccesses = 0, format: StatusFormat = 'apache'): Promise<RestartableApp> {
  let server: http.Server | undefined
  const app: RestartableApp = {
    port: 0,
    accesses: initialAccesses,
    startedAt: Date.now(),
    restart: async downMs => {
      await stop()
      await new Promise(resolve => setTimeout(resolve, downMs))
      app.accesses = 0
      await listen(app.port)
    },
    close: () => stop(),
  }
  const handler: http.RequestListener = (req, res) => {
    const counter = server
    // a response finished after a restart belongs to the old process's counter
    res.on('finish', () => {
      if (server === counter) app.accesses++
    })
    if (req.url?.startsWith('/server-status')) return void res.end(statusPage(format, app))
    if (req.url === '/health') return void res.end('{"status":"ok"}')
    res.statusCode = 404
    res.end()
  }
  const listen = (port: number) =>
    new Promise<void>((resolve, reject) => {
      server = http.createServer(handler)
      server.once('error', reject)
      server.listen(port, '127.0.0.1', () => {
        app.port = (server!.address() as AddressInfo).port
        app.startedAt = Date.now()
        resolve()
      })
    })
  const stop = () =>
    new Promise<void>(resolve => {
      if (!server) return resolve()
      const s = server
      server = undefined
      s.closeAllConnections()
      s.close(() => resolve())
    })
  await listen(0)
  return app
}

/** The page as each server prints it (Apache 2.4 `?auto` with ExtendedStatus; Plack::Middleware::ServerStatus::Lite 0.3x with a counter_file). */
function statusPage(format: StatusFormat, app: RestartableApp): string {
  const uptime = Math.floor((Date.now() - app.startedAt) / 1000)
  if (format === 'plack') {
    const start = Math.floor(app.startedAt / 1000)
    return `Uptime: ${start} (${plackDuration(uptime)})\nTotal Accesses: ${app.accesses}\nTotal Kbytes: 12\nBusyWorkers: 1\nIdleWorkers: 4\n--\npid status remote_addr host method uri protocol ss\n${process.pid} A 127.0.0.1 127.0.0.1:${app.port} GET /server-status HTTP/1.1 0\n`
  }
  return [
    'localhost',
    'ServerVersion: Apache/2.4.62 (Debian)',
    'ServerMPM: event',
    `ServerUptimeSeconds: ${uptime}`,
    `Total Accesses: ${app.accesses}`,
    'Total kBytes: 12',
    `Uptime: ${uptime}`,
    'BusyWorkers: 1',
    'IdleWorkers: 7',
    'Scoreboard: W______',
    '',
  ].join('\n')
}

/** Plack's duration: `1 days, 2 hours, 3 minutes, 4 seconds`, a unit only when the uptime is above it. */
function plackDuration(seconds: number): string {
  let rest = seconds
  let text = ''
  for (const [span, unit] of [
    [86_400, 'days'],
    [3_600, 'hours'],
    [60, 'minutes'],
  ] as const) {
    if (rest > span) {
      text += `${Math.floor(rest / span)} ${unit}, `
      rest %= span
    }
  }
  return `${text}${rest} seconds`
}
