// The runner's side of process(): how long parsing one host's process table takes (every host of
// a fleet sends one, and on the loopback bench every "host" sees the whole machine's processes).
// Reads this machine's table once with the real snippet, then parses it N times.
//   node --import tsx bench/table-parse.ts [--runs 2000]
import { execFileSync } from 'node:child_process'
import { parseArgs } from 'node:util'
import { standaloneScript } from '../src/probe/fact.ts'
import { parseProcessTable, processTableFact } from '../src/resources/system/process.ts'

const { values } = parseArgs({ options: { runs: { type: 'string', default: '2000' } } })
const runs = Number(values.runs)
const fact = processTableFact()
const out = execFileSync('sh', ['-c', standaloneScript(fact), 'verify-probe', ...fact.args], { maxBuffer: 64 << 20 })
const processes = parseProcessTable(out).processes.length
const start = performance.now()
for (let i = 0; i < runs; i++) parseProcessTable(out)
const ms = (performance.now() - start) / runs
console.log(`process table of ${processes} processes (${out.length} bytes): ${ms.toFixed(3)} ms per parse, mean of ${runs}`)
