// How the bytes reach a host: directly, through a ProxyCommand's stdio, or through bastions
// (ProxyJump) with ssh2 forwardOut on each hop. Bastion connections are pooled per run, keyed
// by the whole route, so the hosts behind one bastion share one connection to it, and every
// hop's host key is checked like any host's.
import type { Duplex } from 'node:stream'
import type ssh2 from 'ssh2'
import type { ClientChannel } from 'ssh2'
import { HostUnreachableError, VerifyError } from '../../errors.ts'
import { connectSsh, type ConnectOptions, type SshConnection } from './connect.ts'
import type { SshConfigResolver } from './config.ts'
import { parseHop } from './config-settings.ts'
import { endpoint, targetForHop, type SshTarget, type TargetContext } from './target.ts'

/** The socket for one SSH connection, and what to undo when that connection ends. */
export interface Route {
  /** undefined: ssh2 opens a plain TCP connection itself. */
  sock?: Duplex
  /** `bastion-1 > bastion-2`, or the ProxyCommand, for messages. */
  via?: string
  /** Why the route failed, when the handshake over it failed (a ProxyCommand's stderr). */
  explain(): string | undefined
  release(): void
}

interface PooledHop {
  label: string
  key: string
  connection: Promise<SshConnection>
  refs: number
}

const HOP_CLOSE_GRACE_MS = 2_000
// OpenSSH has no limit, but a ProxyJump that names itself would otherwise recurse forever.
const MAX_HOPS = 8

export class JumpPool {
  private readonly hops = new Map<string, PooledHop>()
  /** Bastion connections made in this run (each hop counted once per connection). */
  connectionsMade = 0
  /** Aborted by close(): a bastion handshake still in progress is destroyed, not awaited. */
  private readonly closing = new AbortController()

  constructor(
    private readonly resolver: SshConfigResolver,
    private readonly ctx: TargetContext,
    private readonly connectOptions: Omit<ConnectOptions, 'connectTimeoutMs' | 'via'>,
  ) {}

  /** The way to the target; its proxyJump / proxyCommand say which. `signal` gives the route up (nothing opened for it stays open). */
  async open(target: SshTarget, connectTimeoutMs: number, signal?: AbortSignal, depth = 0): Promise<Route> {
    if (signal?.aborted) throw signal.reason
    if (target.proxyJump.length > 0) return this.throughBastion(target, connectTimeoutMs, signal, depth)
    if (target.proxyCommand) {
      // on first use: it brings execa, which a direct connection does not need (start-up)
      const { spawnProxyCommand } = await import('./proxy-command.ts')
      const proxy = spawnProxyCommand(target.proxyCommand, this.connectOptions.env)
      return {
        sock: proxy.sock,
        via: `ProxyCommand ${target.proxyCommand}`,
        explain: () => (proxy.stderrTail() ? `ProxyCommand said: ${proxy.stderrTail()}` : undefined),
        release: () => proxy.stop(),
      }
    }
    return { explain: () => undefined, release: () => {} }
  }

  /** Ends every bastion connection (the run is over). */
  async close(graceMs = HOP_CLOSE_GRACE_MS): Promise<void> {
    this.closing.abort(new HostUnreachableError('bastion connection abandoned: the run is over'))
    const hops = [...this.hops.values()]
    this.hops.clear()
    await Promise.all(
      hops.map(hop =>
        hop.connection.then(
          c => endConnection(c, graceMs),
          () => {},
        ),
      ),
    )
  }

  private async throughBastion(
    target: SshTarget,
    connectTimeoutMs: number,
    signal: AbortSignal | undefined,
    depth: number,
  ): Promise<Route> {
    if (depth >= MAX_HOPS)
      throw new HostUnreachableError(
        `${endpoint(target)}: more than ${MAX_HOPS} ProxyJump hops (does a bastion's ssh_config entry name itself as its ProxyJump?)`,
      )
    const hop = await this.acquire(target, connectTimeoutMs, depth)
    let released = false
    let channel: ClientChannel | undefined
    const release = () => {
      if (released) return
      released = true
      hop.refs--
      // the tunnel to the target goes with the connection over it (or with the give-up before one)
      channel?.destroy()
    }
    try {
      const { client } = await hop.connection
      if (signal?.aborted) throw signal.reason
      channel = await forwardOut(client, target.hostname, target.port)
      if (signal?.aborted) throw signal.reason
      return { sock: channel, via: hop.label, explain: () => undefined, release }
    } catch (err) {
      release()
      if (err instanceof VerifyError) throw err
      const why = (err as Error).message.replace(/^\(SSH\) Channel open failure: /, '')
      const hint = /prohibited/i.test(why) ? ' (the bastion forbids it: AllowTcpForwarding)' : ''
      throw new HostUnreachableError(
        `${endpoint(target)}: bastion ${hop.label} cannot reach ${target.hostname}:${target.port}: ${why}${hint}`,
        {
          cause: Object.assign(new Error(why), /refused/i.test(why) ? { code: 'ECONNREFUSED' } : {}),
        },
      )
    }
  }

