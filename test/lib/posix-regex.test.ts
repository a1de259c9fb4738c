import { execFileSync } from 'node:child_process'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { toPosixEre, UnsupportedPatternError } from '../../src/lib/posix-regex.ts'

const LINES = [
  'listen 8080;',
  'listen 80 default_server;',
  '  server_name blog.example.com www.example.com;',
  'ssl_protocols TLSv1.2 TLSv1.3;',
  '# listen 443 ssl;',
  'LogLevel Warn',
  'path=/srv/app-1.2.3/current',
  'a]b^c-d[e\\f',
  'tab\there',
  'price: $5.00 (approx) {x}',
  '',
  'x{2}y',
  'aaa+',
]

let dir: string
let file: string
beforeAll(() => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'verify-ere-'))
  file = path.join(dir, 'lines')
  writeFileSync(file, `${LINES.join('\n')}\n`)
})
afterAll(() => rmSync(dir, { recursive: true, force: true }))

/** Line numbers (1-based) grep -E matches with the translated pattern, as the probe runs it. */
function grepLines(re: RegExp): number[] {
  const { ere, ignoreCase } = toPosixEre(re)
  try {
    const out = execFileSync('grep', ['-n', '-E', ...(ignoreCase ? ['-i'] : []), '-e', ere, '--', file], {
      encoding: 'utf8',
      env: { ...process.env, LC_ALL: 'C' },
    })
    return out
      .split('\n')
      .filter(l => l !== '')
      .map(l => Number(l.split(':')[0]))
  } catch (error) {
    if ((error as { status?: number }).status === 1) return []
    throw error
  }
}

function jsLines(re: RegExp): number[] {
  return LINES.flatMap((line, i) => (new RegExp(re.source, re.flags.replace(/[gy]/g, '')).test(line) ? [i + 1] : []))
}

describe('toPosixEre: grep -E on the host matches the same lines as the RegExp here', () => {
  const patterns: RegExp[] = [
    /listen \d+;/,
    /^listen\s+\d+/,
    /^\s*server_name\s.*example/,
    /[\w-z]{6}/,
    /TLSv1\.[23]/,
    /^#/,
    /loglevel warn/i,
    /app-\d+\.\d+\.\d+/,
    /[\]^\-[\\]/,
    /\t/,
    /\$\d+\.\d{2}/,
    /\(approx\)/,
    /\{x\}/,
    /^$/,
    /x\{2\}y/,
    /a{3}\+/,
    /(?:listen|ssl)_?\w+ \d+/,
    /(?<port>\d{4})/,
    /[^a-z ;#]/,
    /[\d.]+;$/,
    /\w+=\S+/,
    /[\s\S]/,
    /[^]/,
    /[\S]{20}/,
    /[a\W]{2}/,
    /ssl.*?;/,
    /a+?/,
    /\W\W/,
    /\D{3,}/,
    /[a-c\d]{2}/,
    /[-a]/,
    /[a-]/,
    /[\^]/,
    /[\\]/,
    /\//,
    /end}/,
  ]
  for (const re of patterns) {
    it(String(re), () => {
      expect(grepLines(re)).toEqual(jsLines(re))
    })
  }
})

describe('toPosixEre refuses what POSIX ERE would read differently', () => {
  const refused: Array<[RegExp, RegExp]> = [
    [/(?=x)/, /lookahead/],
    [/(?<!x)y/, /lookahead/],
    [/\bword\b/, /word boundaries/],
    [/(a)\1/, /backreferences/],
    [/a\nb/, /one line at a time/],
    [/\u00e9/, /\\u escapes/],
    [/é/, /non-ASCII/],
    [/[é]/, /non-ASCII/],
    [/[^\S\d]/, /inside \[\^\.\.\.\]/],
    [/[]/, /empty class/],
  ]
  for (const [re, why] of refused) {
    it(String(re), () => {
      expect(() => toPosixEre(re)).toThrow(UnsupportedPatternError)
      expect(() => toPosixEre(re)).toThrow(why)
    })
  }

  it('keeps the i flag for grep -i', () => {
    expect(toPosixEre(/abc/i)).toEqual({ ere: 'abc', ignoreCase: true })
  })
})
