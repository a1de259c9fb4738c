import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { mergeResults } from '../../src/commands/merge.ts'
import { parseThreshold } from '../../src/runner/gate.ts'
import { finishRun } from '../../src/runner/run.ts'
import type { CheckResult, HostResult } from '../../src/model.ts'

const dir = mkdtempSync(path.join(os.tmpdir(), 'verify-merge-'))
afterAll(() => rmSync(dir, { recursive: true, force: true }))

const host = (name: string, status: CheckResult['status']): HostResult => ({
  host: { name, address: name, port: 22, transport: 'ssh', groups: [] },
  status: 'verified',
  checks: [{ id: 'specs/a.spec.ts::a', file: 'specs/a.spec.ts', path: ['a'], status, durationMs: 1, facts: [] }],
  timings: { totalMs: 1 },
  execChannels: 1,
})
function write(name: string, hosts: HostResult[], configErrors: string[] = []): string {
  const file = path.join(dir, name)
  writeFileSync(file, JSON.stringify(finishRun(new Date(), hosts, configErrors)))
  return file
}

describe('verify merge', () => {
  it('combines shards and applies the threshold across all hosts', () => {
    const a = write('a.json', [host('web-1', 'passed'), host('web-3', 'failed')])
    const b = write('b.json', [host('web-2', 'passed'), host('web-4', 'passed')])
    const strict = mergeResults([a, b])
    expect(strict.summary).toMatchObject({ hosts: 4, checks: 4, failed: 1, hostsFailed: 1 })
    expect(strict.exitCode).toBe(1)
    expect(strict.selection).toEqual({ mergedFrom: [a, b] })
    const gated = mergeResults([a, b], parseThreshold('25%'))
    expect(gated.exitCode).toBe(0)
    expect(gated.gate).toMatchObject({ allowed: 1, failingHosts: ['web-3'], tolerated: true })
  })

  it('refuses overlapping shards, other schema versions, and files that are not results', () => {
    const a = write('o1.json', [host('web-1', 'passed')])
    const b = write('o2.json', [host('web-1', 'passed')])
    expect(() => mergeResults([a, b])).toThrow(/host web-1 is in both .*o1.json and .*o2.json/)
    const v2 = path.join(dir, 'v2.json')
    writeFileSync(v2, JSON.stringify({ schemaVersion: 2, hosts: [] }))
    expect(() => mergeResults([v2])).toThrow(/schemaVersion 2, this verify reads 1/)
    const junk = path.join(dir, 'junk.json')
    writeFileSync(junk, '<xml/>')
    expect(() => mergeResults([junk])).toThrow(/not JSON/)
    expect(() => mergeResults([path.join(dir, 'missing.json')])).toThrow(/no such result file/)
  })

  it("keeps each shard's config errors, prefixed with its file, and never tolerates them", () => {
    const a = write('c1.json', [], ['hosts.yaml:3: bad'])
    const b = write('c2.json', [host('web-2', 'passed')])
    const merged = mergeResults([a, b], parseThreshold('100%'))
    expect(merged.configErrors).toEqual([`${a}: hosts.yaml:3: bad`])
    expect(merged.exitCode).toBe(3)
  })
})
