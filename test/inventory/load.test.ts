import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { homedir, tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { InventoryError } from '../../src/errors.ts'
import { loadInventory, loadInventoryIfExists } from '../../src/inventory/load.ts'

let dir: string
let file: string

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'inventory-'))
  file = join(dir, 'hosts.yaml')
})
afterEach(async () => {
  await rm(dir, { recursive: true, force: true })
})

/** Writes the fixture; lines are numbered from the first line after the opening backtick. */
async function load(yaml: string) {
  await writeFile(file, dedent(yaml))
  return loadInventory(file)
}

async function loadError(yaml: string): Promise<string> {
  const err = await load(yaml).then(
    () => undefined,
    (e: unknown) => e,
  )
  expect(err).toBeInstanceOf(InventoryError)
  return (err as Error).message
}

function dedent(text: string): string {
  const lines = text.replace(/^\n/, '').split('\n')
  const indent = Math.min(...lines.filter(l => l.trim() !== '').map(l => l.match(/^ */)![0].length))
  return lines.map(l => l.slice(indent)).join('\n')
}

describe('loadInventory: hosts and defaults', () => {
  it('fills connection settings from the host, else defaults, else port 22 and address = name', async () => {
    const inv = await load(`
      defaults:
        user: deploy
        identityFile: ~/.ssh/id_ed25519
        knownHosts: ~/.ssh/known_hosts
      hosts:
        web-1: { address: 10.0.0.11, port: 2222, user: admin, identityFile: /keys/web }
        db-1:
    `)
    expect(inv.hosts.get('web-1')).toEqual({
      name: 'web-1',
      address: '10.0.0.11',
      port: 2222,
      user: 'admin',
      identityFile: '/keys/web',
      knownHosts: join(homedir(), '.ssh/known_hosts'),
      transport: 'ssh',
      groups: [],
      vars: {},
      source: `${file}:6`,
      // written for the host itself: these win over ~/.ssh/config
      explicit: ['address', 'port', 'user', 'identityFile'],
    })
    expect(inv.hosts.get('db-1')).toMatchObject({
      address: 'db-1',
      port: 22,
      user: 'deploy',
      identityFile: join(homedir(), '.ssh/id_ed25519'),
      source: `${file}:7`,
      // all defaulted: ssh_config's HostName / User / IdentityFile for db-1 win
      explicit: [],
    })
  })

  it('uses defaults.port for hosts without a port', async () => {
    const inv = await load(`
      defaults: { port: 2200 }
      hosts: { web-1: }
    `)
    expect(inv.hosts.get('web-1')!.port).toBe(2200)
    expect(inv.defaults).toEqual({ port: 2200 })
  })

  it('takes a host defined in a group hosts map, and resolves groups transitively', async () => {
    const inv = await load(`
      hosts:
        web-1:
      groups:
        web:
          hosts:
            web-1:
            web-2: { address: 10.0.0.12 }
        worker:
          hosts: [job-1]
        staging:
          groups: [web, worker]
          hosts: [db-1]
    `)
    expect(inv.hosts.get('web-2')).toMatchObject({ address: '10.0.0.12', source: `${file}:7` })
    expect(inv.groups.get('staging')).toEqual(['web-1', 'web-2', 'job-1', 'db-1'])
    expect(inv.groupSources.get('staging')).toBe(`${file}:10`)
    expect([...inv.hosts.keys()]).toEqual(['web-1', 'web-2', 'job-1', 'db-1'])
  })

  it('notes a host that is only listed, and reaches it by its name', async () => {
    const inv = await load(`
      groups:
        web:
          hosts: [web-3]
    `)
    expect(inv.hosts.get('web-3')).toMatchObject({ address: 'web-3', groups: ['web'], source: `${file}:3` })
    expect(inv.warnings).toEqual([
      `${file}:3:13: host "web-3" is listed in group "web" but defined nowhere; connecting to "web-3" as its address`,
    ])
  })

  it('allows a name that is both a host and a group (selection decides)', async () => {
    const inv = await load(`
      hosts: { web: }
      groups: { web: { hosts: [web] } }
    `)
    expect(inv.hosts.has('web')).toBe(true)
    expect(inv.groups.get('web')).toEqual(['web'])
  })

  it('reads an empty file as an empty inventory', async () => {
    const inv = await load('# nothing yet\n')
    expect(inv.hosts.size).toBe(0)
    expect(inv.groups.size).toBe(0)
  })
})

