// http() against real servers on 127.0.0.1, inside a fake host whose transport counts tunnels.
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import * as net from 'node:net'
import * as nodeHttp from 'node:http'
import * as nodeHttps from 'node:https'
import { Duplex } from 'node:stream'
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { endHostSessions, runInCheck, runInHost, type CheckScope, type HostContext } from '../../../src/dsl/context.ts'
import type { Transport } from '../../../src/transports/transport.ts'
import { HttpError, TimeoutError } from '../../../src/errors.ts'
import { http } from '../../../src/resources/http/http.ts'
import { httpRequestCount } from '../../../src/resources/http/session.ts'
import { selfSignedCert } from '../../support/tls.ts'

/** A local transport whose openTcp hands out plain Duplex streams, like ssh2's forwardOut channels. */
class CountingTransport implements Transport {
  readonly kind = 'local' as const
  readonly execCount = 0
  readonly opened: Array<{ host: string; port: number }> = []
  async connect(): Promise<void> {}
  async exec(): Promise<never> {
    throw new Error('exec is not used by http tests')
  }
  openTcp(host: string, port: number): Promise<Duplex> {
    this.opened.push({ host, port })
    return new Promise((resolve, reject) => {
      const socket = net.connect(port, host)
      socket.once('connect', () => {
        socket.off('error', reject)
        resolve(asPlainDuplex(socket))
      })
      socket.once('error', reject)
    })
  }
  async close(): Promise<void> {}
}

/** Hides the net.Socket behind a bare Duplex, so the tests prove undici needs no more than that. */
function asPlainDuplex(socket: net.Socket): Duplex {
  const duplex = new Duplex({
    allowHalfOpen: false,
    read: () => void socket.resume(),
    write: (chunk: Buffer, _encoding, callback) => void socket.write(chunk, callback),
    final: callback => {
      socket.end()
      callback()
    },
    destroy: (err, callback) => {
      socket.destroy()
      callback(err)
    },
  })
  socket.on('data', (chunk: Buffer) => {
    if (!duplex.push(chunk)) socket.pause()
  })
  socket.on('end', () => duplex.push(null))
  socket.on('error', err => duplex.destroy(err))
  return duplex
}

function fakeHost(timeoutMs = 5_000): { ctx: HostContext; transport: CountingTransport } {
  const transport = new CountingTransport()
  const ctx: HostContext = {
    host: { name: 'web-1', address: '127.0.0.1', port: 22, transport: 'local', groups: [], vars: {} },
    transport,
    // resources under test never read facts
    facts: {} as HostContext['facts'],
    timeoutMs,
  }
  return { ctx, transport }
}

function onHost<T>(ctx: HostContext, fn: () => Promise<T>): Promise<T> {
  return runInHost(ctx, fn)
}

async function listen(server: net.Server): Promise<number> {
  await new Promise<void>(resolve => server.listen(0, '127.0.0.1', resolve))
  return (server.address() as net.AddressInfo).port
}

function close(server: net.Server): Promise<void> {
  return new Promise(resolve => {
    ;(server as nodeHttp.Server).closeAllConnections?.()
    server.close(() => resolve())
  })
}

/** Routes of the plain HTTP test server. */
function handle(req: nodeHttp.IncomingMessage, res: nodeHttp.ServerResponse): void {
  const url = new URL(req.url ?? '/', 'http://x')
  if (url.pathname === '/json') {
    res.writeHead(200, { 'content-type': 'application/json', 'x-served-by': 'test' })
    res.end(JSON.stringify({ ok: true, n: 3 }))
  } else if (url.pathname === '/echo') {
    let body = ''
    req.setEncoding('utf8')
    req.on('data', (chunk: string) => (body += chunk))
    req.on('end', () => {
      res.writeHead(200, { 'content-type': 'application/json' })
      res.end(
        JSON.stringify({
          method: req.method,
          host: req.headers.host,
          body,
          ...(url.searchParams.has('ua') ? { ua: req.headers['user-agent'] } : {}),
        }),
      )
    })
  } else if (url.pathname === '/big') {
    res.writeHead(200, { 'content-type': 'text/plain' })
    const chunk = Buffer.alloc(64 * 1024, 'x')
    for (let i = 0; i < 80; i++) res.write(chunk)
    res.end()
  } else if (url.pathname === '/redirect') {
    res.writeHead(302, { location: '/json' })
    res.end('moved')
  } else {
    res.writeHead(404, { 'content-type': 'text/plain' })
    res.end('Not Found\n')
  }
}

let server: nodeHttp.Server
let base: string
let silent: net.Server
let silentUrl: string
let silentOpen = 0
let refusedUrl: string
let tlsServer: nodeHttps.Server
let tlsUrl: string
let certDir: string

