// Snippet files: every .sh/.awk under src/ is read by the module beside it (no orphan, none
// missing: a missing one fails its module's import), and the host is sent the body only.
import { readdirSync, readFileSync } from 'node:fs'
import path from 'node:path'
import { describe, expect, it } from 'vitest'
import { loadedSnippets, snippetBody } from '../../src/probe/snippet.ts'

const SRC = path.resolve(import.meta.dirname, '../../src')

function snippetFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap(e => {
    const abs = path.join(dir, e.name)
    if (e.isDirectory()) return snippetFiles(abs)
    return /\.(sh|awk)$/.test(e.name) ? [abs] : []
  })
}

describe('snippet files', () => {
  it('every snippet file under src/ is read when the public API and the commands load, and only those', async () => {
    // what a run loads: every resource (through the public DSL) and the commands with facts of their own
    await import('../../src/index.ts')
    await import('../../src/commands/generate.ts')
    const onDisk = snippetFiles(SRC).sort()
    expect(onDisk.length).toBeGreaterThan(25)
    expect(loadedSnippets().sort()).toEqual(onDisk)
  })

  it('each opens with a comment header saying what it answers', () => {
    for (const file of snippetFiles(SRC)) {
      const text = readFileSync(file, 'utf8')
      expect(text.startsWith('# '), path.relative(SRC, file)).toBe(true)
      expect(text.endsWith('\n'), path.relative(SRC, file)).toBe(true)
      expect(snippetBody(text), path.relative(SRC, file)).not.toMatch(/^#/)
    }
  })

  it('the body is the file without its header, its shellcheck directives and its final newline', () => {
    const text = '# what it answers\n# $1: a path\nif [ -e "$1" ]; then\n  # shellcheck disable=SC2086 # why\n  echo $1 # kept\nfi\n'
    expect(snippetBody(text)).toBe('if [ -e "$1" ]; then\n  echo $1 # kept\nfi')
    expect(snippetBody('echo hi')).toBe('echo hi')
  })
})
