// One request on the wire and its redirects: sent through the host run's agent, counted when its
// headers arrive, the body read up to a cap; a 3xx followed only when asked.
import type { Dispatcher } from 'undici'
import { HttpError } from '../../errors.ts'
import type { HostContext } from '../../dsl/context.ts'
import { agentFor } from './agents.ts'
import { countRequest } from './session.ts'
import type { Via } from './types.ts'
import { undici } from './undici.ts'

const MAX_REDIRECTS = 10
const REDIRECT_STATUSES = new Set([301, 302, 303, 307, 308])

export interface ResolvedOptions {
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
export interface Hop {
  url: URL
  method: string
  headers: Record<string, string>
  body: string | undefined
}

export interface HopResult {
  /** Responses to the same origin and vantage point counted before this one's headers came: fixed then, not when the body is read. */
  earlier?: number
  url: string
  status: number
  headers: Record<string, string | string[]>
  body: string
  truncated: boolean
}

export function firstHop(url: string, opts: ResolvedOptions): Hop {
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

export async function sendWithRedirects(ctx: HostContext, hop: Hop, opts: ResolvedOptions, signal: AbortSignal): Promise<HopResult> {
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
  await new Promise(resolve => setImmediate(resolve))
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
async function readCapped(
  body: AsyncIterable<Buffer> & { destroy(): unknown },
  max: number,
): Promise<{ text: string; truncated: boolean }> {
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
