import { existsSync } from 'node:fs'
import { describe, expect, it } from 'vitest'
import { group, parseGroup } from '../../../src/resources/system/group.ts'
import { onLocalHost } from '../../support/local-host.ts'

describe('parseGroup', () => {
  it('gid and listed members (getent group output)', () => {
    expect(parseGroup('sudo', 'group\nsudo:x:27:deploy,alice\n')).toEqual({
      name: 'sudo',
      exists: true,
      gid: 27,
      members: ['deploy', 'alice'],
    })
    expect(parseGroup('deploy', 'group\ndeploy:x:1001:\n')).toEqual({ name: 'deploy', exists: true, gid: 1001, members: [] })
  })

  it('missing; an all-digit name resolved as a gid is not that group', () => {
    expect(parseGroup('nosuch', 'missing\n')).toEqual({ name: 'nosuch', exists: false, members: [] })
    expect(parseGroup('27', 'group\nsudo:x:27:deploy\n')).toMatchObject({ exists: false })
    expect(() => parseGroup('x', 'group\nx:y\n')).toThrow(/unexpected group entry/)
  })
})

describe('group() on the local machine', () => {
  it('reads root hostile names are absent groups', async () => {
    const names = ['root', '-x', "it's $(touch /tmp/verify-pwned)", '`touch /tmp/verify-pwned`', 'a\nb']
    const { value, execCount } = await onLocalHost(() => Promise.all(names.map(n => group(n))))
    expect(execCount).toBe(1)
    expect(value[0]).toMatchObject({ exists: true, gid: 0 })
    expect(value.slice(1).map(g => g.exists)).toEqual([false, false, false, false])
    expect(existsSync('/tmp/verify-pwned')).toBe(false)
  })
})
