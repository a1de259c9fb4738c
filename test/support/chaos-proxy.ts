// The chaos soak's fault injector: one userspace TCP proxy, many listening addresses, each one a
// "host" in front of the one real test sshd. Every host adds latency and may carry one fault
// (a handshake finished just before, at or after --connect-timeout, a reset mid-handshake or
// mid-probe, a stalled channel open, a banner that never comes, the session killed mid-batch,
// a drop once the report has begun). SSH is encrypted, so the proxy learns where a connection
// is (authenticated, probe started) from the sshd log, read synchronously on every server chunk:
// sshd logs those events before it sends the packet that tells the client.
import net from 'node:net'
import { closeSync, openSync, readdirSync, readFileSync, readlinkSync, readSync } from 'node:fs'

export type ChaosFault =
  | { kind: 'none' }
  /** Authentication's success reaches the client `readyAtMs` after the proxy accepted the connection. */
  | { kind: 'handshake-before' | 'handshake-at' | 'handshake-after'; readyAtMs: number }
  /** The server's banner never comes: no upstream connection at all, the client waits. */
  | { kind: 'banner-hold' }
  /** Both sides reset at the server's `afterChunks`-th chunk, before authentication; on the first connection or on every one. */
  | { kind: 'reset-handshake'; afterChunks: number; connections: 'first' | 'all' }
  /** Both sides reset as the probe's exec starts on the server. */
  | { kind: 'reset-probe' }
  /** Once authenticated, only `bytes` more client bytes reach the server: the channel open (or exec) is never answered. */
  | { kind: 'stall-channel'; bytes: number }
  /** `afterMs` after the probe's session started, the host's sshd processes for the connection are SIGKILLed. */
  | { kind: 'kill-session'; afterMs: number }
  /** Connections still open when the report begins are reset (there should be none). */
  | { kind: 'drop-late' }

export type ChaosKind = ChaosFault['kind']

export interface ChaosHostOptions {
  name: string
  /** Loopback address the host listens on (any 127.x.y.z: the whole /8 is local on Linux). */
  address: string
  fault: ChaosFault
  /** Held in each direction, per chunk. */
  latencyMs: number
}

export interface ChaosHost extends ChaosHostOptions {
  port: number
  /** Connections accepted so far. */
  accepted: number
  /** What the fault actually did, in order (`held ready until +2950ms`, `killed 2 sshd processes`…). */
  fired: string[]
  /** Connections whose client end is still open. */
  live(): number
}

export interface ChaosProxy {
  addHost(options: ChaosHostOptions): Promise<ChaosHost>
  hosts: ChaosHost[]
  /** The run's report has begun: reset drop-late connections; returns the hosts with connections still open before that. */
  reportBegan(): Array<{ host: string; kind: ChaosKind; open: number; fired: string[] }>
  close(): Promise<void>
}

interface Upstream {
  host: string
  port: number
  /** sshd's -E log file (LogLevel VERBOSE). */
  logFile: string
}

export function startChaosProxy(upstream: Upstream): ChaosProxy {
  const log = new SshdLogTail(upstream.logFile)
  const servers: net.Server[] = []
  const conns = new Set<Connection>()
  const hosts: ChaosHost[] = []
  const proxy: ChaosProxy = {
    hosts,
    async addHost(options) {
      const state: ChaosHost = {
        ...options,
        port: 0,
        accepted: 0,
        fired: [],
        live: () => [...conns].filter(c => c.host === state && c.clientOpen).length,
      }
      const server = net.createServer({ noDelay: true, allowHalfOpen: false }, client => {
        state.accepted++
        const conn = new Connection(state, client, upstream, log)
        conns.add(conn)
        conn.onGone = () => conns.delete(conn)
      })
      await new Promise<void>((resolve, reject) => {
        server.once('error', reject)
        server.listen(0, options.address, () => resolve())
      })
      state.port = (server.address() as net.AddressInfo).port
      servers.push(server)
      hosts.push(state)
      return state
    },
    reportBegan() {
      const open = hosts.filter(h => h.live() > 0).map(h => ({ host: h.name, kind: h.fault.kind, open: h.live(), fired: [...h.fired] }))
      for (const conn of conns) {
        if (conn.host.fault.kind !== 'drop-late') continue
        conn.host.fired.push('reset at report time')
        conn.reset()
      }
      return open
    },
    async close() {
      for (const conn of conns) conn.reset()
      await Promise.all(servers.map(s => new Promise<void>(resolve => s.close(() => resolve()))))
      log.close()
    },
  }
  return proxy
}

