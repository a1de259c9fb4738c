// The run pipeline every command shares: inventory -> hosts, specs -> plan, runner -> result,
// reporters -> console / JUnit / JSON / HTML, result -> exit code. Typed flags in, exit code out;
// `verify`, `list`, `demo`, `snapshot`, `compare` and `serve` call it (cli.ts only maps flags).
import path from 'node:path'
import { ConfigError } from '../errors.ts'
import { ExitCode, type HostSpec, type RunResult, type RunTimings } from '../model.ts'
import { parseVarArgs, selectHosts } from '../inventory/select.ts'
import { describeUnresolved, resolveEnvRefs, resolveEnvRefsOrThrow } from '../inventory/env-refs.ts'
import { loadSpecs } from '../runner/load-specs.ts'
import { finishRun, runHosts } from '../runner/run.ts'
import { markInterrupted, watchInterrupts } from '../runner/interrupt.ts'
import { defaultDeadlineMs, markDeadline, startDeadline, type RunDeadline } from '../runner/deadline.ts'
import { planRun, varProblemsMessage, type PlanOptions, type RunPlan } from '../runner/plan.ts'
import { makeRedactor, redactRun, type Redactor } from '../reporters/redact.ts'
import { SecretRedactor } from '../secrets/redactor.ts'
import { renderList } from '../reporters/list.ts'
import { renderTimings } from '../reporters/timings.ts'
import { Progress, progressMode } from '../reporters/progress.ts'
import { createTransport } from '../transports/create.ts'
import { ConnectPacer, DEFAULT_PACING } from '../transports/ssh/connect-pacer.ts'
import { openSshSession, sshSecrets } from '../transports/ssh/session.ts'
import { firstContact } from '../transports/first-contact.ts'
import { loadInventories, type InventoryFormat } from '../inventory/load.ts'
import { renderConsole, shouldUseColor } from '../reporters/console.ts'
import { type JunitFlavor } from '../reporters/junit.ts'
import { consoleStream, stdoutConflict, writeJsonReport, writeReports } from '../reporters/outputs.ts'
import { type CiDialect } from '../reporters/github.ts'
import type { RunHooks } from '../commands/run-hooks.ts'
import { loadRunWaivers } from '../waivers/load.ts'
import { applyWaivers } from '../waivers/apply.ts'
import {
  finishRollout,
  reportNothingToVerify,
  restrictPlan,
  selectRolloutHosts,
  waitPacing,
  type RolloutFlags,
} from '../commands/rollout.ts'

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
  /** `--junit-flavor`: ant (strict, default), jenkins, gitlab (default under GITLAB_CI). */
  junitFlavor?: JunitFlavor
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
  /** `--html PATH`: the self-contained HTML fleet report. */
  html?: string
  /** `--ci github`: annotations and a job summary (default under GITHUB_ACTIONS=true). */
  ci?: CiDialect
  /** `--quiet`: no progress while hosts run; `--verbose`: each failing check in the progress lines. */
  quiet?: boolean
  verbose?: boolean
  /** `--dry-run`: print per host the first round's script, the HTTP requests, the checks and skips; connect to nothing. */
  dryRun?: boolean
  /** `--deadline`: ms from the process start by which the run stops, whatever is unfinished (default: runner/deadline.ts). */
  deadline?: number
  /** `--waivers PATH`: accepted failures with an expiry (default: waivers.yaml beside the inventory, when present). */
  waivers?: string
}

