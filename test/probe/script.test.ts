// The generated batch script run by a real shell, as the transports run it (`sh -s`, the script
// on stdin and stdin held open for the watchdog), its two streams read back by FrameParser cut
// into random chunks: what the host prints is what the parser answers, login noise or not.
import { spawn } from 'node:child_process'
import { existsSync, readdirSync, readFileSync } from 'node:fs'
import { describe, expect, it } from 'vitest'
import type { FactRequest, RawFact } from '../../src/probe/fact.ts'
import { FrameParser } from '../../src/probe/frames.ts'
import { buildScript, type ScriptFact } from '../../src/probe/script.ts'
import { prng } from '../support/hostile-secrets.ts'
import { isAlive, waitFor } from '../support/faults.ts'

const NONCE = 'V00112233445566778899aabbccddeeff'

interface Ran {
  out: Buffer
  err: Buffer
  exitCode: number | null
  signal: NodeJS.Signals | null
  /** The batch shell's process group: nothing of it may outlive the batch. */
  pgid: number
}

/** Runs `argv` (a shell reading the script on stdin) in its own process group; stdin ends only once the shell has exited. */
function run(script: string, argv: string[] = ['sh', '-s']): Promise<Ran> {
  return new Promise((resolve, reject) => {
    const child = spawn(argv[0]!, argv.slice(1), { detached: true, stdio: ['pipe', 'pipe', 'pipe'] })
    const out: Buffer[] = []
    const err: Buffer[] = []
    child.stdout.on('data', (c: Buffer) => out.push(c))
    child.stderr.on('data', (c: Buffer) => err.push(c))
    child.stdin.on('error', () => {}) // the batch may be gone before stdin ends
    child.stdin.write(script)
    // a batch that hangs fails the test instead of holding the worker
    const guard = setTimeout(() => {
      try {
        process.kill(-child.pid!, 'SIGKILL')
      } catch {}
    }, 20_000)
    let exit: { code: number | null; signal: NodeJS.Signals | null } | undefined
    child.on('exit', (code, signal) => {
      exit = { code, signal }
      child.stdin.end() // the watchdog's cue, as a finished run ends the channel's stdin
    })
    child.on('error', reject)
    child.on('close', () => {
      clearTimeout(guard)
      resolve({ out: Buffer.concat(out), err: Buffer.concat(err), exitCode: exit!.code, signal: exit!.signal, pgid: child.pid! })
    })
  })
}

const fact = (
  id: number,
  script: string,
  args: string[] = [],
  extra: Partial<FactRequest<unknown>> = {},
  maxBytes = 1024 * 1024,
): ScriptFact => ({
  id,
  request: { key: `f${id}`, describe: `f${id}`, script, args, parse: r => r, ...extra },
  timeoutSec: 10,
  maxBytes,
})

/** Parses both streams fed in random chunks (1 … 64 bytes), stdout and stderr interleaved. */
function parse(ran: Pick<Ran, 'out' | 'err'>, facts: readonly ScriptFact[], random: () => number) {
  const answers = new Map<number, RawFact>()
  const started: number[] = []
  const overflows: number[] = []
  const parser = new FrameParser(NONCE, new Map(facts.map(f => [f.id, f.maxBytes])), {
    onFact: (id, raw) => answers.set(id, raw),
    onStart: id => started.push(id),
    onOverflow: id => overflows.push(id),
    onFatal: reason => {
      throw new Error(`fatal: ${reason}`)
    },
  })
  let o = 0
  let e = 0
  while (o < ran.out.length || e < ran.err.length) {
    const n = 1 + Math.floor(random() * 64)
    if (random() < 0.5 && o < ran.out.length) parser.push(ran.out.subarray(o, (o += n)))
    else if (e < ran.err.length) parser.pushStderr(ran.err.subarray(e, (e += n)))
    else parser.push(ran.out.subarray(o, (o += n)))
  }
  parser.finish()
  return { answers, started, overflows, ended: parser.ended, partial: (id: number) => parser.partial(id) }
}

