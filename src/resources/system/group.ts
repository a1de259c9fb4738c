// group(name): does the group exist, with which gid and which listed members.
import { readFact } from '../../dsl/context.ts'
import { defineFact, type FactRequest } from '../../probe/fact.ts'
import { snippet } from '../../probe/snippet.ts'

export interface GroupFacts {
  name: string
  exists: boolean
  gid?: number
  /**
   * Members listed in the group entry (supplementary members). Users whose primary group this is
   * are not listed there, as in Testinfra; ask `user(name).groups` for one user's full view.
   */
  members: string[]
}

const GROUP_SCRIPT = snippet(import.meta.url, 'group.sh')

export function groupFact(name: string): FactRequest<GroupFacts> {
  return defineFact({
    key: `group:${name}`,
    describe: `group ${name}`,
    script: GROUP_SCRIPT,
    args: [name],
    parse: raw => parseGroup(name, raw.stdout.toString('utf8')),
  })
}

/** `group` then the entry `name:x:gid:member1,member2`. */
export function parseGroup(name: string, out: string): GroupFacts {
  const missing: GroupFacts = { name, exists: false, members: [] }
  if (out.trim() === 'missing') return missing
  const entry = out.split('\n')[1] ?? ''
  const fields = entry.split(':')
  if (out.split('\n')[0] !== 'group' || fields.length < 4 || !/^\d+$/.test(fields[2]!))
    throw new Error(`unexpected group entry: ${JSON.stringify(entry)}`)
  // getent resolves an all-digit key as a gid: that is another group, not this name
  if (fields[0] !== name) return missing
  return { name, exists: true, gid: Number(fields[2]), members: fields.slice(3).join(':').split(',').filter(Boolean) }
}

/** `group('www-data')`: exists, gid, members. */
export function group(name: string): Promise<GroupFacts> {
  if (name === '') throw new Error('group(): give a group name')
  return readFact(groupFact(name))
}
