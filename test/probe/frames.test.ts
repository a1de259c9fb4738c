// The probe's framing protocol read directly (FrameParser): marker lines split at every byte
// offset, login-script noise around the frames, binary payloads, the byte cap, and what a stream
// that ends early, or says something unknown, leaves. script.ts writes these frames; its own
// test runs the generated script in a real sh.
import { describe, expect, it } from 'vitest'
import type { RawFact } from '../../src/probe/fact.ts'
import { FrameParser } from '../../src/probe/frames.ts'

const N = 'V0123456789abcdef0123456789abcdef'
const S = (id: number) => `\n${N} S ${id}\n`
const Z = (id: number, status: number | string) => `\n${N} Z ${id} ${status}\n`
const Zerr = (id: number) => `\n${N} Z ${id}\n`
const E = `\n${N} E\n`

type Frame = Omit<RawFact, 'stdout' | 'stderr'> & { stdout: string; stderr: string }

/** A parser and everything its handlers were told, with each fact's bytes as latin1 text (one char per byte). */
function parser(caps: Record<number, number> = {}) {
  const facts = new Map<number, Frame>()
  const order: number[] = []
  const started: number[] = []
  const overflows: number[] = []
  const fatal: string[] = []
  const p = new FrameParser(N, new Map(Object.entries(caps).map(([id, cap]) => [Number(id), cap])), {
    onFact: (id, raw) => {
      order.push(id)
      facts.set(id, { ...raw, stdout: raw.stdout.toString('latin1'), stderr: raw.stderr.toString('latin1') })
    },
    onStart: id => started.push(id),
    onOverflow: id => overflows.push(id),
    onFatal: reason => fatal.push(reason),
  })
  return { p, facts, order, started, overflows, fatal }
}

const answer = (stdout: string, stderr = '', exitCode = 0, truncated = false): Frame => ({
  stdout,
  stderr,
  exitCode,
  truncated,
  timedOut: false,
})

// Both streams of a two-fact batch, with what a host can put around and inside the frames.
const NOISE_OUT = 'Welcome to host-1\nLast login: Mon Dec  7 14:00:00 2026\n' + `${N.slice(0, 12)}` // ends in a marker's first bytes
const NOISE_ERR = 'stdin: is not a tty\n\n'
const DATA_0 = `line one\nV${'f'.repeat(32)} S 9\nx${N} Z 0 0\nmid-line ${N} Z 0 0 stays data\n\n\n` // another nonce; ours not after a newline
const DATA_1 = 'no newline at the end'
const OUT = `${NOISE_OUT}${S(0)}${DATA_0}${Z(0, 0)}between facts: noise${S(1)}${DATA_1}${Z(1, 3)}${E}`
const ERR = `${NOISE_ERR}${S(0)}warning: ${N}\n${Zerr(0)}${S(1)}${Zerr(1)}trailing rc noise\n`
const EXPECTED = new Map([
  [0, answer(DATA_0, `warning: ${N}\n`)],
  [1, answer(DATA_1, '', 3)],
])

function feedAll(out: Buffer[], err: Buffer[]) {
  const r = parser()
  for (const c of err) r.p.pushStderr(c)
  for (const c of out) r.p.push(c)
  return r
}

