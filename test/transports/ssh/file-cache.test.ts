import { appendFileSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { SshFileCache } from '../../../src/transports/ssh/file-cache.ts'

describe('SshFileCache', () => {
  let dir: string
  beforeEach(() => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'verify-file-cache-'))
  })
  afterEach(() => rmSync(dir, { recursive: true, force: true }))

  const counting = () => {
    const calls: string[] = []
    return {
      calls,
      parse: (data: Buffer) => {
        calls.push(data.toString())
        return data.toString().split('\n').filter(Boolean)
      },
    }
  }

  it('parses a file once while it is unchanged, also for connects that ask at the same time', async () => {
    const file = path.join(dir, 'known_hosts')
    writeFileSync(file, 'a\nb\n')
    const cache = new SshFileCache()
    const { calls, parse } = counting()
    const results = await Promise.all(Array.from({ length: 20 }, () => cache.read(file, parse)))
    expect(results.every(r => r.join() === 'a,b')).toBe(true)
    expect(await cache.read(file, parse)).toEqual(['a', 'b'])
    expect(calls).toHaveLength(1)
  })

  it('reads the file again once it changed (a key accept-new appended)', async () => {
    const file = path.join(dir, 'known_hosts')
    writeFileSync(file, 'a\n')
    const cache = new SshFileCache()
    const { calls, parse } = counting()
    expect(await cache.read(file, parse)).toEqual(['a'])
    appendFileSync(file, 'b\n')
    expect(await cache.read(file, parse)).toEqual(['a', 'b'])
    expect(calls).toHaveLength(2)
  })

  it('keeps parses that depend on more than the bytes apart (a passphrase)', async () => {
    const file = path.join(dir, 'id_ed25519')
    writeFileSync(file, 'key')
    const cache = new SshFileCache()
    expect(await cache.read(file, d => `${d}+one`, 'one')).toBe('key+one')
    expect(await cache.read(file, d => `${d}+two`, 'two')).toBe('key+two')
  })

  it('rejects as readFile does, and does not keep the failure', async () => {
    const file = path.join(dir, 'missing')
    const cache = new SshFileCache()
    await expect(cache.read(file, String)).rejects.toMatchObject({ code: 'ENOENT' })
    writeFileSync(file, 'now here')
    expect(await cache.read(file, String)).toBe('now here')
    await expect(cache.read(dir, String)).rejects.toMatchObject({ code: 'EISDIR' })
  })
})
