import { mkdtempSync, mkdirSync, rmSync, symlinkSync, writeFileSync, chmodSync, existsSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { createHash } from 'node:crypto'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { file, parseStat } from '../../src/resources/file.ts'
import { directory } from '../../src/resources/directory.ts'
import { command } from '../../src/resources/command.ts'
import { FactError, TimeoutError } from '../../src/errors.ts'
import { onLocalHost } from '../support/local-host.ts'

let dir: string
beforeAll(() => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'verify-file-'))
  mkdirSync(path.join(dir, 'releases', 'r1'), { recursive: true })
  writeFileSync(path.join(dir, 'releases', 'r1', 'REVISION'), 'abc123\n')
  symlinkSync(path.join(dir, 'releases', 'r1'), path.join(dir, 'current'))
  symlinkSync(path.join(dir, 'nowhere'), path.join(dir, 'dangling'))
  writeFileSync(path.join(dir, 'big'), Buffer.alloc(2000, 'x'))
  chmodSync(path.join(dir, 'big'), 0o640)
  writeFileSync(path.join(dir, '.hidden'), '')
})
afterAll(() => rmSync(dir, { recursive: true, force: true }))

describe('file()', () => {
  it('reads a symlink: literal target, resolved path, followed type', async () => {
    const { value: f } = await onLocalHost(() => Promise.resolve(file(path.join(dir, 'current'))))
    expect(f).toMatchObject({ exists: true, isSymlink: true, isDirectory: true, isFile: false, type: 'symlink', linkTarget: path.join(dir, 'releases', 'r1'), resolvedPath: path.join(dir, 'releases', 'r1') })
  })

  it('reads a regular file: mode, owner, size, mtime', async () => {
    const { value: f } = await onLocalHost(async () => file(path.join(dir, 'big')))
    expect(f).toMatchObject({ exists: true, isFile: true, isSymlink: false, mode: '0640', size: 2000, owner: os.userInfo().username, uid: os.userInfo().uid })
    expect(f.mtime).toBeInstanceOf(Date)
    expect(Math.abs(f.mtime!.getTime() - Date.now())).toBeLessThan(60_000)
  })

  it('a missing path and a dangling symlink do not exist; the dangling one is still a symlink', async () => {
    const { value } = await onLocalHost(() => Promise.all([file(path.join(dir, 'missing')), file(path.join(dir, 'dangling')), file(path.join(dir, 'big', 'under-a-file'))]))
    expect(value[0]).toMatchObject({ exists: false, isSymlink: false })
    expect(value[0].type).toBeUndefined()
    expect(value[1]).toMatchObject({ exists: false, isSymlink: true, linkTarget: path.join(dir, 'nowhere'), resolvedPath: undefined })
    expect(value[2]).toMatchObject({ exists: false })
  })

  it('content and sha256 are facts of their own, batched with the stat', async () => {
    const p = path.join(dir, 'releases', 'r1', 'REVISION')
    const { value, execCount } = await onLocalHost(() => Promise.all([file(p), file(p).content, file(p).sha256]))
    expect(value[1]).toBe('abc123\n')
    expect(value[2]).toBe(createHash('sha256').update('abc123\n').digest('hex'))
    expect(execCount).toBe(1)
  })

  it('content larger than maxBytes is an error, never silently cut', async () => {
    await expect(onLocalHost(() => file(path.join(dir, 'big'), { maxBytes: 100 }).content)).rejects.toThrow(/larger than 100 bytes/)
    const { value } = await onLocalHost(() => file(path.join(dir, 'big'), { maxBytes: 2000 }).content)
    expect(value.length).toBe(2000)
  })

  it('checks hostile paths as paths', async () => {
    const names = [`it's "quoted"`, '$(touch verify-pwned)', '`touch verify-pwned`', 'new\nline', '-rf', 'sp ace', '*']
    for (const n of names) writeFileSync(path.join(dir, n), n)
    const { value } = await onLocalHost(() => Promise.all(names.map((n) => file(path.join(dir, n)).content)))
    expect(value).toEqual(names)
    expect(existsSync('verify-pwned') || existsSync(path.join(os.homedir(), 'verify-pwned'))).toBe(false)
  })

  it('parseStat rejects output it does not understand', () => {
    expect(() => parseStat('/x', 'garbage')).toThrow(/unexpected stat output/)
  })
})

describe('directory()', () => {
  it('lists entries, hidden ones included, sorted', async () => {
    const { value } = await onLocalHost(() => directory(path.join(dir, 'releases')))
    expect(value).toEqual({ path: path.join(dir, 'releases'), exists: true, entries: ['r1'] })
    const { value: top } = await onLocalHost(() => directory(dir))
    expect(top.entries).toContain('.hidden')
  })

  it('a missing directory has no entries; a file is an error', async () => {
    const { value } = await onLocalHost(() => directory(path.join(dir, 'nope')))
    expect(value.exists).toBe(false)
    await expect(onLocalHost(() => directory(path.join(dir, 'big')))).rejects.toBeInstanceOf(FactError)
  })
})

describe('command()', () => {
  it('gives exit status, stdout and stderr', async () => {
    const { value } = await onLocalHost(() => command('echo out; echo err >&2; exit 4'))
    expect(value).toMatchObject({ exitStatus: 4, stdout: 'out\n', stderr: 'err\n', truncated: false })
  })

  it('a command that never ends is stopped at its timeout', async () => {
    const started = Date.now()
    await expect(onLocalHost(() => command('sleep 60', { timeout: 1 }))).rejects.toBeInstanceOf(TimeoutError)
    expect(Date.now() - started).toBeLessThan(6000)
  })
})

describe('content of a missing file', () => {
  it('is a failed expectation (the host answered), not an infrastructure error', async () => {
    const { describeFailure } = await import('../../src/runner/check.ts')
    const error = await onLocalHost(() => file(path.join(dir, 'nope', 'REVISION')).content).catch((e: unknown) => e)
    expect(describeFailure(error)).toMatchObject({ status: 'failed', expected: 'an existing file', actual: 'missing' })
    const sha = await onLocalHost(() => file(path.join(dir, 'nope')).sha256).catch((e: unknown) => e)
    expect(describeFailure(sha)).toMatchObject({ status: 'failed', actual: 'missing' })
  })
})
