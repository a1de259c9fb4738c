// Console reporter: the detailed layout for a few hosts, grouping for many, colour rules,
// and the shared sanitizer that keeps command output from driving the terminal.
import { describe, expect, it } from 'vitest'
import { exitCodeFor, SCHEMA_VERSION, summarize } from '../../src/model.ts'
import type { CheckResult, CheckStatus, HostResult, RunResult } from '../../src/model.ts'
import { renderConsole, shouldUseColor } from '../../src/reporters/console.ts'
import { sanitize, sanitizeLine, stripAnsi, truncate } from '../../src/reporters/sanitize.ts'

function check(file: string, path: string[], status: CheckStatus, extra: Partial<CheckResult> = {}): CheckResult {
  return { id: `${file}::${path.join(' › ')}`, file, path, status, durationMs: 12, facts: [], ...extra }
}

function host(name: string, checks: CheckResult[], extra: Partial<HostResult> = {}, address = '10.0.0.1'): HostResult {
  return {
    host: { name, address, port: 22, transport: 'ssh', groups: [] },
    status: 'verified',
    checks,
    timings: { totalMs: 100 },
    execChannels: 1,
    ...extra,
  }
}

function runOf(hosts: HostResult[], configErrors: string[] = []): RunResult {
  const summary = summarize(hosts)
  return {
    schemaVersion: SCHEMA_VERSION,
    tool: { name: 'postdeploy-verify', version: '0.0.0-test' },
    startedAt: '2025-03-04T05:06:07.890Z',
    finishedAt: '2025-03-04T05:06:10.235Z',
    durationMs: 2345,
    configErrors,
    hosts,
    summary,
    exitCode: exitCodeFor(summary, configErrors),
  }
}

const WEB = 'specs/web.spec.ts'
const APP = 'specs/app.spec.ts'

function fewHosts(): RunResult {
  return runOf([
    host('web-1.example.com', [
      check(WEB, ['nginx', 'runs'], 'passed', { durationMs: 3 }),
      check(WEB, ['nginx', 'serves 200'], 'failed', {
        expected: '200',
        actual: '503',
        message: 'status was not 200\n\x1b[31mbody: oops\x1b[0m',
      }),
      check(APP, ['app', 'release'], 'error', { errorKind: 'fact', message: 'cannot read /etc/release: permission denied' }),
      check(APP, ['app', 'canary'], 'skipped', { durationMs: 0, message: 'not a canary' }),
    ]),
    host(
      'db-1',
      [check('specs/db.spec.ts', ['pg', 'accepts connections'], 'error', { errorKind: 'unreachable', message: 'connection lost' })],
      {
        status: 'error',
        error: { kind: 'unreachable', message: 'connection lost' },
      },
    ),
    host('db-2', [], { status: 'error', error: { kind: 'auth', message: 'all configured authentication methods failed' } }, '10.0.0.2'),
  ])
}

/** 500 hosts: a few failures, a few check errors, some unreachable hosts, the rest green. */
function manyHosts(): RunResult {
  const hosts: HostResult[] = []
  for (let i = 1; i <= 500; i++) {
    const name = `web-${i}`
    const address = `10.1.${i >> 8}.${i & 255}`
    if (i % 40 === 0) {
      // each message names its own address: grouping must still see one cause
      hosts.push(
        host(name, [], { status: 'error', error: { kind: 'unreachable', message: `connect ECONNREFUSED ${address}:22` } }, address),
      )
      continue
    }
    const failed = i % 13 === 3
    const errored = i % 97 === 5
    hosts.push(
      host(
        name,
        [
          check(WEB, ['nginx', 'runs'], 'passed'),
          check(WEB, ['nginx', 'serves 200'], failed ? 'failed' : 'passed', failed ? { expected: '200', actual: '503' } : {}),
          check(APP, ['app', 'release'], errored ? 'error' : 'passed', errored ? { errorKind: 'fact', message: 'permission denied' } : {}),
        ],
        {},
        address,
      ),
    )
  }
  return runOf(hosts)
}

// ESC and every C0/C1 control except tab and newline
const CONTROL = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f]/