describe('FrameParser: chunk boundaries', () => {
  const out = Buffer.from(OUT, 'latin1')
  const err = Buffer.from(ERR, 'latin1')

  it('reads the batch whole: noise dropped, nonce-looking data kept, both facts and the end marker', () => {
    const r = feedAll([out], [err])
    expect(r.facts).toEqual(EXPECTED)
    expect(r.order).toEqual([0, 1])
    expect(r.started).toEqual([0, 1])
    expect(r.p.ended).toBe(true)
    expect(r.fatal).toEqual([])
  })

  it('gives the same answers however stdout is cut in two (every byte offset)', () => {
    for (let at = 0; at <= out.length; at++) {
      const r = feedAll([out.subarray(0, at), out.subarray(at)], [err])
      expect(r.facts, `stdout cut at ${at}`).toEqual(EXPECTED)
      expect(r.p.ended, `stdout cut at ${at}`).toBe(true)
    }
  })

  it('gives the same answers however stderr is cut in two (every byte offset)', () => {
    for (let at = 0; at <= err.length; at++) {
      const r = feedAll([out], [err.subarray(0, at), err.subarray(at)])
      expect(r.facts, `stderr cut at ${at}`).toEqual(EXPECTED)
    }
  })

  it('gives the same answers fed one byte at a time, the streams interleaved', () => {
    const r = parser()
    for (let i = 0; i < Math.max(out.length, err.length); i++) {
      if (i < err.length) r.p.pushStderr(err.subarray(i, i + 1))
      if (i < out.length) r.p.push(out.subarray(i, i + 1))
    }
    expect(r.facts).toEqual(EXPECTED)
    expect(r.p.ended).toBe(true)
  })

  it("gives the same answers cut at every pair of offsets in a fact's closing marker and the next one's opening", () => {
    const from = OUT.indexOf(Z(0, 0)) - 1
    const to = OUT.indexOf(S(1)) + S(1).length + 1
    for (let a = from; a <= to; a++) {
      for (let b = a; b <= to; b++) {
        const r = feedAll([out.subarray(0, a), out.subarray(a, b), out.subarray(b)], [err])
        expect(r.facts, `stdout cut at ${a} and ${b}`).toEqual(EXPECTED)
      }
    }
  })

  it('takes strings as well as buffers', () => {
    const r = parser()
    r.p.pushStderr(ERR)
    r.p.push(OUT)
    expect(r.facts).toEqual(EXPECTED)
  })
})

describe('FrameParser: noise from login scripts', () => {
  it('drops whatever a shell rc prints before the first marker and after the last, on both streams', () => {
    const r = parser()
    r.p.pushStderr(`bash: /etc/bash.bashrc: line 3: syntax error\r\n\x1b[0m${S(0)}${Zerr(0)}\x07bye`)
    r.p.push(`\x1b[1;32mmotd\x1b[0m\r\nYou have new mail.\r\n${S(0)}ok${Z(0, 0)}logout\n${E}Connection closed.\n`)
    expect(r.facts).toEqual(new Map([[0, answer('ok')]]))
    expect(r.p.ended).toBe(true)
  })

  it('an echo of the marker without its leading newline is noise, not a frame', () => {
    const r = parser()
    r.p.push(`+ printf '${N} S 0'${N} S 0\n`)
    r.p.push(`${S(1)}x${Z(1, 0)}`)
    r.p.pushStderr(`${S(1)}${Zerr(1)}`)
    expect(r.started).toEqual([1])
    expect(r.facts).toEqual(new Map([[1, answer('x')]]))
  })

  it('noise that is a marker of another batch (another nonce) is dropped, not read as a frame', () => {
    const other = 'V' + 'e'.repeat(32)
    const r = parser()
    r.p.push(`\n${other} S 0\nstale\n${other} Z 0 0\n${S(0)}fresh${Z(0, 0)}`)
    r.p.pushStderr(`${S(0)}${Zerr(0)}`)
    expect(r.facts).toEqual(new Map([[0, answer('fresh')]]))
  })
})

