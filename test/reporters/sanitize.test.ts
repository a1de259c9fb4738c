// sanitize: what may reach a terminal or an XML file from untrusted text.
import { describe, expect, it } from 'vitest'
import { sanitize, stripAnsi } from '../../src/reporters/sanitize.ts'

describe('sanitize', () => {
  it('drops the C1 CSI (U+009B) alone and keeps the text after it', () => {
    expect(sanitize('a\u009b31mb')).toBe('a31mb')
    expect(sanitize('before\u009bafter the C1 CSI')).toBe('beforeafter the C1 CSI')
    expect(stripAnsi('\u009b2J')).toBe('\u009b2J')
  })

  it('still removes ESC-introduced sequences whole', () => {
    expect(sanitize('\x1b[31mred\x1b[0m \x1b]0;title\x07x')).toBe('red x')
  })
})