describe('renderConsole with a few hosts', () => {
  it('prints every check, failure details, and the host error once', () => {
    expect(renderConsole(fewHosts(), { color: false })).toBe(
      [
        '! web-1.example.com (10.0.0.1:22) ERROR  4 checks: 1 passed, 1 failed, 1 error, 1 skipped',
        '  specs/web.spec.ts',
        '    ✓ nginx › runs 3ms',
        '    ✗ nginx › serves 200 12ms',
        '        expected: 200',
        '        actual:   503',
        '        status was not 200',
        '        body: oops',
        '  specs/app.spec.ts',
        '    ! app › release 12ms',
        '        fact: cannot read /etc/release: permission denied',
        '    - app › canary  skipped: not a canary',
        '',
        '! db-1 (10.0.0.1:22) ERROR  1 check: 1 error',
        '  ! unreachable: connection lost',
        '    (1 check not run because of it)',
        '',
        '! db-2 (10.0.0.2:22) ERROR',
        '  ! auth: all configured authentication methods failed',
        '',
        '3 hosts, 5 checks: 1 passed, 1 failed, 2 errors, 1 skipped in 2.3s',
        'ERROR (exit 2): 3 of 3 hosts could not be fully verified',
        '',
      ].join('\n'),
    )
  })

  it('ends with PASS (exit 0) when everything passed', () => {
    const out = renderConsole(runOf([host('web-1', [check(WEB, ['nginx', 'runs'], 'passed')])]), { color: false })
    expect(out.trimEnd().split('\n').slice(-2)).toEqual([
      '1 host, 1 check: 1 passed, 0 failed, 0 errors, 0 skipped in 2.3s',
      'PASS (exit 0)',
    ])
  })

  it('names exit 1 when a check failed and nothing errored', () => {
    const out = renderConsole(runOf([host('web-1', [check(WEB, ['nginx', 'serves 200'], 'failed', { message: 'no' })])]), { color: false })
    expect(out.trimEnd().split('\n').at(-1)).toBe('FAIL (exit 1): 1 of 1 host failed a check')
  })

  it('prints config errors first and names exit 3', () => {
    const out = renderConsole(runOf([], ['hosts.yaml:3: group "db" is not defined']), { color: false })
    const lines = out.trimEnd().split('\n')
    expect(lines.slice(0, 2)).toEqual(['Configuration errors:', '  ! hosts.yaml:3: group "db" is not defined'])
    expect(lines.at(-1)).toBe('CONFIG ERROR (exit 3)')
  })
})

