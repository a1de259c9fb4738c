// Where in the spec a check failed: the first stack frame in the project's own code (the spec
// file or a shared module it calls), never verify's or a dependency's, with a code frame.
// tsx registers source maps, so the stack's positions are the .ts source's.
import { readFileSync } from 'node:fs'
import path from 'node:path'
import type { FailureLocation } from '../model.ts'
import { displayPath } from '../lib/format.ts'
import { isToolFrame, stackFrames, type StackFrame } from '../dsl/stack-frames.ts'

const CONTEXT_LINES = 2

/** Code of the spec's project: not verify's own source, not a dependency. */
export function isProjectFrame(frame: StackFrame): boolean {
  return !isToolFrame(frame) && !frame.file.split(path.sep).includes('node_modules')
}

/** The innermost frame of the error's stack that is the project's code, with a code frame. */
export function failureLocation(error: Error): FailureLocation | undefined {
  const frame = stackFrames(error.stack).find(isProjectFrame)
  if (!frame) return undefined
  const code = codeFrame(frame.file, frame.line, frame.column)
  return { file: displayPath(frame.file), line: frame.line, column: frame.column, ...(code ? { frame: code } : {}) }
}

/** The innermost frame with a file is the project's (not verify's, not a dependency's): the spec's own code threw. */
export function thrownBySpecCode(error: Error): boolean {
  const first = stackFrames(error.stack)[0]
  return first !== undefined && isProjectFrame(first)
}

const sources = new Map<string, string[] | undefined>()

/**
 * A few lines around `line`, Vitest/Babel style, the failing one marked:
 * `  11 |     const current = …` / `> 12 |     expect(…)` / `     |     ^`.
 */
export function codeFrame(file: string, line: number, column?: number): string | undefined {
  if (!sources.has(file)) {
    let lines: string[] | undefined
    try {
      lines = readFileSync(file, 'utf8').split(/\r?\n/)
    } catch {
      lines = undefined
    }
    sources.set(file, lines)
  }
  const lines = sources.get(file)
  if (!lines || line < 1 || line > lines.length) return undefined
  const first = Math.max(1, line - CONTEXT_LINES)
  const last = Math.min(lines.length, line + CONTEXT_LINES)
  const width = String(last).length
  const out: string[] = []
  for (let n = first; n <= last; n++) {
    const text = lines[n - 1]!.replace(/\t/g, '  ').trimEnd()
    out.push(`${n === line ? '>' : ' '} ${String(n).padStart(width)} |${text ? ` ${text}` : ''}`)
    if (n === line && column !== undefined && column > 0) {
      // tabs were widened to two spaces above: the caret follows the same widening
      const before = lines[n - 1]!.slice(0, column - 1).replace(/\t/g, '  ')
      out.push(`  ${' '.repeat(width)} | ${' '.repeat(before.length)}^`)
    }
  }
  return out.join('\n')
}
