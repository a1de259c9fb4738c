// `--dry-run`: what a run would send to each host, found by running the checks against a
// transport that records instead of connecting. The first round's script is exactly what the
// batcher would write to the host's `/bin/sh -s`; HTTP requests are recorded by http() and never sent.
import type { Duplex } from 'node:stream'
import type { CheckResult, HostSpec } from '../model.ts'
import { runInHost, type DryRunLog, type HostContext } from '../dsl/context.ts'
import { FactBatcher } from '../probe/batcher.ts'
import type { ExecOptions, ExecResult, Transport } from '../transports/transport.ts'
import { runCheck } from './check.ts'
import { becomeInvocation } from '../transports/ssh/become.ts'
import { shellQuote } from '../probe/quote.ts'
import type { HostPlan, RunPlan } from './plan.ts'

export interface DryRunCheck {
  file: string
  line?: number
  path: string[]
}

export interface DryRunHost {
  host: HostSpec
  /** Checks that would run, in declaration order. */
  checks: DryRunCheck[]
  /** Checks that would not run, with why (skip, when, tags…) or a spec error. */
  notRun: CheckResult[]
  /** The scripts of the first round (one exec channel), verbatim; empty when no check reads a host fact first. */
  firstRound: string[]
  /** Facts asked after the first round: they depend on its answers, so they cannot be shown before a run. */
  laterFacts: number
  http: DryRunLog['http']
  /** What the exec channel would run (`/bin/sh -s`, or under sudo with `become`), shell-quoted. */
  remoteCommand: string
}

export interface DryRunOptions {
  timeoutSec: number
  maxBytes: number
}

export async function dryRun(plan: RunPlan, options: DryRunOptions): Promise<DryRunHost[]> {
  const out: DryRunHost[] = []
  // one host at a time: the spec code is the same everywhere, only vars differ
  for (const hostPlan of plan.hosts) out.push(await dryRunHost(hostPlan, options))
  return out
}

async function dryRunHost(plan: HostPlan, options: DryRunOptions): Promise<DryRunHost> {
  const checks = plan.entries.flatMap(e => (e.check ? [e.check] : []))
  const notRun = plan.entries.flatMap(e => (e.result ? [e.result] : []))
  const transport = new RecordingTransport(plan.host)
  const facts = new FactBatcher(transport, { timeoutSec: options.timeoutSec, maxBytes: options.maxBytes })
  const log: DryRunLog = { http: [] }
  const ctx: HostContext = { host: plan.host, transport, facts, timeoutMs: options.timeoutSec * 1000, dryRun: log }
  try {
    // every fact comes back unanswered at once, so no check waits; a short deadline guards spec code that would
    await runInHost(ctx, () => Promise.all(checks.map(c => runCheck(c, 5_000))))
  } finally {
    facts.close()
  }
  return {
    host: plan.host,
    checks: checks.map(c => ({ file: c.file, line: c.line, path: c.path })),
    notRun,
    firstRound: transport.scripts.slice(0, 1),
    laterFacts: transport.laterFacts,
    http: log.http,
    remoteCommand: remoteCommand(plan.host),
  }
}

/** Records the scripts it is given and answers none of them: nothing leaves this process. */
class RecordingTransport implements Transport {
  readonly kind: 'ssh' | 'local'
  readonly scripts: string[] = []
  laterFacts = 0
  execCount = 0

  constructor(host: HostSpec) {
    this.kind = host.transport
  }

  async connect(): Promise<void> {}

  async exec(options: ExecOptions): Promise<ExecResult> {
    this.execCount++
    if (this.scripts.length === 0) this.scripts.push(options.script)
    else this.laterFacts += countFacts(options.script)
    return { exitCode: 0, stderr: 'dry run: nothing was sent' }
  }

  async openTcp(): Promise<Duplex> {
    throw new Error('dry run: no TCP connection is opened')
  }

  async close(): Promise<void> {}
}

function countFacts(script: string): number {
  return script.split('\n').filter(line => line.startsWith('__vfact ')).length
}

function remoteCommand(host: HostSpec): string {
  if (host.transport === 'local') return '/bin/sh -s'
  if (!host.become) return shellQuote('/bin/sh -s')
  // a placeholder password: the command line never holds it, and the real one is not read here
  const invocation = becomeInvocation(host.become, host.become.passwordEnv ? { [host.become.passwordEnv]: 'x' } : {})
  return shellQuote(invocation.command)
}
