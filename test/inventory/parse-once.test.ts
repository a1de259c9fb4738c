// One resolver over layers: each inventory file is read once and parsed once per load, whatever
// its format and however many files are layered.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest'
import { loadInventories, loadInventory } from '../../src/inventory/load.ts'

const calls = vi.hoisted(() => ({ parsed: [] as string[], read: [] as string[] }))

vi.mock('yaml', async importOriginal => {
  const yaml = await importOriginal<typeof import('yaml')>()
  return {
    ...yaml,
    parseDocument: (...args: Parameters<typeof yaml.parseDocument>) => {
      calls.parsed.push(String(args[0]))
      return yaml.parseDocument(...args)
    },
  }
})

vi.mock('node:fs/promises', async importOriginal => {
  const fs = await importOriginal<typeof import('node:fs/promises')>()
  return {
    ...fs,
    readFile: (...args: Parameters<typeof fs.readFile>) => {
      calls.read.push(String(args[0]))
      return fs.readFile(...args)
    },
  }
})

let dir: string
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'parse-once-'))
})
afterAll(() => rmSync(dir, { recursive: true, force: true }))
beforeEach(() => {
  calls.parsed.length = 0
  calls.read.length = 0
})

function file(name: string, text: string): string {
  const path = join(dir, name)
  writeFileSync(path, text)
  return path
}

const HOSTS = 'vars: { app: blog }\nhosts:\n  web-1: { address: 10.0.0.1 }\ngroups:\n  web: { hosts: [web-1] }\n'
const ANSIBLE = 'db:\n  hosts:\n    db-1:\n      ansible_host: 10.0.0.2\n'

describe('each inventory file is read and parsed once per load', () => {
  it('one hosts.yaml, its format told from the same parse', async () => {
    const hosts = file('hosts.yaml', HOSTS)
    const inv = (await loadInventories([hosts]))!
    expect(inv.hosts.get('web-1')!.address).toBe('10.0.0.1')
    expect(calls.read).toEqual([hosts])
    expect(calls.parsed).toEqual([HOSTS])
  })

  it('hosts.yaml through the single-file loader', async () => {
    const hosts = file('hosts2.yaml', HOSTS)
    await loadInventory(hosts)
    expect(calls.read).toEqual([hosts])
    expect(calls.parsed).toEqual([HOSTS])
  })

  it('a hosts.yaml layered with an Ansible inventory', async () => {
    const hosts = file('hosts3.yaml', HOSTS)
    const ansible = file('inventory.yml', ANSIBLE)
    const inv = (await loadInventories([hosts, ansible]))!
    expect([...inv.hosts.keys()]).toEqual(['web-1', 'db-1'])
    expect(calls.read).toEqual([hosts, ansible])
    expect(calls.parsed).toEqual([HOSTS, ANSIBLE])
  })
})
