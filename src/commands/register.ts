// The deploy-aware subcommands (merge, snapshot, compare, init, generate), registered on the
// program by one call from cli.ts; each loads its module only when it runs.
import { Option, type Command } from 'commander'
import { ConfigError } from '../errors.ts'
import { ExitCode, type RunResult } from '../model.ts'
import { parseThreshold, type Threshold } from '../runner/gate.ts'
import { renderConsole, shouldUseColor } from '../reporters/console.ts'
import { JUNIT_FLAVORS, type JunitFlavor } from '../reporters/junit.ts'
import { consoleStream, stdoutConflict, writeJsonReport, writeReports } from '../reporters/outputs.ts'
import { CI_DIALECTS, type CiDialect } from '../reporters/github.ts'
import { InvalidArgumentError } from 'commander'
import type { RunHooks } from './run-hooks.ts'
import path from 'node:path'
import { loadInventories, type InventoryFormat } from '../inventory/load.ts'

export interface ReportFlags {
  json?: string
  junit?: string
  html?: string
  junitFlavor?: JunitFlavor
  ci?: CiDialect
  color: boolean
}

export interface DeployCommandsContext {
  setExitCode(code: number): void
  /** The CLI's run (cli.ts runCommand) with hooks: snapshot and compare are runs of the user's specs. */
  run(flags: any, hooks: RunHooks): Promise<number>
  /** The run options (--inventory, --specs, --var, --timeout, …) for subcommands that run specs. */
  addRunOptions(command: Command): Command
}

