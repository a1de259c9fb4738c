import { mkdtempSync, rmSync, symlinkSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import {
  containingMount,
  describeMount,
  mount,
  parseMountTable,
  parseMountinfo,
  parseProcMounts,
  unescapeOctal,
} from '../../../src/resources/system/mount.ts'
import { onLocalHost } from '../../support/local-host.ts'

// Captured from a Debian 12 container (gVisor): stacked /dev/pts and /dev/shm, a bind mount
// with a `shared:1` optional field, and a tmpfs mounted at a path with a space, from a source with one.
const MOUNTINFO = `22 27 0:21 / /proc rw,relatime - proc proc rw
23 27 0:22 / /sys rw,relatime - sysfs sysfs rw
24 27 0:6 / /dev rw,relatime - devtmpfs devtmpfs rw,size=12334432k,nr_inodes=3083608,mode=755
25 24 0:23 / /dev/shm rw,relatime - tmpfs tmpfs rw,size=24683656k
26 24 0:24 / /dev/pts rw,relatime - devpts devpts rw,mode=600,ptmxmode=000
27 1 254:0 / / rw,relatime - ext4 /dev/vda rw,discard,resv_strict,resuid=65534,resgid=65534
28 27 0:25 / /mnt/sandboxing/model_tools_env/v1/python ro,nosuid,nodev,relatime - tmpfs model_tools_unavailable ro,size=4k,mode=755
29 26 0:26 / /dev/pts rw,nosuid,relatime - devpts devpts rw,mode=620,ptmxmode=666
30 25 0:27 / /dev/shm rw,relatime - tmpfs tmpfs rw,size=24683656k
42 27 254:0 /run/netns /run/netns rw,relatime shared:1 - ext4 /dev/vda rw,discard,resv_strict,resuid=65534,resgid=65534
43 27 0:39 / /tmp/mnt\\040test/x rw,noexec,relatime - tmpfs tmpfs\\040src rw,size=1024k
`

// The same machine's /proc/mounts (the fallback when mountinfo is unreadable).
const PROC_MOUNTS = `proc /proc proc rw,relatime 0 0
/dev/vda / ext4 rw,relatime,discard,resv_strict,resuid=65534,resgid=65534 0 0
devpts /dev/pts devpts rw,relatime,mode=600,ptmxmode=000 0 0
tmpfs\\040src /tmp/mnt\\040test/x tmpfs rw,noexec,relatime,size=1024k 0 0
`

describe('mount table parsing', () => {
  it('reads mountinfo: options split into per-mount and superblock, bind roots, octal escapes', () => {
    const table = parseMountinfo(MOUNTINFO)
    expect(table).toHaveLength(11)
    expect(table.find(e => e.mountPoint === '/')).toEqual({
      mountPoint: '/',
      source: '/dev/vda',
      filesystem: 'ext4',
      root: '/',
      options: ['rw', 'relatime', 'discard', 'resv_strict', 'resuid=65534', 'resgid=65534'],
      mountOptions: ['rw', 'relatime'],
      superOptions: ['rw', 'discard', 'resv_strict', 'resuid=65534', 'resgid=65534'],
    })
    expect(table.find(e => e.mountPoint === '/run/netns')).toMatchObject({ root: '/run/netns', filesystem: 'ext4' })
    expect(table.at(-1)).toMatchObject({
      mountPoint: '/tmp/mnt test/x',
      source: 'tmpfs src',
      options: ['rw', 'noexec', 'relatime', 'size=1024k'],
    })
    // ro from the mount and ro from the superblock appear once
    expect(table.find(e => e.source === 'model_tools_unavailable')!.options).toEqual([
      'ro',
      'nosuid',
      'nodev',
      'relatime',
      'size=4k',
      'mode=755',
    ])
  })

  it('reads /proc/mounts as the fallback', () => {
    const table = parseMountTable(`/proc/mounts\n${PROC_MOUNTS}`)
    expect(table.map(e => e.mountPoint)).toEqual(['/proc', '/', '/dev/pts', '/tmp/mnt test/x'])
    expect(table[3]).toMatchObject({
      source: 'tmpfs src',
      filesystem: 'tmpfs',
      options: ['rw', 'noexec', 'relatime', 'size=1024k'],
      superOptions: [],
    })
    expect(() => parseProcMounts('garbage\n')).toThrow(/unexpected \/proc\/mounts line/)
  })

  it('decodes every escape the kernel writes', () => {
    expect(unescapeOctal('a\\040b\\011c\\012d\\134e')).toBe('a b\tc\nd\\e')
  })

  it('rejects output it does not understand', () => {
    expect(() => parseMountTable('what\n')).toThrow(/unexpected mount table output/)
    expect(() => parseMountinfo('1 2 3\n')).toThrow(/unexpected mountinfo line/)
  })
})

describe('which mount', () => {
  const table = parseMountinfo(MOUNTINFO)

  it('a stacked mount point shows the top mount (the last one listed)', () => {
    const facts = describeMount('/dev/pts', '/dev/pts', table)
    expect(facts).toMatchObject({
      mounted: true,
      isMountPoint: true,
      mountOptions: ['rw', 'nosuid', 'relatime'],
      superOptions: ['rw', 'mode=620', 'ptmxmode=666'],
    })
  })

  it('a path below a mount point is not mounted itself; containing is the longest mount point holding it', () => {
    const facts = describeMount('/dev/pts/0', '/dev/pts/0', table)
    expect(facts.mounted).toBe(false)
    expect(facts.filesystem).toBeUndefined()
    expect(facts.containing).toMatchObject({ mountPoint: '/dev/pts', filesystem: 'devpts' })
    expect(containingMount(table, '/devices')!.mountPoint).toBe('/') // a prefix by name only is not a parent
    expect(containingMount(table, '/tmp/mnt test/x/deep/file')!.source).toBe('tmpfs src')
  })

  it('a missing path is not mounted; its containing mount is found from the path as written', () => {
    const facts = describeMount('/tmp/mnt test/x/../x/nope', undefined, table)
    expect(facts).toMatchObject({ mounted: false, resolvedPath: undefined })
    expect(facts.containing!.mountPoint).toBe('/tmp/mnt test/x')
  })
})

describe('mount() on this machine', () => {
  let dir: string
  beforeAll(() => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'verify-mount-'))
    symlinkSync('/proc', path.join(dir, 'proc-link'))
  })
  afterAll(() => rmSync(dir, { recursive: true, force: true }))

  it('/proc is a mount point of type proc, also through a symlink; a plain directory is not', async () => {
    const { value, execCount } = await onLocalHost(() =>
      Promise.all([mount('/proc'), mount(path.join(dir, 'proc-link')), mount(dir), mount(path.join(dir, 'missing'))]),
    )
    expect(value[0]).toMatchObject({ mounted: true, filesystem: 'proc', mountPoint: '/proc' })
    expect(value[1]).toMatchObject({ mounted: true, filesystem: 'proc', resolvedPath: '/proc' })
    expect(value[2].mounted).toBe(false)
    expect(value[2].containing).toBeDefined()
    expect(value[3]).toMatchObject({ mounted: false, resolvedPath: undefined })
    expect(execCount).toBe(1)
  })

  it('the whole table is there too', async () => {
    const { value } = await onLocalHost(() => mount('/').table)
    expect(value.some(e => e.mountPoint === '/')).toBe(true)
  })

  it('an empty path is refused before anything runs', () => {
    expect(() => mount('')).toThrow(TypeError)
  })
})
