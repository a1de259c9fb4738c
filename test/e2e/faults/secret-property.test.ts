// Property: no secret leaves verify, whatever a spec does with it. Secrets are drawn from a
// hostile alphabet (seeded; the seed is printed, `VERIFY_SECRET_SEED=<seed>` replays a run),
// each pushed through every way a spec can show a value, all in one real CLI run on
// `--hosts local` (command() runs in a shell, http() hits a real server echoing the body).
// Then every output is searched for each secret, raw and in each encoding it went through,
// both in the files as written and in the strings they hold once parsed.
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { readFileSync } from 'node:fs'
import path from 'node:path'
import { XMLParser } from 'fast-xml-parser'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { makeWorkdir, runCli, type CliRun, type Workdir } from '../../support/workdir.ts'
import { encodingsOf, hostileSecrets, prng, seedFromEnv } from '../../support/hostile-secrets.ts'
import type { RunResult } from '../../../src/model.ts'

const SEED = seedFromEnv()
const SECRETS = hostileSecrets(prng(SEED), 12)
const REPLAY = `seed ${SEED} (replay: VERIFY_SECRET_SEED=${SEED} npx vitest run test/e2e/faults/secret-property.test.ts)`

/** Every way a spec can show a value: each becomes one check per secret, `v` being the secret. */
const CHANNELS: Record<string, string> = {
  'matcher on an object': `expect({ user: 'app', v }).toEqual({ user: 'app', v: 'x' })`,
  'matcher on an array': `expect(['a', v, 3]).toEqual(['a', 'x', 3])`,
  'toContain on an array': `expect([v]).toContain('x')`,
  'template string': 'expect(`Bearer ${v}`).toBe("Bearer x")',
  URLSearchParams: `expect(new URLSearchParams({ q: 'a', v }).toString()).toBe('q=a')`,
  'URLSearchParams in a requested URL (facts)': `expect((await http(vars.echoUrl + '/q?' + new URLSearchParams({ v }))).status).toBe(201)`,
  encodeURIComponent: "expect(`https://api.example/?v=${encodeURIComponent(v)}`).toBe('https://api.example/')",
  'JSON.stringify': `expect(JSON.stringify({ v })).toBe('{}')`,
  base64: `expect(Buffer.from(v).toString('base64')).toBe('')`,
  'base64 of user:secret (Basic auth)': "expect(`Basic ${Buffer.from('app:' + v).toString('base64')}`).toBe('Basic ')",
  'a thrown error': 'throw new Error(`could not log in with ${v}`)',
  'a thrown error holding JSON': 'throw new TypeError(JSON.stringify({ v }))',
  'a rejected promise': 'await Promise.reject(new Error(v))',
  'command() stdout': `expect((await command('printf %s ' + shq(v))).stdout).toBe('')`,
  'HTTP body echoed': `expect((await http(vars.echoUrl + '/echo', { method: 'POST', body: v })).body).toBe('')`,
}

/** The outputs searched; add the HTML report and the GitHub step summary here once they exist. */
interface Output {
  name: string
  /** The output as written. */
  text(): string
  /** The strings it holds, decoded from its format (JSON strings, XML text and attributes). */
  strings(): string[]
}

let work: Workdir
let server: Server
let run: CliRun
let outputs: Output[]

