// Runs once before all test files: the end-to-end tests run bin/verify.mjs, which runs the
// compiled dist/, so it is rebuilt first when a source file changed since the last build.
import { execFileSync } from 'node:child_process'
import path from 'node:path'
import { fileURLToPath } from 'node:url'

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..')

export default function setup(): void {
  execFileSync(process.execPath, [path.join(ROOT, 'scripts', 'build.mjs'), '--if-stale'], { stdio: 'inherit', cwd: ROOT })
}
