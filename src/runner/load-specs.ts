// Finds and imports spec files. Imports run one at a time so each describe() call is
// attributed to the file being loaded; a file that fails to load is a ConfigError (exit 3).
import path from 'node:path'
import { pathToFileURL } from 'node:url'
import { glob } from 'tinyglobby'
import { ConfigError } from '../errors.ts'
import { loadSpec, type LoadedSpec } from '../dsl/registry.ts'

export async function loadSpecs(pattern: string, cwd = process.cwd()): Promise<LoadedSpec[]> {
  const files = (await glob(pattern, { cwd, absolute: true, ignore: ['**/node_modules/**'] })).sort()
  if (files.length === 0) throw new ConfigError(`no spec files match ${pattern} (in ${cwd})`)
  const specs: LoadedSpec[] = []
  const problems: string[] = []
  for (const abs of files) {
    const rel = path.relative(cwd, abs) || abs
    try {
      const spec = await loadSpec(rel, () => import(pathToFileURL(abs).href))
      if (spec.definitions.length === 0) problems.push(`${rel}: declares no describe() or it() blocks`)
      specs.push(spec)
    } catch (error) {
      problems.push(describeLoadError(rel, abs, error))
    }
  }
  if (problems.length > 0) throw new ConfigError(`spec files could not be loaded:\n${problems.map((p) => `  ${p}`).join('\n')}`)
  return specs
}

/** `file:line: message`, from the transform error or the first stack frame in the file. */
function describeLoadError(rel: string, abs: string, error: unknown): string {
  const err = error instanceof Error ? error : new Error(String(error))
  const located = new RegExp(`${escapeRegExp(abs)}:(\\d+):(\\d+)`).exec(`${err.message}\n${err.stack ?? ''}`)
  const where = located ? `${rel}:${located[1]}:${located[2]}` : rel
  if (/require\(\) (of )?ES Module|require\(esm\)/.test(err.message)) {
    return `${rel}: loaded as CommonJS; specs are ES modules: add "type": "module" to the package.json next to your specs (or name the file .spec.mts)`
  }
  const message = err.message.replaceAll(abs, rel).split('\n').filter((l) => l.trim() !== '').slice(0, 4).join(' ')
  return `${where}: ${err.name === 'Error' ? '' : `${err.name}: `}${message}`
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')
}
