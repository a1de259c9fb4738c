// The dispatchers requests go through: from the runner, or tunnelled through the host's SSH
// connection (a direct-tcpip channel per connection, TLS over it for https).
import { createRequire } from 'node:module'
import { isIP, type Socket } from 'node:net'
import type * as Tls from 'node:tls'
import type { Duplex } from 'node:stream'
import type { Agent, Dispatcher, buildConnector } from 'undici'
import type { HostContext } from '../../dsl/context.ts'
import { stateFor } from './session.ts'
import type { Via } from './types.ts'
import { undici } from './undici.ts'

// node:tls only for https through a host (start-up: every run loads this module, few use it)
let tlsModule: typeof Tls | undefined
const tls = (): typeof Tls => (tlsModule ??= createRequire(import.meta.url)('node:tls') as typeof Tls)

/** Concurrent tunnels per origin: each one holds one of the SSH connection's few channel slots. */
const HOST_CONNECTIONS_PER_ORIGIN = 4
/** An idle tunnel still holds its channel slot, so give it back sooner than undici's 4s default. */
const HOST_KEEP_ALIVE_MS = 2_000

/** One pooled Agent per host run, vantage point and TLS mode (certificate checks are per connection). */
export function agentFor(ctx: HostContext, via: Via, tlsVerify: boolean): Dispatcher {
  const agents = stateFor(ctx).agents
  const key = `${via} tlsVerify=${tlsVerify}`
  let agent = agents.get(key)
  if (!agent) {
    agent = via === 'host' ? hostAgent(ctx, tlsVerify) : runnerAgent(tlsVerify)
    agents.set(key, agent)
  }
  return agent
}

function runnerAgent(tlsVerify: boolean): Agent {
  // timeout 0: the request's own deadline covers connecting, with the user's limit
  return new (undici().Agent)({ connect: { rejectUnauthorized: tlsVerify, timeout: 0 } })
}

function hostAgent(ctx: HostContext, tlsVerify: boolean): Agent {
  return new (undici().Agent)({
    connect: tunnelConnector(ctx, tlsVerify),
    connections: HOST_CONNECTIONS_PER_ORIGIN,
    keepAliveTimeout: HOST_KEEP_ALIVE_MS,
  })
}

/** Connects through the host's transport instead of from the runner. */
function tunnelConnector(ctx: HostContext, tlsVerify: boolean): buildConnector.connector {
  return (target, callback) => {
    openTunnel(ctx, target, tlsVerify).then(
      socket => callback(null, socket),
      (err: unknown) => callback(err instanceof Error ? err : new Error(String(err)), null),
    )
  }
}

async function openTunnel(ctx: HostContext, target: buildConnector.Options, tlsVerify: boolean): Promise<Socket> {
  const https = target.protocol === 'https:'
  const port = Number(target.port) || (https ? 443 : 80)
  const stream = await ctx.transport.openTcp(target.hostname, port)
  // undici's HTTP/1.1 client only uses the Duplex surface (read/unshift/write/cork/destroy and
  // events) and feature-checks ref/unref/setTypeOfService, so an SSH channel works as its socket
  if (!https) return stream as unknown as Socket
  return startTls(stream, target.servername || target.hostname, tlsVerify)
}

/** TLS over the tunnel; resolves once the handshake (and certificate check) is done. */
function startTls(stream: Duplex, name: string, tlsVerify: boolean): Promise<Tls.TLSSocket> {
  return new Promise((resolve, reject) => {
    let settled = false
    const socket = tls().connect({
      socket: stream,
      // `host` is what the certificate is checked against; SNI must not carry an IP (RFC 6066)
      host: name,
      servername: isIP(name) ? undefined : name,
      rejectUnauthorized: tlsVerify,
    })
    const fail = (err: Error): void => {
      if (settled) return
      settled = true
      socket.destroy()
      stream.destroy()
      reject(err)
    }
    // stays attached as a no-op after the handshake: undici adds its own error listener
    socket.on('error', fail)
    socket.once('close', () => fail(new Error('connection closed during the TLS handshake')))
    socket.once('secureConnect', () => {
      settled = true
      resolve(socket)
    })
  })
}