// ---------------------------------------------------------------------------------------------
// One proxied connection.

class Connection {
  clientOpen = true
  onGone: () => void = () => {}
  private server: net.Socket | undefined
  private readonly accepted = performance.now()
  private readonly toServer: DelayedPipe
  private toClient: DelayedPipe | undefined
  private serverChunks = 0
  private authenticated = false
  /** 1 for the host's first connection, 2 for its first retry… */
  private readonly number: number
  private timer: NodeJS.Timeout | undefined

  constructor(
    readonly host: ChaosHost,
    private readonly client: net.Socket,
    upstream: Upstream,
    private readonly log: SshdLogTail,
  ) {
    this.number = host.accepted
    client.on('error', () => {})
    client.once('close', () => {
      this.clientOpen = false
      this.server?.destroy()
      clearTimeout(this.timer)
      this.onGone()
    })
    // the client hung up (end or disconnect): the server side goes too, as a real link would
    client.once('end', () => {
      this.server?.destroy()
      client.destroy()
    })
    this.toServer = new DelayedPipe(host.latencyMs)
    const { fault } = host
    if (fault.kind === 'banner-hold') {
      host.fired.push(`banner held (connection ${host.accepted})`)
      client.resume() // swallow the client's banner; the server's never comes
      return
    }
    const server = net.connect({ host: upstream.host, port: upstream.port, noDelay: true })
    this.server = server
    server.on('error', () => {})
    // a clean end from sshd reaches the client after the data still queued; a reset, at once
    server.once('close', hadError => (hadError ? client.destroy() : this.toClient!.finish()))
    const onEvent = (event: SshdEvent) => this.onLogEvent(event)
    let port: number | undefined
    server.once('connect', () => {
      // lines about an earlier connection from the same port must not reach this one
      log.poll()
      port = server.localPort!
      log.watch(port, onEvent)
    })
    server.once('close', () => {
      if (port !== undefined) log.unwatch(port, onEvent)
    })
    this.toClient = new DelayedPipe(host.latencyMs)
    this.toServer.connect(client, server)
    this.toClient.connect(server, client, () => this.onServerChunk())
  }

  /** Before each server chunk is queued: what has sshd logged about this connection by now. */
  private onServerChunk(): 'drop' | undefined {
    this.serverChunks++
    const { fault } = this.host
    if (fault.kind === 'none' || fault.kind === 'drop-late') return undefined
    this.log.poll()
    if (this.server === undefined || this.server.destroyed) return 'drop'
    if (fault.kind === 'reset-handshake' && !this.authenticated && this.serverChunks >= fault.afterChunks) {
      if (fault.connections === 'all' || this.number === 1) {
        this.host.fired.push(`reset at server chunk ${this.serverChunks} of connection ${this.number}`)
        this.reset()
        return 'drop'
      }
    }
    return undefined
  }

