// The connect path without a network: which failures are retried, how long it waits, and
// what the final message tells a person to check.
import { describe, expect, it } from 'vitest'
import { AuthError, HostKeyError, HostUnreachableError, TimeoutError } from '../../../src/errors.ts'
import { backoffMs, RetryingTransport, type RetryPolicy } from '../../../src/transports/ssh/retry.ts'
import { explainConnectError, isTransientConnectFailure, reservedNameError } from '../../../src/transports/ssh/connect-errors.ts'
import type { Transport } from '../../../src/transports/transport.ts'

const HOST = { address: 'web-1.example', port: 22, user: 'deploy', source: 'hosts.yaml:7' }

function withCode(message: string, code: string): Error {
  return Object.assign(new Error(message), { code })
}

/** ssh2's own error when the server hangs up before its banner (what MaxStartups does). */
const lostBeforeHandshake = () =>
  new HostUnreachableError('deploy@web-1.example:22: SSH connection failed: Connection lost before handshake', {
    cause: Object.assign(new Error('Connection lost before handshake'), { level: 'protocol' }),
  })
const resetDuringBanner = () =>
  new HostUnreachableError('deploy@web-1.example:22: cannot connect: read ECONNRESET', { cause: withCode('read ECONNRESET', 'ECONNRESET') })

interface Fake extends Transport {
  timeoutMs: number
  closed: boolean
}

/** Transports whose connect() fails with the given errors in turn, then succeeds. */
function fakes(failures: Array<() => Error>) {
  const opened: Fake[] = []
  const open = (timeoutMs: number): Fake => {
    const failure = failures[opened.length]
    const fake: Fake = {
      kind: 'ssh',
      execCount: 0,
      timeoutMs,
      closed: false,
      connect: async () => {
        if (failure) throw failure()
      },
      exec: async () => ({ exitCode: 0, stderr: '' }),
      openTcp: async () => {
        throw new Error('unused')
      },
      close: async () => {
        fake.closed = true
      },
    }
    opened.push(fake)
    return fake
  }
  return { opened, open }
}

function policy(overrides: Partial<RetryPolicy> = {}): RetryPolicy & { waits: number[] } {
  const waits: number[] = []
  return {
    attempts: 4,
    baseDelayMs: 200,
    maxDelayMs: 2_000,
    deadlineMs: 10_000,
    random: () => 0.5,
    sleep: async ms => {
      waits.push(ms)
    },
    waits,
    ...overrides,
  }
}

