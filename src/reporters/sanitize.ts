// One place that makes untrusted text (command output, HTTP bodies, titles) safe to print
// on a terminal and to put in XML: the console and JUnit reporters both use it.

// ESC-introduced sequences: CSI (colours, cursor moves), string commands (OSC titles and
// hyperlinks, DCS, SOS, PM, APC) up to BEL or ST, and two-byte escapes such as `ESC c`.
// An unterminated string command loses only its introducer, so a stray ESC cannot swallow the rest of a message.
// The C1 CSI (U+009B) is not an introducer here: text decoded from UTF-8 holds it only as a
// character of its own, so CONTROL drops that one character and keeps the text after it.
const ANSI_SEQUENCE = /\u001b\[[0-?]*[ -/]*[@-~]|\u001b[\]PX^_][^\u0007\u001b]*(?:\u0007|\u001b\\)|\u001b[ -/]*[0-~]/g

// C0 except tab and newline, DEL, C1 (a lone 0x9b is a CSI on some terminals), bidi
// overrides that can make a line read differently than it is, and the XML-illegal U+FFFE/U+FFFF.
const CONTROL = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069\ufffe\uffff]/g

// A surrogate half without its partner is not a character: XML rejects it, terminals garble it.
const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g

/** Removes ANSI/VT escape sequences, keeping the text around them. */
export function stripAnsi(text: string): string {
  return text.replace(ANSI_SEQUENCE, '')
}

/**
 * Makes untrusted text printable and XML-safe: escape sequences and control characters go,
 * CRLF becomes LF, lone surrogates become U+FFFD; tabs and newlines stay.
 */
export function sanitize(text: string): string {
  return stripAnsi(text).replace(/\r\n?/g, '\n').replace(CONTROL, '').replace(LONE_SURROGATE, '\ufffd')
}

/** sanitize, then folds whitespace runs (newlines included) into one space: for titles and attributes. */
export function sanitizeLine(text: string): string {
  return sanitize(text).replace(/\s+/g, ' ').trim()
}

/** Cuts a single line to `max` characters, marking the cut with an ellipsis. */
export function truncate(text: string, max: number): string {
  if (text.length <= max) return text
  let end = Math.max(0, max - 1)
  // never split a surrogate pair: half a character is exactly what sanitize removes
  if (/[\ud800-\udbff]/.test(text.charAt(end - 1))) end--
  return `${text.slice(0, end)}…`
}
