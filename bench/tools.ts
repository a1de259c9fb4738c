// How each tool is run against the fleet, the way its users run it in parallel, and how a
// run is checked to have really passed all 22 checks on every host (a fast failure is no result).
import { execFileSync } from 'node:child_process'
import { copyFileSync, existsSync, mkdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs'
import path from 'node:path'
import type { RunResult } from '../src/model.ts'
import type { BenchFleet, FrontConfig } from './fleet.ts'

export const BENCH_DIR = path.dirname(new URL(import.meta.url).pathname)
export const REPO_ROOT = path.resolve(BENCH_DIR, '..')
export const VERIFY_BIN = path.join(REPO_ROOT, 'bin', 'verify.mjs')
/** bin/verify.mjs plus phase time stamps, for the breakdown run. */
export const VERIFY_TIMELINE_BIN = path.join(BENCH_DIR, 'verify-timeline.mjs')
export const CHECKS_PER_HOST = 22
const PYTHON = '/usr/bin/python3' // Debian's, where python3-testinfra lives (not a pyenv shim)

export const TOOL_NAMES = ['floor', 'verify-1', 'verify', 'serverspec', 'testinfra'] as const
export type ToolName = (typeof TOOL_NAMES)[number]

export interface RunContext {
  fleet: BenchFleet
  front: FrontConfig
  /** The first `count` hosts of the fleet. */
  count: number
  /** Parallel rspec processes (`rake -j`). */
  serverspecJobs: number
  /** pytest-xdist workers (`-n`). */
  testinfraWorkers: number
  /** verify's --concurrency (undefined: the CLI's default). */
  verifyConcurrency?: number
  /** verify's project directory (bench/specs copied in, node_modules link to this checkout). */
  verifyWorkdir: string
}

export interface Invocation {
  command: string
  args: string[]
  cwd?: string
  env?: NodeJS.ProcessEnv
  marker?: string
  /** Throws when the run did not pass every check on every host. */
  validate(result: { exitCode: number; stdout: string; stderr: string }): void
  /** Untimed clean-up after the run (Testinfra's persistent ControlMasters). */
  after?(): void
}

export function invocation(tool: ToolName, ctx: RunContext, verifyBin = VERIFY_BIN): Invocation {
  switch (tool) {
    case 'floor':
      return floor(ctx)
    case 'verify':
      return verify(ctx, verifyBin)
    case 'verify-1':
      return verify({ ...ctx, verifyWorkdir: oneCheckWorkdir(ctx.verifyWorkdir) }, verifyBin, 1)
    case 'serverspec':
      return serverspec(ctx)
    case 'testinfra':
      return testinfra(ctx)
  }
}

/** OpenSSH's own client running `true` on every host at once, one connection each: the cost of connecting. */
function floor(ctx: RunContext): Invocation {
  return {
    command: 'xargs',
    args: ['-a', ctx.fleet.hostsFile(ctx.count), '-P', '0', '-I', '{}', 'ssh', '-F', ctx.front.sshConfig, '{}', 'true'],
    validate: r => expectExit(r, 0, 'floor'),
  }
}

export function verifyJsonPath(ctx: RunContext): string {
  return path.join(ctx.verifyWorkdir, 'out', 'result.json')
}

function verify(ctx: RunContext, bin: string, checksPerHost = CHECKS_PER_HOST): Invocation {
  const json = verifyJsonPath(ctx)
  const concurrency = ctx.verifyConcurrency ? ['--concurrency', String(ctx.verifyConcurrency)] : []
  return {
    command: process.execPath,
    args: [bin, '--hosts', 'fleet', '-i', ctx.front.hostsYaml(ctx.count), '--json', json, ...concurrency],
    cwd: ctx.verifyWorkdir,
    env: { ...process.env, NO_COLOR: '1' },
    validate: r => {
      expectExit(r, 0, 'verify')
      const result = JSON.parse(readFileSync(json, 'utf8')) as RunResult
      const want = checksPerHost * ctx.count
      if (result.summary.passed !== want) throw new Error(`verify passed ${result.summary.passed} checks, expected ${want}`)
    },
  }
}

function serverspec(ctx: RunContext): Invocation {
  const dir = path.join(BENCH_DIR, 'serverspec')
  return {
    command: 'rake',
    args: ['-f', path.join(dir, 'Rakefile'), '-j', String(ctx.serverspecJobs), 'spec:all'],
    cwd: dir,
    env: {
      ...process.env,
      BENCH_HOSTS_FILE: ctx.fleet.hostsFile(ctx.count),
      BENCH_SSH_CONFIG: ctx.front.sshConfig,
      BENCH_FLEET: ctx.fleet.fleetJson,
    },
    validate: r => {
      expectExit(r, 0, 'serverspec')
      const clean = r.stdout.match(new RegExp(`^${CHECKS_PER_HOST} examples, 0 failures$`, 'gm'))?.length ?? 0
      if (clean !== ctx.count)
        throw new Error(
          `serverspec: ${clean} of ${ctx.count} hosts reported "${CHECKS_PER_HOST} examples, 0 failures"\n${tail(r.stdout + r.stderr)}`,
        )
    },
  }
}

function testinfra(ctx: RunContext): Invocation {
  const dir = path.join(BENCH_DIR, 'testinfra')
  const hosts = ctx.fleet.hosts
    .slice(0, ctx.count)
    .map(h => `ssh://${h.name}`)
    .join(',')
  const config = ctx.front.sshConfigMux
  return {
    command: PYTHON,
    args: [
      '-m',
      'pytest',
      '-p',
      'no:cacheprovider',
      '-q',
      '-n',
      String(ctx.testinfraWorkers),
      `--rootdir=${dir}`,
      `--hosts=${hosts}`,
      `--ssh-config=${config}`,
      path.join(dir, 'test_deploy.py'),
    ],
    cwd: dir,
    env: { ...process.env, BENCH_FLEET: ctx.fleet.fleetJson },
    marker: config,
    validate: r => {
      expectExit(r, 0, 'testinfra')
      const passed = Number(/(\d+) passed/.exec(r.stdout)?.[1] ?? 0)
      if (passed !== CHECKS_PER_HOST * ctx.count)
        throw new Error(`testinfra passed ${passed} tests, expected ${CHECKS_PER_HOST * ctx.count}\n${tail(r.stdout)}`)
    },
    after: () => stopControlMasters(ctx, config),
  }
}

/** Testinfra leaves a ControlPersist master per host; a later run must not find them warm. */
function stopControlMasters(ctx: RunContext, config: string): void {
  try {
    execFileSync('xargs', ['-a', ctx.fleet.hostsFile(ctx.count), '-P', '0', '-I', '{}', 'ssh', '-F', config, '-O', 'exit', '{}'], {
      stdio: 'ignore',
    })
  } catch {
    // `-O exit` fails for a host that has no master (already gone): nothing to stop there
  }
}

/**
 * verify's project directories, laid out like a user's (specs/, package.json, the package in
 * node_modules): one with deploy.spec.ts, and one beside it with only one-check.spec.ts.
 */
export function prepareVerifyWorkdir(fleet: BenchFleet): string {
  const dir = path.join(fleet.dir, 'verify-project')
  makeProject(dir, 'deploy.spec.ts')
  makeProject(oneCheckWorkdir(dir), 'one-check.spec.ts')
  return dir
}

function oneCheckWorkdir(verifyWorkdir: string): string {
  return `${verifyWorkdir}-1-check`
}

function makeProject(dir: string, spec: string): void {
  mkdirSync(path.join(dir, 'specs'), { recursive: true })
  mkdirSync(path.join(dir, 'node_modules'), { recursive: true })
  mkdirSync(path.join(dir, 'out'), { recursive: true })
  const link = path.join(dir, 'node_modules', 'postdeploy-verify')
  if (!existsSync(link)) symlinkSync(REPO_ROOT, link)
  copyFileSync(path.join(BENCH_DIR, 'specs', spec), path.join(dir, 'specs', spec))
  writeFileSync(path.join(dir, 'package.json'), JSON.stringify({ private: true, type: 'module' }))
}

function expectExit(r: { exitCode: number; stdout: string; stderr: string }, want: number, tool: string): void {
  if (r.exitCode !== want) throw new Error(`${tool} exited ${r.exitCode}, expected ${want}\n${tail(r.stdout + r.stderr)}`)
}

function tail(text: string): string {
  return text.split('\n').slice(-40).join('\n')
}
