// An app with a mod_status-style page that can be stopped and started again on the same port,
// its access counter reset as a real restart resets it: the app of a simulated deploy.
import http from 'node:http'
import type { AddressInfo } from 'node:net'

export interface RestartableApp {
  port: number
  accesses: number
  /** Stop, stay down for `downMs`, then listen again with the counter at zero. */
  restart(downMs: number): Promise<void>
  close(): Promise<void>
}

export async function startRestartableApp(initialAccesses = 0): Promise<RestartableApp> {
  let server: http.Server | undefined
  const app: RestartableApp = {
    port: 0,
    accesses: initialAccesses,
    restart: async (downMs) => {
      await stop()
      await new Promise((resolve) => setTimeout(resolve, downMs))
      app.accesses = 0
      await listen(app.port)
    },
    close: () => stop(),
  }
  const handler: http.RequestListener = (req, res) => {
    app.accesses++
    if (req.url?.startsWith('/server-status')) return void res.end(`Total Accesses: ${app.accesses}\nTotal kBytes: 12\nUptime: 42\nBusyWorkers: 1\nIdleWorkers: 7\n`)
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
        resolve()
      })
    })
  const stop = () =>
    new Promise<void>((resolve) => {
      if (!server) return resolve()
      const s = server
      server = undefined
      s.closeAllConnections()
      s.close(() => resolve())
    })
  await listen(0)
  return app
}
