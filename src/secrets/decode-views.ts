// Decoded views of a text, each character mapped back to the source span it came from, so a
// secret found in a decoding (a percent-encoded URL, a JSON- or shell-escaped string, an XML
// attribute) is cut out of the original text exactly where its encoding sits.

/** A decoding of a source text: `text[i]` came from `source.slice(from[i], to[i])`. */
export interface View {
  text: string
  from: ArrayLike<number>
  to: ArrayLike<number>
  /** The decoders applied, outermost last (for tests and messages): `['percent']`. */
  via: string[]
}

export type Decoder = (view: View) => View | undefined

export function identityView(text: string): View {
  const from = new Int32Array(text.length)
  const to = new Int32Array(text.length)
  for (let i = 0; i < text.length; i++) {
    from[i] = i
    to[i] = i + 1
  }
  return { text, from, to, via: [] }
}

/** Collects decoded pieces with their source spans (a decoding is never longer than what it decodes). */
class ViewBuilder {
  private readonly parts: string[] = []
  private readonly from: Int32Array
  private readonly to: Int32Array
  private length = 0
  private changed = false
  /** Start of a run of characters kept as they are, not yet flushed. */
  private keptFrom = -1
  private keptTo = -1

  constructor(private readonly view: View) {
    this.from = new Int32Array(view.text.length)
    this.to = new Int32Array(view.text.length)
  }

  /** view.text[start, end) stays as it is. */
  keep(start: number, end: number): void {
    if (start >= end) return
    if (this.keptTo === start) {
      this.keptTo = end
      return
    }
    this.flush()
    this.keptFrom = start
    this.keptTo = end
  }

  /** `piece` is what view.text[start, end) decodes to. */
  push(piece: string, start: number, end: number): void {
    this.flush()
    this.changed = true
    this.parts.push(piece)
    const from = this.view.from[start]!
    const to = this.view.to[end - 1]!
    for (let i = 0; i < piece.length; i++) {
      this.from[this.length] = from
      this.to[this.length++] = to
    }
  }

  done(name: string): View | undefined {
    this.flush()
    if (!this.changed) return undefined
    return {
      text: this.parts.join(''),
      from: this.from.subarray(0, this.length),
      to: this.to.subarray(0, this.length),
      via: [...this.view.via, name],
    }
  }

  private flush(): void {
    if (this.keptFrom < 0) return
    this.parts.push(this.view.text.slice(this.keptFrom, this.keptTo))
    for (let i = this.keptFrom; i < this.keptTo; i++) {
      this.from[this.length] = this.view.from[i]!
      this.to[this.length++] = this.view.to[i]!
    }
    this.keptFrom = this.keptTo = -1
  }
}

const SIMPLE_ESCAPES: Record<string, string> = { n: '\n', r: '\r', t: '\t', b: '\b', f: '\f', v: '\v', '0': '\0' }

/** JSON, JavaScript and C-style backslash escapes: `\\`, `\"`, `\n`, `\u00e9`, `\u{1F600}`, `\xE9`. */
export const backslashDecoder: Decoder = view => {
  const text = view.text
  if (!text.includes('\\')) return undefined
  const out = new ViewBuilder(view)
  let i = 0
  while (i < text.length) {
    const next = text.indexOf('\\', i)
    if (next < 0 || next === text.length - 1) {
      out.keep(i, text.length)
      break
    }
    out.keep(i, next)
    const c = text[next + 1]!
    const unicode = /^u([0-9a-fA-F]{4})|^u\{([0-9a-fA-F]{1,6})\}|^x([0-9a-fA-F]{2})/.exec(text.slice(next + 1, next + 11))
    if (unicode) {
      const code = parseInt(unicode[1] ?? unicode[2] ?? unicode[3]!, 16)
      const piece = code <= 0x10ffff ? String.fromCodePoint(code) : unicode[0]
      out.push(piece, next, next + 1 + unicode[0].length)
      i = next + 1 + unicode[0].length
      continue
    }
    out.push(SIMPLE_ESCAPES[c] ?? c, next, next + 2)
    i = next + 2
  }
  return out.done('backslash')
}

function makePercentDecoder(name: string, plusAsSpace: boolean): Decoder {
  return view => {
    const text = view.text
    if (!text.includes('%') && !(plusAsSpace && text.includes('+'))) return undefined
    const out = new ViewBuilder(view)
    let i = 0
    while (i < text.length) {
      const c = text[i]!
      if (plusAsSpace && c === '+') {
        out.push(' ', i, i + 1)
        i++
        continue
      }
      const legacy = c === '%' ? /^%u([0-9a-fA-F]{4})/.exec(text.slice(i, i + 6)) : null
      if (legacy) {
        out.push(String.fromCharCode(parseInt(legacy[1]!, 16)), i, i + 6)
        i += 6
        continue
      }
      const first = byteAt(text, i)
      if (first === undefined) {
        out.keep(i, i + 1)
        i++
        continue
      }
      // one UTF-8 character: its lead byte says how many %XX follow
      const length = first < 0x80 ? 1 : first >= 0xf0 ? 4 : first >= 0xe0 ? 3 : first >= 0xc0 ? 2 : 1
      const bytes = [first]
      for (let k = 1; k < length; k++) {
        const b = byteAt(text, i + 3 * k)
        if (b === undefined || (b & 0xc0) !== 0x80) break
        bytes.push(b)
      }
      const piece = bytes.length === length && length > 1 ? Buffer.from(bytes).toString('utf8') : String.fromCharCode(first)
      const used = piece.length > 0 && bytes.length === length ? bytes.length : 1
      out.push(piece, i, i + 3 * used)
      i += 3 * used
    }
    return out.done(name)
  }
}