  /** The pooled connection to the target's last bastion, opening it (and the hops before it) on first use. */
  private async acquire(target: SshTarget, connectTimeoutMs: number, depth: number): Promise<PooledHop> {
    const hops = target.proxyJump
    const last = hops[hops.length - 1]!
    const hopTarget = targetForHop(last, await this.resolver.resolve(parseHop(last)), this.ctx, target)
    if (hops.length > 1) {
      // `ProxyJump a,b`: b is reached through a, whatever b's own ssh_config entry says.
      hopTarget.proxyJump = hops.slice(0, -1)
      delete hopTarget.proxyCommand
    }
    const key = routeKey(hopTarget)
    let hop = this.hops.get(key)
    if (!hop) {
      const label = [...hopTarget.proxyJump, last].join(' > ')
      const connection = this.connectHop(hopTarget, label, connectTimeoutMs, depth)
      const created: PooledHop = { label, key, connection, refs: 0 }
      hop = created
      this.hops.set(key, created)
      // A failed or lost bastion is forgotten, so a later host (or a retry) tries it afresh.
      connection.then(
        c => void c.closed.then(() => this.forget(created)),
        () => this.forget(created),
      )
    }
    hop.refs++
    return hop
  }

  private async connectHop(hopTarget: SshTarget, label: string, connectTimeoutMs: number, depth: number): Promise<SshConnection> {
    const route = await this.open(hopTarget, connectTimeoutMs, this.closing.signal, depth + 1).catch((err: unknown) => {
      throw asBastionError(err, label)
    })
    try {
      const connection = await connectSsh(hopTarget, route.sock, {
        ...this.connectOptions,
        connectTimeoutMs,
        signal: this.closing.signal,
        ...(route.via ? { via: route.via } : {}),
      })
      this.connectionsMade++
      void connection.closed.then(() => route.release())
      return connection
    } catch (err) {
      route.release()
      const extra = route.explain()
      throw asBastionError(err, label, extra)
    }
  }

  private forget(hop: PooledHop): void {
    if (this.hops.get(hop.key) === hop) this.hops.delete(hop.key)
  }
}

/** Same route to the same endpoint as the same user: one connection. */
function routeKey(target: SshTarget): string {
  return JSON.stringify([target.proxyJump, target.proxyCommand ?? null, endpoint(target)])
}

/** The bastion's own error, said to be the bastion's (it keeps its kind: host-key, auth, timeout…). */
function asBastionError(err: unknown, label: string, extra?: string): Error {
  if (!(err instanceof VerifyError)) return new HostUnreachableError(`bastion ${label}: ${(err as Error).message}`, { cause: err })
  const Kind = err.constructor as new (message: string, options?: { cause?: unknown }) => VerifyError
  return new Kind(`bastion ${label}: ${err.message}${extra ? ` (${extra})` : ''}`, { cause: err.cause ?? err })
}

/** A direct-tcpip channel through an SSH connection (to the next hop, or a host's own loopback). */
export function forwardOut(client: ssh2.Client, host: string, port: number): Promise<ClientChannel> {
  return new Promise((resolve, reject) => {
    try {
      client.forwardOut('127.0.0.1', 0, host, port, (err, channel) => (err ? reject(err) : resolve(channel)))
    } catch (err) {
      reject(err)
    }
  })
}

function endConnection(connection: SshConnection, graceMs: number): Promise<void> {
  const { client } = connection
  const timer = setTimeout(() => client.destroy(), graceMs)
  timer.unref()
  client.end()
  return connection.closed.then(() => clearTimeout(timer))
}
