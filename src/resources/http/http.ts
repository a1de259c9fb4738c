// HTTP requests from a check, either from the runner or tunnelled through the host's own
// connection (so `http://127.0.0.1:port` means the host's loopback). A non-2xx status is a
// value to assert on; only a request that got no answer is an error.
import { isIP, type Socket } from 'node:net'
import * as tls from 'node:tls'
import type { Duplex } from 'node:stream'
import { createRequire } from 'node:module'
import type { Agent, Dispatcher, buildConnector } from 'undici'
import { currentHost, DryRunStop, existingHostSession, hostSession, noteFact, type HostContext, type HostSession } from '../../dsl/context.ts'
import { HttpError, TimeoutError, VerifyError } from '../../errors.ts'
import { ledgerKey, recordRequestTimes } from './request-ledger.ts'
import { TOOL } from '../../version.ts'

export type Via = 'runner' | 'host'

// undici is loaded on the first request (about 100 ms of start-up that most runs never need);
// it is CommonJS, so require() loads it synchronously.
type Undici = typeof import('undici')
let undiciModule: Undici | undefined
function undici(): Undici {
  return (undiciModule ??= createRequire(import.meta.url)('undici') as Undici)
}

export interface HttpOptions {
  /** Default GET. */
  method?: string
  /** Request headers, e.g. `{ Host: 'blog.example.com' }` to reach a name-based virtual host. */
  headers?: Record<string, string>
  body?: string
  /** Limit for the whole request (connect, headers and body); default: the run's `--timeout`. */
  timeoutMs?: number
  /** Verify the server's certificate (https only). Default true. */
  tlsVerify?: boolean
  /** Where the request starts: the machine running verify, or the host under test. Default 'runner'. */
  via?: Via
  /** Body bytes kept; the rest is dropped and `truncated` is set. Default 1 MiB. */
  maxBodyBytes?: number
  /** Follow 3xx responses with a Location (at most 10). Default false: the redirect is the value. */
  followRedirects?: boolean
}

export interface HttpResponse {
  /** The URL that answered: the requested one, or the last redirect target when following redirects. */
  url: string
  status: number
  headers: Record<string, string | string[]>
  body: string
  truncated: boolean
  elapsedMs: number
  /** The body parsed as JSON; throws an HttpError naming the url when it is not JSON. */
  json<T = unknown>(): T
}

export interface HttpRequestCountFilter {
  /** An origin or any URL on it (`http://127.0.0.1:8080/server-status`). */
  origin?: string
  via?: Via
}

const DEFAULT_MAX_BODY_BYTES = 1024 * 1024
const MAX_REDIRECTS = 10
const REDIRECT_STATUSES = new Set([301, 302, 303, 307, 308])
/** Concurrent tunnels per origin: each one holds one of the SSH connection's few channel slots. */
const HOST_CONNECTIONS_PER_ORIGIN = 4
/** An idle tunnel still holds its channel slot, so give it back sooner than undici's 4s default. */
const HOST_KEEP_ALIVE_MS = 2_000

/** Agents and request counts of one host's run: a host session the runner ends with the host. */
interface HttpState extends HostSession {
  agents: Map<string, Dispatcher>
  /**
   * Requests that got a response, keyed by `${via} ${origin}`, in the order they were answered:
   * when each was sent and answered (runner clock, ms). Counts, answer times (only those after an
   * app's restart count) and requests in flight during a window all derive from it.
   */
  answered: Map<string, AnsweredRequest[]>
  /** Summed duration of every request, answered or not (timings). */
  ms?: number
}

interface AnsweredRequest {
  sentAt: number
  answeredAt: number
}

interface ResolvedOptions {
  method: string
  headers: Record<string, string>
  body: string | undefined
  timeoutMs: number
  tlsVerify: boolean
  via: Via
  maxBodyBytes: number
  followRedirects: boolean
}

/** One request on the wire (a redirect makes another). */
interface Hop {
  url: URL
  method: string
  headers: Record<string, string>
  body: string | undefined
}

interface HopResult {
  /** Responses to the same origin and vantage point counted before this one's headers came: fixed then, not when the body is read. */
  earlier?: number
  url: string
  status: number
  headers: Record<string, string | string[]>
  body: string
  truncated: boolean
}

