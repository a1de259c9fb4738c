// Fact snippets live in .sh files beside their resource, so shellcheck reads them as the host's
// sh will (scripts/check-shell.sh). Each is read once, when its resource's module loads. The
// file's comment header (what it answers, its positional parameters) and its `# shellcheck`
// directive lines stay here: the host is sent the rest, so a batch is no bigger for them.
import { readFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'

const loaded = new Map<string, string>()

/** The body of the snippet file `name` beside the module `moduleUrl` (its `import.meta.url`). */
export function snippet(moduleUrl: string, name: string): string {
  const file = fileURLToPath(new URL(name, moduleUrl))
  let body = loaded.get(file)
  if (body === undefined) {
    body = snippetBody(readFileSync(file, 'utf8'))
    loaded.set(file, body)
  }
  return body
}

/** A snippet file's text without its leading `#` lines, its shellcheck directives and its final newline. */
export function snippetBody(text: string): string {
  const lines = text.split('\n')
  let start = 0
  while (start < lines.length && lines[start]!.startsWith('#')) start++
  return lines
    .slice(start)
    .filter(line => !SHELLCHECK_DIRECTIVE.test(line))
    .join('\n')
    .replace(/\n$/, '')
}

const SHELLCHECK_DIRECTIVE = /^\s*# shellcheck /

/** Absolute paths of the snippet files read so far (a test checks that no .sh file goes unread). */
export function loadedSnippets(): string[] {
  return [...loaded.keys()]
}
