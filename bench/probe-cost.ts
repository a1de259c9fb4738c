// What one fact costs the host, in CPU: the batched probe script (per fact: its own `timeout`,
// `sh -c`, and `od -N` for stdout and for stderr) against the same snippet run bare.
// On the bench's loopback fleet every "host" shares the runner's two cores, so this cost, times
// facts × hosts, is what separates verify's wall time from the `ssh true` floor there.
//   node --import tsx bench/probe-cost.ts [--facts 22] [--runs 20]
import { execFileSync } from 'node:child_process'
import { parseArgs } from 'node:util'
import { buildScript, PROBE_MARKER, type ScriptFact } from '../src/probe/script.ts'
import { statFact } from '../src/resources/file.ts'
import { shellQuote } from '../src/probe/quote.ts'
import { reapedCpuSec } from './measure.ts'

const { values } = parseArgs({ options: { facts: { type: 'string', default: '22' }, runs: { type: 'string', default: '20' } } })
const facts = Number(values.facts)
const runs = Number(values.runs)

function perFactCpuMs(script: string): number {
  const before = reapedCpuSec(process.pid)
  for (let i = 0; i < runs; i++) execFileSync('/bin/sh', ['-s'], { input: script, stdio: ['pipe', 'ignore', 'ignore'] })
  return ((reapedCpuSec(process.pid) - before) * 1000) / (runs * facts)
}

const paths = Array.from({ length: facts }, (_, i) => (i % 2 ? '/etc/passwd' : '/usr/bin'))
const batch: ScriptFact[] = paths.map((p, id) => ({ id, request: statFact(p), timeoutSec: 10, maxBytes: 1024 * 1024 }))
const snippet = statFact('/').script
const variants = [
  ['batched probe (timeout, sh -c, od for stdout and stderr)', buildScript('V0123456789abcdef01234567', batch)],
  ['the snippet under sh -c, nothing else', paths.map((p) => `sh -c ${shellQuote(snippet)} ${PROBE_MARKER} ${shellQuote(p)}`).join('\n')],
  ['the snippet under timeout and sh -c', paths.map((p) => `timeout -k 2 10 sh -c ${shellQuote(snippet)} ${PROBE_MARKER} ${shellQuote(p)}`).join('\n')],
  ['stat alone', paths.map((p) => `stat -c '%f %a %u %g %s %Y %U %G' -- ${shellQuote(p)}`).join('\n')],
] as const

console.log(`CPU per fact on this machine (${facts} stat facts per script, ${runs} runs each):`)
for (const [label, script] of variants) console.log(`  ${label.padEnd(52)} ${perFactCpuMs(script).toFixed(2)} ms`)
