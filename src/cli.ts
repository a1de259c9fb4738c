// Parses arguments and maps them to typed options: the commands and their flags (commander),
// each action calling the application layer (src/app/run.ts, src/commands/). No pipeline here.
import { Command, CommanderError, InvalidArgumentError, Option } from 'commander'
import { ExitCode } from './model.ts'
import { parseDuration } from './lib/duration.ts'
import { DEFAULT_PACING } from './transports/ssh/connect-pacer.ts'
import { JUNIT_FLAVORS } from './reporters/junit.ts'
import { CI_DIALECTS } from './reporters/github.ts'
import { DEFAULT_MAX_BYTES } from './probe/fact.ts'
import { TOOL } from './version.ts'
import { addDeployCommands } from './commands/register.ts'
import type { CheckFlags } from './commands/check.ts'
import { addRolloutOptions } from './commands/rollout.ts'
import { runCommand, type RunFlags } from './app/run.ts'

export type { RunFlags }
// bin/verify.mjs takes these from the same bundle entry
export { trackTimers, watchExit } from './runner/live-handles.ts'

export async function main(argv: string[]): Promise<number> {
  let exitCode: number = ExitCode.Ok
  const program = buildProgram(
    async flags => {
      exitCode = await runCommand(flags)
    },
    async flags => {
      const { runDemo } = await import('./commands/demo.ts')
      exitCode = await runDemo(flags)
    },
  )
  addPlanningCommands(program, code => {
    exitCode = code
  })
  addDeployCommands(program, {
    setExitCode: code => {
      exitCode = code
    },
    run: runCommand,
    addRunOptions,
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
  addRunOptions(program)
    .option('--hosts <targets>', 'group, host name, `local`, or [user@]address[:port]; comma-separated mix (required)')
    .action(async (flags: RunFlags) => {
      if (!flags.hosts && !flags.rerunFailed)
        program.error("error: required option '--hosts <targets>' not specified", { exitCode: ExitCode.Usage })
      await run(flags)
    })
  addRunOptions(
    program
      .command('demo')
      .description('verify a sample deploy laid out in a temporary directory, through the real pipeline (no hosts needed)'),
  ).action(demo)
  program.addHelpText(
    'after',
    `
Exit codes: 0 all checks passed, 1 a check failed, 2 a host could not be verified
(unreachable, host key, timeout, crashed fact), 3 usage/config/spec error (nothing verified).`,
  )
  return program
}

function addRunOptions(command: Command): Command {
  // the rollout flags (--limit, --shard, --wait, --max-failing-hosts, --rerun-failed) come last in --help
  return addRolloutOptions(
    command
      .exitOverride()
      .option(
        '-i, --inventory <path>',
        'inventory file: hosts.yaml or an Ansible YAML inventory; repeat to layer files, later over earlier',
        collectInventory,
        'hosts.yaml',
      )
      .addOption(
        new Option('--inventory-format <format>', 'how to read the inventory files').choices(['auto', 'verify', 'ansible']).default('auto'),
      )
      .option('-F, --ssh-config <path>', 'ssh_config file instead of ~/.ssh/config and /etc/ssh/ssh_config (as ssh -F; `none` reads none)')
      .option(
        '--accept-new-host-keys',
        'first contact: record the key of a host not yet in known_hosts (like StrictHostKeyChecking=accept-new); a changed key is always an error',
      )
      .option('--specs <glob>', 'spec files to run', 'specs/**/*.spec.{ts,mts,js,mjs}')
      .option('--var <key=value>', 'set a var on every host (JSON values are parsed; wins over hosts.yaml); repeatable', collect, [])
      .addOption(new Option('-c, --concurrency <n>', 'hosts verified at once').default(32).argParser(positiveInt))
      .addOption(
        new Option('--timeout <seconds>', 'limit for each fact on a host and each HTTP request').default(10).argParser(positiveNumber),
      )
      .addOption(new Option('--check-timeout <seconds>', 'limit for a whole check (default: 3 × --timeout)').argParser(positiveNumber))
      .addOption(
        new Option('--connect-timeout <seconds>', 'limit for connecting and authenticating to a host')
          .default(10)
          .argParser(positiveNumber),
      )
      .addOption(
        new Option('--connect-rate <per-second>', 'new SSH connections started per second, across all hosts (0: unpaced)')
          .default(DEFAULT_PACING.ratePerSec)
          .argParser(nonNegativeNumber),
      )
      .addOption(
        new Option(
          '--max-handshakes <n>',
          "SSH handshakes in progress at once against one address:port, under sshd's MaxStartups (0: no limit)",
        )
          .default(DEFAULT_PACING.maxPerEndpoint)
          .argParser(nonNegativeInt),
      )
      .addOption(
        new Option('--max-output <bytes>', "cap on each fact's stdout and stderr").default(DEFAULT_MAX_BYTES).argParser(positiveInt),
      )
      .option('--junit <path>', 'write a JUnit XML report')
      .addOption(
        new Option(
          '--junit-flavor <flavor>',
          "ant: valid against Ant's and Jenkins xUnit's schemas (default); jenkins: adds run totals and per-case output; gitlab: adds testcase file (default under GITLAB_CI)",
        ).choices(JUNIT_FLAVORS),
      )
      .option('--json <path>', 'write the JSON result (schemaVersion 1)')
      .option('--html <path>', 'write the HTML fleet report: hosts × checks matrix, one self-contained file')
      .addOption(
        new Option(
          '--ci <dialect>',
          'github: ::error annotations and a job summary in $GITHUB_STEP_SUMMARY (default under GITHUB_ACTIONS=true); none: off',
        ).choices(CI_DIALECTS),
      )
      .option('--no-color', 'no colour even on a terminal (NO_COLOR is honoured too)')
      .option(
        '--expect-version <version>',
        'the version being deployed (release name or commit): sets the expectVersion var release() compares with',
      )
      .addOption(
        new Option(
          '--tags <list>',
          'run only checks tagged with one of these (comma-separated); the others are reported skipped',
        ).argParser(tagList),
      )
      .addOption(new Option('--exclude-tags <list>', 'skip checks tagged with any of these (comma-separated)').argParser(tagList))
      .addOption(
        new Option(
          '--grep <pattern>',
          'run only checks whose full title (describe › it) or spec file matches this regular expression',
        ).argParser(regExp),
      )
      .option('--list', 'list, per host, the checks that would run and those skipped (with why), without connecting')
      .option('--quiet', 'no progress on stderr while hosts are verified (the report is still printed)')
      .option('--verbose', 'progress lines name each failing check under its host')
      .option(
        '--dry-run',
        "print, per host, exactly what would be sent (the first round's remote script verbatim, the HTTP requests and from where), the checks and skips; connects to nothing",
      )
      .option('--timings', 'print where the time went: start-up, inventory, specs, hosts (connect phases, probe, HTTP), report')
      .option(
        '--waivers <path>',
        'waivers file: failures accepted until an expiry date (default: waivers.yaml beside the inventory, when there is one)',
      )
      .addOption(
        new Option(
          '--deadline <duration>',
          'hard limit for the whole run from its start (90s, 20m): unfinished checks become error: deadline, reports are written, exit 2 (default: 15m, more for big fleets)',
        ).argParser(durationArg),
      ),
  )
}

/** `verify list` and `verify check`: the plan and the pre-flight check, neither connects to a host. */
function addPlanningCommands(program: Command, setExitCode: (code: number) => void): void {
  addRunOptions(
    program
      .command('list')
      .description('list the selected hosts and, per host, the checks that would run and those skipped (with why), without connecting'),
  )
    .requiredOption('--hosts <targets>', 'group, host name, `local`, or [user@]address[:port]; comma-separated mix')
    .action(async (flags: RunFlags) => setExitCode(await runCommand({ ...flags, list: true })))
  // a run's flags are accepted, so `verify check` can go in front of the run's command line; those that set vars or narrow the selection apply
  addRunOptions(
    program
      .command('check')
      .description(
        "type-check the specs, validate the inventory and every host's vars against the specs' schemas, with the run's var flags (--var, --expect-version, --since) and selection (--limit, --tags, --grep); no connection (exit 0 clean, 3 otherwise)",
      ),
  )
    .option('--hosts <targets>', "check only these hosts' vars (default: every host of the inventory)")
    .action(async (flags: CheckFlags) => {
      const { checkProject } = await import('./commands/check.ts')
      const outcome = await checkProject(flags)
      ;(outcome.exitCode === ExitCode.Ok ? process.stdout : process.stderr).write(outcome.text)
      setExitCode(outcome.exitCode)
    })
}

function collect(value: string, previous: string[]): string[] {
  return [...previous, value]
}

/** The first -i replaces the default hosts.yaml; each later one is layered over the ones before. */
function collectInventory(value: string, previous: string | string[]): string[] {
  return typeof previous === 'string' ? [value] : [...previous, value]
}

function tagList(value: string): string[] {
  const tags = value
    .split(',')
    .map(t => t.trim())
    .filter(t => t !== '')
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

function durationArg(value: string): number {
  let ms: number
  try {
    ms = parseDuration(value)
  } catch (error) {
    throw new InvalidArgumentError((error as Error).message)
  }
  if (ms <= 0) throw new InvalidArgumentError('must be a positive duration')
  return ms
}

function positiveNumber(value: string): number {
  const n = Number(value)
  if (!Number.isFinite(n) || n <= 0) throw new InvalidArgumentError('must be a positive number')
  return n
}
