// directory(path): the names inside a directory (e.g. to count kept releases).
import { defineFact, type FactRequest } from '../../probe/fact.ts'
import { snippet } from '../../probe/snippet.ts'
import { readFact } from '../../dsl/context.ts'

export interface DirectoryFacts {
  path: string
  exists: boolean
  /** Entry names (not paths), sorted, hidden ones included, `.` and `..` excluded. */
  entries: string[]
}

const LIST_SCRIPT = snippet(import.meta.url, 'directory.sh')

export function listFact(path: string): FactRequest<DirectoryFacts> {
  return defineFact({
    key: `directory:${path}`,
    describe: `list ${path}`,
    script: LIST_SCRIPT,
    inline: true,
    args: [path],
    parse: raw => {
      const [head, ...names] = raw.stdout.toString('utf8').split('\0')
      if (head?.trim() === 'missing') return { path, exists: false, entries: [] }
      return { path, exists: true, entries: names.filter(n => n !== '').sort() }
    },
  })
}

export function directory(path: string): Promise<DirectoryFacts> {
  return readFact(listFact(path))
}