  private onLogEvent(event: SshdEvent): void {
    const { fault } = this.host
    const sinceAccept = Math.round(performance.now() - this.accepted)
    if (event === 'authenticated') {
      this.authenticated = true
      if (fault.kind === 'handshake-before' || fault.kind === 'handshake-at' || fault.kind === 'handshake-after') {
        const hold = fault.readyAtMs - sinceAccept
        this.host.fired.push(
          hold > 0
            ? `authenticated at +${sinceAccept}ms, success held until +${fault.readyAtMs}ms`
            : `authenticated at +${sinceAccept}ms, already past +${fault.readyAtMs}ms`,
        )
        if (hold > 0) this.toClient!.holdFor(hold)
      }
      if (fault.kind === 'stall-channel') {
        this.host.fired.push(`authenticated at +${sinceAccept}ms, then ${fault.bytes} client bytes pass`)
        this.toServer.passOnly(fault.bytes)
      }
    }
    if (event === 'session') {
      if (fault.kind === 'reset-probe') {
        this.host.fired.push(`reset as the probe started (+${sinceAccept}ms)`)
        this.reset()
      }
      if (fault.kind === 'kill-session' && this.timer === undefined) {
        const clientPort = this.server?.localPort
        const serverPort = this.server?.remotePort
        this.timer = setTimeout(() => {
          const pids = clientPort === undefined || serverPort === undefined ? [] : sshdPidsOf(clientPort, serverPort)
          for (const pid of pids) {
            try {
              process.kill(pid, 'SIGKILL')
            } catch {
              // gone already
            }
          }
          this.host.fired.push(
            pids.length > 0
              ? `killed ${pids.length} sshd processes ${fault.afterMs}ms after the probe started`
              : 'session gone before the kill',
          )
        }, fault.afterMs)
      }
    }
  }

  /** RST to the client, the server side destroyed. */
  reset(): void {
    clearTimeout(this.timer)
    if (!this.client.destroyed) this.client.resetAndDestroy()
    this.server?.destroy()
  }
}

/**
 * Forwards one direction, each chunk `latencyMs` after it arrived, in order; can hold everything
 * until a time, or let only N more bytes through (the rest is read and dropped, so nobody blocks).
 */
class DelayedPipe {
  // a queued entry without a chunk ends the destination, after everything before it
  private readonly queue: Array<{ due: number; chunk?: Buffer }> = []
  private finished = false
  private timer: NodeJS.Timeout | undefined
  private holdUntil = 0
  private allowance = Infinity
  private to: net.Socket | undefined

  constructor(private readonly latencyMs: number) {}

  connect(from: net.Socket, to: net.Socket, beforeQueue?: () => 'drop' | undefined): void {
    this.to = to
    from.on('data', (chunk: Buffer) => {
      if (beforeQueue?.() === 'drop') return
      this.queue.push({ due: performance.now() + this.latencyMs, chunk })
      this.schedule()
    })
  }

  /** Ends the destination once the data queued so far has gone. */
  finish(): void {
    if (this.finished) return
    this.finished = true
    this.queue.push({ due: performance.now() + this.latencyMs })
    this.schedule()
  }

  holdFor(ms: number): void {
    this.holdUntil = performance.now() + ms
    this.reschedule()
  }

  passOnly(bytes: number): void {
    this.allowance = bytes
  }

  private reschedule(): void {
    clearTimeout(this.timer)
    this.timer = undefined
    this.schedule()
  }

  private schedule(): void {
    if (this.timer || this.queue.length === 0) return
    const due = Math.max(this.queue[0]!.due, this.holdUntil)
    this.timer = setTimeout(() => this.flush(), Math.max(0, due - performance.now()))
  }

  private flush(): void {
    this.timer = undefined
    const now = performance.now()
    while (this.queue.length > 0 && Math.max(this.queue[0]!.due, this.holdUntil) <= now) {
      let { chunk } = this.queue.shift()!
      if (!this.to || this.to.destroyed) return
      if (!chunk) return void this.to.end()
      if (this.allowance < chunk.length) chunk = chunk.subarray(0, this.allowance)
      this.allowance -= chunk.length
      if (chunk.length > 0) this.to.write(chunk)
    }
    this.schedule()
  }
}

// ---------------------------------------------------------------------------------------------
// The sshd log, read as it grows.