const HTTP_SESSION = 'http'

export async function http(url: string, options: HttpOptions = {}): Promise<HttpResponse> {
  const ctx = currentHost()
  const opts = resolveOptions(ctx, options)
  noteFact(`http:${opts.method} ${url} via ${opts.via}`)
  // errors name the request; a secret in its URL (a token in the query) is replaced before it is worded
  const describe = `${opts.method} ${ctx.secrets ? ctx.secrets.text(url) : url}`
  if (ctx.dryRun) {
    ctx.dryRun.http.push({ method: opts.method, url, via: opts.via, headers: opts.headers as Record<string, string>, ...(opts.body !== undefined ? { body: true } : {}) })
    throw new DryRunStop(describe)
  }
  const started = performance.now()
  const deadline = new AbortController()
  const timer = setTimeout(() => deadline.abort(), opts.timeoutMs)
  try {
    const result = await sendWithRedirects(ctx, firstHop(url, opts), opts, deadline.signal)
    return toResponse(describe, result, performance.now() - started)
  } catch (err) {
    throw toRequestError(err, describe, vantage(ctx, opts.via), opts.timeoutMs, deadline.signal)
  } finally {
    clearTimeout(timer)
    stateFor(ctx).ms = (stateFor(ctx).ms ?? 0) + (performance.now() - started)
  }
}

/** Requests verify made on this host's run that got a response, optionally for one origin / vantage point. */
export function httpRequestCount(ctx: HostContext, filter: HttpRequestCountFilter = {}): number {
  return answeredRequests(ctx, filter).length
}

/** The answered requests of this host's run that pass the filter. */
function answeredRequests(ctx: HostContext, filter: HttpRequestCountFilter): AnsweredRequest[] {
  const answered = existingHostSession<HttpState>(ctx, HTTP_SESSION)?.answered
  if (!answered) return []
  const origin = filter.origin === undefined ? undefined : originOf(filter.origin)
  const out: AnsweredRequest[] = []
  for (const [key, list] of answered) {
    const [via, keyOrigin] = key.split(' ')
    if ((filter.via === undefined || filter.via === via) && (origin === undefined || origin === keyOrigin)) out.push(...list)
  }
  return out
}


/** verify's requests say what they are, so access logs (and whoever reads a status page) can tell them from traffic. */
const USER_AGENT = `${TOOL.name}/${TOOL.version}`

function withUserAgent(headers: Record<string, string> = {}): Record<string, string> {
  return Object.keys(headers).some((k) => k.toLowerCase() === 'user-agent') ? { ...headers } : { 'user-agent': USER_AGENT, ...headers }
}

function resolveOptions(ctx: HostContext, options: HttpOptions): ResolvedOptions {
  return {
    method: (options.method ?? 'GET').toUpperCase(),
    headers: withUserAgent(options.headers),
    body: options.body,
    timeoutMs: options.timeoutMs ?? ctx.timeoutMs,
    tlsVerify: options.tlsVerify ?? true,
    via: options.via ?? 'runner',
    maxBodyBytes: options.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES,
    followRedirects: options.followRedirects ?? false,
  }
}

function firstHop(url: string, opts: ResolvedOptions): Hop {
  let parsed: URL
  try {
    parsed = new URL(url)
  } catch (err) {
    throw new HttpError(`${opts.method} ${url}: not a valid URL`, { cause: err })
  }
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') {
    throw new HttpError(`${opts.method} ${url}: only http: and https: URLs are supported`)
  }
  return { url: parsed, method: opts.method, headers: opts.headers, body: opts.body }
}

async function sendWithRedirects(ctx: HostContext, hop: Hop, opts: ResolvedOptions, signal: AbortSignal): Promise<HopResult> {
  for (let redirects = 0; ; redirects++) {
    const result = await sendOnce(ctx, hop, opts, signal)
    const next = opts.followRedirects ? redirectHop(hop, result) : undefined
    if (!next) return result
    if (redirects === MAX_REDIRECTS) throw new Error(`more than ${MAX_REDIRECTS} redirects (last: ${next.url.href})`)
    hop = next
  }
}

