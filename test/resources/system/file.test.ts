import { mkdtempSync, mkdirSync, rmSync, symlinkSync, writeFileSync, chmodSync, existsSync, readFileSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { createHash } from 'node:crypto'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { file, parseStat } from '../../../src/resources/system/file.ts'
import { directory } from '../../../src/resources/system/directory.ts'
import { command } from '../../../src/resources/system/command.ts'
import { ExpectationError, FactError, TimeoutError } from '../../../src/errors.ts'
import { onLocalHost } from '../../support/local-host.ts'

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
    expect(f).toMatchObject({
      exists: true,
      isSymlink: true,
      isDirectory: true,
      isFile: false,
      type: 'symlink',
      linkTarget: path.join(dir, 'releases', 'r1'),
      resolvedPath: path.join(dir, 'releases', 'r1'),
    })
  })

  it('reads a regular file: mode, owner, size, mtime', async () => {
    const { value: f } = await onLocalHost(async () => file(path.join(dir, 'big')))
    expect(f).toMatchObject({
      exists: true,
      isFile: true,
      isSymlink: false,
      mode: '0640',
      size: 2000,
      owner: os.userInfo().username,
      uid: os.userInfo().uid,
    })
    expect(f.mtime).toBeInstanceOf(Date)
    expect(Math.abs(f.mtime!.getTime() - Date.now())).toBeLessThan(60_000)
  })

  it('a missing path and a dangling symlink do not exist; the dangling one is still a symlink', async () => {
    const { value } = await onLocalHost(() =>
      Promise.all([file(path.join(dir, 'missing')), file(path.join(dir, 'dangling')), file(path.join(dir, 'big', 'under-a-file'))]),
    )
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
    const { value } = await onLocalHost(() => Promise.all(names.map(n => file(path.join(dir, n)).content)))
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
    const { describeFailure } = await import('../../../src/runner/check.ts')
    const error = await onLocalHost(() => file(path.join(dir, 'nope', 'REVISION')).content).catch((e: unknown) => e)
    expect(describeFailure(error)).toMatchObject({ status: 'failed', expected: 'an existing file', actual: 'missing' })
    const sha = await onLocalHost(() => file(path.join(dir, 'nope')).sha256).catch((e: unknown) => e)
    expect(describeFailure(sha)).toMatchObject({ status: 'failed', actual: 'missing' })
  })
})

describe('file(): permissions, digests, parsed content, contains', () => {
  let root: string
  beforeAll(() => {
    root = mkdtempSync(path.join(os.tmpdir(), 'verify-file-more-'))
    writeFileSync(path.join(root, 'app.json'), '{\n  "db": { "port": 5432 },\n  "debug": false\n}\n')
    writeFileSync(path.join(root, 'broken.json'), '{\n  "db": { "port": 5432, }\n}\n')
    writeFileSync(path.join(root, 'app.yaml'), 'server:\n  port: 8080\n  hosts: [a, b]\n')
    writeFileSync(
      path.join(root, 'nginx.conf'),
      'server {\n  listen 80;\n  listen 443 ssl;\n  # listen 8080;\n  server_name blog.example.com;\n}\n',
    )
    // bigger than the fact cap: contains must not transfer it
    writeFileSync(path.join(root, 'big.log'), `${'INFO ok\n'.repeat(300_000)}ERROR disk full\n`)
    writeFileSync(path.join(root, 'run.sh'), '#!/bin/sh\n', { mode: 0o4750 })
    symlinkSync(path.join(root, 'run.sh'), path.join(root, 'run-link'))
  })
  afterAll(() => rmSync(root, { recursive: true, force: true }))

  it('permissions by class from the mode of what the path resolves to', async () => {
    const { value } = await onLocalHost(() =>
      Promise.all([file(path.join(root, 'run.sh')), file(path.join(root, 'run-link')), file(path.join(root, 'nope'))]),
    )
    expect(value[0].permissions).toEqual({
      owner: { readable: true, writable: true, executable: true },
      group: { readable: true, writable: false, executable: true },
      others: { readable: false, writable: false, executable: false },
      setuid: true,
      setgid: false,
      sticky: false,
    })
    expect(value[1].mode).toBe('0777') // the link itself
    expect(value[1].permissions).toEqual(value[0].permissions)
    expect(value[2].permissions).toBeUndefined()
  })

  it('md5, sha256 and sha512 computed on the host, in one exec', async () => {
    const p = path.join(root, 'app.yaml')
    const text = readFileSync(p)
    const { value, execCount } = await onLocalHost(() => Promise.all([file(p).md5, file(p).sha256, file(p).sha512]))
    expect(value).toEqual(['md5', 'sha256', 'sha512'].map(a => createHash(a).update(text).digest('hex')))
    expect(execCount).toBe(1)
    const missing = await onLocalHost(() => file(path.join(root, 'nope')).md5).catch((e: unknown) => e)
    expect(missing).toBeInstanceOf(ExpectationError)
  })

  it('json and yaml: parsed content; a syntax error fails with file:line:column', async () => {
    const { value } = await onLocalHost(() => Promise.all([file(path.join(root, 'app.json')).json, file(path.join(root, 'app.yaml')).yaml]))
    expect(value[0].db.port).toBe(5432)
    expect(value[1]).toEqual({ server: { port: 8080, hosts: ['a', 'b'] } })
    const broken = await onLocalHost(() => file(path.join(root, 'broken.json')).json).catch((e: unknown) => e)
    expect(broken).toBeInstanceOf(ExpectationError)
    expect((broken as Error).message).toMatch(/broken\.json:2:\d+: not valid JSON/)
  })

  it('contains: substring, exact line, RegExp; grep runs on the host, so a file over the cap is fine', async () => {
    const conf = file(path.join(root, 'nginx.conf'))
    const big = file(path.join(root, 'big.log'), { maxBytes: 1000 })
    const { value, execCount } = await onLocalHost(() =>
      Promise.all([
        conf.contains('listen 443 ssl;'),
        conf.contains({ line: 'listen 443 ssl;' }),
        conf.contains({ line: '  listen 443 ssl;' }),
        conf.contains(/^\s*listen\s+8080;/),
        conf.countMatching(/^\s*listen \d+/),
        conf.contains(/SERVER_NAME/i),
        big.contains('ERROR disk full'),
        big.countMatching('INFO'),
      ]),
    )
    expect(value).toEqual([true, false, true, false, 2, true, true, 300_000])
    expect(execCount).toBe(1)
  })

  it('contains on a missing file fails the check; patterns grep would misread are refused', async () => {
    const missing = await onLocalHost(() => file(path.join(root, 'nope')).contains('x')).catch((e: unknown) => e)
    expect(missing).toBeInstanceOf(ExpectationError)
    await expect(file('/etc/passwd').contains('root\nnobody')).rejects.toThrow(/spans lines/)
    await expect(file('/etc/passwd').contains(/(?=root)/)).rejects.toThrow(/lookahead/)
  })

  it('hostile patterns are text, never options or code', async () => {
    const p = path.join(root, 'hostile.txt')
    const patterns = ['-e', '--help', '$(touch pwned)', '`id`', "it's", '-f/etc/passwd', '\\', '[']
    writeFileSync(p, `${patterns.join('\n')}\n`)
    const { value } = await onLocalHost(() =>
      Promise.all([...patterns.map(s => file(p).countMatching({ line: s })), file(p).contains(/\$\(touch/)]),
    )
    expect(value).toEqual([...patterns.map(() => 1), true])
    expect(existsSync('pwned') || existsSync(path.join(os.homedir(), 'pwned'))).toBe(false)
  })
})
