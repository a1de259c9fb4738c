// SSH as people configure it, through the real CLI and sshd: an ssh_config with a bastion and
// layered inventories; an Ansible inventory with become (sudo -S, password from an env var)
// and an encrypted key, grepping every output for the secrets; first contact with
// --accept-new-host-keys.
import { execFileSync } from 'node:child_process'
import { chmodSync, existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs'
import path from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startFleet, TEST_USER, type Fleet } from '../support/sshd.ts'
import { makeWorkdir, readResult, runCli, type Workdir } from '../support/workdir.ts'

const isRoot = process.getuid?.() === 0
let fleet: Fleet
let work: Workdir

beforeAll(async () => {
  fleet = await startFleet({ hosts: 4, name: 'ssh-setup' })
  work = makeWorkdir()
})

afterAll(async () => {
  await fleet?.stop()
  work?.remove()
})

function connectionsTo(address: string): number {
  return readFileSync(fleet.logFile, 'utf8')
    .split('\n')
    .filter(l => l.includes(` on ${address} port ${fleet.port}`) && l.includes('Connection from')).length
}

describe('ssh_config, a bastion, and layered inventories', () => {
  it('reaches three hosts by their ssh_config aliases through one bastion connection (exit 0)', async () => {
    const [bastion, ...behind] = fleet.hosts
    work.write(
      'ssh_config',
      `Host bastion
  HostName ${bastion!.address}
${behind.map((h, i) => `Host app-${i + 1}\n  HostName ${h.address}\n  ProxyJump bastion`).join('\n')}
Host *
  Port ${fleet.port}
  User ${fleet.user}
  IdentityFile ${fleet.identityFile}
  UserKnownHostsFile ${fleet.knownHosts}
`,
    )
    // the shared base: defaults that ssh_config overrides (a defaulted user never hides User), group vars
    work.write(
      'inventory/base.yaml',
      `defaults:\n  user: nobody-by-default\n  port: 2\nvars:\n  greeting: hi\ngroups:\n  apps:\n    vars: { role: app }\n`,
    )
    work.write(
      'inventory/staging.yaml',
      `hosts:\n${behind.map((h, i) => `  app-${i + 1}: { vars: { expectAddress: ${JSON.stringify(h.address)} } }`).join('\n')}\ngroups:\n  apps:\n    hosts: [app-1, app-2, app-3]\n`,
    )
    work.write(
      'bastion/where.spec.ts',
      `import { describe, it, expect, command } from 'postdeploy-verify'
describe('behind the bastion', ({ vars }) => {
  it('runs on the host itself', async () => {
    expect((await command('echo "$SSH_CONNECTION"')).stdout.split(' ')[2]).toBe(vars.expectAddress)
  })
  it('has the vars of both inventory files', async () => {
    expect([vars.greeting, vars.role]).toEqual(['hi', 'app'])
  })
})
`,
    )
    const before = connectionsTo(bastion!.address)
    const run = await runCli(
      [
        '-i',
        'inventory/base.yaml',
        '-i',
        'inventory/staging.yaml',
        '-F',
        'ssh_config',
        '--hosts',
        'apps',
        '--specs',
        'bastion/*.spec.ts',
        '--json',
        'bastion.json',
      ],
      { cwd: work.dir },
    )
    expect(run.exitCode, run.stdout + run.stderr).toBe(0)
    expect(run.stdout).toMatch(/3 hosts?, 6 checks: 6 passed/)
    expect(connectionsTo(bastion!.address) - before).toBe(1)
    expect(readResult(work.dir, 'bastion.json').hosts.map(h => h.host.name)).toEqual(['app-1', 'app-2', 'app-3'])
  })

  it('stops before any host with exit 3 when the ssh_config is broken', async () => {
    work.write('broken_config', 'Hostt typo\n')
    const run = await runCli(
      [
        '-i',
        'inventory/base.yaml',
        '-i',
        'inventory/staging.yaml',
        '-F',
        'broken_config',
        '--hosts',
        'apps',
        '--specs',
        'bastion/*.spec.ts',
      ],
      { cwd: work.dir },
    )
    expect(run.exitCode).toBe(3)
    expect(run.stderr).toMatch(/broken_config.*Bad configuration option: hostt/)
  })
})

describe('first contact with --accept-new-host-keys', () => {
  it('records the key, then trusts it strictly; a changed key fails even with the flag', async () => {
    const knownHosts = path.join(work.dir, 'tofu', 'known_hosts')
    const host = fleet.hosts[1]!
    work.write(
      'tofu.yaml',
      `hosts:\n  h: { address: ${host.address}, port: ${fleet.port}, user: ${fleet.user}, identityFile: ${fleet.identityFile}, knownHosts: ${knownHosts} }\n`,
    )
    work.write(
      'tofu/ok.spec.ts',
      `import { describe, it, expect, command } from 'postdeploy-verify'\ndescribe('t', () => { it('runs', async () => { expect((await command('true')).exitStatus).toBe(0) }) })\n`,
    )
    const args = ['-i', 'tofu.yaml', '-F', 'none', '--hosts', 'h', '--specs', 'tofu/*.spec.ts']
    const first = await runCli([...args, '--accept-new-host-keys'], { cwd: work.dir })
    expect(first.exitCode, first.stdout + first.stderr).toBe(0)
    expect(first.stderr).toMatch(/note: .*first contact, host key ssh-ed25519 SHA256:\S+ .*added to .*tofu\/known_hosts/)
    expect((await runCli(args, { cwd: work.dir })).exitCode).toBe(0)
    execFileSync('sh', [
      '-c',
      `ssh-keygen -q -t ed25519 -N '' -f ${work.dir}/impostor && printf '[%s]:%s %s\\n' ${host.address} ${fleet.port} "$(cut -d' ' -f1,2 ${work.dir}/impostor.pub)" > ${knownHosts}`,
    ])
    const changed = await runCli([...args, '--accept-new-host-keys'], { cwd: work.dir })
    expect(changed.exitCode).toBe(2)
    expect(changed.stdout + changed.stderr).toContain('HOST KEY CHANGED')
  }, 120_000)
})