describe('FrameParser: payloads', () => {
  it('keeps every byte value, NUL, invalid UTF-8 and CR LF exactly, on both streams', () => {
    const all = Buffer.from(Array.from({ length: 256 }, (_, i) => i))
    const invalid = Buffer.from([0xff, 0xfe, 0x80, 0xc3, 0x28, 0xe2, 0x82, 0x00, 0xed, 0xa0, 0x80, 0x0d, 0x0a, 0x0a])
    const payload = Buffer.concat([all, invalid, all])
    const r = parser()
    const bytes: RawFact[] = []
    const p = new FrameParser(N, new Map(), { onFact: (_id, raw) => bytes.push(raw), onFatal: reason => r.fatal.push(reason) })
    p.push(Buffer.concat([Buffer.from(S(7)), payload, Buffer.from(Z(7, 0))]))
    // stderr in 3-byte chunks: a multi-byte sequence never arrives whole
    const err = Buffer.concat([Buffer.from(S(7)), payload, Buffer.from(Zerr(7))])
    for (let i = 0; i < err.length; i += 3) p.pushStderr(err.subarray(i, i + 3))
    expect(bytes).toHaveLength(1)
    expect(bytes[0]!.stdout.equals(payload)).toBe(true)
    expect(bytes[0]!.stderr.equals(payload)).toBe(true)
    expect(r.fatal).toEqual([])
  })

  it('an empty fact answers with empty buffers; a data line that is only the nonce stays data', () => {
    const r = parser()
    r.p.push(`${S(0)}${Z(0, 0)}${S(1)}${N}${Z(1, 1)}`)
    r.p.pushStderr(`${S(0)}${Zerr(0)}${S(1)}${Zerr(1)}`)
    expect(r.facts).toEqual(
      new Map([
        [0, answer('')],
        [1, answer(N, '', 1)],
      ]),
    )
  })
})

describe('FrameParser: the byte cap', () => {
  it('exactly at the cap is whole and not cut; one byte over is cut to the cap, overflow told once', () => {
    const r = parser({ 0: 10, 1: 10 })
    r.p.push(`${S(0)}0123456789${Z(0, 0)}${S(1)}0123456789X${Z(1, 0)}`)
    r.p.pushStderr(`${S(0)}${Zerr(0)}${S(1)}${Zerr(1)}`)
    expect(r.facts.get(0)).toEqual(answer('0123456789'))
    expect(r.facts.get(1)).toEqual(answer('0123456789', '', 0, true))
    expect(r.overflows).toEqual([1])
  })

  it('counts each stream against the cap on its own; overflow is told once however much more follows', () => {
    const r = parser({ 4: 5 })
    r.p.push(S(4))
    r.p.pushStderr(`${S(4)}abcde${Zerr(9)}`) // (a marker the fact cannot close flushes what it holds back)
    expect(r.overflows).toEqual([])
    r.p.pushStderr(`f${' '.repeat(40)}`)
    expect(r.overflows).toEqual([4])
    // what it said so far, while it still runs: the cut shows already
    expect(r.p.partial(4)).toEqual({ stdout: Buffer.alloc(0), stderr: Buffer.from('abcde'), truncated: true })
    r.p.push('abc')
    for (let i = 0; i < 100; i++) r.p.push('x'.repeat(1000))
    r.p.pushStderr(Zerr(4))
    r.p.push(Z(4, 141))
    expect(r.overflows).toEqual([4])
    expect(r.facts.get(4)).toEqual(answer('abcxx', 'abcde', 141, true))
  })

  it('cuts at the cap when the cap falls inside a chunk and the next marker in the same chunk', () => {
    const r = parser({ 0: 3, 1: 3 })
    r.p.push(`${S(0)}abcdef${Z(0, 0)}${S(1)}ab${Z(1, 0)}${E}`)
    r.p.pushStderr(`${S(0)}${Zerr(0)}${S(1)}${Zerr(1)}`)
    expect(r.facts).toEqual(
      new Map([
        [0, answer('abc', '', 0, true)],
        [1, answer('ab')],
      ]),
    )
    expect(r.overflows).toEqual([0])
    expect(r.p.ended).toBe(true)
  })
})

