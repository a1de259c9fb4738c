// JSON view of a RunResult: the model itself, so consumers get every field the other views summarise.
import { mkdirSync, writeFileSync } from 'node:fs'
import { dirname } from 'node:path'
import type { RunResult } from '../model.ts'

/** Pretty JSON with `schemaVersion` as the first key, so readers can check it before anything else. */
export function renderJson(run: RunResult): string {
  const { schemaVersion, ...rest } = run
  return `${JSON.stringify({ schemaVersion, ...rest }, null, 2)}\n`
}

export function writeJson(run: RunResult, path: string): void {
  mkdirSync(dirname(path), { recursive: true })
  writeFileSync(path, renderJson(run), 'utf8')
}