const text = (raw: RawFact | undefined) =>
  raw && { stdout: raw.stdout.toString('latin1'), stderr: raw.stderr.toString('latin1'), exitCode: raw.exitCode, truncated: raw.truncated }

/** Live (not zombie) processes of a process group, from /proc. */
function groupMembers(pgid: number): number[] {
  return readdirSync('/proc')
    .filter(e => /^\d+$/.test(e))
    .map(Number)
    .filter(pid => {
      try {
        const stat = readFileSync(`/proc/${pid}/stat`, 'utf8')
        return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[2]) === pgid && isAlive(pid)
      } catch {
        return false
      }
    })
}

/** Nothing of the batch's process group is left (the watchdog included). */
function groupGone(pgid: number): Promise<boolean> {
  return waitFor(() => groupMembers(pgid).length === 0, 5_000)
}

const HOSTILE = `a'b"c $(touch /tmp/verify-script-pwned) \`x\` \n; exit 9`
const FACTS: ScriptFact[] = [
  fact(0, "printf 'out\\n'; printf 'err' >&2; exit 3"),
  fact(1, 'printf "%s" "$1"; return 0', [HOSTILE], { inline: true }),
  fact(2, 'printf "%s|" "$@"; return 4', ['x', ''], { inline: true }), // the same snippet as no other: a second function
  fact(3, 'printf "%s" "$1"; return 0', ['second use'], { inline: true }), // fact 1's snippet: one function for both
  fact(4, "printf '\\000\\001\\377\\015\\n\\033[31m'"),
  fact(5, `printf '\\nV%032d S 9\\n%s Z 3 0\\n' 0 "${NONCE.slice(0, 20)}"`), // another batch's marker, a prefix of ours
  fact(6, 'true'),
  fact(7, "printf 'no newline'; printf 'x\\n\\n' >&2"),
]
const EXPECTED = new Map([
  [0, { stdout: 'out\n', stderr: 'err', exitCode: 3, truncated: false }],
  [1, { stdout: HOSTILE, stderr: '', exitCode: 0, truncated: false }],
  [2, { stdout: 'x||', stderr: '', exitCode: 4, truncated: false }],
  [3, { stdout: 'second use', stderr: '', exitCode: 0, truncated: false }],
  [4, { stdout: '\x00\x01\xff\r\n\x1b[31m', stderr: '', exitCode: 0, truncated: false }],
  [5, { stdout: `\nV${'0'.repeat(32)} S 9\n${NONCE.slice(0, 20)} Z 3 0\n`, stderr: '', exitCode: 0, truncated: false }],
  [6, { stdout: '', stderr: '', exitCode: 0, truncated: false }],
  [7, { stdout: 'no newline', stderr: 'x\n\n', exitCode: 0, truncated: false }],
])
const SHELLS = [
  ['/bin/sh', '-s'],
  ['/bin/bash', '-s'],
].filter(([shell]) => existsSync(shell!))