export function addDeployCommands(program: Command, ctx: DeployCommandsContext): void {
  program
    .command('merge')
    .description('combine the --json results of shards (or waves) into one report, applying --max-failing-hosts across all of them')
    .argument('<results...>', 'JSON results written by verify --json')
    .exitOverride()
    .addOption(
      new Option(
        '--max-failing-hosts <n|p%>',
        'pass (exit 0) while at most this many hosts (or % of all merged hosts) failed or errored',
      ).argParser(thresholdArg),
    )
    .option('--json <path>', 'write the merged JSON result')
    .option('--junit <path>', 'write the merged JUnit XML report')
    .option('--html <path>', 'write the merged HTML fleet report')
    .addOption(
      new Option('--ci <dialect>', 'github: annotations and a job summary (default under GITHUB_ACTIONS=true)').choices(CI_DIALECTS),
    )
    .addOption(new Option('--junit-flavor <flavor>', 'ant (default), jenkins, or gitlab (default under GITLAB_CI)').choices(JUNIT_FLAVORS))
    .option('--no-color', 'no colour even on a terminal')
    .action(async (files: string[], flags: ReportFlags & { maxFailingHosts?: Threshold }) => {
      const { mergeHeadline, mergeResults } = await import('./merge.ts')
      ctx.setExitCode(
        withConfigErrors(() => {
          const merged = mergeResults(files, flags.maxFailingHosts)
          consoleStream(merged, flags, process).write(`${mergeHeadline(files, merged)}\n\n`)
          return reportRun(merged, flags)
        }),
      )
    })
  program
    .command('report')
    .description('render an earlier (or merged) --json result again: console, and --html / --junit / --json files')
    .argument('<result>', 'a JSON result written by verify --json or verify merge --json')
    .exitOverride()
    .option('--html <path>', 'write the HTML fleet report')
    .option('--junit <path>', 'write a JUnit XML report')
    .addOption(new Option('--junit-flavor <flavor>', 'ant (default), jenkins, or gitlab (default under GITLAB_CI)').choices(JUNIT_FLAVORS))
    .option('--json <path>', 'write the JSON result again')
    .addOption(
      new Option('--ci <dialect>', 'github: annotations and a job summary (default under GITHUB_ACTIONS=true)').choices(CI_DIALECTS),
    )
    .option('--no-color', 'no colour even on a terminal')
    .action(async (file: string, flags: ReportFlags) => {
      const { readResult } = await import('./rollout.ts')
      ctx.setExitCode(withConfigErrors(() => reportRun(readResult(file), flags)))
    })
  addSpecRunningCommands(program, ctx)
  ctx
    .addRunOptions(
      program
        .command('serve')
        .description(
          'answer rollout controllers over HTTP: GET /v1/gate/<group> runs the specs there; 200 pass, 503 fail, 500 not verified (see docs/gates.md)',
        ),
    )
    .option('--bind <address>', `address to listen on; beyond loopback a bearer token is required (env VERIFY_SERVE_TOKEN)`, '127.0.0.1')
    .addOption(new Option('--port <n>', 'port to listen on (0: any free port)').default(8080).argParser(intArg(0)))
    .addOption(new Option('--cache <seconds>', 'a finished result answers for its selection this long').default(5).argParser(intArg(0)))
    .addOption(
      new Option('--max-runs <n>', 'runs at once (each on its own selection); more requests queue').default(2).argParser(intArg(1)),
    )
    .action(async (flags: import('./serve.ts').ServeFlags) => {
      const { runServe, untilStopped } = await import('./serve.ts')
      // a config problem (no token for a public bind) exits 3; else serve until SIGINT/SIGTERM, so
      // the CLI's end-of-run exit watch (runner/live-handles.ts) never sees a finished command
      ctx.setExitCode(await withConfigErrorsAsync(async () => (await untilStopped(await runServe(flags, ctx.run)), 0)))
    })
  program
    .command('init')
    .description('scaffold specs/ and hosts.yaml in this repository (never overwrites without --force)')
    .exitOverride()
    .option('--app <name>', "the app's name (default: this directory's name)")
    .option('--apps-root <path>', 'where apps live on the hosts: releases under <path>/<app>/releases', '/apps')
    .option('--force', 'overwrite existing files')
    .action(async (flags: { app?: string; appsRoot: string; force?: boolean }) => {
      const { initProject, renderInit } = await import('./init.ts')
      process.stdout.write(renderInit(initProject({ dir: process.cwd(), app: flags.app, appsRoot: flags.appsRoot, force: flags.force })))
      ctx.setExitCode(ExitCode.Ok)
    })
  ctx
    .addRunOptions(
      program
        .command('generate')
        .description("write a starting spec from a host's current state: release layouts, listening ports, processes, services"),
    )
    .requiredOption('--from-host <host>', 'the host to read (a host name, or [user@]address[:port])')
    .option('-o, --output <file>', 'spec file to write (default specs/<host>.spec.ts)')
    .option(
      '--roots <paths>',
      "where to look for release layouts (comma-separated; default: the host's appsRoot var, /apps, /srv, /var/www, /opt, /home)",
    )
    .option('--force', 'overwrite the output file')
    .action(
      async (flags: {
        fromHost: string
        output?: string
        roots?: string
        force?: boolean
        inventory: string | string[]
        inventoryFormat?: InventoryFormat
      }) => {
        const { runGenerate, DEFAULT_ROOTS } = await import('./generate.ts')
        const roots =
          flags.roots === undefined
            ? DEFAULT_ROOTS
            : flags.roots
                .split(',')
                .map(r => r.trim())
                .filter(r => r !== '')
        // the inventory's groups say where the generated spec applies (a broken inventory is reported by the run itself)
        const inventory = await loadInventories(
          [flags.inventory].flat().map(p => path.resolve(p)),
          flags.inventoryFormat,
        ).catch(() => undefined)
        const options = {
          roots,
          rootsGiven: flags.roots !== undefined,
          output: flags.output,
          force: flags.force,
          ...(inventory ? { groups: inventory.groups, inventoryHosts: inventory.hosts.size } : {}),
        }
        ctx.setExitCode(
          await withConfigErrorsAsync(() =>
            runGenerate(flags.fromHost, options, hooks => ctx.run({ ...flags, hosts: flags.fromHost }, hooks)),
          ),
        )
      },
    )
}