function byteAt(text: string, i: number): number | undefined {
  if (text[i] !== '%') return undefined
  const hex = text.slice(i + 1, i + 3)
  return /^[0-9a-fA-F]{2}$/.test(hex) ? parseInt(hex, 16) : undefined
}

/** URL percent-encoding (encodeURIComponent, encodeURI, escape's `%uXXXX`). */
export const percentDecoder = makePercentDecoder('percent', false)
/** HTML form encoding (URLSearchParams): `+` is a space. */
export const formDecoder = makePercentDecoder('form', true)

const ENTITIES: Record<string, string> = { quot: '"', amp: '&', lt: '<', gt: '>', apos: "'", nbsp: '\u00a0' }

/** XML and HTML character references: `&quot;`, `&#34;`, `&#x22;`. */
export const xmlDecoder: Decoder = view => {
  const text = view.text
  if (!text.includes('&')) return undefined
  const out = new ViewBuilder(view)
  const pattern = /&(?:#(\d{1,7})|#[xX]([0-9a-fA-F]{1,6})|([a-z]{2,6}));/g
  let last = 0
  for (let m = pattern.exec(text); m; m = pattern.exec(text)) {
    const code = m[1] !== undefined ? Number(m[1]) : m[2] !== undefined ? parseInt(m[2], 16) : undefined
    const piece = code !== undefined ? (code <= 0x10ffff ? String.fromCodePoint(code) : undefined) : ENTITIES[m[3]!]
    if (piece === undefined) continue
    out.keep(last, m.index)
    out.push(piece, m.index, m.index + m[0].length)
    last = m.index + m[0].length
  }
  out.keep(last, text.length)
  return out.done('xml')
}

/** POSIX shell words: quotes removed, `'\''` joined, backslashes resolved (a command line as the spec wrote it). */
export const shellDecoder: Decoder = view => decodeShell(view, undefined, 'shell')
/** The same, read as if inside single quotes already (the text is a quoted word's inside: `a'\''b`). */
export const shellQuotedDecoder: Decoder = view => decodeShell(view, "'", 'shell-quoted')

function decodeShell(view: View, startQuote: "'" | undefined, name: string): View | undefined {
  const text = view.text
  if (!text.includes("'") && !text.includes('"')) return undefined
  const out = new ViewBuilder(view)
  let quote: "'" | '"' | undefined = startQuote
  let i = 0
  while (i < text.length) {
    const c = text[i]!
    if (quote === "'") {
      // everything up to the closing quote is literal
      const close = text.indexOf("'", i)
      const end = close < 0 ? text.length : close
      out.keep(i, end)
      if (close >= 0) {
        quote = undefined
        out.push('', close, close + 1)
      }
      i = end + 1
    } else if (c === '\\' && i + 1 < text.length && (quote === undefined || '$`"\\\n'.includes(text[i + 1]!))) {
      out.push(text[i + 1]!, i, i + 2)
      i += 2
    } else if (c === quote || (quote === undefined && (c === "'" || c === '"'))) {
      quote = quote === undefined ? (c as "'" | '"') : undefined
      out.push('', i, i + 1)
      i++
    } else {
      out.keep(i, i + 1)
      i++
    }
  }
  return out.done(name)
}

/** The decoders tried, each alone and each after another (a JSON-escaped string inside a URL, …). */
export const DECODERS: readonly Decoder[] = [backslashDecoder, percentDecoder, formDecoder, xmlDecoder, shellDecoder, shellQuotedDecoder]

/**
 * The text as it is and every decoding of it up to `depth` decoders deep (decoders that change
 * nothing are left out); a view `worthDecoding` says no to is kept but not decoded further.
 */
export function decodedViews(text: string, depth = 2, worthDecoding: (view: View) => boolean = () => true): View[] {
  const views = [identityView(text)]
  const seen = new Set([text])
  let layer = views
  for (let d = 0; d < depth; d++) {
    const next: View[] = []
    for (const view of layer) {
      if (!worthDecoding(view)) continue
      for (const decode of DECODERS) {
        const decoded = decode(view)
        if (decoded && !seen.has(decoded.text)) {
          seen.add(decoded.text)
          next.push(decoded)
        }
      }
    }
    views.push(...next)
    layer = next
  }
  return views
}

/** A run of characters in a view that may be a block encoding (base64, base64url, hex), with its source span. */
export interface BlockRun {
  encoded: string
  from: number
  to: number
}

/** Runs of the base64 / base64url alphabet (hex is within it) in a view, at least `minLength` long. */
export function blockRuns(view: View, minLength: number): BlockRun[] {
  const runs: BlockRun[] = []
  for (const m of view.text.matchAll(/[A-Za-z0-9+/_-]+={0,2}/g)) {
    if (m[0].length < minLength) continue
    runs.push({ encoded: m[0], from: view.from[m.index]!, to: view.to[m.index + m[0].length - 1]! })
  }
  return runs
}

/**
 * What a run may decode to, as UTF-8 text: base64 at each of its 4 alignments (the data may start
 * anywhere in the run, `path/dXNl…`), and hex at both of its alignments when it is all hex digits.
 */
export function blockDecodings(encoded: string, minLength: number): string[] {
  const out: string[] = []
  const base64 = encoded.replace(/-/g, '+').replace(/_/g, '/')
  for (let k = 0; k < 4 && encoded.length - k >= minLength; k++) out.push(Buffer.from(base64.slice(k), 'base64').toString('utf8'))
  if (/^[0-9a-fA-F]+$/.test(encoded)) {
    for (let k = 0; k < 2 && encoded.length - k >= minLength; k++)
      out.push(Buffer.from(encoded.slice(k, k + ((encoded.length - k) & ~1)), 'hex').toString('utf8'))
  }
  return out
}
