import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir, userInfo } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { ConfigError } from '../../../src/errors.ts'
import type { HostSpec } from '../../../src/model.ts'
import { SshConfigResolver } from '../../../src/transports/ssh/config.ts'
import { expandTokens, parseHop, parseProxyJump, parseSshG } from '../../../src/transports/ssh/config-settings.ts'
import { targetForHost } from '../../../src/transports/ssh/target.ts'

// `ssh -G -F cfg web-1` from OpenSSH 9.2 (Debian 12), trimmed of keywords verify does not read.
const CAPTURED_G = `host web-1
user deploy
hostname web-1.internal
port 2222
addressfamily any
batchmode no
hashknownhosts yes
identitiesonly no
stricthostkeychecking accept-new
identityfile ~/.ssh/deploy_%r
identityfile /keys/%h.key
globalknownhostsfile /etc/ssh/ssh_known_hosts /etc/ssh/ssh_known_hosts2
userknownhostsfile /home/ci/.ssh/known_hosts_fleet
connecttimeout none
proxyjump ops@bastion.example.com:2200,bastion2
hostkeyalias web-1-key
identityagent /run/agent.sock
`

// The same for a host no config mentions: OpenSSH's defaults only.
const CAPTURED_DEFAULTS = `host 10.0.0.5
user ci
hostname 10.0.0.5
port 22
hashknownhosts no
stricthostkeychecking ask
identityfile ~/.ssh/id_rsa
identityfile ~/.ssh/id_ecdsa
identityfile ~/.ssh/id_ecdsa_sk
identityfile ~/.ssh/id_ed25519
identityfile ~/.ssh/id_ed25519_sk
identityfile ~/.ssh/id_xmss
identityfile ~/.ssh/id_dsa
globalknownhostsfile /etc/ssh/ssh_known_hosts /etc/ssh/ssh_known_hosts2
userknownhostsfile /home/ci/.ssh/known_hosts /home/ci/.ssh/known_hosts2
`

const local = { user: 'ci', home: '/home/ci', uid: 1000 }

describe('parseSshG', () => {
  it('reads hostname, port, user, identities, jumps, known_hosts and policy, expanding ~ and % tokens', () => {
    const config = parseSshG(CAPTURED_G, { alias: 'web-1' }, local)
    expect(config).toMatchObject({
      alias: 'web-1',
      hostname: 'web-1.internal',
      port: 2222,
      user: 'deploy',
      userDefaulted: false,
      identityFiles: ['/home/ci/.ssh/deploy_deploy', '/keys/web-1.internal.key'],
      identityAgent: '/run/agent.sock',
      proxyJump: ['ops@bastion.example.com:2200', 'bastion2'],
      userKnownHostsFiles: ['/home/ci/.ssh/known_hosts_fleet'],
      strictHostKeyChecking: 'accept-new',
      hostKeyAlias: 'web-1-key',
      hashKnownHosts: true,
    })
    expect(config.proxyCommand).toBeUndefined()
  })

  it("treats OpenSSH's defaults as nothing configured", () => {
    const config = parseSshG(CAPTURED_DEFAULTS, { alias: '10.0.0.5' }, local)
    expect(config).toMatchObject({
      hostname: '10.0.0.5',
      port: 22,
      user: 'ci',
      userDefaulted: true,
      identityFiles: [],
      userKnownHostsFiles: [],
      proxyJump: [],
      strictHostKeyChecking: 'ask',
    })
  })

  it('expands a ProxyCommand and maps StrictHostKeyChecking no/yes', () => {
    const out =
      'hostname 10.1.1.1\nport 22\nuser ec2-user\nproxycommand aws ssm start-session --target %n --document-name AWS-StartSSHSession --parameters portNumber=%p\nstricthostkeychecking false\n'
    const config = parseSshG(out, { alias: 'i-0abc' }, local)
    expect(config.proxyCommand).toBe('aws ssm start-session --target i-0abc --document-name AWS-StartSSHSession --parameters portNumber=22')
    expect(config.strictHostKeyChecking).toBe('no')
    expect(parseSshG('stricthostkeychecking true\n', { alias: 'x' }, local).strictHostKeyChecking).toBe('yes')
  })
})

describe('tokens and hops', () => {
  it('expands the tokens OpenSSH documents and keeps %% literal', () => {
    expect(expandTokens('%r@%h:%p via %n (%u, %d) 100%%', { h: 'h1', p: '22', r: 'deploy', n: 'alias', u: 'ci', d: '/home/ci' })).toBe(
      'deploy@h1:22 via alias (ci, /home/ci) 100%',
    )
    expect(expandTokens('%Z stays', {})).toBe('%Z stays')
  })

  it('parses ProxyJump lists and hops', () => {
    expect(parseProxyJump('a, b ,c')).toEqual(['a', 'b', 'c'])
    expect(parseProxyJump('none')).toEqual([])
    expect(parseHop('ops@bastion:2200')).toEqual({ alias: 'bastion', user: 'ops', port: 2200 })
    expect(parseHop('ssh://jump.example.com')).toEqual({ alias: 'jump.example.com' })
    expect(parseHop('[2001:db8::1]:22')).toEqual({ alias: '2001:db8::1', port: 22 })
    expect(() => parseHop('@:99999')).toThrow(ConfigError)
  })
})

