import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { ConfigError } from '../../src/errors.ts'
import { loadInventory, type Inventory } from '../../src/inventory/load.ts'
import { parseVarArgs, selectHosts } from '../../src/inventory/select.ts'

let dir: string
let inv: Inventory

const INVENTORY = [
  'defaults: { user: deploy, port: 2200, identityFile: /keys/deploy }',
  'vars: { app: blog, db: { host: db-1, port: 5432 } }',
  'hosts:',
  '  web-1: { address: 10.0.0.11 }',
  '  web-2: { address: 10.0.0.12 }',
  '  db-1:',
  '  both:',
  '  api.internal: { address: 10.0.0.40 }',
  'groups:',
  '  web: { hosts: [web-1, web-2], vars: { role: web } }',
  '  db: { hosts: [db-1] }',
  '  staging: { groups: [web, db], vars: { env: staging } }',
  '  both: { hosts: [db-1] }',
  '  empty:',
].join('\n')

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'select-'))
  await writeFile(join(dir, 'hosts.yaml'), INVENTORY)
  inv = await loadInventory(join(dir, 'hosts.yaml'))
})
afterAll(async () => {
  await rm(dir, { recursive: true, force: true })
})

function names(hosts: Array<{ name: string }>): string[] {
  return hosts.map(h => h.name)
}

function configError(fn: () => unknown): string {
  try {
    fn()
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError)
    return (err as Error).message
  }
  throw new Error('expected a ConfigError')
}

describe('selectHosts: inventory names', () => {
  it('selects a group with the hosts of the groups it contains', () => {
    const hosts = selectHosts(inv, 'staging', {})
    expect(names(hosts)).toEqual(['web-1', 'web-2', 'db-1'])
    expect(hosts[0]).toMatchObject({ transport: 'ssh', address: '10.0.0.11', groups: ['staging', 'web'] })
  })

  it('selects a host by name, including one whose name has dots', () => {
    expect(selectHosts(inv, 'web-2', {})).toEqual([inv.hosts.get('web-2')])
    expect(selectHosts(inv, 'api.internal', {})[0]).toMatchObject({ name: 'api.internal', address: '10.0.0.40', groups: [] })
  })

  it('selects a mix in the order written, each host once (first wins)', () => {
    const hosts = selectHosts(inv, 'db-1, web, local,10.0.0.5,web-1', {})
    expect(names(hosts)).toEqual(['db-1', 'web-1', 'web-2', 'local', '10.0.0.5'])
  })

  it('rejects a name that is both a host and a group', () => {
    expect(configError(() => selectHosts(inv, 'web,both', {}))).toBe(
      `"both" is both a host (${inv.file}:7) and a group (${inv.file}:13) in ${inv.file}; rename one of them so --hosts can tell which you mean`,
    )
  })

  it('rejects an unknown plain name, listing the known groups', () => {
    expect(configError(() => selectHosts(inv, 'web-3', {}))).toBe(
      `unknown host or group "web-3" in ${inv.file} (known groups: web, db, staging, both, empty); ` +
        'to reach a machine that is not in the inventory, write it as user@web-3 or web-3:22',
    )
  })

  it('reports every bad target at once', () => {
    expect(configError(() => selectHosts(inv, 'web-3,stagin,web', {})).split('\n')).toHaveLength(2)
  })

  it('rejects a selection with no hosts', () => {
    expect(configError(() => selectHosts(inv, 'empty', {}))).toBe('--hosts "empty" selects no hosts: group "empty" has no hosts')
    expect(configError(() => selectHosts(inv, ' , ', {}))).toMatch(/^--hosts " , " selects no hosts/)
  })
})

describe('selectHosts: vars', () => {
  it('merges --var over every var, maps key by key', () => {
    const [web1] = selectHosts(inv, 'web-1', { role: 'canary', db: { port: 6432 }, extra: [1] })
    expect(web1!.vars).toEqual({ app: 'blog', db: { host: 'db-1', port: 6432 }, env: 'staging', role: 'canary', extra: [1] })
    expect(inv.hosts.get('web-1')!.vars.role).toBe('web')
  })

  it('gives ad-hoc and local targets only the overrides', () => {
    const hosts = selectHosts(inv, 'local,10.0.0.5', { build: 7 })
    expect(hosts.map(h => h.vars)).toEqual([{ build: 7 }, { build: 7 }])
  })
})