type SshdEvent = 'authenticated' | 'session'

const LOG_EVENTS: Array<[RegExp, SshdEvent]> = [
  [/^Accepted publickey for \S+ from \S+ port (\d+) /, 'authenticated'],
  [/^Starting session: \S+ for \S+ from \S+ port (\d+) /, 'session'],
]

/** Tails sshd's log synchronously (readSync from the last offset) and hands each event to the connection from that client port. */
class SshdLogTail {
  private fd: number | undefined
  private offset = 0
  private partial = ''
  private readonly watchers = new Map<number, (event: SshdEvent) => void>()

  constructor(file: string) {
    this.fd = openSync(file, 'r')
    // start at the end: earlier rounds' lines are history
    this.offset = readFileSync(file).length
  }

  watch(port: number, handler: (event: SshdEvent) => void): void {
    this.watchers.set(port, handler)
  }

  /** Only this handler: the port may already serve a newer connection. */
  unwatch(port: number, handler: (event: SshdEvent) => void): void {
    if (this.watchers.get(port) === handler) this.watchers.delete(port)
  }

  poll(): void {
    const buffer = Buffer.alloc(64 * 1024)
    for (;;) {
      if (this.fd === undefined) return
      const n = readSync(this.fd, buffer, 0, buffer.length, this.offset)
      if (n <= 0) break
      this.offset += n
      const text = this.partial + buffer.subarray(0, n).toString('utf8')
      const lines = text.split('\n')
      this.partial = lines.pop()!
      for (const line of lines) this.dispatch(line)
    }
  }

  close(): void {
    if (this.fd !== undefined) closeSync(this.fd)
    this.fd = undefined
  }

  private dispatch(line: string): void {
    for (const [pattern, event] of LOG_EVENTS) {
      const match = pattern.exec(line)
      if (match) this.watchers.get(Number(match[1]))?.(event)
    }
  }
}

// ---------------------------------------------------------------------------------------------
// The host side: which sshd processes serve a connection.

/** Pids holding the server end of the TCP connection from client port `clientPort` to `serverPort` (from /proc/net/tcp and each /proc/PID/fd). */
export function sshdPidsOf(clientPort: number, serverPort: number): number[] {
  const inodes = new Set<string>()
  for (const line of readFileSync('/proc/net/tcp', 'utf8').split('\n').slice(1)) {
    const fields = line.trim().split(/\s+/)
    if (fields.length < 10) continue
    const local = Number.parseInt(fields[1]!.split(':')[1]!, 16)
    const remote = Number.parseInt(fields[2]!.split(':')[1]!, 16)
    if (local === serverPort && remote === clientPort) inodes.add(fields[9]!)
  }
  return inodes.size === 0 ? [] : pidsHoldingSockets(inodes)
}

/** Established TCP connections to a local port, server side: sessions sshd still serves. */
export function establishedTo(serverPort: number): number {
  let n = 0
  for (const line of readFileSync('/proc/net/tcp', 'utf8').split('\n').slice(1)) {
    const fields = line.trim().split(/\s+/)
    if (fields.length < 4) continue
    // state 01: ESTABLISHED
    if (Number.parseInt(fields[1]!.split(':')[1]!, 16) === serverPort && fields[3] === '01') n++
  }
  return n
}

function pidsHoldingSockets(inodes: Set<string>): number[] {
  const pids: number[] = []
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue
    let fds: string[]
    try {
      fds = readdirSync(`/proc/${entry}/fd`)
    } catch {
      continue
    }
    for (const fd of fds) {
      try {
        const socket = /^socket:\[(\d+)\]$/.exec(readlinkSync(`/proc/${entry}/fd/${fd}`))
        if (socket && inodes.has(socket[1]!)) {
          pids.push(Number(entry))
          break
        }
      } catch {
        // closed while we looked
      }
    }
  }
  return pids
}
