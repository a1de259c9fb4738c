// A JavaScript RegExp as a POSIX extended regular expression, so `grep -E` can test it on the
// host. Only what means the same in both is translated; anything else (lookaround, \b,
// backreferences) is refused here rather than silently matching something different.

export interface PosixPattern {
  /** For `grep -E -e PATTERN`. */
  ere: string
  /** The RegExp had the `i` flag: pass `-i`. */
  ignoreCase: boolean
}

const ERE_SPECIAL = new Set(['.', '[', ']', '(', ')', '*', '+', '?', '{', '}', '|', '^', '$', '\\'])
const CLASS_ESCAPES: Record<string, { inClass: string; outside: string }> = {
  d: { inClass: '0-9', outside: '[0-9]' },
  D: { inClass: '', outside: '[^0-9]' },
  s: { inClass: '[:space:]', outside: '[[:space:]]' },
  S: { inClass: '', outside: '[^[:space:]]' },
  w: { inClass: '[:alnum:]_', outside: '[[:alnum:]_]' },
  W: { inClass: '', outside: '[^[:alnum:]_]' },
}
const CONTROL_ESCAPES: Record<string, string> = { t: '\t', r: '\r', f: '\f', v: '\v' }

export class UnsupportedPatternError extends TypeError {
  constructor(source: string, what: string) {
    super(`cannot test /${source}/ on the host with grep -E: ${what}; read file(path).content and match it here instead`)
    this.name = 'UnsupportedPatternError'
  }
}

