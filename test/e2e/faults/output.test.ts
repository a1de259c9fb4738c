// Output that could sink a run, over the real sshd: commands and an HTTP endpoint that print
// 100 MB (captured output is capped, the report says so, the CLI's memory stays bounded), and
// output full of control bytes, invalid UTF-8 and ANSI sequences (JUnit stays valid XML, the
// console stays free of raw control bytes).
import { readFileSync, statSync } from 'node:fs'
import http from 'node:http'
import path from 'node:path'
import { execa } from 'execa'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startFleet, type Fleet } from '../../support/sshd.ts'
import { junitSchemaErrors, peakRssBytes, RAW_CONTROL } from '../../support/faults.ts'
import { makeWorkdir, readResult, REPO_ROOT, runCli, type Workdir } from '../../support/workdir.ts'
import type { CheckResult } from '../../../src/model.ts'

const HUNDRED_MB = 100 * 1024 * 1024
const MAX_OUTPUT = 1024 * 1024
// the CLI (node + tsx + the specs) idles near 150 MB; 100 MB of output must not show up on top
const RSS_BOUND = 300 * 1024 * 1024

let fleet: Fleet
let work: Workdir
let flood: http.Server
let floodPort = 0

beforeAll(async () => {
  fleet = await startFleet({ hosts: 1, name: 'faults-output' })
  work = makeWorkdir()
  // an endpoint that answers with 100 MB, written as fast as the client takes it
  flood = http.createServer((_req, res) => {
    res.writeHead(200, { 'content-type': 'text/plain' })
    const chunk = Buffer.alloc(64 * 1024, 'z')
    let sent = 0
    const pump = () => {
      while (sent < HUNDRED_MB) {
        sent += chunk.length
        if (!res.write(chunk)) return void res.once('drain', pump)
      }
      res.end()
    }
    res.on('error', () => {})
    pump()
  })
  await new Promise<void>(resolve => flood.listen(0, '127.0.0.1', () => resolve()))
  floodPort = (flood.address() as { port: number }).port
  work.write(
    'hosts.yaml',
    `hosts:
  host-1: { address: ${fleet.hosts[0]!.address}, port: ${fleet.port}, user: ${fleet.user}, identityFile: ${fleet.identityFile}, knownHosts: ${fleet.knownHosts} }
`,
  )
})

afterAll(async () => {
  flood?.closeAllConnections()
  await new Promise(resolve => flood?.close(resolve))
  await fleet?.stop()
  work?.remove()
})

