import { spawnSync } from 'node:child_process'
import { existsSync } from 'node:fs'
import { describe, expect, it } from 'vitest'
import {
  compareDebian,
  compareRpmEvr,
  parseConstraint,
  parseDebianVersion,
  rpmvercmp,
  satisfiesVersion,
} from '../../src/lib/version-compare.ts'

// [a, b, sign of compare(a, b)] — each row also checked against `dpkg --compare-versions` when dpkg is present.
const DEBIAN: Array<[string, string, -1 | 0 | 1]> = [
  ['1.0', '1.0', 0],
  ['1:1.0', '2.0', 1],
  ['0:1.0', '1.0', 0],
  ['1.0~rc1', '1.0', -1],
  ['1.0~rc1', '1.0~rc2', -1],
  ['1.0~~', '1.0~', -1],
  ['1.0~', '1.0', -1],
  ['1.10', '1.9', 1],
  ['1.010', '1.9', 1],
  ['1.01', '1.1', 0],
  ['1.0a', '1.0', 1],
  ['1.0a', '1.0.1', -1],
  ['1.0+b1', '1.0', 1],
  ['1.0-1', '1.0', 1],
  ['1.0-0', '1.0', 0],
  ['1.0-10', '1.0-9', 1],
  ['1.0-1ubuntu1', '1.0-1', 1],
  ['1.0-1~bpo11+1', '1.0-1', -1],
  ['2.36-9+deb12u4', '2.36-9+deb12u10', -1],
  ['1:9.2p1-2+deb12u3', '1:9.2p1-2+deb12u2', 1],
  ['1:9.2p1-2', '9.9', 1],
  ['9.2p1', '9.2', 1],
  ['1.2-3-4', '1.2-3', 1], // upstream "1.2-3", revision "4" vs upstream "1.2", revision "3"
  ['a', 'b', -1],
  ['A', 'a', -1],
  ['1.0.', '1.0', 1],
  ['1.0_1', '1.0.1', 1], // two non-letters sort by code: '_' (95) after '.' (46)
  ['10:0', '9:99', 1],
  ['2:1.0', '10:1.0', -1],
  ['1.2.3', '1.2.3.0', -1],
  ['7.88.1-10+deb12u5', '7.88.1-10+deb12u12', -1],
  ['3.0.11-1~deb12u2', '3.0.11-1', -1],
]

// [a, b, rpmvercmp sign] — verified against rpm 4.18's rpm.vercmp (lua) when the table was written.
const RPM_VERCMP: Array<[string, string, -1 | 0 | 1]> = [
  ['1.0', '1.0', 0],
  ['1.0', '2.0', -1],
  ['1.10', '1.9', 1],
  ['1.0a', '1.0', 1],
  ['1.0a', '1.0.1', -1],
  ['1.0', '1_0', 0], // separators do not matter
  ['1.0', '1.0.', 0],
  ['1.01', '1.1', 0],
  ['2a', '2.0', -1], // numbers beat letters
  ['2.0', '2a', 1],
  ['a', 'b', -1],
  ['abc', 'ab', 1],
  ['1.0~rc1', '1.0', -1],
  ['1.0~rc1', '1.0~rc2', -1],
  ['1.0~rc1~git1', '1.0~rc1', -1],
  ['1.0^', '1.0', 1],
  ['1.0^git1', '1.0', 1],
  ['1.0^git1', '1.0.1', -1],
  ['1.0^git1', '1.0^git2', -1],
  ['1.0^git1~pre', '1.0^git1', -1],
  ['5.14.0', '5.14.0.1', -1],
  ['el9', 'el10', -1],
  ['fc38', 'fc39', -1],
  ['1.el9_2', '1.el9', 1],
  ['0001', '1', 0],
  ['1.0', '1.0a', -1],
  ['+', '_', 0],
]

const sgn = (n: number) => Math.sign(n) as -1 | 0 | 1

