// Per-var source lines and `${env:NAME}` references: errors name the var, the variable and
// the hosts.yaml line; only the selected hosts' references are resolved.
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { ConfigError } from '../../src/errors.ts'
import { loadInventory, type Inventory } from '../../src/inventory/load.ts'
import { selectHosts } from '../../src/inventory/select.ts'
import { resolveEnvRefs, resolveEnvRefsOrThrow } from '../../src/inventory/env-refs.ts'
import { varSourceOf } from '../../src/inventory/var-source.ts'

// line numbers matter: line 1 is `vars:`
const YAML = `vars:
  app: blog
  db: { host: db-1, password: "\${env:DB_PASSWORD}" }
  url: "postgres://blog:\${env:DB_PASSWORD}@db-1/blog"
  literal: "$\${env:NOT_A_REF}"
  region: "\${env:REGION:-eu-west-1}"
hosts:
  web-1:
    vars:
      statusPort: 5000
  web-2:
groups:
  web:
    hosts: [web-1, web-2]
    vars:
      statusPort: 6000
      db: { host: db-web }
  prod:
    hosts:
      api-1: { vars: { token: "\${env:API_TOKEN}" } }
`

let dir: string
let inv: Inventory
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'env-refs-'))
  await writeFile(join(dir, 'hosts.yaml'), YAML)
  inv = await loadInventory(join(dir, 'hosts.yaml'))
})
afterAll(() => rm(dir, { recursive: true, force: true }))

const line = (source: string | undefined) => Number(source?.split(':').pop())

describe('var sources', () => {
  it('trace each var to the line of the layer that set it: host over group over top level', () => {
    const web1 = inv.hosts.get('web-1')!
    expect(line(varSourceOf(web1, ['statusPort']))).toBe(10)
    expect(line(varSourceOf(web1, ['app']))).toBe(2)
    expect(line(varSourceOf(web1, ['db', 'host']))).toBe(17)
    expect(line(varSourceOf(web1, ['db', 'password']))).toBe(3)
    expect(line(varSourceOf(inv.hosts.get('web-2')!, ['statusPort']))).toBe(16)
    expect(line(varSourceOf(inv.hosts.get('api-1')!, ['token']))).toBe(20)
    // a var nobody sets has no source; its parent's when the parent is set
    expect(varSourceOf(web1, ['nope'])).toBeUndefined()
    expect(line(varSourceOf(web1, ['db', 'port']))).toBe(17)
  })

  it('--var wins and says so, replacing what was under a map it overrides', () => {
    const [web1] = selectHosts(inv, 'web-1', { statusPort: 7000, db: 'sqlite' })
    expect(varSourceOf(web1!, ['statusPort'])).toBe('--var')
    expect(varSourceOf(web1!, ['db', 'host'])).toBe('--var')
    expect(line(varSourceOf(web1!, ['app']))).toBe(2)
  })
})

describe('${env:NAME}', () => {
  it('resolves references inside strings, with defaults and the $$ escape', () => {
    const hosts = resolveEnvRefsOrThrow(selectHosts(inv, 'web', {}), { DB_PASSWORD: 'hunter2' })
    expect(hosts[0]!.vars).toMatchObject({
      db: { host: 'db-web', password: 'hunter2' },
      url: 'postgres://blog:hunter2@db-1/blog',
      literal: '${env:NOT_A_REF}',
      region: 'eu-west-1',
    })
    expect(resolveEnvRefsOrThrow(selectHosts(inv, 'web-2', {}), { DB_PASSWORD: 'x', REGION: 'us-east-1' })[0]!.vars.region).toBe(
      'us-east-1',
    )
  })

  it('an unset variable is an error naming the line, the hosts, the var and the variable', () => {
    const { problems } = resolveEnvRefs(selectHosts(inv, 'web,api-1', {}), {})
    expect(problems).toEqual([
      `${inv.file}:3 web-1, web-2, api-1: db.password: environment variable DB_PASSWORD is not set`,
      `${inv.file}:4 web-1, web-2, api-1: url: environment variable DB_PASSWORD is not set`,
      `${inv.file}:20 api-1: token: environment variable API_TOKEN is not set`,
    ])
    expect(() => resolveEnvRefsOrThrow(selectHosts(inv, 'web', {}), {})).toThrow(ConfigError)
  })

  it('only the selected hosts are resolved: verifying web needs no API_TOKEN', () => {
    expect(() => resolveEnvRefsOrThrow(selectHosts(inv, 'web', {}), { DB_PASSWORD: 'x' })).not.toThrow()
  })

  it('lenient (verify check, --list) leaves unset references as written and lists them', () => {
    const { hosts, problems, unresolved } = resolveEnvRefs(selectHosts(inv, 'api-1', {}), { DB_PASSWORD: 'x' }, { lenient: true })
    expect(problems).toEqual([])
    expect(unresolved.get('api-1')).toEqual(new Set(['token']))
    expect(hosts[0]!.vars.token).toBe('${env:API_TOKEN}')
  })

  it('a malformed reference is an error even in lenient mode', () => {
    const [host] = selectHosts(inv, 'web-2', { bad: '${env:9LIVES}' })
    expect(resolveEnvRefs([host!], {}, { lenient: true }).problems).toEqual([
      `--var web-2: bad: "\${env:9LIVES}" is not a valid reference (write \${env:NAME}, NAME letters, digits and _)`,
    ])
  })
})