describe('loadInventory: vars merge order', () => {
  it('merges top-level < group < host, maps key by key', async () => {
    const inv = await load(`
      vars: { app: blog, level: top, db: { host: db-1, port: 5432 } }
      hosts:
        web-1: { vars: { level: host } }
        web-2:
      groups:
        web:
          hosts: [web-1, web-2]
          vars: { level: group, db: { port: 6432 } }
    `)
    expect(inv.hosts.get('web-1')!.vars).toEqual({ app: 'blog', level: 'host', db: { host: 'db-1', port: 6432 } })
    expect(inv.hosts.get('web-2')!.vars).toEqual({ app: 'blog', level: 'group', db: { host: 'db-1', port: 6432 } })
    expect(inv.vars).toEqual({ app: 'blog', level: 'top', db: { host: 'db-1', port: 5432 } })
  })

  it('lets the later of two unrelated groups win', async () => {
    const inv = await load(`
      hosts:
        web-1:
      groups:
        b0: { hosts: [web-1], vars: { color: a } }
        b1: { hosts: [web-1], vars: { color: b } }
    `)
    expect(inv.hosts.get('web-1')).toMatchObject({ groups: ['b0', 'b1'], vars: { color: 'b' } })
  })

  it('applies a containing group before the group it contains, wherever they are in the file', async () => {
    const inv = await load(`
      groups:
        web:
          hosts: [web-1]
          vars: { role: web, tier: front }
        worker:
          hosts: [job-1]
        staging:
          groups: [web, worker]
          vars: { role: any, env: staging, tier: none }
    `)
    expect(inv.hosts.get('web-1')).toMatchObject({
      groups: ['staging', 'web'],
      vars: { role: 'web', tier: 'front', env: 'staging' },
    })
    expect(inv.hosts.get('job-1')).toMatchObject({ groups: ['staging', 'worker'], vars: { role: 'any', env: 'staging' } })
  })

  it('orders by nesting depth first, then file order', async () => {
    // `edge` is later than `web` in the file, but `web` is nested (depth 1) and so more specific.
    const inv = await load(`
      groups:
        web: { hosts: [web-1], vars: { role: web } }
        edge: { hosts: [web-1], vars: { role: edge, lb: true } }
        staging: { groups: [web], vars: { role: staging, env: staging } }
    `)
    expect(inv.hosts.get('web-1')).toMatchObject({
      groups: ['edge', 'staging', 'web'],
      vars: { role: 'web', lb: true, env: 'staging' },
    })
  })

  it('gives each host its own copy of the vars', async () => {
    const inv = await load(`
      vars: { list: [1], map: { a: 1 } }
      hosts: { a:, b: }
    `)
    ;(inv.hosts.get('a')!.vars.map as Record<string, number>).a = 2
    ;(inv.hosts.get('a')!.vars.list as number[]).push(2)
    expect(inv.hosts.get('b')!.vars).toEqual({ list: [1], map: { a: 1 } })
  })
})

