// Parses arguments and wires the pieces: inventory → hosts, specs → checks, runner → result,
// reporters → console / JUnit / JSON, result → exit code. No logic of its own beyond that.
import path from 'node:path'
import { Command, CommanderError, InvalidArgumentError, Option } from 'commander'
import { ConfigError } from './errors.ts'
import { ExitCode, type HostSpec, type RunResult, type RunTimings } from './model.ts'
import { parseVarArgs, selectHosts } from './inventory/select.ts'
import { describeUnresolved, resolveEnvRefs, resolveEnvRefsOrThrow } from './inventory/env-refs.ts'
import { loadSpecs } from './runner/load-specs.ts'
import { finishRun, runHosts } from './runner/run.ts'
import { markInterrupted, watchInterrupts } from './runner/interrupt.ts'
import { planRun, varProblemsMessage, type PlanOptions, type RunPlan } from './runner/plan.ts'
import { makeRedactor, redactRun, type Redactor } from './reporters/redact.ts'
import { renderList } from './reporters/list.ts'
import { renderTimings } from './reporters/timings.ts'
import { createTransport } from './transports/create.ts'
import { ConnectPacer, DEFAULT_PACING } from './transports/connect-pacer.ts'
import { sshSecrets, startSshSession } from './transports/ssh-session.ts'
import { loadInventories, type InventoryFormat } from './inventory/layers.ts'
import { renderConsole, shouldUseColor } from './reporters/console.ts'
import { writeJunit } from './reporters/junit.ts'
import { writeJson } from './reporters/json.ts'
import { DEFAULT_MAX_BYTES } from './probe/fact.ts'
import { TOOL } from './version.ts'
import { addDeployCommands } from './commands/register.ts'
import type { RunHooks } from './commands/run-hooks.ts'
import { addRolloutOptions, finishRollout, reportNothingToVerify, restrictPlan, selectRolloutHosts, type RolloutFlags } from './commands/rollout.ts'

export interface RunFlags extends RolloutFlags {
  hosts: string
  /** One file, or several given with repeated -i (later layered over earlier). */
  inventory: string | string[]
  /** `--inventory-format`: hosts.yaml, Ansible YAML, or told by shape (default). */
  inventoryFormat?: InventoryFormat
  /** `-F, --ssh-config PATH`: this ssh_config instead of ~/.ssh/config (`none` for no file). */
  sshConfig?: string
  /** `--accept-new-host-keys`: record a never-seen host's key (TOFU); a changed key still fails. */
  acceptNewHostKeys?: boolean
  specs: string
  var: string[]
  concurrency: number
  timeout: number
  checkTimeout?: number
  connectTimeout: number
  /** `--connect-rate`: new SSH handshakes per second across the run (0: unpaced). */
  connectRate?: number
  /** `--max-handshakes`: SSH handshakes in progress at once per address:port (0: no limit). */
  maxHandshakes?: number
  maxOutput: number
  junit?: string
  json?: string
  color: boolean
  /** The version being deployed: sets the `expectVersion` var that release() compares with. */
  expectVersion?: string
  /** `--tags a,b`: run only checks with one of these tags. */
  tags?: string[]
  /** `--exclude-tags a,b`: skip checks with one of these tags. */
  excludeTags?: string[]
  /** `--grep PATTERN`: run only checks whose full title or spec file matches. */
  grep?: RegExp
  /** `--list`: print what would run where, without connecting. */
  list?: boolean
  /** `--timings`: print where the run's time went (also in the JSON result). */
  timings?: boolean
}

export async function main(argv: string[]): Promise<number> {
  let exitCode: number = ExitCode.Ok
  const program = buildProgram(async (flags) => { exitCode = await runCommand(flags) }, async (flags) => {
    const { runDemo } = await import('./demo/demo.ts')
    exitCode = await runDemo(flags)
  })
  addPlanningCommands(program, (code) => { exitCode = code })
  addDeployCommands(program, { setExitCode: (code) => { exitCode = code }, run: runCommand, addRunOptions })
  try {
    await program.parseAsync(argv)
  } catch (error) {
    if (error instanceof CommanderError) return error.exitCode === 0 ? ExitCode.Ok : ExitCode.Usage
    throw error
  }
  return exitCode
}

