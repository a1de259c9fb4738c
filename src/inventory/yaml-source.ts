// One inventory file parsed once, with its source map (yaml's LineCounter and node ranges): every
// file:line:col an inventory message names comes from here, for hosts.yaml and Ansible alike.
import { isAlias, isMap, isNode, isScalar, isSeq, LineCounter, parseDocument, type Document, type Node } from 'yaml'
import { InventoryError } from '../errors.ts'

export type DataPath = ReadonlyArray<string | number>

/** A place in an inventory file (1-based line and column). */
export interface Place {
  file: string
  line: number
  col: number
}

export interface Problem {
  at: Place
  message: string
}

export class YamlSource {
  private converted?: { value: unknown } | { error: Error }

  private constructor(
    readonly file: string,
    readonly doc: Document,
    private readonly lines: LineCounter,
  ) {}

  /** Parses `text`; throws an InventoryError listing every syntax error at its line. */
  static parse(text: string, file: string): YamlSource {
    const lines = new LineCounter()
    const doc = parseDocument(text, { lineCounter: lines, prettyErrors: false })
    const src = new YamlSource(file, doc, lines)
    throwProblems(
      doc.errors.map(err => ({
        at: src.placeOf(skipBlanks(text, err.pos[0])),
        message: `YAML syntax error: ${err.message.split('\n')[0]}`,
      })),
    )
    return src
  }

  /** The file as plain data, converted once; an empty file is `{}` (an empty inventory, not a type error). */
  toJS(): unknown {
    if (!this.converted) {
      try {
        this.converted = { value: this.doc.toJS() ?? {} }
      } catch (err) {
        // toJS throws on alias bombs (too many alias expansions).
        this.converted = { error: err as Error }
      }
    }
    if ('error' in this.converted) failWith([{ at: this.placeOf(0), message: `cannot read YAML: ${this.converted.error.message}` }])
    return this.converted.value
  }

  /** Place of the value at `path` (or of its key), else of the nearest ancestor that exists. */
  at(path: DataPath, options: { key?: boolean } = {}): Place {
    return this.of(findNode(this.doc, path, options.key ?? false))
  }

  /** Place of a node of this document (the start of the file when it has none). */
  of(node: unknown): Place {
    return this.placeOf((node as Node | undefined)?.range?.[0] ?? 0)
  }

  placeOf(offset: number): Place {
    return { file: this.file, ...this.lines.linePos(offset) }
  }
}

/** `file:line`, as host and var sources are shown. */
export function label(at: Place): string {
  return `${at.file}:${at.line}`
}

/** `file:line:col`, as problems are shown. */
export function exactLabel(at: Place): string {
  return `${at.file}:${at.line}:${at.col}`
}

export function comparePlaces(a: Place, b: Place): number {
  return a.line - b.line || a.col - b.col
}

/** Throws one InventoryError naming every problem as `file:line:col: message`, by file (in `files` order), then line. */
export function throwProblems(problems: readonly Problem[], files: readonly string[] = []): void {
  if (problems.length > 0) failWith(problems, files)
}

export function failWith(problems: readonly Problem[], files: readonly string[] = []): never {
  const rank = (p: Problem) => files.indexOf(p.at.file)
  const sorted = [...problems].sort((a, b) => rank(a) - rank(b) || comparePlaces(a.at, b.at))
  throw new InventoryError(sorted.map(p => `${exactLabel(p.at)}: ${p.message}`).join('\n'))
}

/** yaml places some errors on the line break before the token; point at the token (or the last one). */
function skipBlanks(text: string, offset: number): number {
  const next = text.slice(offset).search(/\S/)
  if (next >= 0) return offset + next
  return Math.max(0, text.trimEnd().length - 1)
}

/** The YAML node at `path`, or the nearest ancestor that exists (aliases are followed). */
function findNode(doc: Document, path: DataPath, wantKey: boolean): Node | undefined {
  let node: unknown = doc.contents
  let found = isNode(node) ? node : undefined
  for (const [i, seg] of path.entries()) {
    if (isAlias(node)) node = node.resolve(doc)
    if (isMap(node)) {
      const pair = node.items.find(p => isScalar(p.key) && String(p.key.value) === String(seg))
      if (!pair) return found
      const key = isNode(pair.key) ? pair.key : undefined
      if (i === path.length - 1 && wantKey) return key ?? found
      // `name:` with nothing after it has an empty value node; its key is the better place to point at.
      node = isEmptyScalar(pair.value) ? key : pair.value
    } else if (isSeq(node) && typeof seg === 'number') {
      node = node.items[seg]
    } else {
      return found
    }
    if (!isNode(node)) return found
    found = node
  }
  return found
}

function isEmptyScalar(node: unknown): boolean {
  return node === null || (isScalar(node) && node.value === null && node.range?.[0] === node.range?.[1])
}
