// The frames of a stack trace that name a file on disk, as tsx's source maps give them (the
// .ts source's line and column): where a block was declared, where an expect failed.
import path from 'node:path'
import { fileURLToPath } from 'node:url'

// verify's own code: src/ run from source, dist/ built (its bundle's files, or the src/ paths a
// source map gives them), bin/: a frame there is never the spec's. Found from this module's URL.
const PACKAGE_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..')
const TOOL_DIRS = ['src', 'dist', 'bin'].map(dir => path.join(PACKAGE_ROOT, dir) + path.sep)

/** The frame is in verify's own code, wherever the package is installed, built or not. */
export function isToolFrame(frame: { file: string }): boolean {
  return TOOL_DIRS.some(dir => frame.file.startsWith(dir))
}

export interface StackFrame {
  file: string
  line: number
  column: number
}

/** Innermost first; `node:` internals and `<anonymous>` frames left out. */
export function stackFrames(stack: string | undefined): StackFrame[] {
  const frames: StackFrame[] = []
  for (const raw of (stack ?? '').split('\n').slice(1)) {
    const match = /at (?:.*? \()?(.+?):(\d+):(\d+)\)?$/.exec(raw.trim())
    if (!match) continue
    let file = match[1]!
    if (file.startsWith('file://')) {
      try {
        file = fileURLToPath(file)
      } catch {
        continue
      }
    }
    if (!path.isAbsolute(file)) continue
    frames.push({ file, line: Number(match[2]), column: Number(match[3]) })
  }
  return frames
}