describe('loadInventory: errors name file:line', () => {
  it('reports a missing file with its path', async () => {
    const missing = join(dir, 'nope.yaml')
    await expect(loadInventory(missing)).rejects.toThrow(InventoryError)
    await expect(loadInventory(missing)).rejects.toThrow(`cannot read ${missing}: ENOENT`)
    await expect(loadInventoryIfExists(missing)).resolves.toBeUndefined()
  })

  it('reports a YAML syntax error with its line', async () => {
    const message = await loadError(`
      hosts:
        web-1: { address: 10.0.0.11
        web-2:
    `)
    expect(message).toMatch(new RegExp(`^${escape(file)}:3:\\d+: YAML syntax error: `))
  })

  it('reports an unclosed bracket at the end of the file on the last line', async () => {
    const message = await loadError(`
      vars: { app: blog }
      hosts: [
    `)
    expect(message).toMatch(new RegExp(`^${escape(file)}:2:\\d+: YAML syntax error: `))
  })

  it('reports a key defined twice in one map as a YAML error', async () => {
    const message = await loadError(`
      hosts:
        web-1:
        web-1:
    `)
    expect(message).toBe(`${file}:3:3: YAML syntax error: Map keys must be unique`)
  })

  it('reports an unknown key at its line, with the allowed keys', async () => {
    const message = await loadError(`
      hosts:
        web-1:
          address: 10.0.0.11
          adress: 10.0.0.12
    `)
    expect(message).toBe(
      `${file}:4:5: hosts.web-1: unknown key "adress" (allowed keys: address, user, port, identityFile, knownHosts, identityEnv, passphraseEnv, passwordEnv, knownHostsEnv, proxyJump, become, vars)`,
    )
  })

  it('reports an unknown top-level key', async () => {
    const message = await loadError(`
      host:
        web-1:
    `)
    expect(message).toBe(`${file}:1:1: unknown key "host" (allowed keys: defaults, vars, hosts, groups)`)
  })

  it('reports a wrong type at the value, with the value', async () => {
    const message = await loadError(`
      hosts:
        web-1:
          port: "abc"
    `)
    expect(message).toBe(`${file}:3:11: hosts.web-1.port: must be an integer from 1 to 65535, got "abc"`)
  })

  it('reports every schema problem at once, in line order', async () => {
    const message = await loadError(`
      defaults: { port: 0 }
      hosts:
        "web 1":
      groups:
        web:
          hosts: { web-2: { port: 70000 } }
        db:
          hosts: 3
    `)
    expect(message.split('\n')).toEqual([
      `${file}:1:19: defaults.port: must be an integer from 1 to 65535, got 0`,
      `${file}:3:3: hosts: invalid name "web 1": a name may only contain letters, digits, "_", "." and "-"`,
      `${file}:6:29: groups.web.hosts.web-2.port: must be an integer from 1 to 65535, got 70000`,
      `${file}:8:12: groups.db.hosts: must be a list of host names or a map of host name -> settings, got 3`,
    ])
  })

  it('reports a host defined twice, naming both lines', async () => {
    const message = await loadError(`
      hosts:
        web-1: { address: 10.0.0.11 }
      groups:
        web:
          hosts:
            web-1: { port: 2222 }
        all:
          hosts: [web-1]
    `)
    expect(message).toBe(
      `${file}:6:7: host "web-1" is defined twice, at lines 2 and 6; give it settings in one place and list it by name elsewhere`,
    )
  })

  it('reports an unknown group in groups:', async () => {
    const message = await loadError(`
      hosts: { db-1: }
      groups:
        web: { hosts: [web-1] }
        staging:
          groups: [web, wokrer, db-1]
    `)
    expect(message.split('\n')).toEqual([
      `${file}:5:19: group "staging" includes unknown group "wokrer" (known groups: web, staging)`,
      `${file}:5:27: group "staging" includes "db-1" under groups:, but "db-1" is a host; list it under hosts:`,
    ])
  })

  it('reports a group cycle', async () => {
    const message = await loadError(`
      groups:
        a: { groups: [b] }
        b: { groups: [c] }
        c: { groups: [a] }
        d: { groups: [d] }
    `)
    expect(message.split('\n')).toEqual([`${file}:4:17: group cycle: a -> b -> c -> a`, `${file}:5:17: group cycle: d -> d`])
  })

  it('reserves "local" for the built-in local target', async () => {
    const message = await loadError(`
      hosts:
        local: { address: 127.0.0.1 }
      groups:
        local: { hosts: [web-1] }
        web: { hosts: [local] }
    `)
    expect(message.split('\n')).toEqual([
      `${file}:2:3: "local" is reserved for the built-in local target (--hosts local); rename this host`,
      `${file}:4:3: "local" is reserved for the built-in local target (--hosts local); rename this group`,
      `${file}:5:18: "local" is reserved for the built-in local target (--hosts local); rename this host`,
    ])
  })
})

function escape(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')
}
