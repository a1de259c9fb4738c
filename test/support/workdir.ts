// A throwaway project directory for end-to-end runs of the CLI: spec files, hosts.yaml, and
// a node_modules link so specs resolve `import … from 'postdeploy-verify'` to this checkout.
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { execa } from 'execa'
import type { RunResult } from '../../src/model.ts'

export const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..')
const BIN = path.join(REPO_ROOT, 'bin', 'verify.mjs')

export interface Workdir {
  dir: string
  write(file: string, content: string): string
  remove(): void
}

export function makeWorkdir(files: Record<string, string> = {}): Workdir {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'verify-work-'))
  mkdirSync(path.join(dir, 'node_modules'))
  symlinkSync(REPO_ROOT, path.join(dir, 'node_modules', 'postdeploy-verify'))
  // a spec project is an ES module package, as the README's set-up makes it
  writeFileSync(path.join(dir, 'package.json'), JSON.stringify({ private: true, type: 'module' }))
  const write = (file: string, content: string) => {
    const abs = path.join(dir, file)
    mkdirSync(path.dirname(abs), { recursive: true })
    writeFileSync(abs, content)
    return abs
  }
  for (const [file, content] of Object.entries(files)) write(file, content)
  return { dir, write, remove: () => rmSync(dir, { recursive: true, force: true }) }
}

export interface CliRun {
  exitCode: number
  stdout: string
  stderr: string
  ms: number
}

/** Runs `verify …` as a user would, in its own process, with no terminal (so no colour). */
export async function runCli(args: string[], options: { cwd: string; env?: Record<string, string>; timeoutMs?: number; input?: string }): Promise<CliRun> {
  const started = performance.now()
  const result = await execa('node', [BIN, ...args], {
    cwd: options.cwd,
    env: { NO_COLOR: '1', ...options.env },
    reject: false,
    timeout: options.timeoutMs ?? 120_000,
    // `input` feeds stdin (e.g. `--hosts -`); otherwise there is none, as in CI
    ...(options.input === undefined ? { stdin: 'ignore' as const } : { input: options.input }),
  })
  return { exitCode: result.exitCode ?? -1, stdout: String(result.stdout), stderr: String(result.stderr), ms: Math.round(performance.now() - started) }
}

/** Every check of a run that did not pass, as `host path: message`: an assertion that shows why. */
export function notPassed(result: RunResult): string[] {
  return result.hosts.flatMap((h) => h.checks.filter((c) => c.status !== 'passed').map((c) => `${h.host.name} ${c.path.join(' > ')}: ${c.message}`))
}
