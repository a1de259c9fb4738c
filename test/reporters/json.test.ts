// JSON reporter: the model round-trips unchanged and readers find schemaVersion first.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { exitCodeFor, SCHEMA_VERSION, summarize } from '../../src/model.ts'
import type { HostResult, RunResult } from '../../src/model.ts'
import { renderJson, writeJson } from '../../src/reporters/json.ts'

function sampleRun(): RunResult {
  const hosts: HostResult[] = [
    {
      host: { name: 'web-1.example.com', address: '10.0.0.11', port: 22, user: 'deploy', transport: 'ssh', groups: ['web'] },
      status: 'verified',
      checks: [
        {
          id: 'specs/web.spec.ts::nginx › serves 200',
          file: 'specs/web.spec.ts',
          line: 7,
          path: ['nginx', 'serves 200'],
          status: 'failed',
          durationMs: 12,
          expected: '200',
          actual: '503',
          // raw command output stays raw in JSON: escaping is JSON.stringify's job
          message: 'body: \x1b[31m<&>\x1b[0m \x00 \ud800 ]]>',
          facts: ['http:https://web-1.example.com/healthz'],
        },
      ],
      timings: { connectMs: 100, checksMs: 50, totalMs: 150 },
      execChannels: 1,
    },
    {
      host: { name: 'db-1', address: 'db-1', port: 2222, transport: 'ssh', groups: [] },
      status: 'error',
      error: { kind: 'unreachable', message: 'connect ECONNREFUSED' },
      checks: [],
      timings: { totalMs: 3000 },
      execChannels: 0,
    },
  ]
  const summary = summarize(hosts)
  // schemaVersion deliberately not first here: renderJson must put it first regardless
  return {
    tool: { name: 'postdeploy-verify', version: '0.0.0-test' },
    schemaVersion: SCHEMA_VERSION,
    startedAt: '2025-03-04T05:06:07.890Z',
    finishedAt: '2025-03-04T05:06:10.000Z',
    durationMs: 2110,
    configErrors: [],
    hosts,
    summary,
    exitCode: exitCodeFor(summary, []),
  }
}

const dirs: string[] = []
afterAll(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true })
})

describe('renderJson', () => {
  it('round-trips the model unchanged', () => {
    const run = sampleRun()
    expect(JSON.parse(renderJson(run))).toStrictEqual(run)
  })

  it('puts schemaVersion first and pretty-prints', () => {
    const text = renderJson(sampleRun())
    expect(text.startsWith(`{\n  "schemaVersion": ${SCHEMA_VERSION},\n`)).toBe(true)
    expect(Object.keys(JSON.parse(text) as object)[0]).toBe('schemaVersion')
    expect(text.endsWith('}\n')).toBe(true)
  })

  it('stays valid JSON with control bytes and lone surrogates in messages', () => {
    const text = renderJson(sampleRun())
    expect(text).not.toMatch(/[\u0000-\u0009\u000b-\u001f]/)
    expect(text).toContain('\\u001b[31m')
    expect(text).toContain('\\ud800')
  })
})

describe('writeJson', () => {
  it('creates parent directories and writes what renderJson renders', () => {
    const dir = mkdtempSync(join(tmpdir(), 'verify-json-'))
    dirs.push(dir)
    const file = join(dir, 'reports', 'nested', 'verify.json')
    writeJson(sampleRun(), file)
    expect(readFileSync(file, 'utf8')).toBe(renderJson(sampleRun()))
  })
})
