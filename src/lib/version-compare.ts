// Package version ordering as the package managers define it (never string order), and
// constraints like `>= 1.2.3` or `>= 1.2, < 2` evaluated with it.
//   deb: dpkg's algorithm (epoch:upstream-revision, `~` sorts before everything, even the end)
//   rpm: rpmvercmp (alphanumeric segments, numbers beat letters, `~` before and `^` after the end)

export type VersionScheme = 'deb' | 'rpm'

export type VersionOperator = '<' | '<=' | '=' | '>=' | '>' | '!='

export interface VersionClause {
  operator: VersionOperator
  version: string
}

/** Negative, zero or positive as a sorts before, with or after b. */
export function compareVersions(a: string, b: string, scheme: VersionScheme = 'deb'): number {
  return scheme === 'rpm' ? compareRpmEvr(a, b) : compareDebian(a, b)
}

// ---------------------------------------------------------------------------------------------
// Debian (dpkg's verrevcmp)

interface DebianVersion {
  epoch: number
  upstream: string
  revision: string
}

export function parseDebianVersion(version: string): DebianVersion {
  const text = version.trim()
  const colon = text.indexOf(':')
  // dpkg only takes a digits-only prefix as the epoch
  const hasEpoch = colon > 0 && /^\d+$/.test(text.slice(0, colon))
  const epoch = hasEpoch ? Number(text.slice(0, colon)) : 0
  const rest = hasEpoch ? text.slice(colon + 1) : text
  const dash = rest.lastIndexOf('-')
  return dash >= 0 ? { epoch, upstream: rest.slice(0, dash), revision: rest.slice(dash + 1) } : { epoch, upstream: rest, revision: '' }
}

export function compareDebian(a: string, b: string): number {
  const va = parseDebianVersion(a)
  const vb = parseDebianVersion(b)
  if (va.epoch !== vb.epoch) return va.epoch < vb.epoch ? -1 : 1
  return sign(verrevcmp(va.upstream, vb.upstream)) || sign(verrevcmp(va.revision, vb.revision))
}

const isDigit = (c: string | undefined): boolean => c !== undefined && c >= '0' && c <= '9'
const isAlpha = (c: string | undefined): boolean => c !== undefined && /^[A-Za-z]$/.test(c)

/** dpkg's character weight: letters by code, `~` lowest (below the end of the string), others after letters. */
function order(c: string | undefined): number {
  if (c === undefined || isDigit(c)) return 0
  if (isAlpha(c)) return c.charCodeAt(0)
  if (c === '~') return -1
  return c.charCodeAt(0) + 256
}

function verrevcmp(a: string, b: string): number {
  let i = 0
  let j = 0
  while (i < a.length || j < b.length) {
    // the non-digit run, compared character by character
    while ((i < a.length && !isDigit(a[i])) || (j < b.length && !isDigit(b[j]))) {
      const diff = order(a[i]) - order(b[j])
      if (diff !== 0) return diff
      i++
      j++
    }
    // the digit run, compared as a number (leading zeros skipped, longer is bigger)
    while (a[i] === '0') i++
    while (b[j] === '0') j++
    let firstDiff = 0
    while (isDigit(a[i]) && isDigit(b[j])) {
      if (firstDiff === 0) firstDiff = a.charCodeAt(i) - b.charCodeAt(j)
      i++
      j++
    }
    if (isDigit(a[i])) return 1
    if (isDigit(b[j])) return -1
    if (firstDiff !== 0) return firstDiff
  }
  return 0
}

// ---------------------------------------------------------------------------------------------
// RPM (rpmvercmp on [epoch:]version[-release])

interface RpmEvr {
  epoch: number
  version: string
  release?: string
}

export function parseRpmEvr(evr: string): RpmEvr {
  const text = evr.trim()
  const colon = text.indexOf(':')
  const hasEpoch = colon > 0 && /^\d+$/.test(text.slice(0, colon))
  const epoch = hasEpoch ? Number(text.slice(0, colon)) : 0
  const rest = hasEpoch ? text.slice(colon + 1) : text
  const dash = rest.lastIndexOf('-')
  return dash >= 0 ? { epoch, version: rest.slice(0, dash), release: rest.slice(dash + 1) } : { epoch, version: rest }
}

