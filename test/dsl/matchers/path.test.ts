// toBeInside(dir): paths compared as paths; a symlink's relative target resolved against the
// link's directory (Capistrano's `current -> releases/…`), or its fully resolved path.
import { describe, expect as vitestExpect, it } from 'vitest'
import { expect } from '../../../src/dsl/expect.ts'
import { escapeRegExp, isInside } from '../../../src/dsl/matchers/path.ts'
import type { FileFacts } from '../../../src/resources/system/file.ts'
import { failure } from '../../support/assertion-failure.ts'

const link = (target: string, resolvedPath?: string): FileFacts => ({
  path: '/apps/blog/current',
  exists: resolvedPath !== undefined,
  type: 'symlink',
  isFile: false,
  isDirectory: resolvedPath !== undefined,
  isSymlink: true,
  linkTarget: target,
  resolvedPath,
})
const missing: FileFacts = { path: '/apps/blog/current', exists: false, isFile: false, isDirectory: false, isSymlink: false }
const plainDir: FileFacts = {
  path: '/apps/blog/current',
  exists: true,
  type: 'directory',
  isFile: false,
  isDirectory: true,
  isSymlink: false,
  resolvedPath: '/apps/blog/current',
}

describe('toBeInside', () => {
  it('a relative and an absolute current link both point inside releases/', () => {
    expect(link('releases/20261121-2', '/apps/blog/releases/20261121-2')).toBeInside('/apps/blog/releases')
    expect(link('/apps/blog/releases/20261121-2', '/apps/blog/releases/20261121-2')).toBeInside('/apps/blog/releases/')
    // a root behind a symlink (/apps -> /srv/apps): the link as written still counts
    expect(link('releases/20261121-2', '/srv/apps/blog/releases/20261121-2')).toBeInside('/apps/blog/releases')
    expect(link('../../srv/elsewhere', '/srv/elsewhere')).not.toBeInside('/apps/blog/releases')
  })

  it('fails a missing current, a dangling link and a plain directory, saying what is there', () => {
    const f = failure(() => expect(missing).toBeInside('/apps/blog/releases'))
    vitestExpect(f.message).toBe('expected /apps/blog/current to be inside /apps/blog/releases, but it is missing')
    vitestExpect(failure(() => expect(link('releases/gone')).toBeInside('/apps/blog/releases')).message).toMatch(
      /a dangling symlink to releases\/gone/,
    )
    vitestExpect(failure(() => expect(plainDir).toBeInside('/apps/blog/releases')).message).toMatch(/but it is \/apps\/blog\/current$/)
  })

  it('compares strings as normalized paths, never as a regex or a bare prefix', () => {
    expect('/apps/blog/releases/1/../2').toBeInside('/apps/blog/releases')
    expect('/apps/blog/releases-old/2').not.toBeInside('/apps/blog/releases')
    expect('/apps/blog/releases').not.toBeInside('/apps/blog/releases')
    expect('/appsXblog/releases/1').not.toBeInside('/apps.blog/releases')
    vitestExpect(isInside('releases/1', '/apps/blog/releases')).toBe(false)
  })

  it('undefined fails with or without .not', () => {
    vitestExpect(failure(() => expect(undefined).toBeInside('/apps')).message).toMatch(/received undefined/)
    vitestExpect(failure(() => expect(undefined).not.toBeInside('/apps')).message).toMatch(/received undefined/)
  })
})

describe('escapeRegExp', () => {
  it('makes a path a literal', () => {
    const re = new RegExp(`^${escapeRegExp('/apps/blog.v2')}/releases/`)
    vitestExpect(re.test('/apps/blog.v2/releases/1')).toBe(true)
    vitestExpect(re.test('/apps/blogXv2/releases/1')).toBe(false)
  })
})
