// The run's secret values and the one routine that hides them: a text is searched as it is and
// in every decoding of it (URL and form encoding, backslash escapes, XML references, shell
// quoting, and base64 / hex blocks inside those), and whatever reveals a secret is replaced
// by `[secret:name]`. Values (objects, arrays, errors) are copied with every string so treated,
// so a matcher or a report can format them without ever seeing a secret.
import { blockDecodings, blockRuns, decodedViews, type View } from './decode-views.ts'

export interface SecretValue {
  /** The var's dotted path (or the env var's name), shown in place of the value: `[secret:dbPassword]`. */
  name: string
  value: string
}

interface Span {
  from: number
  to: number
  name: string
}

/** Texts longer than this are searched in fewer decodings (one decoder deep), to bound the cost. */
const DEEP_SEARCH_LIMIT = 64 * 1024
/** Secrets shorter than this are searched as they are and in character decodings, not inside base64/hex blocks. */
const MIN_BLOCK_SECRET = 4
/** How deep values are copied; deeper parts are replaced by a note rather than shown unsearched. */
const MAX_VALUE_DEPTH = 24

// every field is #private: util.inspect never prints one (a promise made in a check shows its
// async context, which holds this redactor)
export class SecretRedactor {
  readonly #secrets: SecretValue[]
  readonly #byValue = new Map<string, string>()
  readonly #labels: RegExp | undefined
  readonly #minBlockRun: number
  /** Runs already decoded and searched: the secret's name, or '' for none. */
  readonly #blockCache = new Map<string, string>()
  /** Per secret, its longest run of letters and digits: every character decoding keeps it as is. */
  readonly #anchors: string[]
  /** A base64 run percent-encoded (`%2B`, `%2F`, `%3D`), which decodes to a block only after the percent decoding. */
  readonly #encodedBlock: RegExp

