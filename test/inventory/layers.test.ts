import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { InventoryError } from '../../src/errors.ts'
import { loadInventories, loadInventory } from '../../src/inventory/load.ts'

let dir: string
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'layered-inv-'))
})
afterAll(() => rmSync(dir, { recursive: true, force: true }))

function file(name: string, text: string): string {
  const path = join(dir, name)
  writeFileSync(path, text)
  return path
}

const BASE = `defaults:
  user: deploy
  port: 22
  knownHosts: /etc/verify/known_hosts
vars:
  app: blog
  db: { host: db.internal, port: 5432 }
groups:
  web:
    vars: { role: web }
    become: true
  db:
    vars: { role: db }
`

const STAGING = `defaults:
  proxyJump: bastion-staging
vars:
  env: staging
  db: { host: db.staging.internal }
hosts:
  web-1: { address: 10.1.0.11 }
  web-2: { address: 10.1.0.12, vars: { weight: 2 } }
  db-1: { address: 10.1.0.21, user: postgres }
groups:
  web:
    hosts: [web-1, web-2]
  db:
    hosts: [db-1]
    become: { user: postgres }
  staging:
    groups: [web, db]
`

describe('--inventory given several times', () => {
  it('layers a staging file over a shared base: its hosts get the base groups, vars and defaults', async () => {
    const inv = (await loadInventories([file('base.yaml', BASE), file('staging.yaml', STAGING)]))!
    expect([...inv.hosts.keys()]).toEqual(['web-1', 'web-2', 'db-1'])
    expect(inv.groups.get('staging')).toEqual(['web-1', 'web-2', 'db-1'])
    const web2 = inv.hosts.get('web-2')!
    expect(web2.vars).toEqual({ app: 'blog', env: 'staging', db: { host: 'db.staging.internal', port: 5432 }, role: 'web', weight: 2 })
    expect(web2).toMatchObject({
      address: '10.1.0.11'.replace('11', '12'),
      user: 'deploy',
      knownHosts: '/etc/verify/known_hosts',
      proxyJump: 'bastion-staging',
      become: { user: 'root' },
    })
    expect(web2.explicit).toEqual(['address'])
    expect(web2.source).toMatch(/staging\.yaml:8$/)
    expect(inv.hosts.get('db-1')).toMatchObject({ user: 'postgres', become: { user: 'postgres' }, vars: { role: 'db' } })
    expect(inv.warnings).toEqual([])
  })

  it('lets a later file override a host, field by field', async () => {
    const override = file('override.yaml', 'hosts:\n  web-2: { port: 2222, vars: { weight: 5 } }\n')
    const inv = (await loadInventories([file('base2.yaml', BASE), file('staging2.yaml', STAGING), override]))!
    expect(inv.hosts.get('web-2')).toMatchObject({ address: '10.1.0.12', port: 2222, vars: { weight: 5, role: 'web' } })
    expect(inv.hosts.get('web-2')!.explicit).toEqual(['address', 'port'])
  })

  it('keeps file:line for problems across files', async () => {
    const broken = file('broken.yaml', 'groups:\n  prod:\n    groups: [web, nosuch]\n')
    const err = await loadInventories([file('base3.yaml', BASE), broken]).catch((e: unknown) => e)
    expect(err).toBeInstanceOf(InventoryError)
    expect((err as Error).message).toMatch(/broken\.yaml:3:19: group "prod" includes unknown group "nosuch"/)
    const schema = file('schema.yaml', 'hosts:\n  web-1: { adress: 10.0.0.1 }\n')
    await expect(loadInventories([file('base4.yaml', BASE), schema])).rejects.toThrow(
      /schema\.yaml:2:\d+: hosts\.web-1: unknown key "adress"/,
    )
    const cycle = file('cycle.yaml', 'groups:\n  web:\n    groups: [db]\n  db:\n    groups: [web]\n')
    await expect(loadInventories([cycle, file('empty.yaml', '')])).rejects.toThrow(/cycle\.yaml:\d+:\d+: group cycle/)
  })

  it('resolves one hosts.yaml the same through layers as through the single-file loader', async () => {
    const single = file(
      'single.yaml',
      `${BASE}hosts:\n  web-9: { address: 10.9.9.9, vars: { weight: 1 } }\n  db-9:\n`.replace(
        'groups:\n  web:\n    vars',
        'groups:\n  web:\n    hosts: [web-9]\n    vars',
      ),
    )
    const direct = await loadInventory(single)
    const layered = (await loadInventories([single, file('nothing.yaml', '')]))!
    for (const name of ['web-9', 'db-9']) expect(layered.hosts.get(name)).toEqual(direct.hosts.get(name))
    expect(layered.groups).toEqual(direct.groups)
  })

  it('mixes an Ansible inventory with a hosts.yaml layer', async () => {
    const ansible = file('hosts.yml', 'all:\n  children:\n    web:\n      hosts:\n        web-1:\n          ansible_host: 10.0.0.1\n')
    const inv = (await loadInventories([ansible, file('extra.yaml', 'vars: { env: prod }\nhosts:\n  web-1: { vars: { weight: 3 } }\n')]))!
    expect(inv.hosts.get('web-1')).toMatchObject({ address: '10.0.0.1', vars: { env: 'prod', weight: 3 } })
  })

  it('reports a group cycle through a hosts.yaml and an Ansible file once, naming where each step is written', async () => {
    const native = file('cyc-hosts.yaml', 'groups:\n  web:\n    groups: [prod]\n')
    const ansible = file('cyc-inventory.yml', 'prod:\n  children:\n    web:\n')
    const err = await loadInventories([native, ansible]).catch((e: unknown) => e)
    expect(err).toBeInstanceOf(InventoryError)
    expect((err as Error).message.split('\n')).toEqual([`${ansible}:3:5: group cycle: web -> prod -> web (web -> prod at ${native}:3:14)`])
  })

  it('traces each var to the file and line of the layer that set it', async () => {
    const inv = (await loadInventories([file('base5.yaml', BASE), file('staging5.yaml', STAGING)]))!
    expect(inv.hosts.get('web-2')!.varSources).toEqual({
      app: `${join(dir, 'base5.yaml')}:6`,
      env: `${join(dir, 'staging5.yaml')}:4`,
      db: `${join(dir, 'staging5.yaml')}:5`,
      'db.host': `${join(dir, 'staging5.yaml')}:5`,
      'db.port': `${join(dir, 'base5.yaml')}:7`,
      role: `${join(dir, 'base5.yaml')}:10`,
      weight: `${join(dir, 'staging5.yaml')}:8`,
    })
  })

  it('a missing file is an error when several are given', async () => {
    await expect(loadInventories([file('only.yaml', BASE), join(dir, 'missing.yaml')])).rejects.toThrow(/missing\.yaml: no such file/)
    expect(await loadInventories([join(dir, 'missing.yaml')])).toBeUndefined()
  })
})