describe('SshConfigResolver on a real config file', () => {
  let dir: string
  let configFile: string
  const me = userInfo().username

  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'ssh-config-test-'))
    configFile = join(dir, 'config')
    writeFileSync(
      configFile,
      `Host web-*
  HostName %h.internal
  User deploy
  ProxyJump bastion

Match user admin
  Port 2200

Host bastion
  HostName 10.9.9.9
  Port 2201
  IdentityFile ~/.ssh/bastion_key
  UserKnownHostsFile /etc/verify/known_hosts
  StrictHostKeyChecking accept-new

Host ssm-*
  ProxyCommand sh -c "exec nc %h %p"
`,
    )
  })

  afterAll(() => rmSync(dir, { recursive: true, force: true }))

  for (const sshBinary of [undefined, false] as const) {
    const via = sshBinary === false ? 'the ssh-config library' : 'ssh -G'
    it(`resolves aliases through ${via}`, async () => {
      const resolver = new SshConfigResolver({ configFile, sshBinary, env: { ...process.env, HOME: '/home/ci' } })
      const web = await resolver.resolve({ alias: 'web-1' })
      expect(web).toMatchObject({ hostname: 'web-1.internal', user: 'deploy', port: 22, proxyJump: ['bastion'] })
      const bastion = await resolver.resolve({ alias: 'bastion' })
      expect(bastion).toMatchObject({
        hostname: '10.9.9.9',
        port: 2201,
        strictHostKeyChecking: 'accept-new',
        userKnownHostsFiles: ['/etc/verify/known_hosts'],
      })
      expect(bastion.identityFiles[0]).toMatch(/\.ssh\/bastion_key$/)
      expect(bastion.user).toBe(me)
      expect(bastion.userDefaulted).toBe(true)
      // an explicit inventory user reaches `Match user`, as `ssh -l admin` would
      expect((await resolver.resolve({ alias: 'other', user: 'admin' })).port).toBe(2200)
      const ssm = await resolver.resolve({ alias: 'ssm-1' })
      expect(ssm.proxyCommand).toBe('sh -c "exec nc ssm-1 22"')
    })
  }

  it('stops with a ConfigError naming the file when the config is broken', async () => {
    const broken = join(dir, 'broken')
    writeFileSync(broken, 'Hostt typo\n')
    await expect(new SshConfigResolver({ configFile: broken }).validate()).rejects.toThrow(/broken.*Bad configuration option: hostt/)
    await expect(new SshConfigResolver({ configFile: join(dir, 'missing') }).validate()).rejects.toBeInstanceOf(ConfigError)
  })
})

describe('inventory vs ssh_config precedence', () => {
  const base: HostSpec = { name: 'web-1', address: 'web-1', port: 22, transport: 'ssh', groups: [], vars: {} }
  const config = parseSshG(CAPTURED_G, { alias: 'web-1' }, local)
  const ctx = { env: { HOME: '/home/ci' }, acceptNewHostKeys: false }

  it('lets ssh_config win over defaulted settings (address from the name, user and port from defaults:)', () => {
    const target = targetForHost({ ...base, user: 'fromdefaults', port: 22, identityFile: '/defaults/key', explicit: [] }, config, ctx)
    expect(target).toMatchObject({
      hostname: 'web-1.internal',
      user: 'deploy',
      port: 2222,
      hostKeyAlias: 'web-1-key',
      hostKeyPolicy: 'accept-new',
    })
    expect(target.identityFiles.map(f => f.path)).toEqual(['/home/ci/.ssh/deploy_deploy', '/keys/web-1.internal.key'])
    expect(target.proxyJump).toEqual(['ops@bastion.example.com:2200', 'bastion2'])
  })

  it('lets settings written for the host win over ssh_config', () => {
    const target = targetForHost(
      {
        ...base,
        user: 'root',
        port: 2022,
        identityFile: '/mine/key',
        knownHosts: '/mine/known_hosts',
        proxyJump: 'none',
        explicit: ['user', 'port', 'identityFile', 'knownHosts', 'proxyJump'],
      },
      config,
      ctx,
    )
    expect(target).toMatchObject({ user: 'root', port: 2022, knownHostsFiles: ['/mine/known_hosts'], proxyJump: [] })
    expect(target.identityFiles).toEqual([{ path: '/mine/key', required: true }])
  })

  it('uses defaulted settings where ssh_config has nothing', () => {
    const plain = parseSshG(CAPTURED_DEFAULTS, { alias: '10.0.0.5' }, local)
    const target = targetForHost(
      { ...base, address: '10.0.0.5', user: 'deploy', port: 2200, knownHosts: '/fleet/known_hosts', proxyJump: 'bastion', explicit: [] },
      plain,
      ctx,
    )
    expect(target).toMatchObject({
      hostname: '10.0.0.5',
      user: 'deploy',
      port: 2200,
      knownHostsFiles: ['/fleet/known_hosts'],
      proxyJump: ['bastion'],
      hostKeyPolicy: 'strict',
    })
  })
})