  constructor(secrets: readonly SecretValue[]) {
    for (const { name, value } of secrets) if (value !== '' && !this.#byValue.has(value)) this.#byValue.set(value, name)
    // longest first, so a secret containing another is replaced whole
    this.#secrets = [...this.#byValue].map(([value, name]) => ({ name, value })).sort((a, b) => b.value.length - a.value.length)
    const names = [...new Set(this.#secrets.map(s => s.name))]
    this.#labels = names.length > 0 ? new RegExp(names.map(n => escapeRegExp(label(n))).join('|'), 'g') : undefined
    const blockable = this.#secrets.filter(s => s.value.length >= MIN_BLOCK_SECRET).map(s => Buffer.byteLength(s.value))
    this.#anchors = this.#secrets.map(s => (s.value.match(/[A-Za-z0-9]+/g) ?? ['']).reduce((a, b) => (b.length > a.length ? b : a)))
    this.#minBlockRun = blockable.length > 0 ? Math.max(4, Math.floor((4 * Math.min(...blockable)) / 3)) : Infinity
    this.#encodedBlock = new RegExp(`(?:[A-Za-z0-9_-]|%2[BbFf]|%3[Dd]){${Number.isFinite(this.#minBlockRun) ? this.#minBlockRun : 1e6},}`)
  }

  get empty(): boolean {
    return this.#secrets.length === 0
  }

  /** The name of a secret the text reveals, as it is or in any decoding; undefined when none does. */
  revealedIn(text: string, blockDepth = 2): string | undefined {
    if (this.empty || text === '') return undefined
    for (const view of this.views(text)) {
      for (const s of this.#secrets) if (view.text.includes(s.value)) return s.name
      if (blockDepth <= 0 || view.text.length < this.#minBlockRun) continue
      for (const run of blockRuns(view, this.#minBlockRun)) {
        const name = this.revealedInBlock(run.encoded, blockDepth - 1)
        if (name !== undefined) return name
      }
    }
    return undefined
  }

  /**
   * The decodings of a text worth searching. Character decodings keep letters and digits as they
   * are, so a view without any secret's longest letter-and-digit run cannot decode to a secret,
   * unless it holds a percent-encoded base64 run.
   */
  private views(text: string): View[] {
    return decodedViews(
      text,
      text.length > DEEP_SEARCH_LIMIT ? 1 : 2,
      view => this.#anchors.some(a => view.text.includes(a)) || this.#encodedBlock.test(view.text),
    )
  }

  /**
   * The secret a base64/hex run decodes to, if any. Decodings that are mostly not text (a word
   * or a path read as base64, a wrong alignment) are skipped; answers are cached by run.
   */
  private revealedInBlock(encoded: string, blockDepth: number): string | undefined {
    const key = `${blockDepth}:${encoded}`
    const cached = this.#blockCache.get(key)
    if (cached !== undefined) return cached === '' ? undefined : cached
    let found: string | undefined
    for (const decoded of blockDecodings(encoded, this.#minBlockRun)) {
      if (!looksLikeText(decoded)) continue
      found = this.revealedIn(decoded, blockDepth)
      if (found !== undefined) break
    }
    if (this.#blockCache.size > 10_000) this.#blockCache.clear()
    this.#blockCache.set(key, found ?? '')
    return found
  }

  /** The text with every part that reveals a secret (in any decoding) replaced by `[secret:name]`. */
  text(text: string): string {
    if (this.empty || text === '') return text
    const spans = this.spans(text)
    if (spans.length === 0) return text
    let out = ''
    let at = 0
    for (const span of spans) {
      out += text.slice(at, span.from) + label(span.name)
      at = span.to
    }
    return out + text.slice(at)
  }

  /** Whether any string (or number) inside the value reveals a secret. */
  contains(value: unknown): boolean {
    return this.namesIn(value, true).length > 0
  }

  /** The names of the secrets inside a value, each once. */
  namesIn(value: unknown, firstOnly = false): string[] {
    const names = new Set<string>()
    const seen = new Set<object>()
    const visit = (v: unknown, depth: number): boolean => {
      if (firstOnly && names.size > 0) return true
      if (typeof v === 'string') {
        const name = this.revealedIn(v)
        if (name !== undefined) names.add(name)
        return false
      }
      if (typeof v === 'number' || typeof v === 'bigint') {
        const name = this.#byValue.get(String(v))
        if (name !== undefined) names.add(name)
        return false
      }
      if (v === null || typeof v !== 'object' || seen.has(v) || depth > MAX_VALUE_DEPTH) return false
      seen.add(v)
      for (const inner of parts(v)) if (visit(inner, depth + 1)) return true
      return false
    }
    if (!this.empty) visit(value, 0)
    return [...names]
  }

  /**
   * The value with every secret replaced, for a matcher or a report to format: the value itself
   * when it holds none, else a deep copy (prototypes kept, so matchers compare it as they would the original).
   */
  value<T>(value: T): T {
    if (!this.contains(value)) return value
    return this.copy(value, new Map(), 0) as T
  }

  private copy(v: unknown, seen: Map<object, unknown>, depth: number): unknown {
    if (typeof v === 'string') return this.text(v)
    if (typeof v === 'number' || typeof v === 'bigint') {
      const name = this.#byValue.get(String(v))
      return name === undefined ? v : label(name)
    }
    if (v === null || typeof v !== 'object') return v
    if (seen.has(v)) return seen.get(v)
    if (depth > MAX_VALUE_DEPTH) return '[not shown: nested too deep to search for secrets]'
    if (v instanceof Promise || v instanceof Date || v instanceof WeakMap || v instanceof WeakSet) return v
    if (v instanceof RegExp) return this.regExp(v)
    if (ArrayBuffer.isView(v)) {
      const text = Buffer.from(v.buffer, v.byteOffset, v.byteLength).toString('utf8')
      return this.revealedIn(text) === undefined ? v : Buffer.from(this.text(text))
    }
    const next = (inner: unknown) => this.copy(inner, seen, depth + 1)
    if (Array.isArray(v)) {
      const out: unknown[] = []
      seen.set(v, out)
      for (const item of v) out.push(next(item))
      return out
    }
    if (v instanceof Map) {
      const out = new Map()
      seen.set(v, out)
      for (const [key, inner] of v) out.set(next(key), next(inner))
      return out
    }
    if (v instanceof Set) {
      const out = new Set()
      seen.set(v, out)
      for (const inner of v) out.add(next(inner))
      return out
    }
    const out = Object.create(Object.getPrototypeOf(v) as object | null) as Record<PropertyKey, unknown>
    seen.set(v, out)
    for (const key of Reflect.ownKeys(v)) {
      const desc = Object.getOwnPropertyDescriptor(v, key)!
      // an Error's message and stack are own values too; getters are kept (calling them could have effects)
      if ('value' in desc) desc.value = next(desc.value)
      Object.defineProperty(out, typeof key === 'string' ? this.text(key) : key, { ...desc, configurable: true })
    }
    return out
  }

  private regExp(re: RegExp): RegExp {
    const source = this.text(re.source)
    if (source === re.source) return re
    try {
      return new RegExp(source, re.flags)
    } catch {
      return new RegExp(escapeRegExp(source), re.flags)
    }
  }

  /** Source spans revealing a secret, merged and in order; none inside a `[secret:…]` already there. */
  private spans(text: string): Span[] {
    const found: Span[] = []
    for (const view of this.views(text)) {
      for (const s of this.#secrets) {
        for (let i = view.text.indexOf(s.value); i >= 0; i = view.text.indexOf(s.value, i + 1)) {
          found.push({ from: view.from[i]!, to: view.to[i + s.value.length - 1]!, name: s.name })
        }
      }
      if (view.text.length < this.#minBlockRun) continue
      for (const run of blockRuns(view, this.#minBlockRun)) {
        const name = this.revealedInBlock(run.encoded, 1)
        if (name !== undefined) found.push({ from: run.from, to: run.to, name })
      }
    }
    const kept = found.filter(span => !this.insideLabel(text, span))
    return merge(kept)
  }

  private insideLabel(text: string, span: Span): boolean {
    if (!this.#labels || !text.includes('[secret:')) return false
    for (const m of text.matchAll(this.#labels)) if (span.from >= m.index && span.to <= m.index + m[0].length) return true
    return false
  }
}

/** The placeholder shown for a secret. */
export function label(name: string): string {
  return `[secret:${name}]`
}

/** Whether at most a third of the characters are undecodable bytes or control characters (random bytes: over half). */
function looksLikeText(text: string): boolean {
  let bad = 0
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i)
    if (c === 0xfffd || (c < 0x20 && c !== 0x09 && c !== 0x0a && c !== 0x0d)) bad++
  }
  return bad * 3 <= text.length
}

/** What an object holds that could be shown: own values (and keys), entries of maps and sets, bytes as text. */
function parts(v: object): unknown[] {
  if (v instanceof Promise || v instanceof Date || v instanceof WeakMap || v instanceof WeakSet) return []
  if (v instanceof RegExp) return [v.source]
  if (ArrayBuffer.isView(v)) return [Buffer.from(v.buffer, v.byteOffset, v.byteLength).toString('utf8')]
  if (v instanceof Map) return [...v].flat()
  if (v instanceof Set || Array.isArray(v)) return [...(v as Iterable<unknown>)]
  const out: unknown[] = []
  for (const key of Reflect.ownKeys(v)) {
    if (typeof key === 'string') out.push(key)
    const desc = Object.getOwnPropertyDescriptor(v, key)
    if (desc && 'value' in desc) out.push(desc.value)
  }
  return out
}

function merge(spans: Span[]): Span[] {
  spans.sort((a, b) => a.from - b.from || b.to - a.to)
  const out: Span[] = []
  for (const span of spans) {
    const last = out[out.length - 1]
    if (last && span.from < last.to) last.to = Math.max(last.to, span.to)
    else out.push({ ...span })
  }
  return out
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')
}
