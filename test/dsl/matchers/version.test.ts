import { describe, expect as vitestExpect, it } from 'vitest'
import { expect } from '../../../src/dsl/expect.ts'
import { failure } from '../../support/assertion-failure.ts'
import type { PkgFacts } from '../../../src/resources/system/pkg.ts'

const openssh: PkgFacts = {
  name: 'openssh-server',
  manager: 'dpkg',
  installed: true,
  version: '1:9.2p1-2+deb12u3',
  versions: ['1:9.2p1-2+deb12u3'],
  architectures: ['amd64'],
  status: 'ii',
}
const kernel: PkgFacts = {
  name: 'kernel',
  manager: 'rpm',
  installed: true,
  version: '5.14.0-427.13.1.el9_4',
  versions: ['5.14.0-427.13.1.el9_4'],
  architectures: ['x86_64'],
}
const absent: PkgFacts = { name: 'telnetd', manager: 'dpkg', installed: false, versions: [], architectures: [] }

describe('toSatisfyVersion', () => {
  it("compares with the package manager's ordering", () => {
    expect(openssh).toSatisfyVersion('>= 1:9.2p1')
    expect(openssh).toSatisfyVersion('>= 1:9.2p1, < 1:10')
    expect(openssh).not.toSatisfyVersion('< 9.9') // the epoch wins
    expect(kernel).toSatisfyVersion('>= 5.14.0-362')
    expect(kernel).toSatisfyVersion('= 5.14.0') // rpm: no release in the constraint, version only
    expect('1.10').toSatisfyVersion('> 1.9')
    expect('1.0~rc1').toSatisfyVersion('< 1.0')
    expect('1.0^git1').toSatisfyVersion('> 1.0', 'rpm')
  })

  it('says which package, which version and which ordering failed', () => {
    const f = failure(() => expect(openssh).toSatisfyVersion('>= 1:9.3'))
    vitestExpect(f.message).toBe('expected package openssh-server 1:9.2p1-2+deb12u3 to satisfy >= 1:9.3 (deb ordering)')
    vitestExpect(f.expected).toBe('>= 1:9.3 (deb ordering)')
    vitestExpect(f.actual).toBe('1:9.2p1-2+deb12u3')
  })

  it('a package that is not installed satisfies no constraint', () => {
    const f = failure(() => expect(absent).toSatisfyVersion('>= 0'))
    vitestExpect(f.message).toBe('expected package telnetd to satisfy >= 0, but it is not installed (dpkg)')
    vitestExpect(f.actual).toBe('not installed')
    expect(absent).not.toSatisfyVersion('< 99')
  })

  it("a malformed constraint is the spec's error; a promise gets a hint", () => {
    vitestExpect(() => expect(openssh).toSatisfyVersion('~> 1.2')).toThrow(/invalid version constraint/)
    vitestExpect(failure(() => expect(Promise.resolve(openssh)).toSatisfyVersion('>= 1')).message).toMatch(/did you forget `await pkg/)
  })
})