function buildProgram(run: (flags: RunFlags) => Promise<void>, demo: (flags: RunFlags) => Promise<void>): Command {
  const program = new Command('verify')
    .description('Verify hosts after a deploy: run specs/*.spec.ts over SSH, report, and exit 0/1/2/3 for a pipeline to gate on.')
    .version(TOOL.version)
    .exitOverride()
    // `verify demo --junit x` must give --junit to demo, not to the top-level run
    .enablePositionalOptions()
    .showHelpAfterError('(run verify --help for usage)')
  // --hosts is checked in the action: commander would also demand a required option of `demo`
  addRunOptions(program).option('--hosts <targets>', 'group, host name, `local`, or [user@]address[:port]; comma-separated mix (required)').action(async (flags: RunFlags) => {
    if (!flags.hosts && !flags.rerunFailed) program.error('error: required option \'--hosts <targets>\' not specified', { exitCode: ExitCode.Usage })
    await run(flags)
  })
  addRunOptions(program.command('demo').description('verify a sample deploy laid out in a temporary directory, through the real pipeline (no hosts needed)'))
    .action(demo)
  program.addHelpText('after', `
Exit codes: 0 all checks passed, 1 a check failed, 2 a host could not be verified
(unreachable, host key, timeout, crashed fact), 3 usage/config/spec error (nothing verified).`)
  return program
}

function addRunOptions(command: Command): Command {
  // the rollout flags (--limit, --shard, --wait, --max-failing-hosts, --rerun-failed) come last in --help
  return addRolloutOptions(command
    .exitOverride()
    .option('-i, --inventory <path>', 'inventory file: hosts.yaml or an Ansible YAML inventory; repeat to layer files, later over earlier', collectInventory, 'hosts.yaml')
    .addOption(new Option('--inventory-format <format>', 'how to read the inventory files').choices(['auto', 'verify', 'ansible']).default('auto'))
    .option('-F, --ssh-config <path>', 'ssh_config file instead of ~/.ssh/config and /etc/ssh/ssh_config (as ssh -F; `none` reads none)')
    .option('--accept-new-host-keys', 'first contact: record the key of a host not yet in known_hosts (like StrictHostKeyChecking=accept-new); a changed key is always an error')
    .option('--specs <glob>', 'spec files to run', 'specs/**/*.spec.{ts,mts,js,mjs}')
    .option('--var <key=value>', 'set a var on every host (JSON values are parsed; wins over hosts.yaml); repeatable', collect, [])
    .addOption(new Option('-c, --concurrency <n>', 'hosts verified at once').default(32).argParser(positiveInt))
    .addOption(new Option('--timeout <seconds>', 'limit for each fact on a host and each HTTP request').default(10).argParser(positiveNumber))
    .addOption(new Option('--check-timeout <seconds>', 'limit for a whole check (default: 3 × --timeout)').argParser(positiveNumber))
    .addOption(new Option('--connect-timeout <seconds>', 'limit for connecting and authenticating to a host').default(10).argParser(positiveNumber))
    .addOption(new Option('--connect-rate <per-second>', 'new SSH connections started per second, across all hosts (0: unpaced)').default(DEFAULT_PACING.ratePerSec).argParser(nonNegativeNumber))
    .addOption(new Option('--max-handshakes <n>', 'SSH handshakes in progress at once against one address:port, under sshd\'s MaxStartups (0: no limit)').default(DEFAULT_PACING.maxPerEndpoint).argParser(nonNegativeInt))
    .addOption(new Option('--max-output <bytes>', 'cap on each fact\'s stdout and stderr').default(DEFAULT_MAX_BYTES).argParser(positiveInt))
    .option('--junit <path>', 'write a JUnit XML report')
    .option('--json <path>', 'write the JSON result (schemaVersion 1)')
    .option('--no-color', 'no colour even on a terminal (NO_COLOR is honoured too)')
    .option('--expect-version <version>', 'the version being deployed (release name or commit): sets the expectVersion var release() compares with')
    .addOption(new Option('--tags <list>', 'run only checks tagged with one of these (comma-separated); the others are reported skipped').argParser(tagList))
    .addOption(new Option('--exclude-tags <list>', 'skip checks tagged with any of these (comma-separated)').argParser(tagList))
    .addOption(new Option('--grep <pattern>', 'run only checks whose full title (describe › it) or spec file matches this regular expression').argParser(regExp))
    .option('--list', 'list, per host, the checks that would run and those skipped (with why), without connecting')
    .option('--timings', 'print where the time went: start-up, inventory, specs, hosts (connect phases, probe, HTTP), report'))
}