beforeAll(async () => {
  console.log(`secret property test: ${SECRETS.length} secrets × ${Object.keys(CHANNELS).length + 1} channels, ${REPLAY}`)
  // answers /echo with the request body, everything else with 200 and nothing
  server = createServer((req, res) => {
    const chunks: Buffer[] = []
    req.on('data', (c: Buffer) => chunks.push(c))
    req.on('end', () => res.end(req.url === '/echo' ? Buffer.concat(chunks) : ''))
  })
  await new Promise<void>(resolve => server.listen(0, '127.0.0.1', resolve))
  const echoUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
  const names = SECRETS.map((_, i) => `s${i}`)
  const checks = names.flatMap(name => [
    ...Object.entries(CHANNELS).map(
      ([channel, body]) => `  it(${JSON.stringify(`${name}: ${channel}`)}, async () => { const v = vars.${name}; ${body} })`,
    ),
    // one more way: the value in a check's title (console, JSON id and path, JUnit names)
    `  it(${JSON.stringify(`${name}: in the title `)} + vars.${name}, () => { expect(1).toBe(2) })`,
  ])
  work = makeWorkdir({
    'specs/secrets.spec.ts': `
import { describe, it, expect, command, http, secret, z } from 'postdeploy-verify'
const shq = (s: string) => "'" + s.replaceAll("'", "'\\\\''") + "'"
const Vars = z.object({ echoUrl: z.string(), ${names.map(n => `${n}: secret(z.string())`).join(', ')} })
describe('secrets', { vars: Vars }, ({ vars }) => {
${checks.join('\n')}
})
`,
  })
  const varArgs = SECRETS.flatMap((value, i) => ['--var', `s${i}=${JSON.stringify(value)}`])
  run = await runCli(
    ['--hosts', 'local', '--var', `echoUrl=${echoUrl}`, ...varArgs, '--json', 'out/run.json', '--junit', 'out/run.xml', '--timings'],
    { cwd: work.dir },
  )
  const read = (file: string) => readFileSync(path.join(work.dir, file), 'utf8')
  outputs = [
    { name: 'console', text: () => run.stdout + run.stderr, strings: () => [run.stdout, run.stderr] },
    { name: 'JSON', text: () => read('out/run.json'), strings: () => stringsIn(JSON.parse(read('out/run.json'))) },
    {
      name: 'JUnit',
      text: () => read('out/run.xml'),
      strings: () =>
        stringsIn(
          new XMLParser({ ignoreAttributes: false, attributeNamePrefix: '', processEntities: true, htmlEntities: true }).parse(
            read('out/run.xml'),
          ),
        ),
    },
    // { name: 'HTML', … }, { name: 'GitHub summary', … }: once `verify` writes them (issue 11)
  ]
})

afterAll(async () => {
  await new Promise(resolve => server?.close(resolve))
  work?.remove()
})

function stringsIn(value: unknown): string[] {
  if (typeof value === 'string') return [value]
  if (value === null || typeof value !== 'object') return []
  return Object.entries(value).flatMap(([key, inner]) => [key, ...stringsIn(inner)])
}

describe(`hostile secrets through every channel (${REPLAY})`, () => {
  it('every channel really showed its secret: each check failed or errored, and says where the secret was', () => {
    // 3: the `throw new TypeError(…)` channel is a bug in spec code (a spec error), which outranks the errors
    expect(run.exitCode, `${REPLAY}\n${run.stderr}`).toBe(3)
    const result = JSON.parse(outputs[1]!.text()) as RunResult
    const checks = result.hosts[0]!.checks
    expect(checks.length).toBe(SECRETS.length * (Object.keys(CHANNELS).length + 1))
    const silent = checks.filter(
      c =>
        c.status === 'passed' ||
        !/\[secret:s\d+\]|withheld because they contain/.test(
          `${c.message} ${c.actual} ${c.expected} ${c.facts.join(' ')} ${c.path.join(' ')}`,
        ),
    )
    expect(
      silent.map(c => `${c.path.at(-1)}: ${c.status} ${c.message}`),
      REPLAY,
    ).toEqual([])
  })

  it('no output holds any secret, raw or in any encoding it went through', () => {
    const found: string[] = []
    let searched = 0
    for (const output of outputs) {
      const texts = [output.text(), ...output.strings()]
      SECRETS.forEach((secret, i) => {
        for (const [encoding, form] of Object.entries(encodingsOf(secret))) {
          searched++
          if (texts.some(t => t.includes(form))) found.push(`${output.name}: s${i} ${encoding}: ${JSON.stringify(form)}`)
        }
      })
    }
    console.log(
      run.stderr
        .split('\n')
        .filter(l => /start-up|spec files|checked|report/.test(l))
        .join('\n'),
    )
    console.log(
      `secret property test: searched ${outputs.length} outputs × ${SECRETS.length} secrets × ${Object.keys(encodingsOf('x')).length} encodings = ${searched} (CLI run ${run.ms} ms)`,
    )
    expect(found, `${REPLAY}\nsecrets: ${JSON.stringify(SECRETS)}`).toEqual([])
  })
})
