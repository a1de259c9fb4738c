// Fixtures for the fault suite, all on loopback: a TCP proxy in front of the sshd fleet that can
// drop, reset, cut, kill or freeze connections, a listener that never speaks, and /proc readers
// (a process's descendants, processes by argv, peak RSS, every process described) to check what
// a run leaves behind.
import net from 'node:net'
import { spawnSync, type ChildProcess } from 'node:child_process'
import { readdirSync, readFileSync } from 'node:fs'

/** What the proxy does with a new connection. */
export type ProxyMode =
  | 'relay' // pass bytes both ways
  | 'close' // hang up right after accept, as sshd over MaxStartups does
  | 'reset' // RST right after accept
  | 'banner-then-close' // relay the server's SSH banner, then hang up mid key exchange

export interface TcpProxy {
  port: number
  /** Connections accepted so far. */
  accepted: number
  /** Modes for the next connections, in order; once used up, connections are relayed. */
  plan: ProxyMode[]
  /** The host dies: every live connection is reset, and new ones are refused. */
  kill(): void
  /** The host freezes: live connections stay open but no byte passes any more (a partition). */
  freeze(): void
  close(): Promise<void>
}

export async function startTcpProxy(
  target: { host: string; port: number },
  plan: ProxyMode[] = [],
  listenHost = '127.0.0.1',
): Promise<TcpProxy> {
  const live = new Set<net.Socket>()
  const all = new Set<net.Socket>()
  let frozen = false
  const server = net.createServer({ pauseOnConnect: true }, client => {
    proxy.accepted++
    all.add(client)
    client.on('close', () => all.delete(client))
    const mode = proxy.plan.shift() ?? 'relay'
    client.on('error', () => {})
    if (mode === 'close') return void client.end()
    if (mode === 'reset') return void client.resetAndDestroy()
    const upstream = net.connect(target)
    upstream.on('error', () => client.destroy())
    client.on('error', () => upstream.destroy())
    live.add(client).add(upstream)
    const forget = () => {
      live.delete(client)
      live.delete(upstream)
    }
    client.on('close', () => {
      upstream.destroy()
      forget()
    })
    upstream.on('close', () => {
      client.destroy()
      forget()
    })
    if (mode === 'banner-then-close') {
      upstream.once('data', (banner: Buffer) => {
        client.end(banner)
        upstream.destroy()
      })
      client.resume()
      return
    }
    relay(client, upstream)
    relay(upstream, client)
    client.resume()
  })
  const relay = (from: net.Socket, to: net.Socket) =>
    from.on('data', (chunk: Buffer) => {
      if (!frozen && !to.destroyed) to.write(chunk)
    })
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(0, listenHost, () => resolve())
  })
  const proxy: TcpProxy = {
    port: (server.address() as net.AddressInfo).port,
    accepted: 0,
    plan: [...plan],
    kill() {
      server.close()
      for (const socket of live) socket.resetAndDestroy()
    },
    freeze() {
      frozen = true
    },
    close() {
      for (const socket of [...live, ...all]) socket.destroy()
      return new Promise(resolve => server.close(() => resolve()))
    },
  }
  return proxy
}

/** Accepts TCP and then says nothing, ever: a hung sshd, or a firewall that only half blocks. */
export async function startSilentListener(host = '127.0.0.1'): Promise<{ port: number; close(): Promise<void> }> {
  const sockets = new Set<net.Socket>()
  const server = net.createServer(socket => {
    sockets.add(socket)
    socket.on('error', () => {})
    socket.on('close', () => sockets.delete(socket))
  })
  await new Promise<void>(resolve => server.listen(0, host, () => resolve()))
  return {
    port: (server.address() as net.AddressInfo).port,
    close: () => {
      for (const s of sockets) s.destroy()
      return new Promise(resolve => server.close(() => resolve()))
    },
  }
}

/** A port on which nothing listens: bound once by us, then released. */
export function closedPort(host = '127.0.0.1'): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer()
    server.once('error', reject)
    server.listen(0, host, () => {
      const { port } = server.address() as net.AddressInfo
      server.close(() => resolve(port))
    })
  })
}

/** Pids whose parent is `pid`, read from /proc. */
export function childPids(pid: number): number[] {
  const children: number[] = []
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue
    try {
      // the command name may hold spaces or parentheses: the fields after the last ')' are fixed
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8')
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1])
      if (ppid === pid) children.push(Number(entry))
    } catch {
      // exited while we looked
    }
  }
  return children
}

/** Every descendant of `pid`, found by walking /proc. */
export function descendantPids(pid: number): number[] {
  const out: number[] = []
  const queue = [pid]
  while (queue.length > 0) {
    for (const child of childPids(queue.shift()!)) {
      out.push(child)
      queue.push(child)
    }
  }
  return out
}

