// Finds and imports spec files. Imports run one at a time so each describe() call is
// attributed to the file being loaded; a file that fails to load is a ConfigError (exit 3).
import path from 'node:path'
import { pathToFileURL } from 'node:url'
import { glob } from 'tinyglobby'
import { ConfigError } from '../errors.ts'
import { loadSpec } from '../dsl/registry/declare.ts'
import type { LoadedSpec } from '../dsl/registry/types.ts'
import { prepareLoader } from './spec-loader.ts'

export async function loadSpecs(pattern: string, cwd = process.cwd()): Promise<LoadedSpec[]> {
  const files = (await glob(pattern, { cwd, absolute: true, ignore: ['**/node_modules/**'] })).sort()
  if (files.length === 0) throw new ConfigError(`no spec files match ${pattern} (in ${cwd})`)
  const { specs, problems } = await loadSpecFiles(files, cwd)
  if (problems.length > 0) throw new ConfigError(`spec files could not be loaded:\n${problems.map(p => `  ${p}`).join('\n')}`)
  return specs
}

/** Imports each file (absolute paths), keeping the ones that load; a problem per file that does not. */
export async function loadSpecFiles(files: readonly string[], cwd = process.cwd()): Promise<{ specs: LoadedSpec[]; problems: string[] }> {
  const specs: LoadedSpec[] = []
  const problems: string[] = []
  await prepareLoader(files)
  for (const abs of files) {
    const rel = path.relative(cwd, abs) || abs
    try {
      const spec = await loadSpec(rel, () => import(pathToFileURL(abs).href), abs)
      if (spec.definitions.length === 0) problems.push(`${rel}: declares no describe() or it() blocks`)
      specs.push(spec)
    } catch (error) {
      problems.push(describeLoadError(rel, abs, error, cwd))
    }
  }
  return { specs, problems }
}

/** `file:line: message`, from the transform error or the first stack frame in the file. */
function describeLoadError(rel: string, abs: string, error: unknown, cwd: string): string {
  const err = error instanceof Error ? error : new Error(String(error))
  const located = new RegExp(`${escapeRegExp(abs)}:(\\d+):(\\d+)`).exec(`${err.message}\n${err.stack ?? ''}`)
  const where = located ? `${rel}:${located[1]}:${located[2]}` : rel
  if (/require\(\) (of )?ES Module|require\(esm\)/.test(err.message)) {
    return `${rel}: loaded as CommonJS; specs are ES modules: add "type": "module" to the package.json next to your specs (or name the file .spec.mts)`
  }
  const message = err.message
    .replaceAll(abs, rel)
    .split('\n')
    .filter(l => l.trim() !== '')
    .slice(0, 4)
    .join(' ')
  // thrown by a module the spec imports: point at the line that threw, in the user's own file
  const origin = located ? '' : projectFrame(err, cwd)
  return `${where}: ${err.name === 'Error' ? '' : `${err.name}: `}${message}${origin ? ` (at ${origin})` : ''}`
}

/** `dir/file.ts:3:9` of the first stack frame in a file of the project (not node_modules), or ''. */
function projectFrame(err: Error, cwd: string): string {
  for (const line of (err.stack ?? '').split('\n').slice(1)) {
    const match = /\(?(?:file:\/\/)?(\/[^()\s]+):(\d+):(\d+)\)?$/.exec(line.trim())
    if (!match || !match[1]!.startsWith(`${cwd}/`) || match[1]!.includes('/node_modules/')) continue
    return `${path.relative(cwd, match[1]!)}:${match[2]}:${match[3]}`
  }
  return ''
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')
}
