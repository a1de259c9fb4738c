#!/usr/bin/env node
// Builds dist/ from src/: the .d.ts with tsc (tsconfig.build.json, declarations only), then
// points their relative imports at .js (tsc keeps `.ts` specifiers in declarations, which older
// compilers refuse); the JavaScript with esbuild, bundled (scripts/bundle.mjs: start-up).
// The entry's declarations reference Node's types, which the public ones need.
// `--if-stale`: only when a file under src/ (or the build config) is newer than the last build.
import { execFileSync } from 'node:child_process'
import { copyFileSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { bundle } from './bundle.mjs'

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..')
const DIST = path.join(ROOT, 'dist')
const STAMP = path.join(DIST, '.built')

function* files(dir) {
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const abs = path.join(dir, entry.name)
    if (entry.isDirectory()) yield* files(abs)
    else yield abs
  }
}

function stale() {
  if (!existsSync(STAMP)) return true
  const built = statSync(STAMP).mtimeMs
  const inputs = [
    ...files(path.join(ROOT, 'src')),
    path.join(ROOT, 'tsconfig.build.json'),
    path.join(ROOT, 'tsconfig.json'),
    path.join(ROOT, 'package.json'),
    path.join(ROOT, 'scripts', 'bundle.mjs'),
  ]
  return inputs.some(f => statSync(f).mtimeMs > built)
}

if (process.argv.includes('--if-stale') && !stale()) process.exit(0)

const tsc = createRequire(path.join(ROOT, 'package.json')).resolve('typescript/bin/tsc')
rmSync(DIST, { recursive: true, force: true })
execFileSync(process.execPath, [tsc, '-p', path.join(ROOT, 'tsconfig.build.json'), '--emitDeclarationOnly'], {
  stdio: 'inherit',
  cwd: ROOT,
})
await bundle(ROOT, DIST)
const RELATIVE_TS = /((?:from|import)\s*\(?\s*['"])(\.{1,2}\/[^'"]+?)\.(m?)ts(['"])/g
for (const file of files(DIST)) {
  if (!file.endsWith('.d.ts')) continue
  const text = readFileSync(file, 'utf8')
  // `#private;` (a class with #fields) is an error for a user's compiler below ES2015 targets
  // (TS18028, e.g. module ESNext with no target); no public API relies on those classes' nominality
  const rewritten = text
    .replace(RELATIVE_TS, (_m, head, spec, m, quote) => `${head}${spec}.${m}js${quote}`)
    .replace(/^\s*#private;\n/gm, '')
  if (rewritten !== text) writeFileSync(file, rewritten)
}
// files tsc does not emit that modules read at run time (the HTML report's stylesheet and script)
for (const file of files(path.join(ROOT, 'src'))) {
  if (/\.(ts|mts)$/.test(file)) continue
  const target = path.join(DIST, path.relative(path.join(ROOT, 'src'), file))
  mkdirSync(path.dirname(target), { recursive: true })
  copyFileSync(file, target)
}
// the public types name Buffer, AbortSignal and node:stream: Node's types come with them
// (@types/node is a dependency), even under a tsconfig with "types": []
const INDEX_DTS = path.join(DIST, 'index.d.ts')
writeFileSync(INDEX_DTS, `/// <reference types="node" />\n${readFileSync(INDEX_DTS, 'utf8')}`)
writeFileSync(STAMP, `${new Date().toISOString()}\n`)
