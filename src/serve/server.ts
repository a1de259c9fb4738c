// `verify serve`'s HTTP side: routes, auth, body limits, status codes and the request log.
// GET /v1/gate/<group-or-host> and POST /v1/gate {"groups": [...], "limit": "..."} run the specs
// on that selection (through `runGate`) and answer 200 pass / 503 fail / 500 not verified, with
// the (redacted) JSON result and a top-level `verdict` for Argo's jsonPath.
import http from 'node:http'
import type { AddressInfo } from 'node:net'
import type { RunResult } from '../model.ts'
import { authorize } from './auth.ts'
import { GateBusyError, GateRuns } from './runs.ts'

export interface GateSelection {
  /** Inventory groups or host names, as `--hosts` takes them. */
  names: string[]
  /** `--limit` within them. */
  limit?: string
}

export interface GateServerOptions {
  bind: string
  port: number
  /** Expected bearer token; undefined: none asked (loopback only, checked by the caller). */
  token?: string
  maxRuns: number
  cacheMs: number
  maxBodyBytes?: number
  /** Runs waiting for a slot before requests for new selections get 429 (default 16). */
  maxQueued?: number
  /** Names the inventory does not have (ad-hoc addresses, `local`, typos): refused with 404. */
  unknownNames(names: string[]): Promise<string[]>
  runGate(selection: GateSelection): Promise<RunResult>
  log(line: string): void
}

export interface GateServer {
  url: string
  runs: GateRuns<RunResult>
  close(): Promise<void>
}

export type Verdict = 'pass' | 'fail' | 'error'

const DEFAULT_MAX_BODY = 16 * 1024
// group and host names as hosts.yaml allows them; a limit pattern may add globs, `!` and commas
const NAME = /^[A-Za-z0-9_.-]{1,128}$/
const LIMIT = /^[A-Za-z0-9_.,!*?[\]-]{1,512}$/

/** Exit 0 passes; 1 (a check failed) fails; 2 and 3 (not verified, config) are errors. */
export function verdictOf(run: RunResult): { verdict: Verdict; status: number } {
  if (run.exitCode === 0) return { verdict: 'pass', status: 200 }
  if (run.exitCode === 1) return { verdict: 'fail', status: 503 }
  return { verdict: 'error', status: 500 }
}

class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message)
  }
}

export async function startGateServer(options: GateServerOptions): Promise<GateServer> {
  const runs = new GateRuns<RunResult>(options.maxRuns, options.cacheMs, Date.now, options.maxQueued)
  const server = http.createServer((req, res) => void handle(req, res))

  async function handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const started = performance.now()
    const entry: Record<string, unknown> = {
      time: new Date().toISOString(),
      remote: req.socket.remoteAddress,
      method: req.method,
      path: (req.url ?? '').slice(0, 200),
    }
    let status = 500
    try {
      const url = new URL(req.url ?? '/', 'http://gate')
      if (url.pathname === '/healthz') return void (status = send(res, 200, { ok: true }))
      const auth = authorize(req.headers.authorization, options.token)
      if (!auth.ok) {
        entry.auth = auth.reason
        res.setHeader('WWW-Authenticate', 'Bearer')
        throw new HttpError(401, 'a valid bearer token is required (Authorization: Bearer …)')
      }
      if (auth.who) entry.token = auth.who
      const selection = await selectionOf(req, url, options.maxBodyBytes ?? DEFAULT_MAX_BODY)
      entry.selection = selection
      const unknown = await options.unknownNames(selection.names)
      if (unknown.length > 0) throw new HttpError(404, `not a group or host of the inventory: ${unknown.join(', ')}`)
      const key = JSON.stringify([[...selection.names].sort(), selection.limit ?? ''])
      const outcome = await runs.get(key, () => options.runGate(selection))
      const { verdict, status: code } = verdictOf(outcome.value)
      Object.assign(entry, { verdict, exitCode: outcome.value.exitCode, shared: outcome.shared })
      // `?http=200`: Argo's Web metric makes any non-2xx an Error measurement without reading the
      // body; with 200 always, its successCondition/inconclusiveCondition judge `verdict` instead
      const always200 = url.searchParams.get('http') === '200'
      status = send(res, always200 ? 200 : code, { verdict, selection, shared: outcome.shared, ...outcome.value })
    } catch (error) {
      const known = error instanceof HttpError
      const busy = error instanceof GateBusyError
      status = known ? error.status : busy ? 429 : 500
      entry.error = known
        ? error.message
        : busy
          ? `too many runs queued (${error.message}): retry later`
          : `internal error: ${(error as Error).message}`
      if (busy) res.setHeader('Retry-After', '5')
      // a body the client is still sending is not read: close once the answer is out
      if (status === 413) res.setHeader('Connection', 'close')
      send(res, status, { verdict: 'error', error: entry.error })
    } finally {
      entry.status = status
      entry.durationMs = Math.round(performance.now() - started)
      options.log(JSON.stringify(entry))
    }
  }

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(options.port, options.bind, () => resolve())
  })
  const address = server.address() as AddressInfo
  const host = address.family === 'IPv6' ? `[${address.address}]` : address.address
  return {
    url: `http://${host}:${address.port}`,
    runs,
    close: () =>
      new Promise<void>(resolve => {
        server.close(() => resolve())
        server.closeAllConnections()
      }),
  }
}

