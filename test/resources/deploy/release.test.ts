import { chmodSync, existsSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { deriveRelease, parseReleaseOutput, release, versionsMatch } from '../../../src/resources/deploy/release.ts'
import { expect as verifyExpect } from '../../../src/dsl/expect.ts'
import '../../../src/dsl/matchers/deploy.ts'
import { onLocalHost, LOCAL_HOST } from '../../support/local-host.ts'

let dir: string

/** releases/<name> with a REVISION (or none when rev is undefined) and one file so it is not empty. */
function addRelease(root: string, name: string, rev?: string): string {
  const p = path.join(root, 'releases', name)
  mkdirSync(p, { recursive: true })
  writeFileSync(path.join(p, 'app.txt'), 'x')
  if (rev !== undefined) writeFileSync(path.join(p, 'REVISION'), rev)
  return p
}

function layout(name: string): string {
  const root = path.join(dir, name)
  mkdirSync(path.join(root, 'releases'), { recursive: true })
  return root
}

beforeAll(() => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'verify-release-'))
})
afterAll(() => rmSync(dir, { recursive: true, force: true }))

describe('release() on a real tree', () => {
  it('reads current, releases, the previous release and revisions in one fact', async () => {
    const root = layout('good')
    addRelease(root, '20261120T101500', '1d04e7c\n')
    addRelease(root, '20261123T091200', '3f9c2ab0d1e2f3a4b5c6d7e8f9a0b1c2d3e4f5a6\n')
    addRelease(root, '20261101T080000', 'aaaaaaa\n')
    symlinkSync(path.join(root, 'releases', '20261123T091200'), path.join(root, 'current'))
    const { value, execCount } = await onLocalHost(() => release(root, { revisionFile: 'REVISION', expectedVersion: '3f9c2ab' }))
    expect(execCount).toBe(1)
    expect(value).toMatchObject({
      exists: true,
      releases: ['20261101T080000', '20261120T101500', '20261123T091200'],
      kept: 3,
      current: '20261123T091200',
      currentState: 'ok',
      currentInsideReleases: true,
      revision: '3f9c2ab0d1e2f3a4b5c6d7e8f9a0b1c2d3e4f5a6',
      deployedVersion: '3f9c2ab0d1e2f3a4b5c6d7e8f9a0b1c2d3e4f5a6',
      expectedVersion: '3f9c2ab',
      atExpectedVersion: true,
      previous: '20261120T101500',
      previousRevision: '1d04e7c',
      previousIntact: true,
    })
    verifyExpect(value).toBeAtExpectedVersion()
    verifyExpect(value).toPointInsideReleases()
    verifyExpect(value).toHaveIntactPrevious()
  })

  it('a relative current target and a releases/ that is itself a symlink still resolve to the release', async () => {
    const real = layout('real-releases')
    addRelease(real, 'v1.9')
    addRelease(real, 'v1.10')
    const root = path.join(dir, 'linked')
    mkdirSync(root)
    symlinkSync(path.join(real, 'releases'), path.join(root, 'releases'))
    symlinkSync('releases/v1.10', path.join(root, 'current'))
    const { value } = await onLocalHost(() => release(root))
    // natural order: v1.10 is newer than v1.9
    expect(value).toMatchObject({
      releases: ['v1.9', 'v1.10'],
      current: 'v1.10',
      currentTarget: 'releases/v1.10',
      previous: 'v1.9',
      previousIntact: true,
      deployedVersion: 'v1.10',
      atExpectedVersion: undefined,
    })
  })

  it('the expected version comes from the expectVersion var (what --expect-version sets)', async () => {
    const root = layout('by-var')
    addRelease(root, 'r1')
    addRelease(root, 'r2')
    symlinkSync(path.join(root, 'releases', 'r1'), path.join(root, 'current'))
    const host = { ...LOCAL_HOST, vars: { expectVersion: 'r2' } }
    const { value } = await onLocalHost(() => release(root), 5, host)
    expect(value).toMatchObject({ expectedVersion: 'r2', deployedVersion: 'r1', atExpectedVersion: false, previousIntact: false })
    expect(value.previousProblem).toMatch(/oldest release/)
    expect(() => verifyExpect(value).toBeAtExpectedVersion()).toThrow(/expected version r2, deployed release r1/)
  })

  it('a rollback target without its REVISION, or empty, is not intact', async () => {
    const root = layout('broken-previous')
    addRelease(root, 'a')
    addRelease(root, 'b', 'bbbbbbb\n')
    symlinkSync(path.join(root, 'releases', 'b'), path.join(root, 'current'))
    const { value } = await onLocalHost(() => release(root, { revisionFile: 'REVISION' }))
    expect(value).toMatchObject({ previous: 'a', previousIntact: false, previousProblem: 'releases/a/REVISION is missing' })
    expect(() => verifyExpect(value).toHaveIntactPrevious()).toThrow(/rollback target not intact: releases\/a\/REVISION is missing/)

    const root2 = layout('empty-previous')
    mkdirSync(path.join(root2, 'releases', 'a'))
    addRelease(root2, 'b')
    symlinkSync(path.join(root2, 'releases', 'b'), path.join(root2, 'current'))
    const { value: v2 } = await onLocalHost(() => release(root2))
    expect(v2).toMatchObject({ previous: 'a', previousIntact: false, previousProblem: 'releases/a is empty' })
  })

  it('current outside releases/, dangling, a real directory, or missing', async () => {
    const outside = layout('outside')
    addRelease(outside, 'r1')
    mkdirSync(path.join(dir, 'elsewhere'))
    symlinkSync(path.join(dir, 'elsewhere'), path.join(outside, 'current'))
    const dangling = layout('dangling')
    addRelease(dangling, 'r1')
    symlinkSync(path.join(dangling, 'releases', 'gone'), path.join(dangling, 'current'))
    const realDir = layout('real-dir')
    mkdirSync(path.join(realDir, 'current'))
    const none = layout('no-current')
    const { value } = await onLocalHost(() =>
      Promise.all([release(outside), release(dangling), release(realDir), release(none), release(path.join(dir, 'no-such-root'))]),
    )
    expect(value.map(r => r.currentState)).toEqual(['outside-releases', 'dangling', 'not-a-symlink', 'missing', 'missing'])
    expect(value.every(r => !r.currentInsideReleases && r.current === undefined)).toBe(true)
    expect(value[0]!.currentResolved).toBe(path.join(dir, 'elsewhere'))
    expect(value[1]!.currentTarget).toBe(path.join(dangling, 'releases', 'gone'))
    expect(value[4]!.exists).toBe(false)
    expect(() => verifyExpect(value[0]).toPointInsideReleases()).toThrow(/outside releases\/ -> .*elsewhere/)
  })

  it('stray files under releases/ are not releases', async () => {
    const root = layout('strays')
    addRelease(root, 'r1')
    writeFileSync(path.join(root, 'releases', 'notes.txt'), '')
    symlinkSync('/nowhere', path.join(root, 'releases', 'dead'))
    const { value } = await onLocalHost(() => release(root))
    expect(value).toMatchObject({ releases: ['r1'], strayEntries: ['dead', 'notes.txt'] })
  })

  it('an unreadable releases/ is a fact error, never an empty list', async () => {
    if (process.getuid?.() === 0) return // root reads everything; the e2e test runs as a non-root user
    const root = layout('locked')
    addRelease(root, 'r1')
    chmodSync(path.join(root, 'releases'), 0o000)
    try {
      await expect(onLocalHost(() => release(root))).rejects.toThrow(/release layout of .*permission denied/)
    } finally {
      chmodSync(path.join(root, 'releases'), 0o755)
    }
  })

  it('treats hostile names as data', async () => {
    const root = layout("-q 'x' $(touch pwned) `id`\nnl")
    addRelease(root, "v1 $(touch pwned2) 'a'", 'abc1234\n')
    addRelease(root, '-v2 `id`\nline', 'def5678\n')
    symlinkSync(path.join(root, 'releases', "v1 $(touch pwned2) 'a'"), path.join(root, 'current'))
    const { value } = await onLocalHost(() => release(root, { revisionFile: 'REVISION' }))
    // natural order puts the leading '-' first
    expect(value).toMatchObject({
      current: "v1 $(touch pwned2) 'a'",
      previous: '-v2 `id`\nline',
      revision: 'abc1234',
      previousRevision: 'def5678',
      previousIntact: true,
    })
    const { value: v2 } = await onLocalHost(() => release(root, { revisionFile: '$(touch pwned3)' }))
    expect(v2.previousProblem).toMatch(/is missing/)
    for (const f of ['pwned', 'pwned2', 'pwned3']) expect(existsSync(path.join(process.cwd(), f))).toBe(false)
  })
})

