// The gate's HTTP side over a real server and undici as the client: status codes per verdict,
// bad input (unknown group, huge body, bad token), one run shared by concurrent requests, the cache.
import { afterEach, describe, expect, it } from 'vitest'
import { request } from 'undici'
import { summarize, type RunResult } from '../../src/model.ts'
import { startGateServer, type GateSelection, type GateServer } from '../../src/serve/server.ts'
import { authorize, isLoopback, tokenId } from '../../src/serve/auth.ts'

const INVENTORY = new Set(['canary', 'web', 'web-1'])
const result = (exitCode: 0 | 1 | 2 | 3): RunResult => ({
  schemaVersion: 1,
  tool: { name: 'verify', version: '0' },
  startedAt: '',
  finishedAt: '',
  durationMs: 1,
  configErrors: [],
  hosts: [],
  summary: { ...summarize([]), failed: exitCode === 1 ? 1 : 0 },
  exitCode,
})

let server: GateServer | undefined
afterEach(async () => {
  await server?.close()
  server = undefined
})

async function start(options: { token?: string; cacheMs?: number; exitCode?: 0 | 1 | 2 | 3; delayMs?: number; maxQueued?: number } = {}) {
  const calls: GateSelection[] = []
  const logs: Array<Record<string, unknown>> = []
  server = await startGateServer({
    bind: '127.0.0.1',
    port: 0,
    token: options.token,
    maxRuns: 2,
    cacheMs: options.cacheMs ?? 0,
    maxBodyBytes: 1024,
    maxQueued: options.maxQueued,
    unknownNames: async names => names.filter(n => !INVENTORY.has(n)),
    runGate: async selection => {
      calls.push(selection)
      await new Promise(r => setTimeout(r, options.delayMs ?? 0))
      return result(options.exitCode ?? 0)
    },
    log: line => logs.push(JSON.parse(line) as Record<string, unknown>),
  })
  return { url: server.url, calls, logs }
}

const get = async (url: string, headers: Record<string, string> = {}) => {
  const res = await request(url, { headers })
  return { status: res.statusCode, body: (await res.body.json()) as Record<string, any> }
}

