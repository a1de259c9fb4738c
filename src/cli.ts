// Parses arguments and wires the pieces: inventory → hosts, specs → checks, runner → result,
// reporters → console / JUnit / JSON, result → exit code. No logic of its own beyond that.
import { existsSync } from 'node:fs'
import path from 'node:path'
import { Command, CommanderError, InvalidArgumentError, Option } from 'commander'
import { ConfigError } from './errors.ts'
import { ExitCode, type HostSpec, type RunResult } from './model.ts'
import { loadInventory } from './inventory/load.ts'
import { parseVarArgs, selectHosts } from './inventory/select.ts'
import { loadSpecs } from './runner/load-specs.ts'
import { finishRun, runHosts } from './runner/run.ts'
import { createTransport } from './transports/create.ts'
import { renderConsole, shouldUseColor } from './reporters/console.ts'
import { writeJunit } from './reporters/junit.ts'
import { writeJson } from './reporters/json.ts'
import { DEFAULT_MAX_BYTES } from './probe/fact.ts'
import { TOOL } from './version.ts'

export interface RunFlags {
  hosts: string
  inventory: string
  specs: string
  var: string[]
  concurrency: number
  timeout: number
  checkTimeout?: number
  connectTimeout: number
  maxOutput: number
  junit?: string
  json?: string
  color: boolean
}

export async function main(argv: string[]): Promise<number> {
  let exitCode: number = ExitCode.Ok
  const program = buildProgram(async (flags) => { exitCode = await runCommand(flags) }, async (flags) => {
    const { runDemo } = await import('./demo/demo.ts')
    exitCode = await runDemo(flags)
  })
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
    if (!flags.hosts) program.error('error: required option \'--hosts <targets>\' not specified', { exitCode: ExitCode.Usage })
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
  return command
    .exitOverride()
    .option('-i, --inventory <path>', 'inventory file', 'hosts.yaml')
    .option('--specs <glob>', 'spec files to run', 'specs/**/*.spec.ts')
    .option('--var <key=value>', 'set a var on every host (JSON values are parsed; wins over hosts.yaml); repeatable', collect, [])
    .addOption(new Option('-c, --concurrency <n>', 'hosts verified at once').default(32).argParser(positiveInt))
    .addOption(new Option('--timeout <seconds>', 'limit for each fact on a host and each HTTP request').default(10).argParser(positiveNumber))
    .addOption(new Option('--check-timeout <seconds>', 'limit for a whole check (default: 3 × --timeout)').argParser(positiveNumber))
    .addOption(new Option('--connect-timeout <seconds>', 'limit for connecting and authenticating to a host').default(10).argParser(positiveNumber))
    .addOption(new Option('--max-output <bytes>', 'cap on each fact\'s stdout and stderr').default(DEFAULT_MAX_BYTES).argParser(positiveInt))
    .option('--junit <path>', 'write a JUnit XML report')
    .option('--json <path>', 'write the JSON result (schemaVersion 1)')
    .option('--no-color', 'no colour even on a terminal (NO_COLOR is honoured too)')
}

export async function runCommand(flags: RunFlags, overrides: { hosts?: HostSpec[]; cwd?: string } = {}): Promise<number> {
  const startedAt = new Date()
  let result: RunResult
  try {
    const hosts = overrides.hosts ?? (await resolveHosts(flags))
    const specs = await loadSpecs(flags.specs, overrides.cwd)
    result = await runHosts(hosts, specs, {
      concurrency: flags.concurrency,
      timeoutSec: flags.timeout,
      checkTimeoutMs: (flags.checkTimeout ?? flags.timeout * 3) * 1000,
      maxBytes: flags.maxOutput,
      createTransport: (host) => createTransport(host, { connectTimeoutMs: flags.connectTimeout * 1000 }),
    })
    if (result.summary.checks === 0) result = finishRun(startedAt, result.hosts, ['no checks were collected for the selected hosts'])
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error
    result = finishRun(startedAt, [], [error.message])
  }
  report(result, flags)
  return result.exitCode
}

async function resolveHosts(flags: RunFlags): Promise<HostSpec[]> {
  const overrideVars = parseVarArgs(flags.var)
  const inventoryPath = path.resolve(flags.inventory)
  const inventory = existsSync(inventoryPath) ? await loadInventory(inventoryPath) : undefined
  for (const warning of inventory?.warnings ?? []) process.stderr.write(`warning: ${warning}\n`)
  return selectHosts(inventory, flags.hosts, overrideVars, { inventoryPath: flags.inventory })
}

function report(result: RunResult, flags: RunFlags): void {
  const color = flags.color && shouldUseColor(process.stdout, process.env)
  const text = renderConsole(result, { color })
  ;(result.configErrors.length > 0 ? process.stderr : process.stdout).write(text.endsWith('\n') ? text : `${text}\n`)
  if (flags.junit) writeJunit(result, flags.junit)
  if (flags.json) writeJson(result, flags.json)
}

function collect(value: string, previous: string[]): string[] {
  return [...previous, value]
}

function positiveInt(value: string): number {
  const n = Number(value)
  if (!Number.isInteger(n) || n <= 0) throw new InvalidArgumentError('must be a positive integer')
  return n
}

function positiveNumber(value: string): number {
  const n = Number(value)
  if (!Number.isFinite(n) || n <= 0) throw new InvalidArgumentError('must be a positive number')
  return n
}