describe('messages that keep the actionable part whole', () => {
  const KEY_FIX = "ssh-keygen -R '[10.0.0.1]:22' -f /home/ci/.ssh/known_hosts && ssh-keyscan 10.0.0.1 >> /home/ci/.ssh/known_hosts"
  const hostKey = `web-1: HOST KEY CHANGED: the host presented ssh-ed25519 key SHA256:${'x'.repeat(43)}, but /home/ci/.ssh/known_hosts:7 holds a different key for [10.0.0.1]:22. Someone may be intercepting the connection, or the host was rebuilt. Confirm the new fingerprint out-of-band, then replace the entry: ${KEY_FIX}`

  it('wraps a long host error instead of cutting it: the fix command is there whole, once', () => {
    const checks = ['a', 'b', 'c'].map(t => check(WEB, ['nginx', t], 'error', { errorKind: 'host-key', message: hostKey }))
    const out = renderConsole(runOf([host('web-1', checks, { status: 'error', error: { kind: 'host-key', message: hostKey } })]), {
      color: false,
    })
    // the command never split across lines: one line to copy
    expect(out.split('\n').some(line => line.includes(KEY_FIX))).toBe(true)
    const longer = hostKey.replaceAll('/home/ci/', '/var/lib/jenkins/workspace/deploy-pipeline/')
    const wrapped = renderConsole(runOf([host('web-1', [], { status: 'error', error: { kind: 'host-key', message: longer } })]), {
      color: false,
    })
    expect(wrapped.split('\n').map(line => line.trim())).toContain(
      KEY_FIX.replaceAll('/home/ci/', '/var/lib/jenkins/workspace/deploy-pipeline/'),
    )
    expect(out.match(/HOST KEY CHANGED/g)).toHaveLength(1)
    expect(out).toContain('    (3 checks not run because of it)')
    expect(out).not.toContain('host error above')
    expect(Math.max(...out.split('\n').map(l => l.length))).toBeLessThanOrEqual(170)
    // grouped (many hosts): the same, in the host-error section
    const many = renderConsole(
      runOf(Array.from({ length: 12 }, (_, i) => host(`web-${i}`, [], { status: 'error', error: { kind: 'host-key', message: hostKey } }))),
      { color: false },
    )
    expect(many.replace(/\n +/g, ' ')).toContain(KEY_FIX)
  })

  it('keeps a restart() reason whole in expected/actual', () => {
    const reason = `http://127.0.0.1:8080/server-status?auto counted 1398 accesses since its start besides verify's 3 (at most 9 expected): not restarted, or already taking traffic; ${'3 of 4 processes matching puma started before the deploy '.repeat(3)}`
    const out = renderConsole(
      runOf([host('web-1', [check(WEB, ['app', 'restarted'], 'failed', { expected: 'restarted since the deploy', actual: reason })])]),
      { color: false },
    )
    expect(out.replace(/\n +/g, ' ')).toContain(reason.trimEnd())
  })

  it('keeps the comparison: expected < 10, actual 1398', () => {
    const failing = (name: string) => host(name, [check(WEB, ['app', 'few accesses'], 'failed', { expected: '< 10', actual: '1398' })])
    expect(renderConsole(runOf([failing('web-1')]), { color: false })).toContain('        expected: < 10\n        actual:   1398\n')
    expect(renderConsole(runOf(Array.from({ length: 12 }, (_, i) => failing(`web-${i}`))), { color: false })).toContain(
      'e.g. web-0: expected < 10, actual 1398',
    )
  })

  it('shows where a check failed, with the code around it; a spec error names exit 3', () => {
    const frame =
      "  11 |   it('current', async () => {\n> 12 |     expect(current).toBeSymlink()\n     |                     ^\n  13 |   })"
    const failedAt = { file: WEB, line: 12, column: 21, frame }
    const out = renderConsole(
      runOf([
        host('web-1', [
          check(WEB, ['release', 'current'], 'failed', { expected: 'a symlink', actual: 'missing', message: 'no', failedAt }),
          check(WEB, ['release', 'typo'], 'error', {
            errorKind: 'spec',
            message: `${WEB}:14:21: TypeError: expect(...).toBeSymLink is not a function`,
            failedAt: { ...failedAt, line: 14 },
          }),
        ]),
      ]),
      { color: false },
    )
    expect(out).toContain(
      `        at ${WEB}:12:21\n          11 |   it('current', async () => {\n        > 12 |     expect(current).toBeSymlink()\n`,
    )
    expect(out.trimEnd().split('\n').at(-1)).toMatch(/^SPEC ERROR \(exit 3\): 1 check hit a bug in the spec .*npx verify check/)
  })
})

describe('renderConsole with many hosts', () => {
  const out = renderConsole(manyHosts(), { color: false })
  const lines = out.trimEnd().split('\n')

  it('stays short: no line per host or per check', () => {
    expect(lines.length).toBeLessThan(40)
    expect(out).not.toContain('nginx › runs')
  })

  it('groups failures and errors by check with a capped host list', () => {
    expect(out).toContain(
      '  ✗ specs/web.spec.ts::nginx › serves 200\n      failed on 38/488: web-3, web-16, web-29, web-42, web-55, web-68, web-81, web-94, web-107, web-133, … (+28 more)',
    )
    expect(out).toContain('      e.g. web-3: expected 200, actual 503')
    expect(out).toContain(
      '  ! specs/app.spec.ts::app › release\n      errored on 6/488: web-5, web-102, web-199, web-296, web-393, web-490\n',
    )
  })

  it('groups host-level errors by message, with each host address masked', () => {
    expect(out).toContain('  ! unreachable: connect ECONNREFUSED <host>:22\n      on 12 hosts: web-40, web-80,')
    expect(out.match(/ECONNREFUSED <host>/g)).toHaveLength(1)
  })

  it('summarises passing hosts as a count, then the summary and verdict', () => {
    expect(out).toContain('✓ 445/500 hosts passed every check')
    expect(lines.slice(-2)).toEqual([
      '500 hosts, 1464 checks: 1420 passed, 38 failed, 6 errors, 0 skipped in 2.3s',
      'ERROR (exit 2): 18 of 500 hosts could not be fully verified',
    ])
  })

  it('honours maxHostsDetailed', () => {
    const detailed = renderConsole(fewHosts(), { color: false, maxHostsDetailed: 2 })
    expect(detailed).toContain('Failed checks:')
    expect(detailed).not.toContain('nginx › runs')
  })
})

