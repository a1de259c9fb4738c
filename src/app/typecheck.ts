// Type-checks spec files with the TypeScript compiler API against the types of the
// postdeploy-verify package they import, the way the editor does: a typo in a var name, a
// wrong matcher argument or a bad option is found without running anything.
import { createRequire } from 'node:module'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import type * as TS from 'typescript'

const PACKAGE_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..')

export interface TypeProblem {
  /** Relative to the working directory. */
  file?: string
  line?: number
  col?: number
  /** `TS2322: Type 'string' is not assignable to type 'number'.` */
  message: string
}

/**
 * Fixed, strict settings (independent of any tsconfig.json) that match how verify loads specs:
 * ES modules resolved the Node way, `.ts` imports allowed, nothing emitted.
 */
function compilerOptions(ts: typeof TS, cwd: string): TS.CompilerOptions {
  return {
    strict: true,
    noEmit: true,
    target: ts.ScriptTarget.ES2022,
    module: ts.ModuleKind.NodeNext,
    moduleResolution: ts.ModuleResolutionKind.NodeNext,
    allowImportingTsExtensions: true,
    // .js/.mjs specs are part of the program (their imports resolve) but not type-checked
    allowJs: true,
    esModuleInterop: true,
    skipLibCheck: true,
    resolveJsonModule: true,
    lib: ['lib.es2023.d.ts'],
    // Node's types when the project (or this package) has them; specs may use process.env
    ...nodeTypes(cwd),
  }
}

/** Type errors in the given files and the local modules they import (not in node_modules or this package). */
export async function typecheckSpecs(files: readonly string[], cwd: string): Promise<TypeProblem[]> {
  const ts = loadTypeScript(cwd)
  if (!ts) return [{ message: TYPESCRIPT_MISSING }]
  const program = ts.createProgram({ rootNames: files.map(f => path.resolve(cwd, f)), options: compilerOptions(ts, cwd) })
  const ownFiles = program.getSourceFiles().filter(sf => isProjectFile(sf.fileName))
  const diagnostics = [
    ...program.getOptionsDiagnostics(),
    ...program.getGlobalDiagnostics(),
    // only the project's files are checked in full: the package's own sources were checked when it was built
    ...ownFiles.flatMap(sf => [...program.getSyntacticDiagnostics(sf), ...program.getSemanticDiagnostics(sf)]),
  ]
  return diagnostics.filter(d => d.category === ts.DiagnosticCategory.Error).map(d => toProblem(ts, d, cwd))
}

export const TYPESCRIPT_MISSING =
  'type check not run: verify check needs the typescript package (an optional peer dependency of postdeploy-verify): npm install --save-dev typescript'

/** The project's typescript, else one next to this package; undefined when neither has it. */
function loadTypeScript(cwd: string): typeof TS | undefined {
  for (const from of [path.join(cwd, 'package.json'), import.meta.url]) {
    try {
      // require, not import: importing this 9 MB CommonJS file as ESM scans it for exports (~1 s)
      return createRequire(from)('typescript') as typeof TS
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'MODULE_NOT_FOUND') throw error
    }
  }
  return undefined
}

function isProjectFile(fileName: string): boolean {
  const file = path.resolve(fileName)
  if (file.split(path.sep).includes('node_modules')) return false
  if (file.endsWith('.d.ts')) return false
  // this package's own sources, when the specs live inside its checkout (its example specs)
  return !file.startsWith(path.join(PACKAGE_ROOT, 'src') + path.sep)
}

function toProblem(ts: typeof TS, d: TS.Diagnostic, cwd: string): TypeProblem {
  const message = `TS${d.code}: ${ts.flattenDiagnosticMessageText(d.messageText, '\n  ')}`
  if (!d.file || d.start === undefined) return { message }
  const { line, character } = d.file.getLineAndCharacterOfPosition(d.start)
  const rel = path.relative(cwd, d.file.fileName)
  return { file: rel.startsWith('..') ? d.file.fileName : rel, line: line + 1, col: character + 1, message }
}

export function formatTypeProblem(p: TypeProblem): string {
  if (!p.file) return p.message
  return `${p.file}:${p.line}:${p.col}: ${p.message}`
}

function nodeTypes(cwd: string): Pick<TS.CompilerOptions, 'types' | 'typeRoots'> {
  for (const from of [path.join(cwd, 'package.json'), path.join(PACKAGE_ROOT, 'package.json')]) {
    try {
      const pkg = createRequire(from).resolve('@types/node/package.json')
      return { types: ['node'], typeRoots: [path.dirname(path.dirname(pkg))] }
    } catch {
      // not installed there
    }
  }
  return { types: [] }
}