describe('parseReleaseOutput (captured output)', () => {
  const captured = [
    'ok',
    'L/apps/blog/releases/20261123T091200\n',
    '/apps/blog/releases/20261123T091200\n',
    'D',
    '/apps/blog/releases\n',
    'R',
    '20261120T101500',
    'd',
    '1',
    '0',
    '1763633700',
    '/apps/blog/releases/20261120T101500\n',
    `ok:${Buffer.from('1d04e7c\n').toString('base64')}`,
    'R',
    '20261123T091200',
    'd',
    '1',
    '0',
    '1763889120',
    '/apps/blog/releases/20261123T091200\n',
    `ok:${Buffer.from('3f9c2ab\n').toString('base64')}`,
    '',
  ].join('\0')

  it('parses a Capistrano layout', () => {
    const raw = parseReleaseOutput('/apps/blog', captured)
    expect(raw.current).toEqual({
      kind: 'symlink',
      target: '/apps/blog/releases/20261123T091200',
      resolved: '/apps/blog/releases/20261123T091200',
    })
    const facts = deriveRelease(raw, { revisionFile: 'REVISION', expectedVersion: '1d04e7c' })
    expect(facts).toMatchObject({
      current: '20261123T091200',
      revision: '3f9c2ab',
      atExpectedVersion: false,
      previous: '20261120T101500',
      previousRevision: '1d04e7c',
    })
  })

  it('orders by mtime when asked (version names that do not sort)', () => {
    const out = [
      'ok',
      'L/r/releases/blue\n',
      '/r/releases/blue\n',
      'D',
      '/r/releases\n',
      'R',
      'blue',
      'd',
      '1',
      '0',
      '200',
      '/r/releases/blue\n',
      'none',
      'R',
      'green',
      'd',
      '1',
      '0',
      '100',
      '/r/releases/green\n',
      'none',
      '',
    ].join('\0')
    const facts = deriveRelease(parseReleaseOutput('/r', out), { order: 'mtime' })
    expect(facts).toMatchObject({ releases: ['green', 'blue'], current: 'blue', previous: 'green' })
  })

  it('a revision file larger than a revision is an error for the current release', () => {
    const big = Buffer.alloc(300, 'a').toString('base64')
    const out = [
      'ok',
      'L/r/releases/x\n',
      '/r/releases/x\n',
      'D',
      '/r/releases\n',
      'R',
      'x',
      'd',
      '1',
      '0',
      '1',
      '/r/releases/x\n',
      `ok:${big}`,
      '',
    ].join('\0')
    expect(() => deriveRelease(parseReleaseOutput('/r', out), { revisionFile: 'REVISION' })).toThrow(/larger than 256 bytes/)
  })

  it('rejects output it does not understand', () => {
    expect(() => parseReleaseOutput('/r', 'garbage')).toThrow(/unexpected release output/)
  })
})

describe('versionsMatch', () => {
  it('matches abbreviated commits only when comparing revisions', () => {
    expect(versionsMatch('3f9c2ab0d1e2', '3f9c2ab', 'revision')).toBe(true)
    expect(versionsMatch('3f9c2ab', '3f9c2ab0d1e2', 'revision')).toBe(true)
    expect(versionsMatch('3f9c2ab', '3f9c2ac', 'revision')).toBe(false)
    expect(versionsMatch('3f9c', '3f9c2ab', 'revision')).toBe(false)
    expect(versionsMatch('v1.10', 'v1.1', 'name')).toBe(false)
  })
})