describe('verify serve: HTTP', () => {
  it('200 pass, 503 fail, 500 not verified, with verdict and summary at the top for jsonPath', async () => {
    for (const [exitCode, status, verdict] of [
      [0, 200, 'pass'],
      [1, 503, 'fail'],
      [2, 500, 'error'],
      [3, 500, 'error'],
    ] as const) {
      const { url } = await start({ exitCode })
      const res = await get(`${url}/v1/gate/canary`)
      expect(res.status).toBe(status)
      expect(res.body).toMatchObject({ verdict, exitCode, selection: { names: ['canary'] }, summary: { failed: exitCode === 1 ? 1 : 0 } })
      await server!.close()
      server = undefined
    }
  })

  it('?http=200 answers 200 whatever the verdict, for controllers that judge the body (Argo Web metric)', async () => {
    const { url } = await start({ exitCode: 1 })
    expect(await get(`${url}/v1/gate/canary?http=200`)).toMatchObject({ status: 200, body: { verdict: 'fail', exitCode: 1 } })
    expect((await get(`${url}/v1/gate/nope?http=200`)).status).toBe(404)
  })

  it('POST a selection of named groups and a limit; anything else is refused', async () => {
    const { url, calls } = await start()
    const ok = await request(`${url}/v1/gate`, {
      method: 'POST',
      body: JSON.stringify({ groups: ['web', 'canary'], limit: 'web-*,!web-2' }),
    })
    expect(ok.statusCode).toBe(200)
    await ok.body.dump()
    expect(calls).toEqual([{ names: ['web', 'canary'], limit: 'web-*,!web-2' }])
    const bad = async (body: string) => {
      const res = await request(`${url}/v1/gate`, { method: 'POST', body })
      return { status: res.statusCode, error: ((await res.body.json()) as { error: string }).error }
    }
    expect(await bad('not json')).toMatchObject({ status: 400 })
    expect(await bad(JSON.stringify({ groups: ['web'], hosts: 'evil' }))).toEqual({
      status: 400,
      error: 'unknown field(s): hosts (only groups and limit)',
    })
    expect(await bad(JSON.stringify({ groups: ['web'], limit: '$(reboot)' }))).toMatchObject({ status: 400 })
    expect(await bad(JSON.stringify({ groups: ['10.0.0.5'] }))).toEqual({
      status: 404,
      error: 'not a group or host of the inventory: 10.0.0.5',
    })
    expect(calls).toHaveLength(1)
  })

  it('unknown group, ad-hoc address, local: 404 and no run', async () => {
    const { url, calls } = await start()
    for (const name of ['nope', 'local', 'root@10.0.0.5:22', '..%2F..%2Fetc']) {
      const res = await get(`${url}/v1/gate/${name}`)
      expect(res.status, name).toBe(404)
      expect(res.body.verdict).toBe('error')
    }
    expect((await get(`${url}/v1/other`)).status).toBe(404)
    expect(calls).toEqual([])
  })

  it('a huge body is refused with 413 before it is read', async () => {
    const { url, calls, logs } = await start()
    const res = await request(`${url}/v1/gate`, { method: 'POST', body: JSON.stringify({ groups: ['web'], limit: 'x'.repeat(4096) }) })
    expect(res.statusCode).toBe(413)
    expect(((await res.body.json()) as { error: string }).error).toBe('request body over 1024 bytes')
    expect(calls).toEqual([])
    expect(logs.at(-1)).toMatchObject({ status: 413 })
  })

  it('with a token: none or a wrong one is 401 (logged by id, never by value); the right one passes', async () => {
    const { url, logs } = await start({ token: 's3cret-token' })
    expect((await get(`${url}/v1/gate/web`)).status).toBe(401)
    expect((await get(`${url}/v1/gate/web`, { authorization: 'Bearer wrong' })).status).toBe(401)
    const ok = await get(`${url}/v1/gate/web`, { authorization: 'Bearer s3cret-token' })
    expect(ok.status).toBe(200)
    expect(logs.map(l => [l.status, l.auth ?? l.token])).toEqual([
      [401, 'missing bearer token'],
      [401, `bad token ${tokenId('wrong')}`],
      [200, tokenId('s3cret-token')],
    ])
    expect(JSON.stringify(logs)).not.toContain('s3cret-token')
    expect(logs[2]).toMatchObject({
      remote: '127.0.0.1',
      method: 'GET',
      path: '/v1/gate/web',
      selection: { names: ['web'] },
      verdict: 'pass',
    })
  })

  it('concurrent requests for one group share one run; another group runs on its own; the cache answers within its time', async () => {
    const { url, calls } = await start({ delayMs: 300, cacheMs: 60_000 })
    const answers = await Promise.all([...Array(5)].map(() => get(`${url}/v1/gate/web`)).concat(get(`${url}/v1/gate/canary`)))
    expect(answers.map(a => a.status)).toEqual([200, 200, 200, 200, 200, 200])
    expect(calls.map(c => c.names[0]).sort()).toEqual(['canary', 'web'])
    expect(answers.filter(a => a.body.shared === false)).toHaveLength(2)
    expect((await get(`${url}/v1/gate/web`)).body.shared).toBe(true)
    expect(calls).toHaveLength(2)
  })
})

describe('verify serve: load', () => {
  it('runs beyond --max-runs queue; past the queue, a new selection gets 429 with Retry-After', async () => {
    const { url, calls } = await start({ delayMs: 500, maxQueued: 1 })
    // four selections at once: two run, one waits, the fourth is refused
    const answers = await Promise.all(
      ['a', 'b', 'c', 'd'].map(async (limit, i) => {
        await new Promise(r => setTimeout(r, i * 50))
        const res = await request(`${url}/v1/gate`, { method: 'POST', body: JSON.stringify({ groups: ['web'], limit }) })
        return { status: res.statusCode, retryAfter: res.headers['retry-after'], body: (await res.body.json()) as Record<string, string> }
      }),
    )
    expect(answers.map(a => a.status)).toEqual([200, 200, 200, 429])
    expect(answers[3]).toMatchObject({
      retryAfter: '5',
      body: { verdict: 'error', error: 'too many runs queued (2 runs going and 1 waiting): retry later' },
    })
    expect(calls.map(c => c.limit)).toEqual(['a', 'b', 'c'])
  })
})

describe('verify serve: auth helpers', () => {
  it('loopback needs no token; the comparison takes any length', () => {
    expect(['127.0.0.1', '127.1.2.3', '::1', 'localhost'].every(isLoopback)).toBe(true)
    expect(['0.0.0.0', '10.0.0.5', '::'].some(isLoopback)).toBe(false)
    expect(authorize(undefined, undefined)).toEqual({ ok: true })
    expect(authorize('Bearer ' + 'x'.repeat(5000), 'short')).toMatchObject({ ok: false })
  })
})