describe.skipIf(!isRoot)('become from an Ansible inventory, with secrets that never show', () => {
  const SUDOERS = `/etc/sudoers.d/verify_e2e_become_${process.pid}`
  const password = `sudo-${Math.random().toString(36).slice(2)}-p@ss`
  const passphrase = `key-${Math.random().toString(36).slice(2)}-phrase`
  let vault: string
  let encryptedKey: string

  beforeAll(() => {
    vault = path.join(fleet.dir, 'vault-e2e')
    mkdirSync(vault, { mode: 0o700 })
    chmodSync(vault, 0o700)
    writeFileSync(path.join(vault, 'token'), 'root-only\n')
    execFileSync('chpasswd', { input: `${TEST_USER}:${password}\n` })
    // the documented minimal rule for the password variant (docs/ssh.md)
    const staged = path.join(fleet.dir, 'sudoers.e2e')
    writeFileSync(staged, `Defaults:${TEST_USER} !lecture, passwd_tries=1\n${TEST_USER} ALL=(root) /bin/sh -c *\n`, { mode: 0o440 })
    execFileSync('visudo', ['-cf', staged])
    renameSync(staged, SUDOERS)
    encryptedKey = path.join(work.dir, 'id_encrypted')
    writeFileSync(encryptedKey, readFileSync(fleet.identityFile), { mode: 0o600 })
    execFileSync('ssh-keygen', ['-q', '-p', '-a', '2', '-f', encryptedKey, '-P', '', '-N', passphrase])
    const h = fleet.hosts[2]!
    work.write(
      'ansible/inventory.yml',
      `all:
  vars:
    ansible_user: ${fleet.user}
    ansible_port: ${fleet.port}
    ansible_ssh_private_key_file: ${encryptedKey}
    vault: ${vault}
  children:
    privileged:
      hosts:
        box-root:
          ansible_host: ${h.address}
      vars:
        ansible_become: true
        ansible_become_password: "{{ lookup('env', 'E2E_SUDO_PASSWORD') }}"
    plain:
      hosts:
        box-plain:
          ansible_host: ${h.address}
`,
    )
    work.write('ansible/known_hosts', readFileSync(fleet.knownHosts, 'utf8'))
    work.write(
      'become/vault.spec.ts',
      `import { describe, it, expect, file, command } from 'postdeploy-verify'
describe('vault', ({ vars }) => {
  it('holds the root-only token', async () => { expect(await file(vars.vault + '/token')).toBeFile() })
  it('runs as root', async () => { expect((await command('id -un')).stdout).toBe('root\\n') })
})
`,
    )
  })

  afterAll(() => {
    rmSync(SUDOERS, { force: true })
    execFileSync('usermod', ['-p', '*', TEST_USER])
  })

  const secrets = () => [password, passphrase]

  async function verify(hosts: string, env: Record<string, string>, tag: string) {
    const run = await runCli(
      [
        '-i',
        'ansible/inventory.yml',
        '-F',
        'none',
        '--hosts',
        hosts,
        '--specs',
        'become/*.spec.ts',
        '--junit',
        `${tag}.xml`,
        '--json',
        `${tag}.json`,
      ],
      { cwd: work.dir, env: { VERIFY_KNOWN_HOSTS: readFileSync(fleet.knownHosts, 'utf8'), VERIFY_KEY_PASSPHRASE: passphrase, ...env } },
    )
    const everything = [
      run.stdout,
      run.stderr,
      readFileSync(path.join(work.dir, `${tag}.xml`), 'utf8'),
      readFileSync(path.join(work.dir, `${tag}.json`), 'utf8'),
    ].join('\n')
    for (const secret of secrets()) expect(everything).not.toContain(secret)
    return run
  }

  it('the root-only fact fails without become (exit 2) and passes with it (exit 0)', async () => {
    const plain = await verify('box-plain', { E2E_SUDO_PASSWORD: password }, 'plain')
    expect(plain.exitCode, plain.stdout + plain.stderr).toBe(2)
    expect(plain.stdout).toMatch(/[Pp]ermission\s+denied/)
    const root = await verify('privileged', { E2E_SUDO_PASSWORD: password }, 'root')
    expect(root.exitCode, root.stdout + root.stderr).toBe(0)
    expect(root.stdout).toMatch(/2 passed/)
  })

  it('a wrong sudo password errors the host with what sudo said, and no password anywhere', async () => {
    const run = await verify('privileged', { E2E_SUDO_PASSWORD: `${password}-wrong` }, 'wrong')
    expect(run.exitCode).toBe(2)
    expect(run.stdout).toMatch(/become \(sudo -S -u root \(password from E2E_SUDO_PASSWORD\)\) failed: .*incorrect password/)
    expect(run.stdout + run.stderr).not.toContain(`${password}-wrong`)
    expect(existsSync(SUDOERS)).toBe(true)
  })
})
