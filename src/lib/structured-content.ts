// JSON and YAML content of a host's file, parsed here. A file that does not parse fails the
// check (the host answered; the deploy wrote a broken config) with the file, line and column.
import { parse as parseYaml, parseAllDocuments, YAMLParseError } from 'yaml'
import { ExpectationError } from '../errors.ts'

/** Line and column (1-based) of a character offset. */
export function lineColumn(text: string, offset: number): { line: number; column: number } {
  const before = text.slice(0, Math.max(0, Math.min(offset, text.length)))
  const lines = before.split('\n')
  return { line: lines.length, column: lines.at(-1)!.length + 1 }
}

export function parseJsonContent(path: string, text: string): unknown {
  try {
    return JSON.parse(text) as unknown
  } catch (error) {
    const message = (error as Error).message
    // V8 says "at position N" (and, from Node 22 on, "(line L column C)" as well)
    const position = /at position (\d+)/.exec(message)
    const { line, column } = lineColumn(text, position ? Number(position[1]) : text.length)
    const reason = message.replace(/\s*\(line \d+ column \d+\)/, '').replace(/ in JSON at position \d+/, '')
    throw new ExpectationError(
      `${path}:${line}:${column}: not valid JSON: ${reason}`,
      'valid JSON',
      `a syntax error at line ${line}, column ${column}`,
    )
  }
}

export function parseYamlContent(path: string, text: string): unknown {
  try {
    return parseYaml(text) as unknown
  } catch (error) {
    throw yamlFailure(path, error)
  }
}

/** Every document of a multi-document YAML stream (`---` separated). */
export function parseYamlDocuments(path: string, text: string): unknown[] {
  const docs = parseAllDocuments(text)
  const list = Array.isArray(docs) ? docs : [docs]
  for (const doc of list) {
    const first = doc.errors[0]
    if (first) throw yamlFailure(path, first)
  }
  return list.map(doc => doc.toJS() as unknown)
}

function yamlFailure(path: string, error: unknown): unknown {
  if (!(error instanceof YAMLParseError)) return error
  const at = error.linePos?.[0]
  const where = at ? `${path}:${at.line}:${at.col}` : path
  // the yaml package appends a code excerpt after the first line; the first line is the reason
  const reason = error.message.split('\n')[0]!.replace(/ at line \d+, column \d+:?$/, '')
  return new ExpectationError(
    `${where}: not valid YAML: ${reason}`,
    'valid YAML',
    at ? `a syntax error at line ${at.line}, column ${at.col}` : 'a syntax error',
  )
}
