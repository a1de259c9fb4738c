// A throwaway project directory for end-to-end runs of the CLI: spec files, hosts.yaml, and
// a node_modules link so specs resolve `import … from 'postdeploy-verify'` to this checkout.
import { mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { execa } from 'execa'
import type { RunResult } from '../../src/model.ts'
import { DEBUG_HANDLES_ENV, LIVE_HANDLES_HEADER } from '../../src/runner/live-handles.ts'

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
  /** How long the process lived after its last output (VERIFY_DEBUG_HANDLES's measure), when it said. */
  exitDelayMs?: number
}

/** A run that left sockets, timers or child processes alive after its report (a leak, and a hang in CI). */
export class LiveHandlesError extends Error {}

// once the listing starts, the rest of it follows in the same write or the next few
const LISTING_FLUSH_MS = 300

/**
 * Runs `verify …` as a user would, in its own process, with no terminal (so no colour). With
 * VERIFY_DEBUG_HANDLES on, a run that leaves anything alive after its report is stopped by pid
 * and the call fails, naming what was left (`allowLiveHandles` for a test that means to).
 */
export async function runCli(
  args: string[],
  options: { cwd: string; env?: Record<string, string>; timeoutMs?: number; input?: string; allowLiveHandles?: boolean },
): Promise<CliRun> {
  const started = performance.now()
  const child = execa('node', [BIN, ...args], {
    cwd: options.cwd,
    env: { NO_COLOR: '1', [DEBUG_HANDLES_ENV]: '1', ...options.env },
    reject: false,
    timeout: options.timeoutMs ?? 120_000,
    // `input` feeds stdin (e.g. `--hosts -`); otherwise there is none, as in CI
    ...(options.input === undefined ? { stdin: 'ignore' as const } : { input: options.input }),
  })
  let leaked = false
  let stderrSoFar = ''
  child.stderr?.on('data', (chunk: Buffer) => {
    stderrSoFar += chunk.toString('utf8')
    if (leaked || options.allowLiveHandles || !stderrSoFar.includes(LIVE_HANDLES_HEADER)) return
    leaked = true
    setTimeout(() => child.kill('SIGKILL'), LISTING_FLUSH_MS)
  })
  const result = await child
  const stderr = String(result.stderr)
  if (leaked)
    throw new LiveHandlesError(
      `verify ${args.join(' ')} left handles alive after its report:\n${stderr.slice(stderr.indexOf(LIVE_HANDLES_HEADER))}\n--- stdout:\n${String(result.stdout)}`,
    )
  const exitLine = /^verify: exited (\d+)ms after the run's last output\n?/m
  const exitDelay = exitLine.exec(stderr)
  return {
    exitCode: result.exitCode ?? -1,
    stdout: String(result.stdout),
    // the measure is the helper's, not the run's output that tests look at
    stderr: stderr.replace(exitLine, ''),
    ms: Math.round(performance.now() - started),
    ...(exitDelay ? { exitDelayMs: Number(exitDelay[1]) } : {}),
  }
}

/** The JSON report a run wrote (`--json FILE`), read back: `readResult(work.dir, 'out/r.json')`. */
export function readResult(dir: string, ...file: string[]): RunResult {
  return JSON.parse(readFileSync(path.join(dir, ...file), 'utf8')) as RunResult
}

/** Every check of a run that did not pass, as `host path: message`: an assertion that shows why. */
export function notPassed(result: RunResult): string[] {
  return result.hosts.flatMap(h =>
    h.checks.filter(c => c.status !== 'passed').map(c => `${h.host.name} ${c.path.join(' > ')}: ${c.message}`),
  )
}