export async function runCommand(flags: RunFlags, overrides: { hosts?: HostSpec[]; cwd?: string } & RunHooks = {}): Promise<number> {
  const startedAt = new Date()
  // two reports on stdout would interleave: refused before anything runs
  const conflict = stdoutConflict(flags)
  if (conflict) {
    process.stderr.write(`error: ${conflict}\n`)
    return ExitCode.Usage
  }
  // SIGINT/SIGTERM from here on stops the run but still reports it (runner/interrupt.ts)
  const interrupt = watchInterrupts()
  let result: RunResult
  let timings: RunTimings | undefined
  let mark = performance.now()
  const startupMs = Math.round(mark)
  const lap = () => Math.round(-mark + (mark = performance.now()))
  let redact: Redactor = text => text
  let deadline: RunDeadline | undefined
  let sshOpening: ReturnType<typeof openSshSession> | undefined
  try {
    const unresolvedVars = new Map<string, Set<string>>()
    const selection = overrides.hosts
      ? { hosts: overrides.hosts }
      : await selectRolloutHosts(flags.hosts, flags, hosts => resolveHosts({ ...flags, hosts }, unresolvedVars))
    if (selection.nothingToVerify) return reportNothingToVerify(selection.nothingToVerify, flags, startedAt)
    const hosts = selection.hosts
    // the ssh_config check (an `ssh -G`) runs while the specs load; awaited where the session is needed
    if (!flags.list && !flags.dryRun) sshOpening = openSshSession(flags, hosts)
    const inventoryMs = lap()
    const specs = [...(overrides.specs ?? (await loadSpecs(flags.specs, overrides.cwd))), ...(overrides.extraSpecs ?? [])]
    const specsMs = lap()
    // every host's checks and vars are settled before connecting to any of them
    const plan = restrictPlan(planRun(hosts, specs, { ...planOptions(flags), unresolvedVars }), flags)
    const planMs = lap()
    const secrets = new SecretRedactor([...plan.secrets, ...sshSecrets(hosts)])
    redact = makeRedactor(secrets)
    if (flags.list) return listPlan(plan, redact)
    if (plan.varProblems.length > 0) throw new ConfigError(varProblemsMessage(plan.varProblems))
    if (flags.dryRun) return printDryRun(plan, flags, redact)
    const waivers = await loadRunWaivers(flags)
    // the hard bound on the run from here on: it stops the hosts like an interrupt (runner/deadline.ts)
    deadline = startDeadline(
      flags.deadline ??
        defaultDeadlineMs({
          hosts: plan.hosts.length,
          concurrency: flags.concurrency,
          connectTimeoutMs: flags.connectTimeout * 1000,
          checkTimeoutMs: (flags.checkTimeout ?? flags.timeout * 3) * 1000,
          waitMs: flags.wait,
        }),
      interrupt.signal,
    )
    deadline.signal.addEventListener(
      'abort',
      () => {
        if (deadline!.reached && !interrupt.reason)
          process.stderr.write(`verify: --deadline reached: stopping; unfinished checks are reported as error: deadline\n`)
      },
      { once: true },
    )
    // one ssh_config resolver and bastion pool for the run (ends the bastion connections when closed)
    const ssh = sshOpening!.session
    await sshOpening!.validated
    sshOpening = undefined
    const pacer = new ConnectPacer({
      ratePerSec: flags.connectRate ?? DEFAULT_PACING.ratePerSec,
      maxPerEndpoint: flags.maxHandshakes ?? DEFAULT_PACING.maxPerEndpoint,
    })
    const progress = overrides.quiet ? undefined : startProgress(plan.hosts.length, flags, redact)
    result = await runHosts(plan.hosts, {
      onHostStart: host => progress?.hostStarted(host.name),
      onHostDone: host => progress?.hostDone(host),
      concurrency: flags.concurrency,
      timeoutSec: flags.timeout,
      checkTimeoutMs: (flags.checkTimeout ?? flags.timeout * 3) * 1000,
      maxBytes: flags.maxOutput,
      waitMs: flags.wait,
      pacing: waitPacing(flags),
      recordFacts: overrides.recordFacts,
      createTransport: host =>
        createTransport(host, { connectTimeoutMs: flags.connectTimeout * 1000, channelTimeoutMs: flags.timeout * 1000, ssh, pacer }),
      signal: deadline.signal,
      secrets,
    }).finally(() => progress?.finish())
    // a stopped run does not wait for a bastion's goodbye
    await ssh.close(deadline.signal.aborted ? { graceMs: 0 } : {})
    timings = { startupMs, inventoryMs, specsMs, planMs, hostsMs: lap(), ...firstContact(startupMs) }
    if (plan.runnable === 0) result = finishRun(startedAt, result.hosts, [noChecksMessage(result.summary.checks)])
    else if (waivers) result = applyWaivers(result, waivers.file, waivers.now)
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error
    result = finishRun(startedAt, [], [error.message])
  } finally {
    // opened but never used (a spec or config error): ends its `ssh -G` if still running
    void sshOpening?.session.close({ graceMs: 0 })
  }
  deadline?.dispose()
  result = markDeadline(markInterrupted(finishRollout(result, flags, flags.hosts), interrupt), deadline ?? { reached: false, atMs: 0 })
  if (timings) result = { ...result, timings }
  result = {
    ...result,
    target: {
      hosts: flags.hosts,
      inventory: [flags.inventory].flat(),
      ...(flags.expectVersion === undefined ? {} : { expectVersion: flags.expectVersion }),
    },
  }
  overrides.onResult?.(redactRun(result, redact), redact)
  if (!overrides.quiet) report(redactRun(result, redact), flags)
  interrupt.dispose()
  return result.exitCode
}

