// Where a block was declared: the spec file's line, and the shared module that declared it when
// that is not the spec itself.
import path from 'node:path'
import { isToolFrame, stackFrames } from '../stack-frames.ts'
import { displayPath } from '../../lib/format.ts'
import type { At, LoadedSpec } from './types.ts'

/**
 * The spec file's line in the current call stack (tsx maps it back to the .ts source), and,
 * when the immediate caller is another module (a shared example), that module's file:line.
 */
export function callSite(spec: LoadedSpec): At {
  const frames = stackLocations()
  // verify's own frames (the registry, or the command that declared its own check) are not the caller
  const own = frames.findIndex(f => !isToolFrame(f))
  const caller = own >= 0 ? frames[own] : undefined
  const inSpec = frames.find(f => isSpecFile(f.file, spec))
  const definedAt = caller && !isSpecFile(caller.file, spec) ? `${displayPath(caller.file)}:${caller.line}` : undefined
  return { line: inSpec?.line, definedAt }
}

function isSpecFile(file: string, spec: LoadedSpec): boolean {
  if (spec.absFile) return file === spec.absFile
  return file === spec.file || file.endsWith(`${path.sep}${spec.file}`)
}

// A spec's blocks are collected once per host: 500 hosts × 22 checks would format (and
// source-map) 11,000 stack traces. The raw positions (no formatting, no source map) are cheap
// and name the call path exactly, so each path is mapped once.
const mappedByRawStack = new Map<string, Array<{ file: string; line: number }>>()

function rawStackKey(): string {
  const original = Error.prepareStackTrace
  const holder: { stack?: string } = {}
  try {
    Error.prepareStackTrace = (_error, sites) => sites.map(s => `${s.getFileName()}:${s.getLineNumber()}:${s.getColumnNumber()}`).join('|')
    Error.captureStackTrace(holder, rawStackKey)
    return holder.stack ?? ''
  } finally {
    Error.prepareStackTrace = original
  }
}

function stackLocations(): Array<{ file: string; line: number }> {
  const key = rawStackKey()
  let locations = mappedByRawStack.get(key)
  if (!locations) mappedByRawStack.set(key, (locations = mappedStackLocations()))
  return locations
}

function mappedStackLocations(): Array<{ file: string; line: number }> {
  return stackFrames(new Error().stack).map(({ file, line }) => ({ file, line }))
}