async function sendOnce(ctx: HostContext, hop: Hop, opts: ResolvedOptions, signal: AbortSignal): Promise<HopResult> {
  const sentAt = Date.now()
  const res = await undici().request(hop.url, {
    dispatcher: agentFor(ctx, opts.via, opts.tlsVerify),
    method: hop.method as Dispatcher.HttpMethod,
    headers: hop.headers,
    body: hop.body,
    signal,
  })
  const earlier = countRequest(ctx, opts.via, hop.url.origin, sentAt) - 1
  const { text, truncated } = await readCapped(res.body, opts.maxBodyBytes)
  // undici frees the connection a turn after the body ends; a request sent sooner opens another tunnel
  await new Promise((resolve) => setImmediate(resolve))
  return { url: hop.url.href, status: res.statusCode, headers: cleanHeaders(res.headers), body: text, truncated, earlier }
}

/** The next request of a redirect chain, or undefined when the response is not a redirect. */
function redirectHop(hop: Hop, result: HopResult): Hop | undefined {
  const location = result.headers['location']
  if (!REDIRECT_STATUSES.has(result.status) || typeof location !== 'string') return undefined
  const url = new URL(location, hop.url)
  // a custom Host header names the first origin's virtual host, not another origin's
  const headers = url.origin === hop.url.origin ? hop.headers : withoutHeader(hop.headers, 'host')
  const keepsMethod = result.status === 307 || result.status === 308 || hop.method === 'GET' || hop.method === 'HEAD'
  if (keepsMethod) return { url, method: hop.method, headers, body: hop.body }
  return { url, method: 'GET', headers: withoutHeader(withoutHeader(headers, 'content-type'), 'content-length'), body: undefined }
}

function withoutHeader(headers: Record<string, string>, name: string): Record<string, string> {
  return Object.fromEntries(Object.entries(headers).filter(([key]) => key.toLowerCase() !== name))
}

/** Reads at most `max` bytes, then drops the connection so a huge body never sits in memory. */
async function readCapped(body: AsyncIterable<Buffer> & { destroy(): unknown }, max: number): Promise<{ text: string; truncated: boolean }> {
  const chunks: Buffer[] = []
  let size = 0
  for await (const chunk of body) {
    const room = max - size
    if (chunk.length > room) {
      chunks.push(chunk.subarray(0, room))
      body.destroy()
      return { text: Buffer.concat(chunks).toString('utf8'), truncated: true }
    }
    chunks.push(chunk)
    size += chunk.length
  }
  return { text: Buffer.concat(chunks).toString('utf8'), truncated: false }
}

function cleanHeaders(headers: Record<string, string | string[] | undefined>): Record<string, string | string[]> {
  const clean: Record<string, string | string[]> = {}
  for (const [key, value] of Object.entries(headers)) if (value !== undefined) clean[key] = value
  return clean
}

/** Per response: verify's requests to its origin (same vantage point) answered before it, in this host's run. */
const earlierByResponse = new WeakMap<HttpResponse, number>()

/**
 * verify's own requests to the response's origin that were answered before it, in this host's
 * run: taken when its headers arrived, so concurrent checks' requests finishing while its body
 * is read are not counted (a status page counted them after writing this one).
 */
export function earlierRequests(response: HttpResponse): number | undefined {
  return earlierByResponse.get(response)
}

function toResponse(describe: string, { earlier, ...result }: HopResult, elapsedMs: number): HttpResponse {
  const response: HttpResponse = {
    ...result,
    elapsedMs: Math.round(elapsedMs),
    json<T = unknown>(): T {
      try {
        return JSON.parse(result.body) as T
      } catch (err) {
        const cut = result.truncated ? ', body truncated' : ''
        throw new HttpError(`${describe}: response body is not JSON (HTTP ${result.status}${cut}): ${JSON.stringify(firstLine(result.body))}`, { cause: err })
      }
    },
  }
  if (earlier !== undefined) earlierByResponse.set(response, earlier)
  return response
}

function toRequestError(err: unknown, describe: string, where: string, timeoutMs: number, signal: AbortSignal): Error {
  if (err instanceof VerifyError) return err
  if (signal.aborted || isUndiciTimeout(err)) {
    return new TimeoutError(`${describe} timed out after ${formatSeconds(timeoutMs)} ${where}`, { cause: err })
  }
  return new HttpError(`${describe} failed ${where}: ${describeCause(err)}`, { cause: err })
}