/** `verify list` and `verify check`: the plan and the pre-flight check, neither connects to a host. */
function addPlanningCommands(program: Command, setExitCode: (code: number) => void): void {
  addRunOptions(program.command('list').description('list the selected hosts and, per host, the checks that would run and those skipped (with why), without connecting'))
    .requiredOption('--hosts <targets>', 'group, host name, `local`, or [user@]address[:port]; comma-separated mix')
    .action(async (flags: RunFlags) => setExitCode(await runCommand({ ...flags, list: true })))
  program
    .command('check')
    .description('type-check the specs, validate the inventory and every host\'s vars against the specs\' schemas; no connection (exit 0 clean, 3 otherwise)')
    .exitOverride()
    .option('-i, --inventory <path>', 'inventory file (repeat to layer files, as for a run)', collectInventory, 'hosts.yaml')
    .option('--specs <glob>', 'spec files to check', 'specs/**/*.spec.{ts,mts,js,mjs}')
    .option('--hosts <targets>', 'check only these hosts\' vars (default: every host of the inventory)')
    .option('--var <key=value>', 'set a var on every host, as for a run; repeatable', collect, [])
    .action(async (flags: { inventory: string | string[]; specs: string; hosts?: string; var: string[] }) => {
      const { runCheck } = await import('./check/check.ts')
      const outcome = await runCheck(flags)
      ;(outcome.exitCode === ExitCode.Ok ? process.stdout : process.stderr).write(outcome.text)
      setExitCode(outcome.exitCode)
    })
}

export async function runCommand(flags: RunFlags, overrides: { hosts?: HostSpec[]; cwd?: string } & RunHooks = {}): Promise<number> {
  const startedAt = new Date()
  // SIGINT/SIGTERM from here on stops the run but still reports it (runner/interrupt.ts)
  const interrupt = watchInterrupts()
  let result: RunResult
  let timings: RunTimings | undefined
  let mark = performance.now()
  const startupMs = Math.round(mark)
  const lap = () => Math.round(-mark + (mark = performance.now()))
  let redact: Redactor = (text) => text
  try {
    const unresolvedVars = new Map<string, Set<string>>()
    const selection = overrides.hosts ? { hosts: overrides.hosts } : await selectRolloutHosts(flags.hosts, flags, (hosts) => resolveHosts({ ...flags, hosts }, unresolvedVars))
    if (selection.nothingToVerify) return reportNothingToVerify(selection.nothingToVerify, flags, startedAt)
    const hosts = selection.hosts
    const inventoryMs = lap()
    const specs = [...(overrides.specs ?? (await loadSpecs(flags.specs, overrides.cwd))), ...(overrides.extraSpecs ?? [])]
    const specsMs = lap()
    // every host's checks and vars are settled before connecting to any of them
    const plan = restrictPlan(planRun(hosts, specs, { ...planOptions(flags), unresolvedVars }), flags)
    const planMs = lap()
    redact = makeRedactor([...plan.secrets, ...sshSecrets(hosts)])
    if (flags.list) return listPlan(plan, redact)
    if (plan.varProblems.length > 0) throw new ConfigError(varProblemsMessage(plan.varProblems))
    // one ssh_config resolver and bastion pool for the run (ends the bastion connections when closed)
    const ssh = await startSshSession(flags, hosts)
    const pacer = new ConnectPacer({ ratePerSec: flags.connectRate ?? DEFAULT_PACING.ratePerSec, maxPerEndpoint: flags.maxHandshakes ?? DEFAULT_PACING.maxPerEndpoint })
    result = await runHosts(plan.hosts, {
      concurrency: flags.concurrency,
      timeoutSec: flags.timeout,
      checkTimeoutMs: (flags.checkTimeout ?? flags.timeout * 3) * 1000,
      maxBytes: flags.maxOutput,
      waitMs: flags.wait,
      recordFacts: overrides.recordFacts,
      createTransport: (host) => createTransport(host, { connectTimeoutMs: flags.connectTimeout * 1000, ssh, pacer }),
      signal: interrupt.signal,
    })
    await ssh.close()
    timings = { startupMs, inventoryMs, specsMs, planMs, hostsMs: lap() }
    if (plan.runnable === 0) result = finishRun(startedAt, result.hosts, [noChecksMessage(result.summary.checks)])
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error
    result = finishRun(startedAt, [], [error.message])
  }
  result = markInterrupted(finishRollout(result, flags, flags.hosts), interrupt)
  if (timings) result = { ...result, timings }
  overrides.onResult?.(redactRun(result, redact), redact)
  if (!overrides.quiet) report(redactRun(result, redact), flags)
  interrupt.dispose()
  return result.exitCode
}