export function toPosixEre(re: RegExp): PosixPattern {
  const src = re.source
  let out = ''
  let i = 0
  const fail = (what: string): never => {
    throw new UnsupportedPatternError(src, what)
  }

  /** An escape after `\` (i points at the escaped char); returns the literal char or a class. */
  const escape = (inClass: boolean): { literal?: string; cls?: string; negated?: string } => {
    const c = src[i]
    if (c === undefined) return fail('a trailing backslash')
    if (c in CLASS_ESCAPES) {
      const e = CLASS_ESCAPES[c]!
      i++
      // a negated escape inside [...] (as in [\s\S]) becomes an alternative of its own
      if (inClass && e.inClass === '') return { negated: e.outside }
      return { cls: inClass ? e.inClass : e.outside }
    }
    if (c in CONTROL_ESCAPES) {
      i++
      return { literal: CONTROL_ESCAPES[c] }
    }
    if (c === 'n') fail('\\n (grep tests one line at a time)')
    if (c === 'b' || c === 'B') fail(`\\${c} (word boundaries are not POSIX)`)
    if (/[0-9]/.test(c)) fail(`\\${c} (backreferences and \\0 are not POSIX ERE)`)
    if (c === 'x') {
      const hex = /^x([0-9A-Fa-f]{2})/.exec(src.slice(i))
      if (!hex) fail('a malformed \\x escape')
      i += 3
      return { literal: String.fromCharCode(Number.parseInt(hex![1]!, 16)) }
    }
    if (c === 'u' || c === 'p' || c === 'P' || c === 'k' || c === 'c') fail(`\\${c} escapes`)
    if (/[A-Za-z]/.test(c)) fail(`\\${c}`)
    i++
    return { literal: c }
  }

  const literal = (ch: string) => (ERE_SPECIAL.has(ch) ? `\\${ch}` : ch)

  while (i < src.length) {
    const c = src[i]!
    if (c === '\\') {
      i++
      const e = escape(false)
      out += e.cls ?? literal(e.literal!)
    } else if (c === '[') {
      out += bracket()
    } else if (c === '(') {
      if (src[i + 1] === '?') {
        if (src[i + 2] === ':') {
          out += '('
          i += 3
          continue
        }
        if (src[i + 2] === '<' && /[A-Za-z_]/.test(src[i + 3] ?? '')) {
          const close = src.indexOf('>', i)
          if (close < 0) fail('an unterminated group name')
          out += '('
          i = close + 1
          continue
        }
        fail('lookahead/lookbehind')
      }
      out += '('
      i++
    } else if (c === '*' || c === '+' || c === '?') {
      out += c
      i++
      // lazy and greedy quantifiers find a match on the same lines; grep only asks whether one exists
      if (src[i] === '?') i++
    } else if (c === '{') {
      const interval = /^\{\d+(,\d*)?\}/.exec(src.slice(i))
      if (interval) {
        out += interval[0]
        i += interval[0].length
        if (src[i] === '?') i++
      } else {
        out += '\\{'
        i++
      }
    } else if (c === ']' || c === '}') {
      // literal outside a class in JavaScript; escaped so no grep reads it otherwise
      out += `\\${c}`
      i++
    } else {
      if (c.charCodeAt(0) > 0x7f) fail('non-ASCII characters (the probe runs grep in the C locale)')
      if (c === '\n') fail('a newline')
      out += c
      i++
    }
  }
  return { ere: out, ignoreCase: re.flags.includes('i') }

  /** `[...]`: POSIX brackets take no backslash escapes, and `]`, `^`, `-` are special by position. */
  function bracket(): string {
    i++
    let negate = false
    if (src[i] === '^') {
      negate = true
      i++
    }
    const items: string[] = []
    let closeBracket = false
    let dash = false
    let open = false
    let caret = false
    const alternatives: string[] = []
    while (i < src.length && src[i] !== ']') {
      let item: string
      const c = src[i]!
      if (c === '\\') {
        i++
        const e = escape(true)
        if (e.negated !== undefined) {
          alternatives.push(e.negated)
          continue
        }
        if (e.cls !== undefined) {
          items.push(e.cls)
          continue
        }
        item = e.literal!
      } else {
        if (c.charCodeAt(0) > 0x7f) fail('non-ASCII characters in [...]')
        item = c
        i++
      }
      // a range a-z (both ends literal) stays a range; a lone '-' goes last
      if (src[i] === '-' && src[i + 1] !== undefined && src[i + 1] !== ']') {
        let hi = src[i + 1]!
        i += 2
        if (hi === '\\') {
          const e = escape(true)
          if (e.cls !== undefined || e.negated !== undefined) fail('a range ending in a class escape')
          hi = e.literal!
        }
        if (hi.charCodeAt(0) > 0x7f) fail('non-ASCII characters in [...]')
        if (item === ']' || hi === ']' || item === '[' || hi === '[' || item === '-' || hi === '-') fail('a range with ], [ or - as an end')
        items.push(`${item}-${hi}`)
        continue
      }
      if (item === ']') closeBracket = true
      else if (item === '-') dash = true
      else if (item === '[') open = true
      else if (item === '^') caret = true
      else items.push(item)
    }
    if (src[i] !== ']') fail('an unterminated [...]')
    i++
    if (alternatives.length > 0) {
      // [^\S…] would be an intersection, which ERE cannot say
      if (negate) fail('a negated class escape (\\S, \\D, \\W) inside [^...]')
      const empty = !closeBracket && items.length === 0 && !open && !dash && !caret
      return `(${[...(empty ? [] : [finish()]), ...alternatives].join('|')})`
    }
    return finish()

    function finish(): string {
      const body = items.join('')
      if (!closeBracket && body === '' && !open && !dash) {
        if (caret) return negate ? '[^^]' : '\\^'
        return negate ? '.' : fail('an empty class [] (it never matches)')
      }
      // ']' only first, '[' never before ':' '.' '=', '^' never first, '-' first or last
      const startsBare = !closeBracket && body === '' && !open
      const tail = startsBare && caret ? '-^' : `${caret ? '^' : ''}${dash ? '-' : ''}`
      return `[${negate ? '^' : ''}${closeBracket ? ']' : ''}${body}${open ? '[' : ''}${tail}]`
    }
  }
}