beforeAll(async () => {
  server = nodeHttp.createServer(handle)
  base = `http://127.0.0.1:${await listen(server)}`
  // reads requests and never answers; reading lets it see the client hang up
  silent = net.createServer(socket => {
    silentOpen++
    socket.resume()
    socket.on('close', () => silentOpen--)
  })
  silentUrl = `http://127.0.0.1:${await listen(silent)}/`
  const probe = net.createServer()
  const freePort = await listen(probe)
  await close(probe)
  refusedUrl = `http://127.0.0.1:${freePort}/`
  certDir = mkdtempSync(join(tmpdir(), 'pdv-http-'))
  selfSignedCert({
    key: join(certDir, 'key.pem'),
    cert: join(certDir, 'cert.pem'),
    subject: '/CN=localhost',
    days: 1,
    san: 'DNS:localhost,IP:127.0.0.1',
    keyType: 'rsa',
  })
  tlsServer = nodeHttps.createServer({ key: readFileSync(join(certDir, 'key.pem')), cert: readFileSync(join(certDir, 'cert.pem')) }, handle)
  tlsUrl = `https://127.0.0.1:${await listen(tlsServer)}`
})

afterAll(async () => {
  await Promise.all([close(server), close(silent), close(tlsServer)])
  rmSync(certDir, { recursive: true, force: true })
})