describe('untrusted text', () => {
  const hostile = runOf([
    host('web-\x1b[2J1', [
      check(WEB, ['\x1b[31mnginx\x1b[0m', 'serves\x00 200'], 'failed', {
        expected: '2\x1b[1m00',
        actual: '5\x0703\x7f',
        message: 'line 1\r\nline\x1b]0;pwned\x07 2\x9b31m\n\ud800 \x1b[?25l',
      }),
    ]),
  ])

  it('never reaches the terminal as escape or control characters', () => {
    for (const color of [false, true]) {
      const out = renderConsole(hostile, { color })
      // our own SGR colours are the only escapes allowed
      const ours = out.replace(/\u001b\[\d+m/g, '')
      expect(ours).not.toMatch(CONTROL)
      expect(ours).not.toContain('pwned')
    }
    const plain = renderConsole(hostile, { color: false })
    expect(plain).toContain('web-1 (10.0.0.1:22) FAILED')
    expect(plain).toContain('✗ nginx › serves 200')
    expect(plain).toContain('expected: 200')
    expect(plain).toContain('actual:   503')
    expect(plain).toContain('        line 1\n        line 231m\n        \ufffd\n')
  })

  it('uses colour only when asked', () => {
    expect(renderConsole(fewHosts(), { color: false })).not.toContain('\x1b')
    expect(renderConsole(fewHosts(), { color: true })).toContain('\x1b[31m✗\x1b[39m')
  })
})

describe('shouldUseColor', () => {
  const tty = { isTTY: true }
  const pipe = { isTTY: false }

  it('colours a terminal and not a pipe', () => {
    expect(shouldUseColor(tty, {})).toBe(true)
    expect(shouldUseColor(pipe, {})).toBe(false)
  })

  it('honours NO_COLOR when set and not empty', () => {
    expect(shouldUseColor(tty, { NO_COLOR: '1' })).toBe(false)
    expect(shouldUseColor(tty, { NO_COLOR: '' })).toBe(true)
  })

  it('respects FORCE_COLOR both ways', () => {
    expect(shouldUseColor(pipe, { FORCE_COLOR: '1' })).toBe(true)
    expect(shouldUseColor(pipe, { FORCE_COLOR: '' })).toBe(true)
    expect(shouldUseColor(tty, { FORCE_COLOR: '0' })).toBe(false)
    expect(shouldUseColor(tty, { FORCE_COLOR: 'false' })).toBe(false)
  })

  it('turns colour off for TERM=dumb and NODE_DISABLE_COLORS', () => {
    expect(shouldUseColor(tty, { TERM: 'dumb' })).toBe(false)
    expect(shouldUseColor(tty, { NODE_DISABLE_COLORS: '1' })).toBe(false)
  })
})

describe('sanitize', () => {
  it('strips CSI, OSC and two-byte escapes but keeps the text between them', () => {
    expect(stripAnsi('\x1b[1;31mred\x1b[0m \x1b]8;;https://x\x1b\\link\x1b]8;;\x1b\\ \x1bcreset')).toBe('red link reset')
  })

  it('drops only the introducer of an unterminated OSC rather than swallowing the rest', () => {
    expect(sanitize('a\x1b]0;title and more')).toBe('a0;title and more')
  })

  it('removes control characters, keeps tab and newline, normalises CR', () => {
    expect(sanitize('a\x00b\x07c\x7fd\x85e\tf\r\ng\rh')).toBe('abcde\tf\ng\nh')
  })

  it('replaces lone surrogates with U+FFFD and keeps real pairs', () => {
    expect(sanitize('\ud800x\udc00😀')).toBe('\ufffdx\ufffd😀')
  })

  it('removes bidi overrides that could disguise a line', () => {
    expect(sanitize('abc\u202edef\u2066')).toBe('abcdef')
  })

  it('folds a message to one line for titles and attributes', () => {
    expect(sanitizeLine('  a\n\tb  \x1b[2mc ')).toBe('a b c')
  })

  it('truncates without splitting a surrogate pair', () => {
    expect(truncate('abcdef', 4)).toBe('abc…')
    expect(truncate('ab😀cd', 4)).toBe('ab…')
    expect(truncate('abc', 4)).toBe('abc')
  })
})
