#!/usr/bin/env node
// The layer rules of ARCHITECTURE.md, checked over src/: which folder may import which, nothing
// imports cli.ts, and no import circles (type-only imports included: a type circle is still a
// tangle a newcomer has to untie). Plain Node, no dependency: relative imports are all we use.
import { readFileSync, readdirSync, statSync } from 'node:fs'
import { dirname, join, relative, resolve } from 'node:path'

const root = resolve(dirname(new URL(import.meta.url).pathname), '..')
const src = join(root, 'src')

// [from folder prefix, forbidden folder prefix, why]
const RULES = [
  ['src/resources/', 'src/transports/', 'resources declare facts; how a host is reached is not theirs'],
  ['src/runner/', 'src/resources/', 'the runner decides who runs what when, not what is checked'],
  ['src/reporters/', 'src/runner/', 'reporters tell a RunResult; they do not run anything'],
  ['src/reporters/', 'src/transports/', 'reporters never touch a host'],
  ['src/probe/', 'src/resources/', 'the probe reads facts for any resource'],
  ['src/transports/', 'src/resources/', 'transports carry bytes'],
  ['src/transports/', 'src/runner/', 'transports carry bytes'],
  ['src/inventory/', 'src/runner/', 'the inventory is read before anything runs'],
]

// Allowed crossings, each with why. `verify list` and `--dry-run` report a plan, not a RunResult:
// the plan (runner/plan.ts, runner/dry-run.ts) is the model they tell.
const ALLOWED = new Set(['src/reporters/list.ts -> src/runner/plan.ts', 'src/reporters/dry-run.ts -> src/runner/dry-run.ts'])
// Known exceptions to remove: none left (listed here, with why, should one be needed).
const KNOWN = new Set([])

function filesUnder(dir) {
  return readdirSync(dir).flatMap(name => {
    const path = join(dir, name)
    if (statSync(path).isDirectory()) return filesUnder(path)
    return /\.(ts|mts)$/.test(name) && !name.endsWith('.d.ts') ? [path] : []
  })
}

/** Relative import specifiers of a module, static and dynamic, type-only included. */
function importsOf(file) {
  const text = readFileSync(file, 'utf8')
  const found = new Set()
  const patterns = [
    /(?:^|\n)\s*(?:import|export)\s[^'"]*?from\s*['"](\.[^'"]+)['"]/g,
    /import\(\s*['"](\.[^'"]+)['"]\s*\)/g,
    /(?:^|\n)\s*import\s*['"](\.[^'"]+)['"]/g,
  ]
  for (const pattern of patterns) for (const m of text.matchAll(pattern)) found.add(resolve(dirname(file), m[1]))
  return [...found]
}

const rel = p => relative(root, p)
const files = filesUnder(src)
const graph = new Map(files.map(f => [f, importsOf(f).filter(t => t.startsWith(src))]))
const problems = []

for (const [from, targets] of graph) {
  for (const to of targets) {
    const edge = `${rel(from)} -> ${rel(to)}`
    if (ALLOWED.has(edge) || KNOWN.has(edge)) continue
    if (rel(to) === 'src/cli.ts') problems.push(`${rel(from)} imports src/cli.ts: nothing imports the CLI`)
    for (const [a, b, why] of RULES) {
      if (rel(from).startsWith(a) && rel(to).startsWith(b))
        problems.push(`${rel(from)} imports ${rel(to)}: ${a} may not import ${b} (${why})`)
    }
  }
}

// Circles: Tarjan's strongly connected components; any component of two or more is a circle.
let index = 0
const stack = []
const meta = new Map()
const circles = []
function visit(v) {
  meta.set(v, { index, low: index, onStack: true })
  index++
  stack.push(v)
  for (const w of graph.get(v) ?? []) {
    if (!graph.has(w)) continue
    if (!meta.has(w)) {
      visit(w)
      meta.get(v).low = Math.min(meta.get(v).low, meta.get(w).low)
    } else if (meta.get(w).onStack) meta.get(v).low = Math.min(meta.get(v).low, meta.get(w).index)
  }
  if (meta.get(v).low === meta.get(v).index) {
    const component = []
    let w
    do {
      w = stack.pop()
      meta.get(w).onStack = false
      component.push(w)
    } while (w !== v)
    if (component.length > 1) circles.push(component.map(rel).sort())
  }
}
for (const f of files) if (!meta.has(f)) visit(f)
for (const c of circles) if (!KNOWN.has(`circle ${c.join(' ↔ ')}`)) problems.push(`import circle: ${c.join(' ↔ ')}`)

if (problems.length > 0) {
  console.error(`check-imports: ${problems.length} problem(s) in ${files.length} modules:\n  ${problems.join('\n  ')}`)
  process.exit(1)
}
console.log(
  `check-imports: ${files.length} modules, ${[...graph.values()].reduce((n, t) => n + t.length, 0)} imports, layer rules hold, no circles`,
)
