import os from 'node:os'
import { existsSync } from 'node:fs'
import { describe, expect, it } from 'vitest'
import { parseUser, user } from '../../../src/resources/system/user.ts'
import { onLocalHost } from '../../support/local-host.ts'

// What the user snippet prints: getent passwd, id -G, getent group for those gids (Debian 12).
const DEPLOY = `passwd
deploy:x:1001:1001:Deploy User,,,:/home/deploy:/bin/bash
gids
1001 27 33 4242
groups
deploy:x:1001:
sudo:x:27:deploy
www-data:x:33:deploy
`
const NOLOGIN = `passwd
www-data:x:33:33:www-data:/var/www:/usr/sbin/nologin
gids
33
groups
www-data:x:33:
`

describe('parseUser', () => {
  it('uid, gid, primary group, all groups primary first, home, shell, gecos', () => {
    expect(parseUser('deploy', DEPLOY)).toEqual({
      name: 'deploy',
      exists: true,
      uid: 1001,
      gid: 1001,
      group: 'deploy',
      groups: ['deploy', 'sudo', 'www-data', '4242'],
      gids: [1001, 27, 33, 4242],
      home: '/home/deploy',
      shell: '/bin/bash',
      gecos: 'Deploy User,,,',
    })
    expect(parseUser('www-data', NOLOGIN)).toMatchObject({ groups: ['www-data'], shell: '/usr/sbin/nologin', home: '/var/www' })
  })

  it('missing; and an all-digit name that getent resolved as a uid is not that user', () => {
    expect(parseUser('nosuch', 'missing\n')).toEqual({ name: 'nosuch', exists: false, groups: [], gids: [] })
    expect(parseUser('33', NOLOGIN)).toMatchObject({ exists: false })
  })

  it('rejects an entry it cannot read', () => {
    expect(() => parseUser('x', 'passwd\nx:1\n')).toThrow(/unexpected passwd entry/)
  })
})

describe('user() on the local machine', () => {
  it('reads the current user and root; hostile names are just absent users', async () => {
    const me = os.userInfo()
    const names = [
      me.username,
      'root',
      'no-such-user-here',
      '-x',
      "it's $(touch /tmp/verify-pwned)",
      '`touch /tmp/verify-pwned`',
      'a\nb',
      '0',
    ]
    const { value, execCount } = await onLocalHost(() => Promise.all(names.map(n => user(n))))
    expect(execCount).toBe(1)
    expect(value[0]).toMatchObject({ exists: true, uid: me.uid, gid: me.gid, home: me.homedir, shell: me.shell })
    expect(value[0]!.gids[0]).toBe(me.gid)
    expect(value[1]).toMatchObject({ exists: true, uid: 0, gid: 0, group: 'root' })
    expect(value[1]!.groups).toContain('root')
    expect(value.slice(2).map(u => u.exists)).toEqual([false, false, false, false, false, false])
    expect(existsSync('/tmp/verify-pwned')).toBe(false)
  })
})
