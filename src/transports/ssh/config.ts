// ~/.ssh/config as OpenSSH itself reads it. The files are read once per run and evaluated
// in-process with OpenSSH's rules (config-eval.ts): no process per host. A config using what
// only OpenSSH can evaluate (Match exec, canonicalization, ${ENV}) is asked of `ssh -G <alias>`,
// which prints the resolved settings; the run's config check runs `ssh -G` once, for OpenSSH's
// own verdict on the files. Without an OpenSSH client, the `ssh-config` library computes a best effort.
import { readFile } from 'node:fs/promises'
import { homedir, userInfo } from 'node:os'
import { join } from 'node:path'
import { spawn, type ChildProcess } from 'node:child_process'
import { ConfigError } from '../../errors.ts'
import { NeedsOpenSsh, SshConfigFiles } from './config-eval.ts'
import {
  parseSshG,
  resolveWithLibrary,
  safePasswdHome,
  type LocalContext,
  type ResolvedSshConfig,
  type SshConfigQuery,
} from './config-settings.ts'

export interface SshConfigResolverOptions {
  /** `-F`: a config file instead of ~/.ssh/config and /etc/ssh/ssh_config; `none` reads no file. */
  configFile?: string
  env?: NodeJS.ProcessEnv
  /** The OpenSSH client; `false` forces the library fallback (tests, machines without ssh). */
  sshBinary?: string | false
  /** false: every host through `ssh -G` (tests compare the two). */
  inProcess?: boolean
}

const SSH_G_TIMEOUT_MS = 10_000

/** Resolves aliases once per (alias, user, port): every host and hop of a run shares one resolver. */
export class SshConfigResolver {
  private readonly cache = new Map<string, Promise<ResolvedSshConfig>>()
  private readonly env: NodeJS.ProcessEnv
  private sshBinary: Promise<string | undefined> | undefined
  /** `ssh -G` children still running: the run's end must not wait for them (a slow Match exec). */
  private readonly running = new Set<ChildProcess>()
  private closed = false
  /** The files, read once; null when they need OpenSSH itself for every host. */
  private files: SshConfigFiles | null | undefined

  constructor(private readonly options: SshConfigResolverOptions = {}) {
    this.env = options.env ?? process.env
  }

  get configFile(): string | undefined {
    return this.options.configFile
  }

  /** The settings for `query`; `signal` stops this caller's wait (the `ssh -G` goes on for the others sharing it). */
  resolve(query: SshConfigQuery, signal?: AbortSignal): Promise<ResolvedSshConfig> {
    const key = JSON.stringify([query.alias, query.user ?? null, query.port ?? null])
    let resolved = this.cache.get(key)
    if (!resolved) {
      resolved = this.compute(query)
      // every caller may have stopped waiting by the time it fails (close() kills it)
      resolved.catch(() => {})
      this.cache.set(key, resolved)
    }
    return signal ? abortable(resolved, signal) : resolved
  }

  /** The run is over: kills every `ssh -G` still running (and what its Match exec started). */
  close(): void {
    this.closed = true
    for (const child of this.running) killGroup(child)
    this.running.clear()
  }

  /** Reads the config once so a syntax error stops the run before any host (ConfigError): OpenSSH's verdict when installed. */
  async validate(): Promise<void> {
    const check = { alias: 'verify-config-check.invalid' }
    if (this.options.sshBinary !== false && !this.sshBinary) {
      // `ssh -G` first: when it succeeds ssh is there, so `ssh -V` runs only when it fails (one process fewer before the first host)
      const ssh = this.options.sshBinary ?? 'ssh'
      const failure = await this.runSshG(ssh, check).then(
        () => undefined,
        (err: unknown) => err ?? new Error('ssh -G failed'),
      )
      if (failure === undefined) this.sshBinary = Promise.resolve(ssh)
      else if (await this.findSsh()) throw failure
    } else {
      const ssh = await this.findSsh()
      if (ssh) await this.runSshG(ssh, check)
    }
    await this.resolve(check)
  }

  private async compute(query: SshConfigQuery): Promise<ResolvedSshConfig> {
    const local = localContext(this.env)
    const evaluated = this.evaluateInProcess(query, local)
    if (evaluated !== undefined) return parseSshG(evaluated, query, local)
    const ssh = await this.findSsh()
    if (ssh) return parseSshG(await this.runSshG(ssh, query), query, local)
    return resolveWithLibrary(await this.readConfigText(), query, local)
  }

  /** `ssh -G`-like text from the files read once, or undefined where only OpenSSH can tell. */
  private evaluateInProcess(query: SshConfigQuery, local: LocalContext): string | undefined {
    if (this.options.inProcess === false || this.options.sshBinary === false || this.files === null) return undefined
    try {
      if (!this.files) {
        const file = this.options.configFile
        const list =
          file === 'none'
            ? []
            : file
              ? [{ path: file, optional: false, userConfig: true }]
              : [
                  { path: join(local.home, '.ssh', 'config'), optional: true, userConfig: true },
                  { path: '/etc/ssh/ssh_config', optional: true, userConfig: false },
                ]
        // OpenSSH finds ~/.ssh/config and relative Includes under the passwd home, not $HOME
        const home = safePasswdHome() ?? local.home
        this.files = new SshConfigFiles(
          file === 'none' || file ? list : list.map(f => (f.userConfig ? { ...f, path: join(home, '.ssh', 'config') } : f)),
          { user: local.user, home },
        )
      }
      return this.files.evaluate(query)
    } catch (err) {
      if (!(err instanceof NeedsOpenSsh)) throw err
      if (!this.files) this.files = null
      return undefined
    }
  }

