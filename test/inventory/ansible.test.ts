import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { homedir, tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { InventoryError } from '../../src/errors.ts'
import { expandHostRange, looksLikeAnsible } from '../../src/inventory/ansible.ts'
import { loadInventories } from '../../src/inventory/load.ts'

let dir: string
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'ansible-inv-'))
})
afterAll(() => rmSync(dir, { recursive: true, force: true }))

function file(name: string, text: string): string {
  const path = join(dir, name)
  writeFileSync(path, text)
  return path
}

// The shape of inventories teams keep next to their playbooks.
const INVENTORY = `all:
  vars:
    ansible_user: deploy
    ansible_ssh_private_key_file: ~/.ssh/deploy_ed25519
    app: blog
  hosts:
    lonely.example.com:
  children:
    webservers:
      hosts:
        web[01:03].example.com:
        web-canary:
          ansible_host: 10.0.1.50
          ansible_port: 2222
          weight: 0
      vars:
        role: web
        ansible_become: true
    dbservers:
      hosts:
        db1:
          ansible_host: 10.0.2.10
          ansible_become: yes
          ansible_become_user: postgres
          ansible_become_password: "{{ lookup('env', 'DB_SUDO_PASSWORD') }}"
      vars:
        ansible_ssh_common_args: '-J ops@bastion.example.com:2200'
    staging:
      children:
        webservers:
        dbservers:
      vars:
        env: staging
        role: overridden-by-deeper-groups
    local_checks:
      hosts:
        control:
          ansible_connection: local
`

describe('Ansible YAML inventory', () => {
  it('is told from hosts.yaml by its shape', () => {
    expect(looksLikeAnsible(INVENTORY)).toBe(true)
    expect(looksLikeAnsible('webservers:\n  hosts:\n    web1:\n')).toBe(true)
    expect(looksLikeAnsible('hosts:\n  web-1:\ngroups:\n  web: { hosts: [web-1] }\n')).toBe(false)
    expect(looksLikeAnsible('defaults: { user: x }\nwebservers:\n  hosts: {}\n')).toBe(false)
  })

  it('reads groups, children, ranges and vars with Ansible precedence', async () => {
    const inv = (await loadInventories([file('inventory.yml', INVENTORY)]))!
    expect([...inv.hosts.keys()]).toEqual([
      'lonely.example.com',
      'web01.example.com',
      'web02.example.com',
      'web03.example.com',
      'web-canary',
      'db1',
      'control',
    ])
    expect(inv.groups.get('webservers')).toEqual(['web01.example.com', 'web02.example.com', 'web03.example.com', 'web-canary'])
    expect(inv.groups.get('staging')).toEqual(['web01.example.com', 'web02.example.com', 'web03.example.com', 'web-canary', 'db1'])
    expect(inv.groups.get('all')).toHaveLength(7)
    expect(inv.groups.get('ungrouped')).toEqual(['lonely.example.com'])
    const canary = inv.hosts.get('web-canary')!
    // webservers is nested deeper than staging, so its role wins; host vars win over both
    expect(canary.vars).toMatchObject({ app: 'blog', env: 'staging', role: 'web', weight: 0 })
    expect(canary).toMatchObject({
      address: '10.0.1.50',
      port: 2222,
      user: 'deploy',
      identityFile: join(homedir(), '.ssh/deploy_ed25519'),
      become: { user: 'root' },
      transport: 'ssh',
    })
    // Ansible's connection vars are explicit wherever they are set: they win over ~/.ssh/config
    expect(canary.explicit).toEqual(expect.arrayContaining(['address', 'port', 'user', 'identityFile']))
    expect(canary.source).toMatch(/inventory\.yml:12$/)
    const web01 = inv.hosts.get('web01.example.com')!
    expect(web01).toMatchObject({ address: 'web01.example.com', port: 22 })
    expect(web01.explicit).not.toContain('address')
  })

  it('maps become, bastion args and ansible_connection: local', async () => {
    const inv = (await loadInventories([file('inventory2.yml', INVENTORY)]))!
    expect(inv.hosts.get('db1')).toMatchObject({
      address: '10.0.2.10',
      become: { user: 'postgres', passwordEnv: 'DB_SUDO_PASSWORD' },
      proxyJump: 'ops@bastion.example.com:2200',
    })
    expect(inv.hosts.get('control')!.transport).toBe('local')
    expect(inv.hosts.get('lonely.example.com')!.become).toBeUndefined()
  })

  it('refuses a literal password, a non-sudo become and bad values, each at its line', async () => {
    const path = file(
      'bad.yml',
      `web:
  hosts:
    web1:
      ansible_password: hunter2
      ansible_become_method: su
    web2:
      ansible_port: http
      ansible_host: "{{ inventory_hostname }}.example.com"
  vars:
    ansible_connection: winrm
  extra: 1
`,
    )
    const err = await loadInventories([path], 'ansible').catch((e: unknown) => e)
    expect(err).toBeInstanceOf(InventoryError)
    const lines = (err as Error).message.split('\n')
    expect(lines).toHaveLength(6)
    expect(lines[0]).toMatch(
      /bad\.yml:4:25: host "web1": ansible_password: verify takes passwords only from environment variables; write ansible_password: "\{\{ lookup\('env', 'NAME'\) \}\}"/,
    )
    expect(lines[1]).toMatch(/bad\.yml:5:30: .*only sudo is supported, got "su"/)
    expect(lines[2]).toMatch(/bad\.yml:7:21: .*ansible_port: must be an integer from 1 to 65535, got "http"/)
    expect(lines[3]).toMatch(/bad\.yml:8:21: .*Jinja templates are not evaluated/)
    expect(lines[4]).toMatch(/bad\.yml:10:25: .*verify connects over ssh or local, got "winrm"/)
    expect(lines[5]).toMatch(/bad\.yml:11:3: group "web": unknown key "extra"/)
    expect((err as Error).message).not.toContain('hunter2')
  })

  it('reports YAML syntax errors with their line', async () => {
    const err = await loadInventories([file('syntax.yml', 'web:\n  hosts:\n    web1: [\n')], 'ansible').catch((e: unknown) => e)
    expect((err as Error).message).toMatch(/syntax\.yml:\d+:\d+: YAML syntax error/)
  })
})

describe('expandHostRange', () => {
  it('expands numeric (zero-padded), stepped, alphabetic and repeated ranges', () => {
    expect(expandHostRange('web[01:03]')).toEqual(['web01', 'web02', 'web03'])
    expect(expandHostRange('db[0:10:5].x')).toEqual(['db0.x', 'db5.x', 'db10.x'])
    expect(expandHostRange('[a:c]-node')).toEqual(['a-node', 'b-node', 'c-node'])
    expect(expandHostRange('r[1:2]c[1:2]')).toEqual(['r1c1', 'r1c2', 'r2c1', 'r2c2'])
    expect(expandHostRange('web[3:1]')).toMatch(/ends before it starts/)
  })
})