/** Progress on stderr: redrawn on a terminal, a line per host in CI or a pipe, none with --quiet. */
function startProgress(total: number, flags: RunFlags, redact: Redactor): Progress {
  return new Progress({
    total,
    stream: process.stderr,
    mode: progressMode(process.stderr, process.env, flags.quiet),
    verbose: flags.verbose,
    redact,
  })
}

function planOptions(flags: RunFlags): PlanOptions {
  return { tags: flags.tags, excludeTags: flags.excludeTags, grep: flags.grep }
}

function noChecksMessage(skipped: number): string {
  if (skipped === 0) return 'no checks were collected for the selected hosts'
  return `no checks apply to the selected hosts: all ${skipped} were skipped (each with its reason above)`
}

/** `--dry-run`: exit 0 when something would run, 3 when nothing would (as the run would). */
async function printDryRun(plan: RunPlan, flags: RunFlags, redact: Redactor): Promise<number> {
  const { dryRun } = await import('../runner/dry-run.ts')
  const { renderDryRun } = await import('../reporters/dry-run.ts')
  process.stdout.write(redact(renderDryRun(await dryRun(plan, { timeoutSec: flags.timeout, maxBytes: flags.maxOutput }))))
  return plan.runnable === 0 ? ExitCode.Usage : ExitCode.Ok
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
  const inventory = await loadInventories(
    inventoryPaths.map(p => path.resolve(p)),
    flags.inventoryFormat,
  )
  for (const warning of inventory?.warnings ?? []) process.stderr.write(`warning: ${warning}\n`)
  const selected = selectHosts(inventory, flags.hosts, overrideVars, { inventoryPath: inventoryPaths.join(', ') })
  if (!flags.list) return resolveEnvRefsOrThrow(selected)
  const resolution = resolveEnvRefs(selected, process.env, { lenient: true })
  for (const [host, vars] of resolution.unresolved) unresolved?.set(host, vars)
  for (const line of describeUnresolved(resolution.unresolved))
    process.stderr.write(`note: ${line}: not validated, refers to an environment variable that is not set here\n`)
  return resolution.hosts
}

function report(result: RunResult, flags: RunFlags): void {
  const started = performance.now()
  const out = consoleStream(result, flags, process)
  const color = flags.color && shouldUseColor(out as NodeJS.WriteStream, process.env)
  const text = renderConsole(result, { color })
  out.write(text.endsWith('\n') ? text : `${text}\n`)
  writeReports(result, flags, { env: process.env, stdout: process.stdout, console: out })
  if (result.timings) result.timings.reportMs = Math.round(performance.now() - started)
  if (flags.json) writeJsonReport(result, flags.json, process.stdout)
  if (flags.timings) process.stderr.write(renderTimings(result))
}
