// Small text helpers shared by every layer: one definition each.
import { isAbsolute, relative } from 'node:path'

/** A path relative to `cwd` when it is inside it (`specs/app.spec.ts`), else as given. */
export function displayPath(path: string, cwd = process.cwd()): string {
  const rel = relative(cwd, path)
  return rel !== '' && !rel.startsWith('..') && !isAbsolute(rel) ? rel : path
}

/** Milliseconds as seconds for messages, trailing zeros dropped: `1.5s`, `2s`, `0.25s` (digits 2). */
export function seconds(ms: number, digits = 1): string {
  return `${Number((ms / 1000).toFixed(digits))}s`
}

/** The first line of a text (up to the first `\n` or `\r\n`). */
export function firstLine(text: string): string {
  return text.split(/\r?\n/, 1)[0] ?? ''
}

/** The first line that is not blank, or '' (a message's headline). */
export function firstNonBlankLine(text: string): string {
  return text.split('\n').find(line => line.trim() !== '') ?? ''
}