  private findSsh(): Promise<string | undefined> {
    if (this.options.sshBinary === false) return Promise.resolve(undefined)
    const explicit = this.options.sshBinary
    this.sshBinary ??= (async () => {
      const probe = await runInGroup(explicit ?? 'ssh', ['-V'], this.env, SSH_G_TIMEOUT_MS).result
      return probe.exitCode === 0 ? (explicit ?? 'ssh') : undefined
    })()
    return this.sshBinary
  }

  private async runSshG(ssh: string, query: SshConfigQuery): Promise<string> {
    const args = ['-G']
    if (this.options.configFile) args.push('-F', this.options.configFile)
    if (query.user !== undefined) args.push('-l', query.user)
    if (query.port !== undefined) args.push('-p', String(query.port))
    // `--` so an alias can never be read as an option
    args.push('--', query.alias)
    if (this.closed) throw new ConfigError(`ssh_config: the run ended before \`ssh -G ${query.alias}\` ran`)
    // its own process group, so close() also ends the commands a Match exec started
    const { child, result: running } = runInGroup(ssh, args, this.env, SSH_G_TIMEOUT_MS)
    this.running.add(child)
    const result = await running.finally(() => this.running.delete(child))
    if (result.isTerminated && this.closed) throw new ConfigError(`ssh_config: \`ssh -G ${query.alias}\` stopped: the run ended`)
    if (result.exitCode !== 0) {
      const why = String(result.stderr)
        .split('\n')
        .filter(l => l.trim() !== '' && !/Pseudo-terminal/.test(l))
        .join('; ')
      throw new ConfigError(
        `ssh_config${this.options.configFile ? ` (${this.options.configFile})` : ''}: \`ssh -G ${query.alias}\` failed: ${why || `exit ${result.exitCode}`}`,
      )
    }
    return String(result.stdout)
  }

  private async readConfigText(): Promise<string> {
    const file = this.options.configFile
    if (file === 'none') return ''
    const files = file ? [file] : [join(homeOf(this.env), '.ssh', 'config'), '/etc/ssh/ssh_config']
    const texts: string[] = []
    for (const path of files) {
      try {
        texts.push(await readFile(path, 'utf8'))
      } catch (err) {
        const code = (err as NodeJS.ErrnoException).code
        // A named -F file must exist (as for ssh); the default ones may not.
        if (file || code !== 'ENOENT') throw new ConfigError(`ssh_config: cannot read ${path}: ${(err as Error).message}`, { cause: err })
      }
    }
    // First obtained value wins, so the user's file goes before the system one.
    return texts.join('\n')
  }
}

/** `promise`, or a rejection as soon as `signal` aborts (with its reason). */
function abortable<T>(promise: Promise<T>, signal: AbortSignal): Promise<T> {
  if (signal.aborted) return Promise.reject(signal.reason)
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(signal.reason)
    signal.addEventListener('abort', onAbort, { once: true })
    promise.then(resolve, reject).finally(() => signal.removeEventListener('abort', onAbort))
  })
}

function killGroup(child: ChildProcess): void {
  try {
    if (child.pid !== undefined) process.kill(-child.pid, 'SIGKILL')
  } catch {
    child.kill('SIGKILL') // the group is gone already
  }
}

function localContext(env: NodeJS.ProcessEnv): LocalContext {
  let user = env.USER ?? env.LOGNAME ?? 'root'
  let uid = 0
  try {
    const info = userInfo()
    user = info.username
    uid = info.uid
  } catch {
    // no passwd entry (some containers): keep the environment's idea
  }
  return { user, home: homeOf(env), uid }
}

function homeOf(env: NodeJS.ProcessEnv): string {
  return env.HOME ?? homedir()
}

/** Every group runInGroup started and not yet seen end: killed if verify exits first (as execa's cleanup). */
const unfinished = new Set<ChildProcess>()
let exitWatch = false

/**
 * A command in its own process group (killGroup ends it and its children), with execa's result
 * fields that runSshG reads; node:child_process, not execa: validate() runs it on every SSH run's
 * start-up path, and execa costs more to load than ssh -G takes to run.
 */
function runInGroup(
  command: string,
  args: string[],
  env: NodeJS.ProcessEnv,
  timeoutMs: number,
): { child: ChildProcess; result: Promise<{ exitCode?: number; isTerminated: boolean; stdout: string; stderr: string }> } {
  const child = spawn(command, args, { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'], detached: true })
  if (!exitWatch)
    process.once('exit', () => {
      for (const c of unfinished) killGroup(c)
    })
  exitWatch = true
  const stdout: Buffer[] = []
  const stderr: Buffer[] = []
  child.stdout!.on('data', (chunk: Buffer) => stdout.push(chunk))
  child.stderr!.on('data', (chunk: Buffer) => stderr.push(chunk))
  const result = new Promise<{ exitCode?: number; isTerminated: boolean; stdout: string; stderr: string }>(resolve => {
    // as execa's timeout: SIGTERM to the command itself
    const timer = setTimeout(() => child.kill('SIGTERM'), timeoutMs)
    unfinished.add(child)
    let spawnError: Error | undefined
    child.once('error', err => {
      spawnError = err
    })
    child.once('close', (code, signal) => {
      clearTimeout(timer)
      unfinished.delete(child)
      // a command that could not start closes with -errno: no exit code, as with execa
      resolve({
        ...(code === null || spawnError ? {} : { exitCode: code }),
        isTerminated: signal !== null,
        stdout: Buffer.concat(stdout).toString('utf8'),
        stderr: Buffer.concat(stderr).toString('utf8') || (spawnError ? spawnError.message : ''),
      })
    })
  })
  return { child, result }
}
