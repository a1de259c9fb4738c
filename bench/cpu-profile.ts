// Sums a V8 .cpuprofile's self time by where the code lives: an npm package, a file of this
// repository, Node's own modules, GC, idle. For `node --cpu-prof --cpu-prof-dir D bin/verify.mjs …`
// (one profile per thread: tsx's loader hooks run on a thread of their own).
//
//   node --import tsx bench/cpu-profile.ts D/*.cpuprofile
import { readFileSync } from 'node:fs'
import path from 'node:path'
import { fileURLToPath } from 'node:url'

const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..')

interface CpuProfile {
  nodes: Array<{ id: number; callFrame: { url: string; functionName: string } }>
  samples: number[]
  timeDeltas: number[]
}

export interface ProfileSummary {
  totalMs: number
  owners: Array<{ owner: string; ms: number }>
}

/** `undici`, `@jest/expect-utils`, `src/runner/host.ts`, `node: (Node built-ins)`, `(garbage collector)`… */
export function ownerOf(url: string, functionName: string): string {
  if (!url) return functionName.startsWith('(') ? functionName : '(native)'
  if (url.startsWith('node:')) return builtinCategory(url)
  const file = url.startsWith('file://') ? fileURLToPath(url.split('?')[0]!) : url
  const nm = file.lastIndexOf('/node_modules/')
  if (nm >= 0) {
    const [scope = '', name = ''] = file.slice(nm + '/node_modules/'.length).split('/')
    return scope.startsWith('@') ? `${scope}/${name}` : scope
  }
  return file.startsWith(REPO) ? path.relative(REPO, file) : file
}

/** Node's own code, by what it was doing for us. */
function builtinCategory(url: string): string {
  if (/^node:internal\/(modules|deps\/cjs-module-lexer|bootstrap)/.test(url))
    return 'node: module loading (ESM/CJS loaders, loader-hook round trips, CJS export lexing)'
  if (/child_process/.test(url)) return 'node: child processes (spawn)'
  if (/crypto/.test(url)) return 'node: crypto'
  if (/^node:(net|internal\/(stream|streams|net|tcp|pipe))/.test(url)) return 'node: sockets and streams'
  return 'node: other built-ins'
}

export function summarizeProfile(profile: CpuProfile): ProfileSummary {
  const byId = new Map(profile.nodes.map(n => [n.id, n]))
  const totals = new Map<string, number>()
  let all = 0
  profile.samples.forEach((id, i) => {
    const node = byId.get(id)!
    const us = profile.timeDeltas[i] ?? 0
    const owner = ownerOf(node.callFrame.url, node.callFrame.functionName)
    totals.set(owner, (totals.get(owner) ?? 0) + us)
    all += us
  })
  return { totalMs: all / 1000, owners: [...totals].map(([owner, us]) => ({ owner, ms: us / 1000 })).sort((a, b) => b.ms - a.ms) }
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  for (const file of process.argv.slice(2)) {
    const { totalMs, owners } = summarizeProfile(JSON.parse(readFileSync(file, 'utf8')) as CpuProfile)
    const busy = owners.filter(o => o.owner !== '(idle)').reduce((sum, o) => sum + o.ms, 0)
    process.stdout.write(`${path.basename(file)}: ${totalMs.toFixed(0)} ms profiled, ${busy.toFixed(0)} ms not idle\n`)
    for (const { owner, ms } of owners.slice(0, 25)) process.stdout.write(`  ${ms.toFixed(0).padStart(6)} ms  ${owner}\n`)
  }
}