describe('FrameParser: streams that end early or say something unknown', () => {
  it('a shell that dies mid-fact: the facts before it answer, the running one never completes, the batch did not end', () => {
    const r = parser()
    const said = 'half of the answer, '.repeat(5)
    r.p.push(`${S(0)}done${Z(0, 0)}${S(1)}${said}`)
    r.p.pushStderr(`${S(0)}${Zerr(0)}${S(1)}Killed\n`)
    r.p.finish()
    expect(r.facts).toEqual(new Map([[0, answer('done')]]))
    expect(r.started).toEqual([0, 1])
    expect(r.p.ended).toBe(false)
    // everything it printed, for the timeout's message: a held-back tail is flushed when the streams end
    const partial = r.p.partial(1)!
    expect(partial.stdout.toString()).toBe(said)
    expect(partial.stderr.toString()).toBe('Killed\n')
    expect(partial.truncated).toBe(false)
    expect(r.p.partial(0)).toBeUndefined() // answered facts are not partial
  })

  it("a stream cut inside a closing marker: the fact stays open and the marker's bytes are never data", () => {
    const r = parser()
    r.p.pushStderr(`${S(0)}${Zerr(0)}`)
    r.p.push(`${S(0)}answer${Z(0, 0).slice(0, -3)}`)
    r.p.finish()
    expect(r.facts.size).toBe(0)
    expect(r.p.partial(0)!.stdout.toString()).toBe('answer')
  })

  it('a short message with no newline (as a timed-out fact leaves it) is visible before the stream ends', () => {
    const r = parser()
    r.p.push(`${S(0)}`)
    r.p.pushStderr(`${S(0)}waiting for lock`)
    expect(r.p.partial(0)!.stderr.toString()).toBe('waiting for lock')
  })

  it("stdout closed its frame but stderr's closing marker was lost: finish() completes the fact with its status", () => {
    const r = parser()
    const err = 'permission denied, '.repeat(4)
    r.p.push(`${S(0)}out${Z(0, 2)}`)
    r.p.pushStderr(`${S(0)}${err}`)
    expect(r.facts.size).toBe(0)
    r.p.finish()
    const { stderr, ...rest } = r.facts.get(0)!
    expect(rest).toEqual({ stdout: 'out', exitCode: 2, truncated: false, timedOut: false })
    // the whole tail: nothing is held back for a marker that never came
    expect(stderr).toBe(err)
  })

  it('stderr closed but stdout did not: finish() leaves the fact unanswered', () => {
    const r = parser()
    r.p.push(`${S(0)}out`)
    r.p.pushStderr(`${S(0)}err${Zerr(0)}`)
    r.p.finish()
    expect(r.facts.size).toBe(0)
  })

  it('an X line is fatal and carries its reason', () => {
    const r = parser()
    r.p.push(`\n${N} X sudo: a password is required\n`)
    expect(r.fatal).toEqual(['sudo: a password is required'])
    expect(r.facts.size).toBe(0)
  })

  it('unknown tags, ids that are not numbers and a Z for a fact never started are ignored; the frame goes on', () => {
    const r = parser()
    r.p.push(`${S(0)}a\n${N} Q 0\nb\n${N} S x\nc${Z(5, 0)}d${Z(0, 0)}`)
    r.p.pushStderr(`${S(0)}${Zerr(9)}e${Zerr(0)}`)
    expect(r.started).toEqual([0])
    expect(r.fatal).toEqual([])
    // the marker lines, their leading newline included, are not data; what was between them is
    expect(r.facts).toEqual(new Map([[0, answer('abcd', 'e')]]))
  })

  it('a status that is not a number answers exit -1', () => {
    const r = parser()
    r.p.push(`${S(0)}${Z(0, 'oops')}`)
    r.p.pushStderr(`${S(0)}${Zerr(0)}`)
    expect(r.facts.get(0)!.exitCode).toBe(-1)
  })

  it('the end marker counts on stdout only', () => {
    const r = parser()
    r.p.pushStderr(E)
    expect(r.p.ended).toBe(false)
    r.p.push(E)
    expect(r.p.ended).toBe(true)
  })
})