function send(res: http.ServerResponse, status: number, body: unknown): number {
  if (res.headersSent) return status
  const text = `${JSON.stringify(body)}\n`
  res.writeHead(status, {
    'Content-Type': 'application/json; charset=utf-8',
    'Content-Length': Buffer.byteLength(text),
    'Cache-Control': 'no-store',
  })
  res.end(text)
  return status
}

async function selectionOf(req: http.IncomingMessage, url: URL, maxBody: number): Promise<GateSelection> {
  const gate = /^\/v1\/gate(?:\/([^/]+))?$/.exec(url.pathname)
  if (!gate) throw new HttpError(404, 'no such endpoint: GET /v1/gate/<group>, POST /v1/gate')
  if (req.method === 'GET' && gate[1] !== undefined) return { names: [checkName(decodeURIComponent(gate[1]))] }
  if (req.method === 'POST' && gate[1] === undefined) return parseBody(await readBody(req, maxBody))
  throw new HttpError(405, 'use GET /v1/gate/<group> or POST /v1/gate with {"groups": [...], "limit": "..."}')
}

function checkName(name: string): string {
  if (!NAME.test(name)) throw new HttpError(404, `not a group or host of the inventory: ${JSON.stringify(name.slice(0, 128))}`)
  return name
}

async function readBody(req: http.IncomingMessage, maxBody: number): Promise<string> {
  if (Number(req.headers['content-length'] ?? 0) > maxBody) throw new HttpError(413, `request body over ${maxBody} bytes`)
  const chunks: Buffer[] = []
  let size = 0
  for await (const chunk of req) {
    size += (chunk as Buffer).length
    if (size > maxBody) throw new HttpError(413, `request body over ${maxBody} bytes`)
    chunks.push(chunk as Buffer)
  }
  return Buffer.concat(chunks).toString('utf8')
}

function parseBody(text: string): GateSelection {
  let body: unknown
  try {
    body = JSON.parse(text)
  } catch {
    throw new HttpError(400, 'the body must be JSON: {"groups": ["canary"], "limit": "web-1"}')
  }
  const { groups, limit, ...rest } = (body ?? {}) as Record<string, unknown>
  if (typeof body !== 'object' || Array.isArray(body)) throw new HttpError(400, 'the body must be a JSON object')
  if (Object.keys(rest).length > 0) throw new HttpError(400, `unknown field(s): ${Object.keys(rest).join(', ')} (only groups and limit)`)
  if (!Array.isArray(groups) || groups.length === 0 || groups.length > 64 || !groups.every(g => typeof g === 'string')) {
    throw new HttpError(400, '"groups" must be a list of 1 to 64 group or host names')
  }
  if (limit !== undefined && (typeof limit !== 'string' || !LIMIT.test(limit)))
    throw new HttpError(400, '"limit" must be a --limit pattern (names, globs, !exclusions, comma-separated)')
  return { names: (groups as string[]).map(checkName), ...(limit === undefined ? {} : { limit }) }
}
