// HTTP requests from a check, either from the runner or tunnelled through the host's own
// connection (so `http://127.0.0.1:port` means the host's loopback). A non-2xx status is a
// value to assert on; only a request that got no answer is an error.
// How: client.ts (the request and its redirects), agents.ts (from the runner, or tunnelled),
// session.ts (the host run's agents and request accounting).
import { currentHost, DryRunStop, noteFact, type HostContext } from '../../dsl/context.ts'
import { HttpError, TimeoutError, VerifyError } from '../../errors.ts'
import { seconds, firstLine } from '../../lib/format.ts'
import { TOOL } from '../../version.ts'
import { firstHop, sendWithRedirects, type HopResult, type ResolvedOptions } from './client.ts'
import { stateFor } from './session.ts'
import type { HttpOptions, HttpResponse, Via } from './types.ts'

export type { HttpOptions, HttpResponse, Via } from './types.ts'

const DEFAULT_MAX_BODY_BYTES = 1024 * 1024

export async function http(url: string, options: HttpOptions = {}): Promise<HttpResponse> {
  const ctx = currentHost()
  const opts = resolveOptions(ctx, options)
  noteFact(`http:${opts.method} ${url} via ${opts.via}`)
  // errors name the request; a secret in its URL (a token in the query) is replaced before it is worded
  const describe = `${opts.method} ${ctx.secrets ? ctx.secrets.text(url) : url}`
  if (ctx.dryRun) {
    ctx.dryRun.http.push({
      method: opts.method,
      url,
      via: opts.via,
      headers: opts.headers as Record<string, string>,
      ...(opts.body !== undefined ? { body: true } : {}),
    })
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

/** verify's requests say what they are, so access logs (and whoever reads a status page) can tell them from traffic. */
const USER_AGENT = `${TOOL.name}/${TOOL.version}`

function withUserAgent(headers: Record<string, string> = {}): Record<string, string> {
  return Object.keys(headers).some(k => k.toLowerCase() === 'user-agent') ? { ...headers } : { 'user-agent': USER_AGENT, ...headers }
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
        throw new HttpError(
          `${describe}: response body is not JSON (HTTP ${result.status}${cut}): ${JSON.stringify(firstLine(result.body))}`,
          { cause: err },
        )
      }
    },
  }
  if (earlier !== undefined) earlierByResponse.set(response, earlier)
  return response
}

function toRequestError(err: unknown, describe: string, where: string, timeoutMs: number, signal: AbortSignal): Error {
  if (err instanceof VerifyError) return err
  if (signal.aborted || isUndiciTimeout(err)) {
    return new TimeoutError(`${describe} timed out after ${seconds(timeoutMs, 3)} ${where}`, { cause: err })
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

function vantage(ctx: HostContext, via: Via): string {
  return via === 'host' ? `via host ${ctx.host.name}` : 'via runner'
}
