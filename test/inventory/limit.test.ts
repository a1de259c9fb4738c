import { describe, expect, it } from 'vitest'
import { applyLimit, globToRegExp, parseHostList, parseShard, selectShard } from '../../src/inventory/limit.ts'
import type { HostSpec } from '../../src/model.ts'

const host = (name: string, groups: string[] = [], address = `${name}.example.com`): HostSpec => ({
  name,
  address,
  port: 22,
  transport: 'ssh',
  groups,
  vars: {},
})
const web = ['web-1', 'web-2', 'web-3', 'web-10'].map(n => host(n, ['web', n === 'web-1' ? 'canary' : 'rest']))
const hosts = [...web, host('db-1', ['db'], '10.0.0.5')]
const names = (hs: HostSpec[]) => hs.map(h => h.name)

describe('--limit', () => {
  it('narrows by name, glob, class, group and address glob, keeping the selection order', () => {
    expect(names(applyLimit(hosts, 'web-2'))).toEqual(['web-2'])
    expect(names(applyLimit(hosts, 'web-*'))).toEqual(['web-1', 'web-2', 'web-3', 'web-10'])
    expect(names(applyLimit(hosts, 'web-[1-2]'))).toEqual(['web-1', 'web-2'])
    expect(names(applyLimit(hosts, 'web-?'))).toEqual(['web-1', 'web-2', 'web-3'])
    expect(names(applyLimit(hosts, 'canary,db'))).toEqual(['web-1', 'db-1'])
    expect(names(applyLimit(hosts, '10.0.0.*'))).toEqual(['db-1'])
  })

  it('! excludes', () => {
    expect(names(applyLimit(hosts, 'web,!canary'))).toEqual(['web-2', 'web-3', 'web-10'])
    expect(names(applyLimit(hosts, '!db'))).toEqual(['web-1', 'web-2', 'web-3', 'web-10'])
  })

  it('a pattern matching nothing is an error, not a silently smaller wave', () => {
    expect(() => applyLimit(hosts, 'web-*,wbe-4')).toThrow(/"wbe-4" matches none of the 5 hosts selected by --hosts/)
    expect(() => applyLimit(hosts, 'web-1,!web-1')).toThrow(/leaves none/)
  })

  it('glob metacharacters of regular expressions are literal', () => {
    expect(globToRegExp('a.b+(c)').test('a.b+(c)')).toBe(true)
    expect(globToRegExp('a.b').test('axb')).toBe(false)
    expect(globToRegExp('h[!0-4]').test('h5')).toBe(true)
    expect(globToRegExp('h[!0-4]').test('h3')).toBe(false)
  })
})

describe('--shard', () => {
  it('parses i/n', () => {
    expect(parseShard('2/4')).toEqual({ index: 2, count: 4 })
    for (const bad of ['0/4', '5/4', '1/0', '1', 'a/b', '1/2/3']) expect(() => parseShard(bad)).toThrow(/expected i\/n/)
  })

  it('deals sorted names round-robin: every host in exactly one shard, whatever the input order', () => {
    const many = Array.from({ length: 11 }, (_, i) => host(`h-${String(i).padStart(2, '0')}`))
    const shuffled = [...many].reverse()
    const shards = [1, 2, 3].map(index => names(selectShard(shuffled, { index, count: 3 })))
    expect(shards.flat().sort()).toEqual(names(many))
    expect(shards.map(s => s.length)).toEqual([4, 4, 3])
    // the same shard from a differently ordered selection holds the same hosts
    expect(names(selectShard(many, { index: 2, count: 3 })).sort()).toEqual([...shards[1]!].sort())
    expect(shards[0]).toEqual(['h-09', 'h-06', 'h-03', 'h-00'])
  })

  it('a shard can be empty when there are fewer hosts than shards', () => {
    expect(selectShard(hosts.slice(0, 2), { index: 3, count: 3 })).toEqual([])
  })
})

describe('--hosts - (stdin)', () => {
  it('reads one per line or comma-separated, ignoring blanks and comments', () => {
    expect(parseHostList('web-1\nweb-2, web-3\n\n# drained:\n  deploy@10.0.0.7:2222  # new box\n')).toEqual([
      'web-1',
      'web-2',
      'web-3',
      'deploy@10.0.0.7:2222',
    ])
    expect(parseHostList('\n# nothing\n')).toEqual([])
  })
})
