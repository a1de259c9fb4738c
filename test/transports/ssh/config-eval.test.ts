// The in-process ssh_config evaluation against OpenSSH's own answer (`ssh -G`) on the same files:
// Host patterns and negation, Match host/originalhost/user/localuser, Include, first value wins.
import { execFileSync } from 'node:child_process'
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir, userInfo } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { matchPatternList, splitLine } from '../../../src/transports/ssh/config-eval.ts'
import { SshConfigResolver } from '../../../src/transports/ssh/config.ts'
import type { SshConfigQuery } from '../../../src/transports/ssh/config-settings.ts'

const hasSsh = (() => {
  try {
    execFileSync('ssh', ['-V'], { stdio: 'ignore' })
    return true
  } catch {
    return false
  }
})()
const me = userInfo().username

describe('ssh_config lines and patterns', () => {
  it('splits Key value, Key=value, quoted arguments, trailing comments', () => {
    expect(splitLine('  HostName   web.internal  ')).toMatchObject({ keyword: 'hostname', args: ['web.internal'] })
    expect(splitLine('Port=2222')).toMatchObject({ keyword: 'port', args: ['2222'] })
    expect(splitLine('ProxyCommand sh -c "exec nc %h %p" # via nc')).toMatchObject({
      keyword: 'proxycommand',
      args: ['sh', '-c', 'exec nc %h %p'],
    })
    expect(splitLine('# comment')).toBeUndefined()
  })

  it('pattern lists: wildcards, any match, a negated match wins', () => {
    expect(matchPatternList('web-1', 'db-*,web-?')).toBe(true)
    expect(matchPatternList('web-10', 'web-?')).toBe(false)
    expect(matchPatternList('web-1', 'web-*,!web-1')).toBe(false)
    expect(matchPatternList('web-1', 'WEB-*', true)).toBe(true)
  })
})

describe.skipIf(!hasSsh)('in-process resolution equals ssh -G', () => {
  let dir: string
  const configs: Record<string, string> = {}

  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'ssh-config-eval-'))
    mkdirSync(join(dir, 'conf.d'))
    writeFileSync(join(dir, 'conf.d', '10-web.conf'), 'Host web-*\n  IdentityFile /keys/web\n  Port 2022\n')
    writeFileSync(join(dir, 'conf.d', '20-all.conf'), 'Host *\n  IdentityFile /keys/all\n  HashKnownHosts yes\n')
    configs.patterns = `Host web-* !web-9 db?.prod
  HostName %h.internal
  User deploy
  ProxyJump ops@bastion:2200,bastion2

Host *.prod !dbx.prod
  Port 2201
  StrictHostKeyChecking accept-new

Host WEB-1
  User first-wins-lost
  IdentitiesOnly yes
  IdentityFile ~/.ssh/web_%r

Host ssm-*
  ProxyCommand sh -c "exec nc %h %p"

Host *
  User fallback
  UserKnownHostsFile /etc/verify/known_hosts /etc/verify/known_hosts2
  HostKeyAlias %h-key
`
    configs.match = `Host alias-*
  HostName real-%h.example

Match host real-*
  Port 3022

Match originalhost alias-2,!alias-3
  IdentityFile /keys/orig

Match user admin,!root
  User admin
  Port 2200

Match localuser ${me} !host nomatch-*
  IdentityAgent /run/agent.sock

Match all
  GlobalKnownHostsFile /etc/verify/global
`
    configs.include = `Host inc-*
  Include ${dir}/conf.d/*.conf
  User inc

Include ${dir}/conf.d/20-all.conf
Host *
  Port 2999
`
    configs.exec = `Match exec "true"
  Port 4022
Host *
  User viaexec
`
    for (const [name, text] of Object.entries(configs)) writeFileSync(join(dir, name), text)
  })
  afterAll(() => rmSync(dir, { recursive: true, force: true }))

  const cases: Array<[string, SshConfigQuery[]]> = [
    [
      'patterns',
      [
        { alias: 'web-1' },
        { alias: 'Web-1' },
        { alias: 'web-9' },
        { alias: 'db1.prod' },
        { alias: 'dbx.prod' },
        { alias: 'x.prod', user: 'me', port: 2 },
        { alias: 'ssm-7' },
        { alias: '10.0.0.5' },
      ],
    ],
    [
      'match',
      [
        { alias: 'Alias-1' },
        { alias: 'alias-1' },
        { alias: 'alias-2' },
        { alias: 'alias-3' },
        { alias: 'other', user: 'admin' },
        { alias: 'other', user: 'root' },
        { alias: 'nomatch-1' },
        { alias: 'real-x' },
      ],
    ],
    ['include', [{ alias: 'inc-1' }, { alias: 'web-2' }, { alias: 'plain' }]],
    ['exec', [{ alias: 'any' }]],
  ]
  for (const [name, queries] of cases) {
    it(`config "${name}": every host resolves as ssh -G says`, async () => {
      const env = { ...process.env, HOME: '/home/ci' }
      const inProcess = new SshConfigResolver({ configFile: join(dir, name), env })
      const viaSsh = new SshConfigResolver({ configFile: join(dir, name), env, inProcess: false })
      for (const q of queries) expect(await inProcess.resolve(q), JSON.stringify(q)).toEqual(await viaSsh.resolve(q))
    })
  }
})
