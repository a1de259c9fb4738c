// command(cmd): runs exactly what the spec author wrote, with `sh -c`, on the host.
// The only resource that can change a host: built-in resources never write.
import { TimeoutError } from '../../errors.ts'
import { defineFact, type FactRequest } from '../../probe/fact.ts'
import { readFact } from '../../dsl/context.ts'

export interface CommandOptions {
  /** Seconds before the command is stopped on the host (default: the run's --timeout). */
  timeout?: number
  /** Cap on stdout and stderr, in bytes (default 1 MiB); `truncated` says when it was hit. */
  maxBytes?: number
}

export interface CommandResult {
  command: string
  exitStatus: number
  stdout: string
  stderr: string
  truncated: boolean
}

export function commandFact(cmd: string, options: CommandOptions = {}): FactRequest<CommandResult> {
  return defineFact({
    key: `command:${cmd}`,
    describe: `command ${JSON.stringify(cmd)}`,
    // the author's own shell: the one snippet that is not a file of ours
    script: cmd,
    timeoutSec: options.timeout,
    maxBytes: options.maxBytes,
    // the exit status is the answer
    answers: 'any',
    parse: raw => {
      if (raw.timedOut) throw new TimeoutError(`command ${JSON.stringify(cmd)} timed out on the host`)
      return {
        command: cmd,
        exitStatus: raw.exitCode,
        stdout: raw.stdout.toString('utf8'),
        stderr: raw.stderr.toString('utf8'),
        truncated: raw.truncated,
      }
    },
  })
}

export function command(cmd: string, options?: CommandOptions): Promise<CommandResult> {
  return readFact(commandFact(cmd, options))
}
