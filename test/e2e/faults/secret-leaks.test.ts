// The two leaks issue 11 reported, reproduced through the real CLI on `--hosts local`: a secret
// var whose value holds `"`, `\`, a space, `/`, `+`, `&`, `=`, `%` and a non-ASCII letter
// (a) fails toEqual inside an object (the matcher's formatting doubles the `\`), and
// (b) goes into a URL through URLSearchParams (space → `+`), which the JSON lists in the facts.
// And `verify snapshot`, which records every fact's answer: a command echoing the value.
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { readFileSync } from 'node:fs'
import path from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { makeWorkdir, runCli, type CliRun, type Workdir } from '../../support/workdir.ts'
import type { RunResult } from '../../../src/model.ts'

const TOKEN = 'tk "q\\7 a/b+c&d=e%f é-Zq9'

let work: Workdir
let server: Server
let run: CliRun
let json: string
let junit: string
let snapshot: CliRun

beforeAll(async () => {
  server = createServer((_req, res) => res.end('ok'))
  await new Promise<void>(resolve => server.listen(0, '127.0.0.1', resolve))
  const port = (server.address() as AddressInfo).port
  work = makeWorkdir({
    'specs/leak.spec.ts': `
import { describe, it, expect, command, http, secret, z } from 'postdeploy-verify'
const Vars = z.object({ token: secret(z.string()) })
describe('leaks', { vars: Vars }, ({ vars }) => {
  it('compares an object holding the token', () => {
    expect({ t: vars.token }).toEqual({ t: 'x' })
  })
  it('calls a URL built with URLSearchParams', async () => {
    const res = await http('http://127.0.0.1:${port}/check?' + new URLSearchParams({ token: vars.token }).toString())
    expect(res.status).toBe(200)
  })
  it('echoes it on the host', async () => {
    const shq = (s: string) => "'" + s.replaceAll("'", "'\\''") + "'"
    const out = await command('printf %s ' + shq(vars.token) + '; printf %s ' + shq(JSON.stringify({ admin: vars.token })))
    expect(out.exitStatus).toBe(0)
  })
})
`,
  })
  const token = ['--var', `token=${JSON.stringify(TOKEN)}`]
  ;[run, snapshot] = await Promise.all([
    runCli(['--hosts', 'local', ...token, '--json', 'out/run.json', '--junit', 'out/run.xml'], { cwd: work.dir }),
    runCli(['snapshot', '--hosts', 'local', ...token, '-o', 'out/snapshot.json'], { cwd: work.dir }),
  ])
  json = readFileSync(path.join(work.dir, 'out/run.json'), 'utf8')
  junit = readFileSync(path.join(work.dir, 'out/run.xml'), 'utf8')
})

afterAll(async () => {
  await new Promise(resolve => server?.close(resolve))
  work?.remove()
})

/** The token's distinctive parts, in the shapes the report formats produced before the fix. */
const PIECES = ['7 a/b', '7 a%2Fb', '7+a%2Fb', 'a/b+c', 'e%f', 'e%25f', 'é-Zq9', '%C3%A9-Zq9', 'Zq9']

function leaks(text: string): string[] {
  return PIECES.filter(piece => text.includes(piece))
}

describe('a secret var with quote, backslash, space, / + & = % and é', () => {
  it('the run really exercised every channel: one failed check, two passed', () => {
    expect(run.exitCode, run.stdout + run.stderr).toBe(1)
    const result = JSON.parse(json) as RunResult
    expect(result.hosts[0]!.checks.map(c => c.status)).toEqual(['failed', 'passed', 'passed'])
  })

  it('(a) toEqual on an object: the console, the JSON actual and the JUnit failure message hold no part of it', () => {
    const check = (JSON.parse(json) as RunResult).hosts[0]!.checks[0]!
    expect(check.actual).toContain('[secret:token]')
    expect(leaks(run.stdout + run.stderr)).toEqual([])
    expect(leaks(`${check.message}\n${check.actual}\n${check.expected}`)).toEqual([])
    expect(leaks(junit)).toEqual([])
  })

  it('(b) a URLSearchParams URL: the JSON facts hold no part of it', () => {
    const check = (JSON.parse(json) as RunResult).hosts[0]!.checks[1]!
    expect(check.facts.join('\n')).toContain('[secret:token]')
    expect(leaks(check.facts.join('\n'))).toEqual([])
    expect(leaks(json)).toEqual([])
  })

  it('verify snapshot: the recorded command and its stdout hold [secret:token], never the value', () => {
    expect(snapshot.exitCode, snapshot.stdout + snapshot.stderr).toBe(0)
    const text = readFileSync(path.join(work.dir, 'out/snapshot.json'), 'utf8')
    const facts = (JSON.parse(text) as { hosts: Array<{ facts: Record<string, { stdout: string }> }> }).hosts[0]!.facts
    const echoed = Object.entries(facts).find(([key]) => key.startsWith('command:printf'))
    expect(echoed?.[1].stdout).toBe('[secret:token]{"admin":"[secret:token]"}')
    expect(leaks(text)).toEqual([])
  })
})