describe('http()', () => {
  it('returns status, headers, body, json and elapsed time, from the runner without a tunnel', async () => {
    const { ctx, transport } = fakeHost()
    const res = await onHost(ctx, () => http(`${base}/json`))
    expect(res.status).toBe(200)
    expect(res.url).toBe(`${base}/json`)
    expect(res.headers['content-type']).toBe('application/json')
    expect(res.headers['x-served-by']).toBe('test')
    expect(res.body).toBe('{"ok":true,"n":3}')
    expect(res.json<{ n: number }>().n).toBe(3)
    expect(res.truncated).toBe(false)
    expect(res.elapsedMs).toBeGreaterThanOrEqual(0)
    expect(res.elapsedMs).toBeLessThan(5_000)
    expect(transport.opened).toEqual([])
    await endHostSessions(ctx)
  })

  it("goes through the host's openTcp with via: 'host'", async () => {
    const { ctx, transport } = fakeHost()
    const res = await onHost(ctx, () => http(`${base}/json`, { via: 'host' }))
    expect(res.json()).toEqual({ ok: true, n: 3 })
    expect(transport.opened).toEqual([{ host: '127.0.0.1', port: Number(new URL(base).port) }])
    await endHostSessions(ctx)
  })

  it('reuses one tunnel for sequential keep-alive requests and counts each request', async () => {
    const { ctx, transport } = fakeHost()
    await onHost(ctx, async () => {
      await http(`${base}/json`, { via: 'host' })
      await http(`${base}/nothing-here`, { via: 'host' })
    })
    expect(transport.opened).toHaveLength(1)
    expect(httpRequestCount(ctx)).toBe(2)
    expect(httpRequestCount(ctx, { origin: `${base}/server-status`, via: 'host' })).toBe(2)
    expect(httpRequestCount(ctx, { via: 'runner' })).toBe(0)
    await endHostSessions(ctx)
    // the pool is gone: the next request opens a new tunnel
    await onHost(ctx, () => http(`${base}/json`, { via: 'host' }))
    expect(transport.opened).toHaveLength(2)
    await endHostSessions(ctx)
  })

  it.each(['runner', 'host'] as const)('sends a custom Host header and a POST body (via %s)', async via => {
    const { ctx } = fakeHost()
    const res = await onHost(ctx, () =>
      http(`${base}/echo`, { via, method: 'POST', headers: { Host: 'blog.example.com', 'content-type': 'text/plain' }, body: 'hello' }),
    )
    expect(res.json()).toEqual({ method: 'POST', host: 'blog.example.com', body: 'hello' })
    await endHostSessions(ctx)
  })

  it.each(['runner', 'host'] as const)('says it is verify in its User-Agent, unless the check sets one (via %s)', async via => {
    const { ctx } = fakeHost()
    const [own, theirs] = await onHost(ctx, () =>
      Promise.all([http(`${base}/echo?ua`, { via }), http(`${base}/echo?ua`, { via, headers: { 'User-Agent': 'probe/1' } })]),
    )
    expect(own.json<{ ua: string }>().ua).toMatch(/^postdeploy-verify\/\d+\.\d+\.\d+/)
    expect(theirs.json<{ ua: string }>().ua).toBe('probe/1')
    await endHostSessions(ctx)
  })

  it('returns a non-2xx status as a value', async () => {
    const { ctx } = fakeHost()
    const res = await onHost(ctx, () => http(`${base}/missing`, { via: 'host' }))
    expect(res.status).toBe(404)
    expect(res.body).toBe('Not Found\n')
    expect(() => res.json()).toThrow(HttpError)
    expect(() => res.json()).toThrow(`GET ${base}/missing: response body is not JSON (HTTP 404): "Not Found"`)
    await endHostSessions(ctx)
  })

  it('follows redirects only when asked', async () => {
    const { ctx } = fakeHost()
    const [plain, followed] = await onHost(ctx, async () => [
      await http(`${base}/redirect`, { via: 'host' }),
      await http(`${base}/redirect`, { via: 'host', followRedirects: true }),
    ])
    expect(plain.status).toBe(302)
    expect(plain.headers['location']).toBe('/json')
    expect(followed.status).toBe(200)
    expect(followed.url).toBe(`${base}/json`)
    expect(httpRequestCount(ctx)).toBe(3)
    await endHostSessions(ctx)
  })

  it('truncates a body over maxBodyBytes', async () => {
    const { ctx } = fakeHost()
    const [defaultCap, capped] = await onHost(ctx, async () => [
      await http(`${base}/big`, { via: 'host' }),
      await http(`${base}/big`, { via: 'host', maxBodyBytes: 1000 }),
    ])
    expect(defaultCap.body).toHaveLength(1024 * 1024)
    expect(defaultCap.truncated).toBe(true)
    expect(capped.body).toBe('x'.repeat(1000))
    expect(capped.truncated).toBe(true)
    await endHostSessions(ctx)
  })

  it.each(['runner', 'host'] as const)('times out against a server that never answers (via %s)', async via => {
    const { ctx } = fakeHost(300)
    const started = Date.now()
    const failure = onHost(ctx, () => http(silentUrl, { via }))
    await expect(failure).rejects.toThrow(TimeoutError)
    const where = via === 'host' ? 'via host web-1' : 'via runner'
    await expect(failure).rejects.toThrow(`GET ${silentUrl} timed out after 0.3s ${where}`)
    expect(Date.now() - started).toBeLessThan(2_000)
    // the abandoned request's connection is closed, not left for the pool
    await expect.poll(() => silentOpen).toBe(0)
    await endHostSessions(ctx)
  })

  it('lets timeoutMs override the host timeout', async () => {
    const { ctx } = fakeHost(30_000)
    await expect(onHost(ctx, () => http(silentUrl, { timeoutMs: 200 }))).rejects.toThrow('timed out after 0.2s via runner')
    await endHostSessions(ctx)
  })

  it.each(['runner', 'host'] as const)('reports a refused connection as HttpError (via %s)', async via => {
    const { ctx } = fakeHost()
    const failure = onHost(ctx, () => http(refusedUrl, { via }))
    await expect(failure).rejects.toThrow(HttpError)
    const where = via === 'host' ? 'via host web-1' : 'via runner'
    await expect(failure).rejects.toThrow(new RegExp(`^GET ${refusedUrl} failed ${where}: .*ECONNREFUSED`))
    expect(httpRequestCount(ctx)).toBe(0)
    await endHostSessions(ctx)
  })

  it.each(['runner', 'host'] as const)('speaks https to a self-signed server only with tlsVerify: false (via %s)', async via => {
    const { ctx } = fakeHost()
    const res = await onHost(ctx, () => http(`${tlsUrl}/json`, { via, tlsVerify: false }))
    expect(res.json()).toEqual({ ok: true, n: 3 })
    const failure = onHost(ctx, () => http(`${tlsUrl}/json`, { via }))
    await expect(failure).rejects.toThrow(HttpError)
    await expect(failure).rejects.toThrow(/self[- ]signed certificate/)
    await endHostSessions(ctx)
  })

  it('notes the request as a fact of the check', async () => {
    const { ctx } = fakeHost()
    const scope: CheckScope = { factsRead: new Set() }
    await onHost(ctx, () => runInCheck(scope, () => http(`${base}/json`, { via: 'host' })))
    expect([...scope.factsRead]).toEqual([`http:GET ${base}/json via host`])
    await endHostSessions(ctx)
  })

  it('rejects URLs it cannot request and use outside a check', async () => {
    const { ctx } = fakeHost()
    await expect(onHost(ctx, () => http('ftp://127.0.0.1/'))).rejects.toThrow(HttpError)
    await expect(onHost(ctx, () => http('not a url'))).rejects.toThrow('GET not a url: not a valid URL')
    await expect(http(`${base}/json`)).rejects.toThrow(/inside an it\(\) block/)
  })
})