/** Like rpm's dependency comparison: a side without a release compares on epoch and version only. */
export function compareRpmEvr(a: string, b: string): number {
  const ea = parseRpmEvr(a)
  const eb = parseRpmEvr(b)
  if (ea.epoch !== eb.epoch) return ea.epoch < eb.epoch ? -1 : 1
  const byVersion = rpmvercmp(ea.version, eb.version)
  if (byVersion !== 0 || ea.release === undefined || eb.release === undefined) return byVersion
  return rpmvercmp(ea.release, eb.release)
}

const isAlnum = (c: string | undefined): boolean => isDigit(c) || isAlpha(c)

/** rpm's rpmvercmp (lib/rpmvercmp.c), returning -1, 0 or 1. */
export function rpmvercmp(a: string, b: string): number {
  if (a === b) return 0
  let i = 0
  let j = 0
  while (i < a.length || j < b.length) {
    while (i < a.length && !isAlnum(a[i]) && a[i] !== '~' && a[i] !== '^') i++
    while (j < b.length && !isAlnum(b[j]) && b[j] !== '~' && b[j] !== '^') j++

    // `~` sorts before everything, the end of the string included
    if (a[i] === '~' || b[j] === '~') {
      if (a[i] !== '~') return 1
      if (b[j] !== '~') return -1
      i++
      j++
      continue
    }
    // `^` sorts after the end of the string but before anything else
    if (a[i] === '^' || b[j] === '^') {
      if (i >= a.length) return -1
      if (j >= b.length) return 1
      if (a[i] !== '^') return 1
      if (b[j] !== '^') return -1
      i++
      j++
      continue
    }
    if (i >= a.length || j >= b.length) break

    // one segment: all digits or all letters, the kind chosen by a
    const numeric = isDigit(a[i])
    const inSegment = numeric ? isDigit : isAlpha
    let endA = i
    let endB = j
    while (endA < a.length && inSegment(a[endA])) endA++
    while (endB < b.length && inSegment(b[endB])) endB++
    // b has the other kind of segment here: numbers are newer than letters
    if (endB === j) return numeric ? 1 : -1

    let segA = a.slice(i, endA)
    let segB = b.slice(j, endB)
    if (numeric) {
      segA = segA.replace(/^0+/, '')
      segB = segB.replace(/^0+/, '')
      if (segA.length !== segB.length) return segA.length > segB.length ? 1 : -1
    }
    if (segA !== segB) return segA < segB ? -1 : 1
    i = endA
    j = endB
  }
  // every segment equal: separators do not count, whoever has something left is newer
  if (i >= a.length && j >= b.length) return 0
  return i >= a.length ? -1 : 1
}

// ---------------------------------------------------------------------------------------------
// Constraints

const OPERATOR = /^(<<|>>|<=|>=|==|!=|<|>|=)?\s*(\S+)$/

/**
 * `>= 1.2.3`, `< 2`, `!= 1.0-3`, or a conjunction `>= 1.2, < 2` (optionally in parentheses).
 * A bare version means `=`; Debian's `<<` and `>>` are accepted for `<` and `>`.
 */
export function parseConstraint(constraint: string): VersionClause[] {
  const body = constraint.trim().replace(/^\((.*)\)$/s, '$1')
  const parts = body.split(',').map(p => p.trim())
  if (parts.length === 0 || parts.some(p => p === '')) throw new Error(`invalid version constraint ${JSON.stringify(constraint)}`)
  return parts.map(part => {
    const match = OPERATOR.exec(part)
    if (!match) throw new Error(`invalid version constraint ${JSON.stringify(part)} (expected e.g. ">= 1.2.3")`)
    const raw = match[1] ?? '='
    const operator = ({ '<<': '<', '>>': '>', '==': '=' } as Record<string, VersionOperator>)[raw] ?? (raw as VersionOperator)
    return { operator, version: match[2]! }
  })
}

export function satisfiesVersion(version: string, constraint: string, scheme: VersionScheme = 'deb'): boolean {
  return parseConstraint(constraint).every(({ operator, version: wanted }) => holds(compareVersions(version, wanted, scheme), operator))
}

function holds(cmp: number, operator: VersionOperator): boolean {
  switch (operator) {
    case '<':
      return cmp < 0
    case '<=':
      return cmp <= 0
    case '=':
      return cmp === 0
    case '>=':
      return cmp >= 0
    case '>':
      return cmp > 0
    case '!=':
      return cmp !== 0
  }
}

function sign(n: number): number {
  return n < 0 ? -1 : n > 0 ? 1 : 0
}