describe('buildScript run by a real shell, read by FrameParser', () => {
  it('defines each inline snippet once, however many facts use it', () => {
    const script = buildScript(NONCE, FACTS)
    expect(script.match(/^__vi\d+\(\) \{$/gm)).toHaveLength(2)
    expect(script).toContain(`'a'\\''b"c $(touch /tmp/verify-script-pwned)`) // values travel as quoted args
  })

  for (const argv of SHELLS) {
    it(`${argv[0]}: every fact answers with its own bytes and status, in 200 random chunkings of the streams`, async () => {
      const ran = await run(buildScript(NONCE, FACTS), argv)
      expect(ran.exitCode, ran.err.toString()).toBe(0)
      expect(existsSync('/tmp/verify-script-pwned')).toBe(false)
      const random = prng(16)
      for (let round = 0; round < 200; round++) {
        const r = parse(ran, FACTS, random)
        expect(new Map([...r.answers].map(([id, raw]) => [id, text(raw)])), `round ${round}`).toEqual(EXPECTED)
        expect(r.started).toEqual(FACTS.map(f => f.id))
        expect(r.ended).toBe(true)
      }
      expect(await groupGone(ran.pgid)).toBe(true)
    })
  }

  it('login-script noise on both streams before the script runs changes no answer', async () => {
    const noisy = `printf 'Welcome to host-1\\nLast login: yesterday\\n%s' '${NONCE.slice(0, 10)}'; printf 'stdin: is not a tty\\n' >&2; exec sh -s`
    const ran = await run(buildScript(NONCE, FACTS), ['sh', '-c', noisy])
    expect(ran.out.toString('latin1')).toMatch(/^Welcome to host-1\n/)
    expect(ran.err.toString('latin1')).toMatch(/^stdin: is not a tty\n/)
    const r = parse(ran, FACTS, prng(7))
    expect(new Map([...r.answers].map(([id, raw]) => [id, text(raw)]))).toEqual(EXPECTED)
    expect(r.ended).toBe(true)
  })

  it('the byte cap: a fact printing past it is cut and told once, the facts after it answer whole', async () => {
    const facts = [fact(0, 'head -c 5000 /dev/zero; head -c 3000 /dev/zero >&2', [], {}, 1000), fact(1, 'echo after', [], {}, 1000)]
    const ran = await run(buildScript(NONCE, facts))
    const r = parse(ran, facts, prng(3))
    expect(r.overflows).toEqual([0])
    expect(text(r.answers.get(0))).toEqual({ stdout: '\0'.repeat(1000), stderr: '\0'.repeat(1000), exitCode: 0, truncated: true })
    expect(text(r.answers.get(1))).toEqual({ stdout: 'after\n', stderr: '', exitCode: 0, truncated: false })
  })

  it('the shell dies mid-fact: the facts before answer, the running one is left open with what it said, the rest never start, no end marker', async () => {
    const facts = [
      fact(0, 'echo before'),
      fact(1, `printf 'going down %060d\\n' 0; printf 'last words %s\\n' "$(printf '%060d' 0)" >&2; kill -KILL $PPID; sleep 5`),
      fact(2, 'echo never'),
    ]
    const ran = await run(buildScript(NONCE, facts))
    expect(ran.signal).toBe('SIGKILL')
    const r = parse(ran, facts, prng(5))
    expect(r.started).toEqual([0, 1])
    expect([...r.answers.keys()]).toEqual([0])
    expect(r.ended).toBe(false)
    const partial = r.partial(1)!
    expect(partial.stdout.toString()).toMatch(/^going down 0+/)
    expect(partial.stderr.toString()).toMatch(/^last words 0+/)
    // the watchdog saw stdin end and took the rest of the batch's process group with it
    expect(await groupGone(ran.pgid)).toBe(true)
  })

  it('stdin ending mid-batch (a stopped run): the watchdog kills the batch, the running fact never completes', async () => {
    const facts = [fact(0, 'echo before'), fact(1, 'sleep 30'), fact(2, 'echo never')]
    const child = spawn('sh', ['-s'], { detached: true, stdio: ['pipe', 'pipe', 'pipe'] })
    const out: Buffer[] = []
    child.stdout.on('data', (c: Buffer) => out.push(c))
    child.stderr.resume()
    child.stdin.write(buildScript(NONCE, facts))
    const started = Date.now()
    // end stdin once fact 1 is running, as the runner does when a fact overruns
    expect(await waitFor(() => Buffer.concat(out).includes(`\n${NONCE} S 1\n`), 10_000)).toBe(true)
    child.stdin.end()
    const signal = await new Promise<NodeJS.Signals | null>(resolve => child.on('close', (_code, s) => resolve(s)))
    expect(signal).toBe('SIGKILL')
    expect(Date.now() - started).toBeLessThan(10_000)
    const r = parse({ out: Buffer.concat(out), err: Buffer.alloc(0) }, facts, prng(9))
    expect(r.started).toEqual([0, 1])
    expect(r.ended).toBe(false)
    expect(await groupGone(child.pid!)).toBe(true)
  })
})