describe('RetryingTransport', () => {
  it('retries a connection dropped before the banner, with growing jittered waits, then uses the one that worked', async () => {
    const { opened, open } = fakes([lostBeforeHandshake, resetDuringBanner])
    const p = policy()
    const transport = new RetryingTransport(HOST, open, p)
    await transport.connect()
    expect(transport.attemptsMade).toBe(3)
    expect(opened).toHaveLength(3)
    expect(opened.slice(0, 2).every(t => t.closed)).toBe(true)
    expect(p.waits).toEqual([150, 300])
    await transport.close()
    expect(opened[2]!.closed).toBe(true)
  })

  it('gives each attempt only what is left of the connect deadline', async () => {
    const { opened, open } = fakes([lostBeforeHandshake])
    await new RetryingTransport(HOST, open, policy({ deadlineMs: 5_000 })).connect()
    expect(opened[0]!.timeoutMs).toBe(5_000)
    expect(opened[1]!.timeoutMs).toBeLessThanOrEqual(5_000)
  })

  it('stops after the last attempt and says the server kept closing the connection', async () => {
    const { opened, open } = fakes([
      lostBeforeHandshake,
      lostBeforeHandshake,
      lostBeforeHandshake,
      lostBeforeHandshake,
      lostBeforeHandshake,
    ])
    const error = await new RetryingTransport(HOST, open, policy()).connect().catch((e: unknown) => e)
    expect(opened).toHaveLength(4)
    expect(error).toBeInstanceOf(HostUnreachableError)
    expect((error as Error).message).toMatch(
      /closed the connection before the SSH handshake on all 4 attempts: sshd may be at its MaxStartups limit/,
    )
    expect((error as Error).message).toMatch(/\(host defined at hosts\.yaml:7\)\.$/)
  })

  it('does not retry when the deadline leaves no room for another attempt', async () => {
    const { opened, open } = fakes([lostBeforeHandshake, lostBeforeHandshake])
    await expect(new RetryingTransport(HOST, open, policy({ deadlineMs: 600 })).connect()).rejects.toThrow(/MaxStartups/)
    expect(opened).toHaveLength(1)
  })

  it.each([
    [
      'refused',
      () =>
        new HostUnreachableError('x: cannot connect: connect ECONNREFUSED', { cause: withCode('connect ECONNREFUSED', 'ECONNREFUSED') }),
    ],
    ['auth', () => new AuthError('x: authentication failed')],
    ['host key', () => new HostKeyError('x: HOST KEY CHANGED')],
    ['timeout', () => new TimeoutError('x: connect timed out after 10s')],
  ])('fails at once on %s: that is an answer, not an accident', async (_, failure) => {
    const { opened, open } = fakes([failure])
    await expect(new RetryingTransport(HOST, open, policy()).connect()).rejects.toThrow()
    expect(opened).toHaveLength(1)
  })

  it('opens nothing more once closed while waiting to retry', async () => {
    const { opened, open } = fakes([lostBeforeHandshake])
    let transport: RetryingTransport | undefined
    const p = policy({
      sleep: async () => {
        await transport!.close()
      },
    })
    transport = new RetryingTransport(HOST, open, p)
    await expect(transport.connect()).rejects.toThrow(/before the SSH handshake/)
    expect(opened).toHaveLength(1)
  })

  it('ends the whole connect by the deadline, whatever step hangs, and closes the attempt', async () => {
    const { opened, open } = fakes([])
    const hanging = (timeoutMs: number) =>
      Object.assign(open(timeoutMs), { connect: () => new Promise<void>(() => {}), target: 'deploy@web-1.internal:2222' })
    const started = performance.now()
    const error = await new RetryingTransport(HOST, hanging, policy({ deadlineMs: 300 })).connect().catch((e: unknown) => e)
    expect(performance.now() - started).toBeLessThan(1_000)
    expect(error).toBeInstanceOf(TimeoutError)
    expect((error as Error).message).toMatch(/^deploy@web-1\.internal:2222: connect timed out after 0\.3s\. No SSH greeting came in time/)
    expect(opened[0]!.closed).toBe(true)
  })

  it('a deadline hit while ssh_config (or the route) is still being read says so, not "No SSH greeting"', async () => {
    for (const [stage, words] of [
      [
        'ssh-config',
        /connect timed out after 0\.3s while reading ssh_config \(ssh -G\)\. The time went on reading ssh_config, before any connection to the host/,
      ],
      [
        'route',
        /connect timed out after 0\.3s while opening the route \(ProxyCommand or ProxyJump bastion\)\. The time went on opening the route/,
      ],
    ] as const) {
      const { open } = fakes([])
      const hanging = (timeoutMs: number) =>
        Object.assign(open(timeoutMs), { connect: () => new Promise<void>(() => {}), connectStage: stage })
      const error = await new RetryingTransport(HOST, hanging, policy({ deadlineMs: 300 })).connect().catch((e: unknown) => e)
      expect(error).toBeInstanceOf(TimeoutError)
      expect((error as Error).message).toMatch(words)
      expect((error as Error).message).not.toMatch(/No SSH greeting/)
    }
  })

  it('answers a name under .invalid without asking DNS (RFC 6761)', async () => {
    const { opened, open } = fakes([])
    const error = await new RetryingTransport({ ...HOST, address: 'db.invalid' }, open, policy()).connect().catch((e: unknown) => e)
    expect(error).toBeInstanceOf(HostUnreachableError)
    expect((error as Error).message).toBe(
      'deploy@db.invalid:22: cannot resolve db.invalid: the .invalid domain never resolves (RFC 6761). ' +
        "The name does not resolve: check the address in the inventory (a typo?), or HostName in ssh_config, and this machine's DNS (host defined at hosts.yaml:7).",
    )
    expect(opened.every(t => !t.closed)).toBe(true)
  })
})

describe('backoffMs', () => {
  it('doubles per attempt up to the cap, half of it jittered', () => {
    const p = { baseDelayMs: 200, maxDelayMs: 1_000 }
    expect([1, 2, 3, 4].map(a => backoffMs(a, { ...p, random: () => 0 }))).toEqual([100, 200, 400, 500])
    expect([1, 2, 3, 4].map(a => backoffMs(a, { ...p, random: () => 0.999999 }))).toEqual([200, 400, 800, 1_000])
  })
})

describe('explainConnectError', () => {
  const target = { address: '10.0.0.5' }
  it.each([
    ['ECONNREFUSED', /: boom\. Nothing accepts connections there: check that sshd is running on the host and that the port is right\.$/],
    ['ENOTFOUND', /does not resolve/],
    ['EAI_AGAIN', /DNS could not answer/],
    ['EHOSTUNREACH', /no route to that address/],
  ])('%s says what to check', (code, hint) => {
    const error = new HostUnreachableError('u@10.0.0.5:2222: cannot connect: boom', { cause: withCode('boom', code) })
    expect(explainConnectError(error, target).message).toMatch(hint)
  })

  it('a timeout names the likely causes and the flag', () => {
    expect(explainConnectError(new TimeoutError('u@10.0.0.5:2222: connect timed out after 3s'), target).message).toMatch(
      /^u@10\.0\.0\.5:2222: connect timed out after 3s\. No SSH greeting came in time: .*--connect-timeout/,
    )
  })

  it('leaves auth and host-key messages, which already say what to do, as they are', () => {
    expect(explainConnectError(new AuthError('refused. Check the key.'), target).message).toBe('refused. Check the key.')
  })

  it('knows the transient failures', () => {
    expect(isTransientConnectFailure(lostBeforeHandshake())).toBe(true)
    expect(isTransientConnectFailure(resetDuringBanner())).toBe(true)
    expect(isTransientConnectFailure(new HostUnreachableError('u@h:22: connection closed during the SSH handshake'))).toBe(true)
    expect(isTransientConnectFailure(new TimeoutError('Timed out while waiting for handshake'))).toBe(false)
    expect(reservedNameError({ address: 'example.com' }, 'x')).toBeUndefined()
    expect(reservedNameError({ address: 'INVALID.' }, 'x')).toBeInstanceOf(HostUnreachableError)
  })
})