function isUndiciTimeout(err: unknown): boolean {
  const code = (err as { code?: unknown } | null)?.code
  return code === 'UND_ERR_CONNECT_TIMEOUT' || code === 'UND_ERR_HEADERS_TIMEOUT' || code === 'UND_ERR_BODY_TIMEOUT'
}

/** The most specific readable cause: an AggregateError (one per address tried) has an empty message. */
function describeCause(err: unknown): string {
  if (err instanceof AggregateError && err.errors.length > 0) return describeCause(err.errors[0])
  if (err instanceof Error) {
    const code = (err as { code?: unknown }).code
    const message = err.message || err.name
    return typeof code === 'string' && !message.includes(code) ? `${message} (${code})` : message
  }
  return String(err)
}

function formatSeconds(ms: number): string {
  return `${Number((ms / 1000).toFixed(3))}s`
}

function vantage(ctx: HostContext, via: Via): string {
  return via === 'host' ? `via host ${ctx.host.name}` : 'via runner'
}

function firstLine(text: string): string {
  return text.split(/\r?\n/, 1)[0] ?? ''
}

function originOf(url: string): string {
  try {
    return new URL(url).origin
  } catch {
    return url
  }
}

function stateFor(ctx: HostContext): HttpState {
  return hostSession<HttpState>(ctx, HTTP_SESSION, () => {
    const state: HttpState = {
      agents: new Map(),
      answered: new Map(),
      // When the host's run ends: its answered requests go to the request ledger (so later runs
      // can discount them from a status page's counter), then its pooled connections (tunnels
      // included) close; destroy, not close: a timed-out check may hold a request that never ends.
      async dispose() {
        if (state.answered.size > 0) {
          recordRequestTimes([...state.answered].map(([key, list]) => {
            const [via, origin] = key.split(' ')
            return { key: ledgerKey(ctx.host.name, via!, origin!), times: list.map((r) => r.answeredAt) }
          }))
        }
        const agents = [...state.agents.values()]
        state.agents.clear()
        await Promise.all(agents.map((agent) => agent.destroy().catch(() => undefined)))
      },
      figures() {
        const requests = [...state.answered.values()].reduce((n, list) => n + list.length, 0)
        return { ...(state.ms ? { httpMs: state.ms } : {}), ...(requests > 0 ? { httpRequests: requests } : {}) }
      },
    }
    return state
  })
}

/** Counts a response; returns how many the key has now, this one included. */
function countRequest(ctx: HostContext, via: Via, origin: string, sentAt: number): number {
  const answered = stateFor(ctx).answered
  const key = `${via} ${origin}`
  let list = answered.get(key)
  if (!list) answered.set(key, (list = []))
  list.push({ sentAt, answeredAt: Date.now() })
  return list.length
}

/**
 * Requests counted by httpRequestCount that were in flight at some moment of [fromMs, toMs]
 * (runner clock): sent before its end, answered after its start. Whether a server counted such a
 * request inside the span depends on when it counts; this is the most it can have.
 */
export function httpRequestsDuring(ctx: HostContext, fromMs: number, toMs: number, filter: HttpRequestCountFilter = {}): number {
  return answeredRequests(ctx, filter).filter((r) => r.sentAt <= toMs && r.answeredAt >= fromMs).length
}

/** Runner-clock times (ms) of the responses counted by httpRequestCount, oldest first. */
export function httpRequestTimes(ctx: HostContext, filter: HttpRequestCountFilter = {}): number[] {
  return answeredRequests(ctx, filter).map((r) => r.answeredAt).sort((a, b) => a - b)
}

/** One pooled Agent per host run, vantage point and TLS mode (certificate checks are per connection). */
function agentFor(ctx: HostContext, via: Via, tlsVerify: boolean): Dispatcher {
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
      (socket) => callback(null, socket),
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
function startTls(stream: Duplex, name: string, tlsVerify: boolean): Promise<tls.TLSSocket> {
  return new Promise((resolve, reject) => {
    let settled = false
    const socket = tls.connect({
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
