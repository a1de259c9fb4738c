// Who may read, write or execute a path. By class (owner/group/others) it is the mode bits;
// for a named user it is asked of the kernel as that user (`test -r` under setpriv/runuser/su)
// when verify runs as root, and otherwise worked out from mode bits, owners and the user's
// groups along the whole path, and the answer says which of the two it is.
import { ExpectationError } from '../../errors.ts'
import { defineFact, type FactRequest } from '../../probe/fact.ts'
import { snippet } from '../../probe/snippet.ts'
import { assertUserName } from '../../lib/valid-names.ts'

export interface Access {
  readable: boolean
  writable: boolean
  executable: boolean
}

export interface Permissions {
  owner: Access
  group: Access
  others: Access
  setuid: boolean
  setgid: boolean
  sticky: boolean
}

export function permissionsOf(mode: number): Permissions {
  const cls = (shift: number): Access => ({
    readable: (mode & (0o4 << shift)) !== 0,
    writable: (mode & (0o2 << shift)) !== 0,
    executable: (mode & (0o1 << shift)) !== 0,
  })
  return {
    owner: cls(6),
    group: cls(3),
    others: cls(0),
    setuid: (mode & 0o4000) !== 0,
    setgid: (mode & 0o2000) !== 0,
    sticky: (mode & 0o1000) !== 0,
  }
}

export interface UserAccess extends Access {
  user: string
  path: string
  /**
   * `as-user`: the kernel answered `test -r/-w/-x` run as that user (ACLs, capabilities and
   * read-only mounts included). `mode-bits`: computed from mode, owner and groups of the path
   * and every directory above it (verify is not root); ACLs and read-only mounts not considered.
   */
  method: 'as-user' | 'mode-bits'
  /** The tool used to become the user (`setpriv`, `runuser`, `su`), for `as-user`. */
  via?: string
}

const ACCESS_SCRIPT = snippet(import.meta.url, 'file-access.sh')

export function accessFact(path: string, user: string): FactRequest<UserAccess> {
  assertUserName('accessibleBy', user)
  return defineFact({
    key: `file.access:${user}:${path}`,
    describe: `access of ${user} to ${path}`,
    script: ACCESS_SCRIPT,
    args: [path, user],
    parse: raw => parseAccess(path, user, raw.stdout.toString('utf8')),
  })
}

interface StatLine {
  mode: number
  uid: number
  gid: number
}

export function parseAccess(path: string, user: string, out: string): UserAccess {
  const lines = out.split('\n').filter(l => l !== '')
  const head = lines[0] ?? ''
  if (head === 'nouser')
    throw new ExpectationError(
      `access of ${user} to ${path}: user ${user} does not exist on the host`,
      `an existing user ${user}`,
      'no such user',
    )
  if (head === 'missing') throw new ExpectationError(`access of ${user} to ${path}: ${path} does not exist`, 'an existing file', 'missing')
  const asUser = /^as-user (\S+)$/.exec(head)
  if (asUser) {
    const bits = lines[1] ?? ''
    if (!/^[r-][w-][x-]$/.test(bits))
      throw new Error(`could not test as ${user} with ${asUser[1]}: ${JSON.stringify(lines.slice(1).join(' ').slice(0, 200))}`)
    return {
      user,
      path,
      readable: bits[0] === 'r',
      writable: bits[1] === 'w',
      executable: bits[2] === 'x',
      method: 'as-user',
      via: asUser[1],
    }
  }
  if (head !== 'mode-bits') throw new Error(`unexpected output: ${JSON.stringify(out.slice(0, 120))}`)
  const who = /^user (\d+) ([\d ]*)$/.exec(lines[1] ?? '')
  const target = parseStatLine(lines[2], 'target')
  const dirs = lines.slice(3).map(l => parseStatLine(l, 'dir'))
  if (!who) throw new Error(`unexpected output: ${JSON.stringify(lines[1])}`)
  const uid = Number(who[1])
  const gids = new Set(
    who[2]!
      .trim()
      .split(/\s+/)
      .filter(g => g !== '')
      .map(Number),
  )
  return { user, path, ...accessFromModes(uid, gids, target, dirs), method: 'mode-bits' }
}

function parseStatLine(line: string | undefined, kind: string): StatLine {
  const m = new RegExp(`^${kind} ([0-9a-f]+) (\\d+) (\\d+)$`).exec(line ?? '')
  if (!m) throw new Error(`unexpected stat line: ${JSON.stringify(line)}`)
  return { mode: Number.parseInt(m[1]!, 16), uid: Number(m[2]), gid: Number(m[3]) }
}

/** The class of the user decides (owner, else group, else others), as the kernel does. */
function classAccess(uid: number, gids: ReadonlySet<number>, s: StatLine): Access {
  const p = permissionsOf(s.mode)
  if (uid === s.uid) return p.owner
  if (gids.has(s.gid)) return p.group
  return p.others
}

/** Every directory on the way must be searchable; root passes all checks but needs some x bit to execute. */
export function accessFromModes(uid: number, gids: ReadonlySet<number>, target: StatLine, dirs: StatLine[]): Access {
  const isDir = (target.mode & 0o170000) === 0o040000
  if (uid === 0) return { readable: true, writable: true, executable: isDir || (target.mode & 0o111) !== 0 }
  if (!dirs.every(d => classAccess(uid, gids, d).executable)) return { readable: false, writable: false, executable: false }
  return classAccess(uid, gids, target)
}