describe('selectHosts: local and ad-hoc addresses', () => {
  it('selects the built-in local target without an inventory', () => {
    expect(selectHosts(undefined, 'local', {})).toEqual([
      { name: 'local', address: 'localhost', port: 0, transport: 'local', groups: [], vars: {} },
    ])
  })

  it('connects to an ad-hoc address with the inventory defaults', () => {
    expect(selectHosts(inv, '10.0.0.5', {})).toEqual([
      {
        name: '10.0.0.5',
        address: '10.0.0.5',
        port: 2200,
        user: 'deploy',
        identityFile: '/keys/deploy',
        knownHosts: undefined,
        transport: 'ssh',
        groups: [],
        vars: {},
        // only the address was written: user and port from defaults yield to ~/.ssh/config
        explicit: ['address'],
      },
    ])
    expect(selectHosts(inv, 'ops@10.0.0.5:2022', {})[0]!.explicit).toEqual(['address', 'port', 'user'])
  })

  it('parses user@host:port, hostnames and IPv6', () => {
    const hosts = selectHosts(undefined, 'root@web-3, web-3.example.com:22, [fe80::1]:2222, ops@[::1], fe80::2', {})
    expect(hosts.map(({ name, address, port, user }) => ({ name, address, port, user }))).toEqual([
      { name: 'root@web-3', address: 'web-3', port: 22, user: 'root' },
      { name: 'web-3.example.com:22', address: 'web-3.example.com', port: 22, user: undefined },
      { name: '[fe80::1]:2222', address: 'fe80::1', port: 2222, user: undefined },
      { name: 'ops@[::1]', address: '::1', port: 22, user: 'ops' },
      { name: 'fe80::2', address: 'fe80::2', port: 22, user: undefined },
    ])
    expect(hosts.every(h => h.transport === 'ssh')).toBe(true)
  })

  it('rejects malformed addresses with the reason', () => {
    const message = configError(() => selectHosts(undefined, 'web:abc,10.0.0.300,@web,[zz]:22,fe80::1:22x', {}))
    expect(message.split('\n')).toEqual([
      '--hosts "web:abc" is not a host, group or valid address: port "abc" must be an integer from 1 to 65535',
      '--hosts "10.0.0.300" is not a host, group or valid address: "10.0.0.300" is not an IPv4 address',
      '--hosts "@web" is not a host, group or valid address: "" is not a user name',
      '--hosts "[zz]:22" is not a host, group or valid address: expected [IPv6 address] or [IPv6 address]:port',
      '--hosts "fe80::1:22x" is not a host, group or valid address: write an IPv6 address with a port as [address]:port',
    ])
  })

  it('explains a plain name when there is no inventory', () => {
    expect(configError(() => selectHosts(undefined, 'staging', {}))).toBe(
      'no inventory: ./hosts.yaml not found, and "staging" is not an address (give an address such as user@staging, staging:22 or 10.0.0.5, or "local")',
    )
    expect(configError(() => selectHosts(undefined, 'web', {}, { inventoryPath: 'inv/prod.yaml' }))).toMatch(
      /^no inventory: inv\/prod\.yaml not found, and "web" is not an address/,
    )
  })
})

describe('parseVarArgs', () => {
  it('parses values as JSON when they parse, else keeps the text', () => {
    expect(
      parseVarArgs(['replicas=3', 'debug=true', 'tags=["a","b"]', 'db={"port":5432}', 'name=blog', 'empty=', 'none=null', 'eq=a=b']),
    ).toEqual({ replicas: 3, debug: true, tags: ['a', 'b'], db: { port: 5432 }, name: 'blog', empty: '', none: null, eq: 'a=b' })
  })

  it('keeps numbers that would not print back the same as text', () => {
    expect(parseVarArgs(['version=1.10', 'sha=0123', 'ratio=0.5', 'big=12345678901234567890'])).toEqual({
      version: '1.10',
      sha: '0123',
      ratio: 0.5,
      big: '12345678901234567890',
    })
  })

  it('sets nested keys from dotted names, later wins', () => {
    expect(parseVarArgs(['db.host=db-2', 'db.port=6432', 'a.b.c=1', 'db.host=db-3'])).toEqual({
      db: { host: 'db-3', port: 6432 },
      a: { b: { c: 1 } },
    })
    expect(parseVarArgs(['db={"port":1}', 'db.host=x'])).toEqual({ db: { port: 1, host: 'x' } })
  })

  it('treats __proto__ as a plain key', () => {
    const vars = parseVarArgs(['__proto__.polluted=1'])
    expect(Object.getPrototypeOf(vars)).toBe(Object.prototype)
    expect(({} as Record<string, unknown>).polluted).toBeUndefined()
    expect(Object.keys(vars)).toEqual(['__proto__'])
  })

  it('rejects malformed items, all at once', () => {
    const message = configError(() => parseVarArgs(['noequals', '1x=2', 'a..b=1', '=v', 'ok=1', 'ok.sub=2']))
    expect(message.split('\n')).toEqual([
      '--var noequals: expected key=value',
      '--var 1x=2: "1x" is not a var name (letters, digits and _, not starting with a digit; dots for nested keys)',
      '--var a..b=1: "a..b" is not a var name (letters, digits and _, not starting with a digit; dots for nested keys)',
      '--var =v: "" is not a var name (letters, digits and _, not starting with a digit; dots for nested keys)',
      '--var ok.sub=2: "ok" is already set to 1, not a map',
    ])
  })
})
