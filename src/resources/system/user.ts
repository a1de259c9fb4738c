// user(name): does the account exist, with which uid/gid, groups (all of them, primary and
// supplementary, as `id -G` resolves them through NSS), home and shell.
import { readFact } from '../../dsl/context.ts'
import { defineFact, type FactRequest } from '../../probe/fact.ts'
import { snippet } from '../../probe/snippet.ts'

export interface UserFacts {
  name: string
  exists: boolean
  uid?: number
  /** Primary group id. */
  gid?: number
  /** Primary group name. */
  group?: string
  /** Every group the user is in, primary first (names; a gid without a name stays numeric). */
  groups: string[]
  gids: number[]
  home?: string
  shell?: string
  /** The GECOS field (full name, room, …). */
  gecos?: string
}

const USER_SCRIPT = snippet(import.meta.url, 'user.sh')

export function userFact(name: string): FactRequest<UserFacts> {
  return defineFact({
    key: `user:${name}`,
    describe: `user ${name}`,
    script: USER_SCRIPT,
    inline: true,
    args: [name],
    parse: raw => parseUser(name, raw.stdout.toString('utf8')),
  })
}

/** `passwd` entry line, `gids` line (id -G), then `groups` entries (getent group lines). */
export function parseUser(name: string, out: string): UserFacts {
  const missing: UserFacts = { name, exists: false, groups: [], gids: [] }
  if (out.trim() === 'missing' || /^passwd\nmissing\n?$/.test(out)) return missing
  const sections = splitSections(out, ['passwd', 'gids', 'groups', 'id'])
  const entry = sections.get('passwd')?.[0] ?? ''
  const fields = entry.split(':')
  if (fields.length < 7) throw new Error(`unexpected passwd entry: ${JSON.stringify(entry)}`)
  const [user, , uid, gid, gecos, home, shell] = fields as [string, string, string, string, string, string, string]
  // getent resolves an all-digit key as a uid: that is another account, not this name
  if (user !== name) return missing
  const groupNames = new Map<number, string>()
  for (const line of sections.get('groups') ?? []) {
    const [groupName, , id] = line.split(':')
    if (groupName && id && /^\d+$/.test(id) && !groupNames.has(Number(id))) groupNames.set(Number(id), groupName)
  }
  // `id NAME`: uid=1001(deploy) gid=1001(deploy) groups=1001(deploy),27(sudo),4242
  const idGroups = /\bgroups=(.*)$/.exec(sections.get('id')?.[0] ?? '')?.[1]
  const fromId =
    idGroups === undefined ? [] : [...idGroups.matchAll(/(\d+)(?:\(([^)]*)\))?/g)].map(m => ({ gid: Number(m[1]), name: m[2] }))
  for (const { gid: g, name: groupName } of fromId) if (groupName && !groupNames.has(g)) groupNames.set(g, groupName)
  const listed =
    idGroups !== undefined
      ? fromId.map(g => g.gid)
      : (sections.get('gids')?.[0] ?? '')
          .trim()
          .split(/\s+/)
          .filter(g => /^\d+$/.test(g))
          .map(Number)
  // id -G lists the primary group first; keep that order, without repeats
  const gids = [...new Set([Number(gid), ...listed])]
  return {
    name,
    exists: true,
    uid: Number(uid),
    gid: Number(gid),
    group: groupNames.get(Number(gid)) ?? gid,
    groups: gids.map(g => groupNames.get(g) ?? String(g)),
    gids,
    home,
    shell,
    gecos,
  }
}

/** Lines under each marker line; marker lines are exactly the given words. */
export function splitSections(out: string, markers: string[]): Map<string, string[]> {
  const sections = new Map<string, string[]>()
  let current: string[] | undefined
  for (const line of out.split('\n')) {
    if (markers.includes(line) && !sections.has(line)) sections.set(line, (current = []))
    else if (line !== '') current?.push(line)
  }
  return sections
}

/** `user('deploy')`: exists, uid, gid, groups, home, shell. */
export function user(name: string): Promise<UserFacts> {
  if (name === '') throw new Error('user(): give a user name')
  return readFact(userFact(name))
}
