import { chmodSync, existsSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, utimesSync, writeFileSync } from 'node:fs'
import { createHash } from 'node:crypto'
import os from 'node:os'
import path from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { diffTrees, parseTreeOutput, tree } from '../../../src/resources/deploy/tree.ts'
import { onLocalHost } from '../../support/local-host.ts'

let dir: string
const T = new Date('2026-11-20T10:15:00Z')

beforeAll(() => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'verify-tree-'))
  mkdirSync(path.join(dir, 'etc', 'nginx', 'sites'), { recursive: true })
  writeFileSync(path.join(dir, 'etc', 'nginx', 'nginx.conf'), 'worker_processes 4;\n')
  writeFileSync(path.join(dir, 'etc', 'nginx', 'sites', 'blog'), 'server {}\n')
  chmodSync(path.join(dir, 'etc', 'nginx', 'sites', 'blog'), 0o640)
  symlinkSync('sites/blog', path.join(dir, 'etc', 'nginx', 'enabled'))
  writeFileSync(path.join(dir, 'etc', 'big'), Buffer.alloc(5000, 'b'))
  writeFileSync(path.join(dir, 'etc', '.hidden'), '')
  writeFileSync(path.join(dir, 'etc', "-n $(touch pwned) 'q'\nx"), 'hostile')
  for (const p of ['etc', 'etc/nginx', 'etc/nginx/sites', 'etc/nginx/nginx.conf', 'etc/nginx/sites/blog', 'etc/big', 'etc/.hidden'])
    utimesSync(path.join(dir, p), T, T)
})
afterAll(() => rmSync(dir, { recursive: true, force: true }))

describe('tree()', () => {
  it('lists everything below, with modes, owners, sizes, mtimes, link targets and hashes up to a size, in one fact', async () => {
    const { value, execCount } = await onLocalHost(() => tree(path.join(dir, 'etc'), { hashUpTo: 1000 }))
    expect(execCount).toBe(1)
    expect(value.entries.map(e => e.path)).toEqual([
      "-n $(touch pwned) 'q'\nx",
      '.hidden',
      'big',
      'nginx',
      'nginx/enabled',
      'nginx/nginx.conf',
      'nginx/sites',
      'nginx/sites/blog',
    ])
    const byPath = Object.fromEntries(value.entries.map(e => [e.path, e]))
    expect(byPath['nginx/sites/blog']).toMatchObject({
      type: 'file',
      mode: '0640',
      size: 10,
      mtime: T.toISOString(),
      owner: os.userInfo().username,
      sha256: createHash('sha256').update('server {}\n').digest('hex'),
    })
    expect(byPath['nginx/enabled']).toMatchObject({ type: 'symlink', linkTarget: 'sites/blog' })
    expect(byPath['nginx']).toMatchObject({ type: 'directory' })
    expect(byPath['big']!.sha256).toBeUndefined()
    expect(existsSync(path.join(process.cwd(), 'pwned'))).toBe(false)
  })

  it('is bounded: more entries than allowed is an error, a depth limit stops descending', async () => {
    await expect(onLocalHost(() => tree(path.join(dir, 'etc'), { maxEntries: 3 }))).rejects.toThrow(/more than 3 entries/)
    const { value } = await onLocalHost(() => tree(path.join(dir, 'etc'), { maxDepth: 0 }))
    expect(value.entries.map(e => e.path)).toEqual(["-n $(touch pwned) 'q'\nx", '.hidden', 'big', 'nginx'])
  })

  it('a missing root is a value; diffTrees names what was added, removed and changed', async () => {
    const { value: missing } = await onLocalHost(() => tree(path.join(dir, 'nope')))
    expect(missing).toEqual({ path: path.join(dir, 'nope'), exists: false, entries: [], unreadable: [] })
    const { value: before } = await onLocalHost(() => tree(path.join(dir, 'etc', 'nginx')))
    chmodSync(path.join(dir, 'etc', 'nginx', 'nginx.conf'), 0o600)
    writeFileSync(path.join(dir, 'etc', 'nginx', 'new.conf'), '')
    const { value: after } = await onLocalHost(() => tree(path.join(dir, 'etc', 'nginx')))
    const diff = diffTrees(before, after)
    expect(diff).toEqual({
      added: ['new.conf'],
      removed: [],
      changed: [{ path: 'nginx.conf', fields: { mode: ['0644', '0600'] } }],
      same: false,
    })
    expect(diffTrees(after, after).same).toBe(true)
  })

  it('parses captured output, unreadable directories included', () => {
    const out = ['ok', 'E', 'a', '81a4 644 0 0 3 1763633700 root root', '', 'ab'.repeat(32), 'D', 'private', ''].join('\0')
    expect(parseTreeOutput('/etc', out, 10)).toMatchObject({
      entries: [{ path: 'a', mode: '0644', owner: 'root', sha256: 'ab'.repeat(32) }],
      unreadable: ['private'],
    })
  })
})
