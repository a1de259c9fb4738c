// The reports a run (or `verify merge` / `verify report`) writes besides the console: JUnit,
// JSON, HTML files, and the CI dialect. Any one of the files may be `-`, stdout; the console
// report (and GitHub's annotations with it) then goes to stderr, so stdout carries one thing only.
import { mkdirSync, writeFileSync } from 'node:fs'
import { dirname } from 'node:path'
import type { RunResult } from '../model.ts'
import { ciDialectFor, writeGithub, type CiDialect } from './github.ts'
import { renderHtml } from './html.ts'
import { renderJson } from './json.ts'
import { junitFlavorFor, renderJunit, type JunitFlavor } from './junit.ts'

export const STDOUT = '-'

export interface OutputFlags {
  junit?: string
  junitFlavor?: JunitFlavor
  json?: string
  html?: string
  ci?: CiDialect
}

/** The problem when more than one report asks for stdout; undefined when at most one does. */
export function stdoutConflict(flags: OutputFlags): string | undefined {
  const taking = (['junit', 'json', 'html'] as const).filter(name => flags[name] === STDOUT)
  return taking.length > 1 ? `only one report can go to stdout (-): ${taking.map(n => `--${n} -`).join(', ')}` : undefined
}

/** Where the console report goes: stderr when a report file is stdout or the run has config errors. */
export function consoleStream(
  run: RunResult,
  flags: OutputFlags,
  io: { stdout: NodeJS.WritableStream; stderr: NodeJS.WritableStream },
): NodeJS.WritableStream {
  const taken = flags.junit === STDOUT || flags.json === STDOUT || flags.html === STDOUT
  return run.configErrors.length > 0 || taken ? io.stderr : io.stdout
}

/** JUnit, HTML and the CI dialect (the JSON comes last, from writeJsonReport, once timings are complete). */
export function writeReports(
  run: RunResult,
  flags: OutputFlags,
  io: { env: NodeJS.ProcessEnv; stdout: NodeJS.WritableStream; console: NodeJS.WritableStream },
): void {
  if (flags.junit) emit(flags.junit, () => renderJunit(run, { flavor: junitFlavorFor(flags.junitFlavor, io.env) }), io.stdout)
  if (flags.html) emit(flags.html, () => renderHtml(run), io.stdout)
  // annotations travel with the console report: on stdout unless a report took it
  if (ciDialectFor(flags.ci, io.env) === 'github') writeGithub(run, io.env, io.console)
}

export function writeJsonReport(run: RunResult, path: string, stdout: NodeJS.WritableStream): void {
  emit(path, () => renderJson(run), stdout)
}

function emit(path: string, render: () => string, stdout: NodeJS.WritableStream): void {
  if (path === STDOUT) {
    stdout.write(render())
    return
  }
  mkdirSync(dirname(path), { recursive: true })
  writeFileSync(path, render(), 'utf8')
}
