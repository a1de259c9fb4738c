// Live progress on stderr while hosts are verified (the report itself comes after, on stdout).
// On a terminal (and CI unset): a few lines redrawn in place: hosts done/total, checks so far,
// failing hosts named as they finish, the slowest host still running. With CI set or no
// terminal: one plain line per finished host, nothing else. --quiet: none; --verbose: each
// failing check under its host's line.
import type { HostResult } from '../model.ts'
import { sanitizeLine, truncate } from './sanitize.ts'

export type ProgressMode = 'live' | 'lines' | 'off'

export interface ProgressOptions {
  total: number
  stream: NodeJS.WritableStream & { isTTY?: boolean; columns?: number }
  mode: ProgressMode
  verbose?: boolean
  /** Redraw period on a terminal, ms. */
  tickMs?: number
  now?: () => number
  /** Secret values out of every line (the run's redactor), as in the report. */
  redact?: (text: string) => string
}

/** live on a terminal without CI, lines otherwise; --quiet turns it off. */
export function progressMode(stream: { isTTY?: boolean }, env: NodeJS.ProcessEnv, quiet: boolean | undefined): ProgressMode {
  if (quiet) return 'off'
  return stream.isTTY && !env.CI ? 'live' : 'lines'
}

const FAILING_NAMED = 8

export class Progress {
  private done = 0
  private readonly counts = { passed: 0, failed: 0, errors: 0, skipped: 0 }
  private readonly running = new Map<string, number>()
  private readonly failing: string[] = []
  private drawn = 0
  private timer: NodeJS.Timeout | undefined
  private readonly now: () => number
  private readonly started: number
  private readonly write: (text: string) => void

  constructor(private readonly options: ProgressOptions) {
    this.now = options.now ?? (() => performance.now())
    const redact = options.redact ?? ((text: string) => text)
    this.write = text => void options.stream.write(redact(text))
    this.started = this.now()
    if (options.mode === 'live') {
      this.timer = setInterval(() => this.draw(), options.tickMs ?? 250)
      this.timer.unref()
      this.draw()
    }
  }

  hostStarted(name: string): void {
    this.running.set(name, this.now())
  }

  hostDone(result: HostResult): void {
    this.running.delete(result.host.name)
    this.done++
    let failed = 0
    let errors = 0
    for (const c of result.checks) {
      if (c.status === 'passed') this.counts.passed++
      else if (c.status === 'failed') (this.counts.failed++, failed++)
      else if (c.status === 'error') (this.counts.errors++, errors++)
      else this.counts.skipped++
    }
    const name = sanitizeLine(result.host.name)
    const bad =
      result.status === 'error'
        ? `${name} (${result.error?.kind ?? 'error'})`
        : failed + errors > 0
          ? `${name} (${[failed ? `${failed} failed` : '', errors ? `${errors} errors` : ''].filter(Boolean).join(', ')})`
          : undefined
    if (bad) this.failing.push(bad)
    if (this.options.mode === 'lines') this.write(this.hostLines(result, failed, errors).join('\n') + '\n')
    else if (this.options.mode === 'live') this.draw()
  }

  /** Clears the live view (the report follows); idempotent. */
  finish(): void {
    if (this.timer) clearInterval(this.timer)
    this.timer = undefined
    if (this.options.mode === 'live') this.clear()
  }

  private hostLines(result: HostResult, failed: number, errors: number): string[] {
    const width = String(this.options.total).length
    const mark = result.status === 'error' || errors > 0 ? '!' : failed > 0 ? '✗' : '✓'
    const counts = [
      failed ? `${failed} failed` : '',
      errors ? `${errors} errors` : '',
      `${result.checks.filter(c => c.status === 'passed').length} passed`,
    ]
      .filter(Boolean)
      .join(', ')
    const why =
      result.status === 'error' ? `  ${result.error?.kind ?? 'error'}: ${truncate(sanitizeLine(result.error?.message ?? ''), 160)}` : ''
    const lines = [
      `[${String(this.done).padStart(width)}/${this.options.total}] ${mark} ${sanitizeLine(result.host.name)}  ${counts}  ${(result.timings.totalMs / 1000).toFixed(1)}s${why}`,
    ]
    if (this.options.verbose) {
      for (const c of result.checks) {
        if (c.status !== 'failed' && c.status !== 'error') continue
        if (result.status === 'error' && c.errorKind === result.error?.kind) continue
        const what =
          c.expected !== undefined || c.actual !== undefined
            ? `expected ${sanitizeLine(c.expected ?? '?')}, actual ${sanitizeLine(c.actual ?? '?')}`
            : `${c.errorKind ? `${c.errorKind}: ` : ''}${sanitizeLine((c.message ?? c.status).split('\n')[0] ?? '')}`
        lines.push(`      ${c.status === 'failed' ? '✗' : '!'} ${truncate(sanitizeLine(c.path.join(' › ')), 100)}: ${truncate(what, 160)}`)
      }
    }
    return lines
  }

  private view(): string[] {
    const { total } = this.options
    const c = this.counts
    const secs = ((this.now() - this.started) / 1000).toFixed(1)
    const lines = [
      `verify: ${this.done}/${total} hosts done · checks ${c.passed} passed, ${c.failed} failed, ${c.errors} errors · ${secs}s`,
    ]
    if (this.failing.length > 0) {
      const named = this.failing.slice(-FAILING_NAMED).join(', ')
      lines.push(`failing (${this.failing.length}): ${this.failing.length > FAILING_NAMED ? '…, ' : ''}${named}`)
    }
    let slowest: [string, number] | undefined
    for (const entry of this.running) if (!slowest || entry[1] < slowest[1]) slowest = entry
    if (slowest)
      lines.push(`running ${this.running.size}; slowest: ${sanitizeLine(slowest[0])} (${((this.now() - slowest[1]) / 1000).toFixed(1)}s)`)
    const columns = this.options.stream.columns ?? 120
    // a line wider than the terminal would wrap, and the redraw would leave its tail behind
    return lines.map(l => truncate(l, Math.max(20, columns - 1)))
  }

  private draw(): void {
    const lines = this.view()
    this.clear()
    this.write(`${lines.join('\n')}\n`)
    this.drawn = lines.length
  }

  private clear(): void {
    if (this.drawn > 0) this.write(`\x1b[${this.drawn}A\x1b[0J`)
    this.drawn = 0
  }
}
