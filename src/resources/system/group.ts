// group(name): does the group exist, with which gid and which listed members.
import { readFact } from '../../dsl/context.ts'
import { factFailure, type FactRequest } from '../../probe/fact.ts'

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

const GROUP_SCRIPT = String.raw`if command -v getent >/dev/null 2>&1; then
  e=$(getent group -- "$1"); rc=$?
  [ "$rc" -eq 2 ] && { echo missing; exit 0; }
  [ "$rc" -eq 0 ] || { echo "getent group failed with exit $rc" >&2; exit 2; }
else
  e=$(N=$1 awk -F: '$1 == ENVIRON["N"]' /etc/group) || exit 2
  [ -n "$e" ] || { echo missing; exit 0; }
fi
printf 'group\n%s\n' "$e"`

export function groupFact(name: string): FactRequest<GroupFacts> {
  const request: FactRequest<GroupFacts> = {
    key: `group:${name}`,
    describe: `group ${name}`,
    script: GROUP_SCRIPT,
    args: [name],
    parse: (raw) => {
      if (raw.exitCode !== 0) throw factFailure(request, raw)
      return parseGroup(name, raw.stdout.toString('utf8'))
    },
  }
  return request
}

/** `group` then the entry `name:x:gid:member1,member2`. */
export function parseGroup(name: string, out: string): GroupFacts {
  const missing: GroupFacts = { name, exists: false, members: [] }
  if (out.trim() === 'missing') return missing
  const entry = out.split('\n')[1] ?? ''
  const fields = entry.split(':')
  if (out.split('\n')[0] !== 'group' || fields.length < 4 || !/^\d+$/.test(fields[2]!)) throw new Error(`unexpected group entry: ${JSON.stringify(entry)}`)
  // getent resolves an all-digit key as a gid: that is another group, not this name
  if (fields[0] !== name) return missing
  return { name, exists: true, gid: Number(fields[2]), members: fields.slice(3).join(':').split(',').filter(Boolean) }
}

/** `group('www-data')`: exists, gid, members. */
export function group(name: string): Promise<GroupFacts> {
  if (name === '') throw new Error('group(): give a group name')
  return readFact(groupFact(name))
}
