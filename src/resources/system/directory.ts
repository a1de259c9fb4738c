// directory(path): the names inside a directory (e.g. to count kept releases).
import { factFailure, type FactRequest } from '../../probe/fact.ts'
import { readFact } from '../../dsl/context.ts'

export interface DirectoryFacts {
  path: string
  exists: boolean
  /** Entry names (not paths), sorted, hidden ones included, `.` and `..` excluded. */
  entries: string[]
}

// An unreadable directory must be an error: a glob over it would silently look empty.
// Inline (builtins only): the glob is anchored at the quoted path, so the shell's cwd stays put.
const LIST_SCRIPT = String.raw`if [ ! -e "$1" ]; then echo missing; return 0; fi
[ -d "$1" ] || { echo "not a directory" >&2; return 2; }
{ [ -r "$1" ] && [ -x "$1" ]; } || { echo "permission denied" >&2; return 2; }
printf 'ok\000'
for f in "$1"/* "$1"/.[!.]* "$1"/..?*; do if [ -e "$f" ] || [ -L "$f" ]; then printf '%s\000' "${"$"}{f##*/}"; fi; done
return 0`

export function listFact(path: string): FactRequest<DirectoryFacts> {
  const request: FactRequest<DirectoryFacts> = {
    key: `directory:${path}`,
    describe: `list ${path}`,
    script: LIST_SCRIPT,
    inline: true,
    args: [path],
    parse: (raw) => {
      if (raw.exitCode !== 0) throw factFailure(request, raw)
      const [head, ...names] = raw.stdout.toString('utf8').split('\0')
      if (head?.trim() === 'missing') return { path, exists: false, entries: [] }
      return { path, exists: true, entries: names.filter((n) => n !== '').sort() }
    },
  }
  return request
}

export function directory(path: string): Promise<DirectoryFacts> {
  return readFact(listFact(path))
}