function addSpecRunningCommands(program: Command, ctx: DeployCommandsContext): void {
  ctx
    .addRunOptions(
      program
        .command('snapshot')
        .description(
          'record every fact the specs read (plus pids, start times and clock offsets) per host, for --baseline and later comparison',
        ),
    )
    .requiredOption('--hosts <targets>', 'group, host name, `local`, or [user@]address[:port]; comma-separated mix')
    .requiredOption('-o, --output <file>', 'snapshot file to write (JSON)')
    .action(async (flags: { output: string; hosts: string }) => {
      const { runSnapshot } = await import('./snapshot.ts')
      ctx.setExitCode(await withConfigErrorsAsync(() => runSnapshot(flags.output, hooks => ctx.run(flags, hooks))))
    })
  ctx
    .addRunOptions(
      program
        .command('compare')
        .description(
          'run the same specs on two groups and report every fact that differs between paired hosts (migration parity); exit 0 same, 1 different, 2 host error',
        ),
    )
    .requiredOption('--hosts <targets>', 'the old side: group, host names, …')
    .requiredOption('--against <targets>', 'the new side: group, host names, …')
    .addOption(
      new Option(
        '--pair <how>',
        'order (i-th with i-th), name:FROM=TO (web-1-old ↔ web-1-new), or reference (--hosts is one host, compared with each of --against)',
      ).default('order'),
    )
    .option(
      '--ignore <field-or-fact>',
      'also leave out this field name or fact key (globs: file:/var/log/*); repeatable',
      (v: string, prev: string[]) => [...prev, v],
      [] as string[],
    )
    .option('--no-default-ignores', 'compare pids, start times, counters and clocks too')
    .action(
      async (flags: {
        hosts: string
        against: string
        pair: string
        ignore: string[]
        defaultIgnores: boolean
        json?: string
        specs: string
      }) => {
        const { runCompare } = await import('./compare.ts')
        const { parsePairing } = await import('../app/compare/pair.ts')
        ctx.setExitCode(
          await withConfigErrorsAsync(() =>
            runCompare(
              { ...flags, pair: parsePairing(flags.pair) },
              // each side is a quiet run of its own; the compare report replaces their reports
              (hosts, hooks) => ctx.run({ ...flags, hosts, json: undefined, junit: undefined, maxFailingHosts: undefined }, hooks),
            ),
          ),
        )
      },
    )
}

/** Console, then JUnit and JSON when asked: the same views a run writes. */
export function reportRun(run: RunResult, flags: ReportFlags): number {
  const conflict = stdoutConflict(flags)
  if (conflict) throw new ConfigError(conflict)
  const out = consoleStream(run, flags, process)
  const color = flags.color && shouldUseColor(out as NodeJS.WriteStream, process.env)
  const text = renderConsole(run, { color })
  out.write(text.endsWith('\n') ? text : `${text}\n`)
  writeReports(run, flags, { env: process.env, stdout: process.stdout, console: out })
  if (flags.json) writeJsonReport(run, flags.json, process.stdout)
  return run.exitCode
}

/** A ConfigError becomes a message on stderr and exit 3. */
export function withConfigErrors(fn: () => number): number {
  try {
    return fn()
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error
    process.stderr.write(`${error.message}\n`)
    return ExitCode.Usage
  }
}

export async function withConfigErrorsAsync(fn: () => Promise<number>): Promise<number> {
  try {
    return await fn()
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error
    process.stderr.write(`${error.message}\n`)
    return ExitCode.Usage
  }
}

function intArg(min: number): (text: string) => number {
  return text => {
    const n = Number(text)
    if (!Number.isInteger(n) || n < min) throw new InvalidArgumentError(`must be an integer ≥ ${min}`)
    return n
  }
}

function thresholdArg(text: string): Threshold {
  try {
    return parseThreshold(text)
  } catch (error) {
    throw new InvalidArgumentError((error as Error).message)
  }
}
