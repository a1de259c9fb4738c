// A userspace stand-in for netem (this kernel has none): a TCP proxy that holds every chunk
// for `delayMs` in each direction, so each SSH round trip costs 2 × delayMs. It listens on
// 0.0.0.0 inside the bench's network namespace and forwards a connection made to
// 127.x.y.z:<its port> to 127.x.y.z:<target port>, so sshd still sees which host was meant.
//
//   node --import tsx bench/delay-proxy.ts --target-port 2222 --delay 25   # prints "listening <port>"
//
// Not modelled: the TCP handshake itself is not delayed (it completes on loopback), bandwidth, loss.
import net from 'node:net'
import { fileURLToPath } from 'node:url'

export interface DelayProxy {
  port: number
  close(): Promise<void>
}

export function startDelayProxy(options: { targetPort: number; delayMs: number; port?: number }): Promise<DelayProxy> {
  const sockets = new Set<net.Socket>()
  // Half-open on both sides: each direction's FIN is relayed late like its data, not at once.
  const server = net.createServer({ noDelay: true, allowHalfOpen: true }, client => {
    const upstream = net.connect({ host: client.localAddress, port: options.targetPort, noDelay: true, allowHalfOpen: true })
    for (const s of [client, upstream]) {
      sockets.add(s)
      s.once('close', () => sockets.delete(s))
      // Either side failing ends both, as a dropped link would.
      s.once('error', () => {
        client.destroy()
        upstream.destroy()
      })
    }
    relayLater(client, upstream, options.delayMs)
    relayLater(upstream, client, options.delayMs)
  })
  return new Promise((resolve, reject) => {
    server.once('error', reject)
    server.listen(options.port ?? 0, '0.0.0.0', () => {
      resolve({
        port: (server.address() as net.AddressInfo).port,
        close: () =>
          new Promise<void>(done => {
            for (const s of sockets) s.destroy()
            server.close(() => done())
          }),
      })
    })
  })
}

/** Forwards `from`'s bytes (and its end) to `to`, each chunk `delayMs` after it arrived, in order. */
function relayLater(from: net.Socket, to: net.Socket, delayMs: number): void {
  const queue: Array<{ due: number; chunk?: Buffer }> = []
  let timer: NodeJS.Timeout | undefined
  const flush = () => {
    timer = undefined
    const now = performance.now()
    while (queue.length > 0 && queue[0]!.due <= now) {
      const { chunk } = queue.shift()!
      if (to.destroyed) return
      if (chunk) to.write(chunk)
      else to.end()
    }
    schedule()
  }
  const schedule = () => {
    if (timer || queue.length === 0) return
    timer = setTimeout(flush, Math.max(0, queue[0]!.due - performance.now()))
  }
  from.on('data', (chunk: Buffer) => {
    queue.push({ due: performance.now() + delayMs, chunk })
    schedule()
  })
  from.on('end', () => {
    queue.push({ due: performance.now() + delayMs })
    schedule()
  })
}

function flag(args: string[], name: string): number | undefined {
  const i = args.indexOf(name)
  return i >= 0 ? Number(args[i + 1]) : undefined
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const args = process.argv.slice(2)
  const targetPort = flag(args, '--target-port')
  const delayMs = flag(args, '--delay') ?? 25
  if (!targetPort) {
    process.stderr.write('usage: delay-proxy.ts --target-port PORT [--delay MS] [--port PORT]\n')
    process.exit(2)
  }
  const proxy = await startDelayProxy({ targetPort, delayMs, port: flag(args, '--port') })
  process.stdout.write(`listening ${proxy.port}\n`)
  const stop = () => void proxy.close().then(() => process.exit(0))
  process.once('SIGTERM', stop)
  process.once('SIGINT', stop)
}