function planOptions(flags: RunFlags): PlanOptions {
  return { tags: flags.tags, excludeTags: flags.excludeTags, grep: flags.grep }
}

function noChecksMessage(skipped: number): string {
  if (skipped === 0) return 'no checks were collected for the selected hosts'
  return `no checks apply to the selected hosts: all ${skipped} were skipped (each with its reason above)`
}

/** `--list`: exit 0 when something would run, 3 when nothing would or vars are wrong (as the run would). */
function listPlan(plan: RunPlan, redact: Redactor): number {
  process.stdout.write(redact(renderList(plan)))
  if (plan.varProblems.length > 0) {
    process.stderr.write(`${redact(varProblemsMessage(plan.varProblems))}\n`)
    return ExitCode.Usage
  }
  if (plan.runnable === 0) {
    process.stderr.write(`${noChecksMessage(plan.hosts.reduce((n, h) => n + h.entries.length, 0))}\n`)
    return ExitCode.Usage
  }
  return ExitCode.Ok
}

/** The selected hosts with `${env:…}` resolved; `--list` leaves unset ones as written (noted, into `unresolved`) rather than failing. */
async function resolveHosts(flags: RunFlags, unresolved?: Map<string, Set<string>>): Promise<HostSpec[]> {
  const overrideVars = { ...parseVarArgs(flags.var), ...(flags.expectVersion === undefined ? {} : { expectVersion: flags.expectVersion }) }
  const inventoryPaths = [flags.inventory].flat()
  const inventory = await loadInventories(inventoryPaths.map((p) => path.resolve(p)), flags.inventoryFormat)
  for (const warning of inventory?.warnings ?? []) process.stderr.write(`warning: ${warning}\n`)
  const selected = selectHosts(inventory, flags.hosts, overrideVars, { inventoryPath: inventoryPaths.join(', ') })
  if (!flags.list) return resolveEnvRefsOrThrow(selected)
  const resolution = resolveEnvRefs(selected, process.env, { lenient: true })
  for (const [host, vars] of resolution.unresolved) unresolved?.set(host, vars)
  for (const line of describeUnresolved(resolution.unresolved)) process.stderr.write(`note: ${line}: not validated, refers to an environment variable that is not set here\n`)
  return resolution.hosts
}

function report(result: RunResult, flags: RunFlags): void {
  const started = performance.now()
  const color = flags.color && shouldUseColor(process.stdout, process.env)
  const text = renderConsole(result, { color })
  ;(result.configErrors.length > 0 ? process.stderr : process.stdout).write(text.endsWith('\n') ? text : `${text}\n`)
  if (flags.junit) writeJunit(result, flags.junit)
  if (result.timings) result.timings.reportMs = Math.round(performance.now() - started)
  if (flags.json) writeJson(result, flags.json)
  if (flags.timings) process.stderr.write(renderTimings(result))
}

function collect(value: string, previous: string[]): string[] {
  return [...previous, value]
}

/** The first -i replaces the default hosts.yaml; each later one is layered over the ones before. */
function collectInventory(value: string, previous: string | string[]): string[] {
  return typeof previous === 'string' ? [value] : [...previous, value]
}

function tagList(value: string): string[] {
  const tags = value.split(',').map((t) => t.trim()).filter((t) => t !== '')
  if (tags.length === 0) throw new InvalidArgumentError('give at least one tag, comma-separated')
  return tags
}

function regExp(value: string): RegExp {
  try {
    return new RegExp(value)
  } catch (error) {
    throw new InvalidArgumentError(`not a regular expression: ${(error as Error).message}`)
  }
}

function positiveInt(value: string): number {
  const n = Number(value)
  if (!Number.isInteger(n) || n <= 0) throw new InvalidArgumentError('must be a positive integer')
  return n
}

function nonNegativeInt(value: string): number {
  const n = Number(value)
  if (!Number.isInteger(n) || n < 0) throw new InvalidArgumentError('must be 0 or a positive integer')
  return n
}

function nonNegativeNumber(value: string): number {
  const n = Number(value)
  if (!Number.isFinite(n) || n < 0) throw new InvalidArgumentError('must be 0 or a positive number')
  return n
}

function positiveNumber(value: string): number {
  const n = Number(value)
  if (!Number.isFinite(n) || n <= 0) throw new InvalidArgumentError('must be a positive number')
  return n
}