/**
 * SIGKILLs a child and every process under it: a `sh -c 'sleep 600; :'` worker killed alone
 * leaves its sleep running, reparented, long after the test.
 */
export function killTree(child: ChildProcess): void {
  // an exited child's pid may be another process's by now
  if (child.pid === undefined || child.exitCode !== null || child.signalCode !== null) return
  const below = descendantPids(child.pid)
  child.kill('SIGKILL')
  for (const pid of below) {
    try {
      process.kill(pid, 'SIGKILL')
    } catch {
      // already gone
    }
  }
}

/** Pids of live processes whose command line contains `needle` (NUL-separated args joined by spaces). */
export function pidsWithCmdline(needle: string): number[] {
  const pids: number[] = []
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue
    try {
      const cmdline = readFileSync(`/proc/${entry}/cmdline`, 'utf8').split('\0').join(' ')
      if (cmdline.includes(needle) && isAlive(Number(entry))) pids.push(Number(entry))
    } catch {
      // exited while we looked
    }
  }
  return pids
}

/** `pid (parent P, uid U, session S): args`, for failure messages; `pid (gone)` once it has exited. */
export function describeProcess(pid: number): string {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8')
    const [, ppid, , sid] = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
    const uid = /^Uid:\s+(\d+)/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1]
    return `${pid} (parent ${ppid}, uid ${uid}, session ${sid}): ${readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').join(' ')}`
  } catch {
    return `${pid} (gone)`
  }
}

/** Every process on the machine, described: what a failure leaves behind to explain itself. */
export function everyProcess(): string[] {
  return readdirSync('/proc')
    .filter(entry => /^\d+$/.test(entry))
    .map(entry => describeProcess(Number(entry)))
}

/** Alive and not a zombie waiting for its parent. */
export function isAlive(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8')
    return stat.slice(stat.lastIndexOf(')') + 2)[0] !== 'Z'
  } catch {
    return false
  }
}

/** Peak resident set size (VmHWM) of a live process, in bytes; undefined once it has exited. */
export function peakRssBytes(pid: number): number | undefined {
  try {
    const match = /^VmHWM:\s+(\d+) kB$/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))
    return match ? Number(match[1]) * 1024 : undefined
  } catch {
    return undefined
  }
}

/** Pids of live processes whose argv is exactly `argv` (e.g. ['sleep', '7301']). */
export function pidsRunning(argv: string[]): number[] {
  const wanted = `${argv.join('\0')}\0`
  const pids: number[] = []
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue
    try {
      if (readFileSync(`/proc/${entry}/cmdline`, 'utf8') === wanted && isAlive(Number(entry))) pids.push(Number(entry))
    } catch {
      // exited while we looked
    }
  }
  return pids
}

/** Polls `probe` every 50 ms until it returns true or `timeoutMs` passes; returns the last answer. */
export async function waitFor(probe: () => boolean, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs
  while (Date.now() < deadline) {
    if (probe()) return true
    await new Promise(resolve => setTimeout(resolve, 50))
  }
  return probe()
}

/** Until `pid` runs exactly `argv`: a child just spawned still shows node's command line until it has exec'd. */
export async function untilRunning(pid: number | undefined, argv: string[], timeoutMs = 10_000): Promise<void> {
  const wanted = `${argv.join('\0')}\0`
  const cmdline = () => {
    try {
      return readFileSync(`/proc/${pid}/cmdline`, 'utf8')
    } catch {
      return ''
    }
  }
  if (!(await waitFor(() => pid !== undefined && cmdline() === wanted, timeoutMs))) {
    throw new Error(`pid ${pid} did not start \`${argv.join(' ')}\` within ${timeoutMs} ms (runs \`${cmdline().split('\0').join(' ')}\`)`)
  }
}

/** Until `pid` is gone (a zombie counts as gone): SIGKILL is delivered, not awaited. */
export async function untilExited(pid: number | undefined, timeoutMs = 10_000): Promise<void> {
  if (pid !== undefined && !(await waitFor(() => !isAlive(pid), timeoutMs)))
    throw new Error(`pid ${pid} still alive after ${timeoutMs} ms: ${describeProcess(pid)}`)
}

/** xmllint's verdict on a JUnit file against both strict schemas (Ant's JUnit.xsd, Jenkins xUnit's junit-10.xsd): '' when valid. */
export function junitSchemaErrors(file: string): string {
  return ['JUnit.xsd', 'junit-10.xsd']
    .map(name => {
      const xsd = new URL(`../fixtures/junit-xsd/${name}`, import.meta.url).pathname
      const result = spawnSync('xmllint', ['--noout', '--schema', xsd, file], { encoding: 'utf8' })
      return result.status === 0 ? '' : `${name}: ${result.stderr}${result.stdout}`
    })
    .join('')
}

/** Bytes no terminal should receive raw: ESC, other C0 controls but tab and newline, DEL, C1. */
export const RAW_CONTROL = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f]/
