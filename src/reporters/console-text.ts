// Text layout for the console report: long lines wrapped at spaces (a fix command after a colon
// kept whole), messages and expected/actual values capped, marked blocks indented under their marker.
import { firstNonBlankLine } from '../lib/format.ts'
import { sanitize, sanitizeLine, truncate } from './sanitize.ts'

export const LINE_WIDTH = 300
// long lines are wrapped at this width, never cut short: a fix command at the end stays whole
export const WRAP_WIDTH = 160
// expected/actual wrap to at most this many lines (a 1 MiB value would flood the log): the rest is in JSON
export const VALUE_LINES = 8
const MESSAGE_LINES = 20

/** `expected: …` wrapped under its label, at most VALUE_LINES lines. */
export function valueLines(label: string, value: string): string[] {
  const text = sanitizeLine(value)
  const limit = WRAP_WIDTH * VALUE_LINES
  const wrapped = wrapLine(`${label}${text.slice(0, limit)}`, WRAP_WIDTH)
  const lines = wrapped.map((line, i) => (i === 0 ? line : `${' '.repeat(label.length)}${line}`))
  const shown = lines.slice(0, VALUE_LINES)
  const hidden = text.length - (shown.join('').length - label.length * shown.length)
  return hidden > 0 ? [...shown, `${' '.repeat(label.length)}… ${hidden} more characters in the JUnit or JSON report`] : shown
}

/** Message lines, sanitized, each wrapped at WRAP_WIDTH, at most MESSAGE_LINES of them. */
export function messageLines(message: string): string[] {
  // one huge line (a 1 MiB value in Jest's message) is cut at VALUE_LINES wrapped lines, so the lines after it still show
  const lines = sanitize(message)
    .replace(/\n+$/, '')
    .split('\n')
    .flatMap(line => wrapLine(truncate(line.replace(/\t/g, '  ').trimEnd(), WRAP_WIDTH * VALUE_LINES), WRAP_WIDTH))
  if (lines.length <= MESSAGE_LINES) return lines
  return [...lines.slice(0, MESSAGE_LINES), `… ${lines.length - MESSAGE_LINES} more lines in the JUnit or JSON report`]
}

/** First line after a marker, continuation lines aligned under it. */
export function markedBlock(marker: string, text: string, prefix: string): string[] {
  const [first = '', ...rest] = messageLines(text)
  return [`${prefix}${marker} ${first}`, ...indent(rest, `${prefix}  `)]
}

export function indent(lines: string[], prefix: string): string[] {
  return lines.map(line => (line ? prefix + line : line))
}

/** The first line with text, sanitized and cut at `max`. */
export function headline(text: string, max = LINE_WIDTH): string {
  return truncate(sanitizeLine(firstNonBlankLine(sanitize(text))), max)
}

/**
 * A line broken at spaces so no piece is wider than `width` (a longer word is split), never cut
 * short; continuation pieces keep the line's own indentation.
 */
export function wrapLine(line: string, width: number): string[] {
  if (line.length <= width) return [line]
  const indent = /^\s*/.exec(line)![0]
  const lead = indent.length < width / 2 ? indent : ''
  const out: string[] = []
  let rest = line
  let command: number | undefined
  while (rest.length > width) {
    const space = rest.lastIndexOf(' ', width)
    let cut = command ?? (space > lead.length + width / 3 ? space : width)
    command = undefined
    const colon = commandAfterColon(rest, cut)
    if (colon) [cut, command] = [colon.cut, lead.length + colon.length]
    // never split a surrogate pair
    if (/[\ud800-\udbff]/.test(rest.charAt(cut - 1))) cut--
    out.push(rest.slice(0, cut).trimEnd())
    rest = lead + rest.slice(cut).trimStart()
    // the command is the rest of the line: it stays whole, even past the wrap width
    if (command !== undefined && command >= rest.length) return [...out, rest]
  }
  if (rest.trim() !== '') out.push(rest)
  return out
}

/**
 * What follows the last `: ` before the cut (a fix command: `then add it: ssh-keyscan … >> file`)
 * goes on a line of its own, up to LINE_WIDTH, when the cut would split it: one line to copy.
 */
function commandAfterColon(text: string, cut: number): { cut: number; length: number } | undefined {
  const colon = text.lastIndexOf(': ', cut - 1)
  if (colon < 0 || colon < cut / 3) return undefined
  const after = text.slice(colon + 2)
  const length = /\. |\s\(|;\s/.exec(after)?.index ?? after.length
  // a command line has options, && or a redirection; prose after a colon wraps as usual
  const isCommand = /\s(-\w|&&|>>?|\|)\s?/.test(after.slice(0, length))
  return isCommand && colon + 2 + length > cut && length <= LINE_WIDTH ? { cut: colon + 1, length } : undefined
}
