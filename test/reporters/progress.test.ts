// Live progress: one plain line per finished host in CI or a pipe; a view redrawn in place on a
// terminal (hosts done, checks so far, failing hosts, slowest still running); nothing when quiet.
import { describe, expect, it } from 'vitest'
import type { CheckResult, HostResult } from '../../src/model.ts'
import { Progress, progressMode } from '../../src/reporters/progress.ts'

function sink(isTTY = false) {
  const chunks: string[] = []
  return {
    chunks,
    stream: { isTTY, columns: 100, write: (text: string) => chunks.push(text) > 0 } as unknown as NodeJS.WritableStream & {
      isTTY?: boolean
      columns?: number
    },
  }
}

const check = (status: CheckResult['status'], extra: Partial<CheckResult> = {}): CheckResult => ({
  id: `s::${status}`,
  file: 's.spec.ts',
  path: ['app', `is ${status}`],
  status,
  durationMs: 3,
  facts: [],
  ...extra,
})
const host = (name: string, checks: CheckResult[], extra: Partial<HostResult> = {}): HostResult => ({
  host: { name, address: name, port: 22, transport: 'ssh', groups: [] },
  status: 'verified',
  checks,
  timings: { totalMs: 1234 },
  execChannels: 1,
  ...extra,
})

describe('progress', () => {
  it('picks live on a terminal, lines under CI or in a pipe, off with --quiet', () => {
    expect(progressMode({ isTTY: true }, {}, false)).toBe('live')
    expect(progressMode({ isTTY: true }, { CI: 'true' }, false)).toBe('lines')
    expect(progressMode({ isTTY: false }, {}, false)).toBe('lines')
    expect(progressMode({ isTTY: true }, {}, true)).toBe('off')
  })

  it('lines: one plain line per finished host, failing checks under it with --verbose', () => {
    const out = sink()
    const p = new Progress({ total: 12, stream: out.stream, mode: 'lines', verbose: true })
    p.hostStarted('web-1')
    p.hostDone(host('web-1', [check('passed'), check('passed')]))
    p.hostDone(host('web-2', [check('passed'), check('failed', { expected: '200', actual: '503' })]))
    p.hostDone(
      host('db-1', [check('error', { errorKind: 'unreachable', message: 'refused' })], {
        status: 'error',
        error: { kind: 'unreachable', message: 'connect ECONNREFUSED 10.0.0.9:22' },
      }),
    )
    p.finish()
    expect(out.chunks.join('')).toBe(
      [
        '[ 1/12] ✓ web-1  2 passed  1.2s',
        '[ 2/12] ✗ web-2  1 failed, 1 passed  1.2s',
        '      ✗ app › is failed: expected 200, actual 503',
        '[ 3/12] ! db-1  1 errors, 0 passed  1.2s  unreachable: connect ECONNREFUSED 10.0.0.9:22',
        '',
      ].join('\n'),
    )
  })

  it('takes secret values out, as the report does', () => {
    const out = sink()
    const p = new Progress({
      total: 1,
      stream: out.stream,
      mode: 'lines',
      verbose: true,
      redact: t => t.replaceAll('hunter2', '[secret:token]'),
    })
    p.hostDone(host('web-1', [check('failed', { message: 'token hunter2 refused' })]))
    expect(out.chunks.join('')).toContain('app › is failed: token [secret:token] refused')
    expect(out.chunks.join('')).not.toContain('hunter2')
  })

  it('off: writes nothing', () => {
    const out = sink()
    const p = new Progress({ total: 1, stream: out.stream, mode: 'off' })
    p.hostDone(host('web-1', [check('failed')]))
    p.finish()
    expect(out.chunks).toEqual([])
  })

  it('live: redraws the view in place and clears it at the end', () => {
    const out = sink(true)
    let now = 0
    const p = new Progress({ total: 3, stream: out.stream, mode: 'live', tickMs: 60_000, now: () => now })
    p.hostStarted('web-1')
    p.hostStarted('web-2')
    now = 2500
    p.hostDone(host('web-1', [check('passed'), check('failed')]))
    const view = out.chunks.at(-1)!
    expect(view).toBe(
      'verify: 1/3 hosts done · checks 1 passed, 1 failed, 0 errors · 2.5s\nfailing (1): web-1 (1 failed)\nrunning 1; slowest: web-2 (2.5s)\n',
    )
    // the previous view (1 line at start) is erased before this one
    expect(out.chunks.at(-2)).toBe('\x1b[1A\x1b[0J')
    p.finish()
    expect(out.chunks.at(-1)).toBe('\x1b[3A\x1b[0J')
  })
})
