import { chmodSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { ExpectationError } from '../../../src/errors.ts'
import { accessFact, accessFromModes, parseAccess, permissionsOf } from '../../../src/resources/system/file-access.ts'
import { file } from '../../../src/resources/system/file.ts'
import { onLocalHost } from '../../support/local-host.ts'
import { BASIC_TOOLS, runWithTools } from '../../support/restricted-path.ts'

const isRoot = process.getuid?.() === 0

describe('permissionsOf', () => {
  it('splits mode bits by class, with the special bits', () => {
    expect(permissionsOf(0o104750)).toEqual({
      owner: { readable: true, writable: true, executable: true },
      group: { readable: true, writable: false, executable: true },
      others: { readable: false, writable: false, executable: false },
      setuid: true,
      setgid: false,
      sticky: false,
    })
    expect(permissionsOf(0o41777)).toMatchObject({ sticky: true, others: { writable: true } })
  })
})

describe('access computed from mode bits', () => {
  const file644 = { mode: 0o100644, uid: 0, gid: 0 }
  const open = { mode: 0o40755, uid: 0, gid: 0 }

  it('the owner class decides for the owner even when group bits allow more (the kernel does the same)', () => {
    expect(accessFromModes(1000, new Set([1000, 50]), { mode: 0o100070, uid: 1000, gid: 50 }, [open])).toEqual({
      readable: false,
      writable: false,
      executable: false,
    })
    expect(accessFromModes(1001, new Set([1001, 50]), { mode: 0o100070, uid: 1000, gid: 50 }, [open])).toEqual({
      readable: true,
      writable: true,
      executable: true,
    })
  })

  it('every directory above must be searchable', () => {
    expect(accessFromModes(1000, new Set([1000]), file644, [{ mode: 0o40700, uid: 0, gid: 0 }, open])).toEqual({
      readable: false,
      writable: false,
      executable: false,
    })
    expect(accessFromModes(1000, new Set([1000]), file644, [open, open])).toEqual({ readable: true, writable: false, executable: false })
  })

  it('root reads and writes anything, and executes what has some x bit', () => {
    expect(accessFromModes(0, new Set([0]), { mode: 0o100600, uid: 5, gid: 5 }, [{ mode: 0o40700, uid: 5, gid: 5 }])).toEqual({
      readable: true,
      writable: true,
      executable: false,
    })
    expect(accessFromModes(0, new Set([0]), { mode: 0o100001, uid: 5, gid: 5 }, [])).toMatchObject({ executable: true })
  })
})

describe('parseAccess', () => {
  it('reads the as-user answer and says how it was obtained', () => {
    expect(parseAccess('/etc/shadow', 'www-data', 'as-user setpriv\n---\n')).toEqual({
      user: 'www-data',
      path: '/etc/shadow',
      readable: false,
      writable: false,
      executable: false,
      method: 'as-user',
      via: 'setpriv',
    })
    expect(parseAccess('/bin/ls', 'www-data', 'as-user su\nr-x\n')).toMatchObject({ readable: true, executable: true, via: 'su' })
  })

  it('computes from stat lines of the target and each directory above', () => {
    const out = 'mode-bits\nuser 33 33\ntarget 81a0 0 33\ndir 41ed 0 0\ndir 41ed 0 0\n'
    expect(parseAccess('/etc/app.conf', 'www-data', out)).toEqual({
      user: 'www-data',
      path: '/etc/app.conf',
      readable: true,
      writable: false,
      executable: false,
      method: 'mode-bits',
    })
  })

  it('an unknown user and a missing path fail the check; a failed su is an error with its words', () => {
    expect(() => parseAccess('/x', 'ghost', 'nouser\n')).toThrow(ExpectationError)
    expect(() => parseAccess('/x', 'u', 'missing\n')).toThrow(/does not exist/)
    expect(() => parseAccess('/x', 'u', 'as-user su\nsu: Authentication failure\n')).toThrow(/could not test as u with su/)
  })
})

describe('file(p).accessibleBy(user) on this machine', () => {
  let dir: string
  beforeAll(() => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'verify-access-'))
    chmodSync(dir, 0o755)
    writeFileSync(path.join(dir, 'public'), 'x', { mode: 0o644 })
    writeFileSync(path.join(dir, 'secret'), 'x', { mode: 0o600 })
    writeFileSync(path.join(dir, 'tool'), '#!/bin/sh\n', { mode: 0o755 })
    mkdirSync(path.join(dir, 'closed'), { mode: 0o700 })
    writeFileSync(path.join(dir, 'closed', 'inside'), 'x', { mode: 0o644 })
    symlinkSync(path.join(dir, 'secret'), path.join(dir, 'link-to-secret'))
  })
  afterAll(() => rmSync(dir, { recursive: true, force: true }))

  const expected = {
    public: { readable: true, writable: false, executable: false },
    secret: { readable: false, writable: false, executable: false },
    tool: { readable: true, writable: false, executable: true },
    'closed/inside': { readable: false, writable: false, executable: false },
    'link-to-secret': { readable: false, writable: false, executable: false },
  }

  it.runIf(isRoot)('as root: asks the kernel as www-data (setpriv), all in one exec', async () => {
    const names = Object.keys(expected) as Array<keyof typeof expected>
    const { value, execCount } = await onLocalHost(() => Promise.all(names.map(n => file(path.join(dir, n)).accessibleBy('www-data'))))
    names.forEach((n, i) => expect(value[i], n).toMatchObject({ ...expected[n], method: 'as-user' }))
    expect(execCount).toBe(1)
  })

  it('with no way to become the user, mode bits give the same answers, and say so', async () => {
    for (const [name, want] of Object.entries(expected)) {
      const run = await runWithTools(accessFact(path.join(dir, name), 'www-data'), BASIC_TOOLS)
      const got = run.parse()
      expect(got, name).toMatchObject(want)
      expect(got.method).toBe('mode-bits')
    }
  })

  it('hostile paths are paths; hostile user names never reach the host', async () => {
    const { value } = await onLocalHost(() =>
      Promise.all(
        ['$(id)', '`id`', "it's", '-rf', 'a\nb'].map(n =>
          file(path.join(dir, n))
            .accessibleBy('www-data')
            .catch((e: Error) => e.message),
        ),
      ),
    )
    expect(value.every(m => typeof m === 'string' && /does not exist/.test(m))).toBe(true)
    for (const bad of ['-r', '$(id)', 'a b', '../root', '']) await expect(file('/etc/passwd').accessibleBy(bad)).rejects.toThrow(TypeError)
  })

  it('an unknown user fails the check', async () => {
    await expect(onLocalHost(() => file('/etc/passwd').accessibleBy('no-such-user-verify'))).rejects.toThrow(/does not exist on the host/)
  })
})