describe('a command that prints 100 MB', () => {
  let exitCode: number | undefined
  let peak = 0
  let runMs = 0
  let stdout = ''
  let checks: CheckResult[]

  beforeAll(async () => {
    work.write(
      'flood/flood.spec.ts',
      `
import { describe, it, expect, command, http } from 'postdeploy-verify'
describe('flood', () => {
  it('compares 100 MB of stdout with a short string', async () => {
    expect((await command("head -c ${HUNDRED_MB} /dev/zero | tr '\\\\0' y")).stdout).toBe('short')
  })
  it('sees only the start of 100 MB of stderr', async () => {
    const r = await command('yes >&2')
    expect(r.truncated).toBe(true)
    expect(r.stderr.length).toBe(${MAX_OUTPUT})
  })
  it('reads the start of a 100 MB HTTP body', async () => {
    const r = await http('http://127.0.0.1:${floodPort}/')
    expect(r.truncated).toBe(true)
    expect(r.body.length).toBeLessThanOrEqual(${MAX_OUTPUT})
  })
})
`,
    )
    const started = performance.now()
    const cli = execa(
      'node',
      [
        path.join(REPO_ROOT, 'bin/verify.mjs'),
        '--hosts',
        'host-1',
        '--specs',
        'flood/*.spec.ts',
        '--max-output',
        String(MAX_OUTPUT),
        '--json',
        'out/flood.json',
        '--junit',
        'out/flood.xml',
      ],
      {
        cwd: work.dir,
        env: { NO_COLOR: '1' },
        reject: false,
        stdin: 'ignore',
        timeout: 90_000,
      },
    )
    // VmHWM is the process's own high-water mark: the last reading before exit is the peak
    const poll = setInterval(() => {
      peak = Math.max(peak, peakRssBytes(cli.pid!) ?? 0)
    }, 20)
    const result = await cli
    clearInterval(poll)
    runMs = performance.now() - started
    exitCode = result.exitCode
    if (exitCode !== 1) console.error(String(result.stdout), String(result.stderr))
    stdout = String(result.stdout)
    checks = readResult(work.dir, 'out/flood.json').hosts[0]!.checks
  })

  it('caps what it captures and says the output was truncated, in the report (exit 1: one check fails)', () => {
    expect(exitCode).toBe(1)
    const [compare, stderr, body] = checks
    expect(compare!.status).toBe('failed')
    expect(compare!.truncatedFacts).toEqual([`command:head -c ${HUNDRED_MB} /dev/zero | tr '\\0' y`])
    expect(compare!.message).toMatch(
      /\[output truncated: command:head -c 104857600 \/dev\/zero \| tr '\\0' y \(cut at 1048576 bytes\); the check saw only the start of it: raise --max-output/,
    )
    // the 1 MiB actual value is itself cut for the report
    expect(compare!.actual!.length).toBeLessThan(70 * 1024)
    expect(compare!.actual).toMatch(/… \[\d+ more characters not shown\]$/)
    expect(stderr).toMatchObject({ status: 'passed', truncatedFacts: ['command:yes >&2'] })
    expect(body).toMatchObject({ status: 'passed' })
  })

  it("keeps the CLI's memory bounded, and the reports small", () => {
    expect(peak).toBeGreaterThan(0)
    expect(peak, `peak RSS ${Math.round(peak / 2 ** 20)} MB`).toBeLessThan(RSS_BOUND)
    expect(statSync(path.join(work.dir, 'out/flood.json')).size).toBeLessThan(512 * 1024)
    expect(junitSchemaErrors(path.join(work.dir, 'out/flood.xml'))).toBe('')
    expect(runMs).toBeLessThan(60_000)
  })

  it('says so for a check that passed on cut output too, on the console and in JUnit', () => {
    expect(stdout).toMatch(
      /✓ flood › sees only the start of 100 MB of stderr .*\n\s+output truncated: command:yes >&2 \(the check saw only the start; raise --max-output to see more\)/,
    )
    expect(readFileSync(path.join(work.dir, 'out/flood.xml'), 'utf8')).toMatch(/<system-out>[^<]*output truncated: command:yes &gt;&amp;2/)
  })

  it('keeps the console readable: no line of the report is longer than a screenful', () => {
    expect(stdout).toContain('[output truncated: command:head -c 104857600')
    expect(Math.max(...stdout.split('\n').map(line => line.length))).toBeLessThan(400)
  })
})

describe('output with control bytes, invalid UTF-8 and ANSI sequences', () => {
  let run: Awaited<ReturnType<typeof runCli>>

  beforeAll(async () => {
    // printf escapes: ESC colour and clear-screen, an OSC title and hyperlink, BEL, NUL, BS, CR,
    // a C1 CSI (0xC2 0x9B), invalid UTF-8 (0xFF 0xFE, a lone 0xC2), a bidi override
    const hostile = String.raw`\033[31mred\033[0m \033]0;pwned-title\007 bell\007 nul\000 bs\010 cr\rover \377\376 bad-utf8 \302 C1:\302\2332J \033[2J\033[H \342\200\256reversed \033]8;;http://evil.example\007link\033]8;;\007`
    work.write(
      'hostile/hostile.spec.ts',
      `
import { describe, it, expect, command } from 'postdeploy-verify'
const hostile = ${JSON.stringify(`printf '${hostile}'`)}
describe('hostile \\u001b[1mdescribe\\u0007', () => {
  it('compares hostile stdout', async () => {
    expect((await command(hostile)).stdout).toBe('clean')
  })
  it('title \\u001b[31mred\\u001b[0m \\u0000 \\u009b2J', async () => {
    expect((await command('echo ok')).stdout).toBe('ok\\n')
  })
  it('throws a hostile message', async () => {
    const r = await command(hostile)
    throw new Error('boom: ' + r.stdout)
  })
  it('stays fine', async () => { expect((await command('echo ok')).stdout).toBe('ok\\n') })
})
`,
    )
    run = await runCli(['--hosts', 'host-1', '--specs', 'hostile/*.spec.ts', '--json', 'out/hostile.json', '--junit', 'out/hostile.xml'], {
      cwd: work.dir,
    })
  })

  it('reports the checks as usual (exit 1: the spec throwing fails its check)', () => {
    expect(run.exitCode, run.stdout + run.stderr).toBe(1)
    const checks = readResult(work.dir, 'out/hostile.json').hosts[0]!.checks
    expect(checks.map(c => c.status)).toEqual(['failed', 'passed', 'failed', 'passed'])
  })

  it('writes JUnit that is well-formed and valid against the schema', () => {
    expect(junitSchemaErrors(path.join(work.dir, 'out/hostile.xml'))).toBe('')
    expect(readFileSync(path.join(work.dir, 'out/hostile.xml'), 'utf8')).not.toMatch(RAW_CONTROL)
  })

  it('prints no raw control byte on the console, and keeps the text readable', () => {
    const bad = [...run.stdout].filter(ch => RAW_CONTROL.test(ch)).map(ch => ch.codePointAt(0)!.toString(16))
    expect(bad).toEqual([])
    expect(run.stderr).not.toMatch(RAW_CONTROL)
    expect(run.stdout).toContain('red')
    expect(run.stdout).toContain('bad-utf8')
    expect(run.stdout).toContain('boom: red')
    expect(run.stdout).not.toContain('\u202e')
  })
})