describe('Debian version ordering', () => {
  it.each(DEBIAN)('%s vs %s → %i', (a, b, expected) => {
    expect(sgn(compareDebian(a, b))).toBe(expected)
    expect(sgn(compareDebian(b, a))).toBe(-expected || 0)
  })

  it.runIf(existsSync('/usr/bin/dpkg'))('agrees with dpkg --compare-versions on every row', () => {
    for (const [a, b, expected] of DEBIAN) {
      const op = expected < 0 ? 'lt' : expected > 0 ? 'gt' : 'eq'
      const dpkg = spawnSync('dpkg', ['--compare-versions', a, op, b])
      expect(dpkg.status, `dpkg --compare-versions ${a} ${op} ${b}`).toBe(0)
    }
  })

  it('splits epoch, upstream and revision as dpkg does', () => {
    expect(parseDebianVersion('1:9.2p1-2+deb12u3')).toEqual({ epoch: 1, upstream: '9.2p1', revision: '2+deb12u3' })
    expect(parseDebianVersion('2.0')).toEqual({ epoch: 0, upstream: '2.0', revision: '' })
    expect(parseDebianVersion('1:2:3-4-5')).toEqual({ epoch: 1, upstream: '2:3-4', revision: '5' })
  })
})

describe('RPM version ordering', () => {
  it.each(RPM_VERCMP)('rpmvercmp(%s, %s) → %i', (a, b, expected) => {
    expect(rpmvercmp(a, b)).toBe(expected)
    expect(rpmvercmp(b, a)).toBe(-expected || 0)
  })

  it('compares epoch first, then version, then release', () => {
    expect(sgn(compareRpmEvr('1:1.0-1', '2.0-1'))).toBe(1)
    expect(sgn(compareRpmEvr('1.0-2.el9', '1.0-10.el9'))).toBe(-1)
    expect(sgn(compareRpmEvr('2.0-1.el9', '1.9-99.el9'))).toBe(1)
  })

  it('a side without a release compares on version only, as rpm dependencies do', () => {
    expect(compareRpmEvr('1.2-5.el9', '1.2')).toBe(0)
    expect(satisfiesVersion('1.2-5.el9', '= 1.2', 'rpm')).toBe(true)
    expect(satisfiesVersion('1.2-5.el9', '= 1.2', 'deb')).toBe(false)
  })
})

describe('version constraints', () => {
  it('parses operators, conjunctions and parentheses', () => {
    expect(parseConstraint('>= 1.2.3')).toEqual([{ operator: '>=', version: '1.2.3' }])
    expect(parseConstraint('(>= 1.2, < 2)')).toEqual([
      { operator: '>=', version: '1.2' },
      { operator: '<', version: '2' },
    ])
    expect(parseConstraint('1:2.0-1')).toEqual([{ operator: '=', version: '1:2.0-1' }])
    expect(parseConstraint('<< 2')).toEqual([{ operator: '<', version: '2' }])
    expect(parseConstraint('>>2')).toEqual([{ operator: '>', version: '2' }])
    expect(parseConstraint('!=1.0')).toEqual([{ operator: '!=', version: '1.0' }])
  })

  it('rejects what it cannot read', () => {
    expect(() => parseConstraint('')).toThrow(/invalid version constraint/)
    expect(() => parseConstraint('>= 1, ')).toThrow(/invalid version constraint/)
    expect(() => parseConstraint('~> 1.2')).toThrow(/invalid version constraint/)
    expect(() => parseConstraint('>= 1 2')).toThrow(/invalid version constraint/)
  })

  it('evaluates every operator with version ordering, not string order', () => {
    expect(satisfiesVersion('1.10', '> 1.9')).toBe(true)
    expect(satisfiesVersion('1.10', '< 1.9')).toBe(false)
    expect(satisfiesVersion('1.0~rc1', '>= 1.0')).toBe(false)
    expect(satisfiesVersion('1.0~rc1', '< 1.0')).toBe(true)
    expect(satisfiesVersion('1:1.0', '>= 2.0')).toBe(true)
    expect(satisfiesVersion('1.01', '= 1.1')).toBe(true)
    expect(satisfiesVersion('1.0', '!= 1.0')).toBe(false)
    expect(satisfiesVersion('1.0', '<= 1.0')).toBe(true)
    expect(satisfiesVersion('1:9.2p1-2+deb12u3', '>= 1:9.2p1, < 1:10')).toBe(true)
    expect(satisfiesVersion('2.0', '(>= 1.2, < 2)')).toBe(false)
  })
})
