// `become`: the probe script runs under sudo, with no pty and no prompt.
//   no password:  sudo -n -u USER -- /bin/sh -s                 (script on stdin, as without become)
//   password:     sudo -S -p '' -u USER -- /bin/sh -c READER sh  (stdin: password line, marker line, script)
// With -S, sudo reads the password from stdin one byte at a time up to the newline, and the
// command inherits the rest. READER then skips lines up to the marker before exec'ing the
// script's shell: if sudo did not need the password (NOPASSWD, cached credentials), the
// password line is skipped there, never run as a command, and never printed.
import { FactError } from '../../errors.ts'
import type { BecomeSpec } from '../../model.ts'
import { shellQuote } from '../../probe/quote.ts'

export const BECOME_MARKER = '__verify_become_script_follows__'
const READER = `while IFS= read -r __v; do [ "$__v" = ${BECOME_MARKER} ] && exec /bin/sh -s; done; echo 'verify: become: script marker not found on stdin' >&2; exit 125`

export interface BecomeInvocation {
  /** The exec request's command line (no secret in it). */
  command: string
  /** Bytes to send before the script on stdin (the password line when there is one). */
  stdinPrefix: string
  /** The secret, so output can be scrubbed of it; undefined without a password. */
  secret?: string
  /** `sudo -n -u root`, for messages. */
  describe: string
}

export function becomeInvocation(spec: BecomeSpec, env: NodeJS.ProcessEnv): BecomeInvocation {
  const user = shellQuote(spec.user)
  if (!spec.passwordEnv) {
    return { command: `sudo -n -u ${user} -- /bin/sh -s`, stdinPrefix: '', describe: `sudo -n -u ${spec.user}` }
  }
  const password = env[spec.passwordEnv]
  if (!password) throw new FactError(`become: the sudo password env var ${spec.passwordEnv} is not set or empty in verify's environment`)
  if (/[\r\n]/.test(password))
    throw new FactError(`become: the sudo password in ${spec.passwordEnv} contains a line break, which sudo -S cannot read`)
  return {
    command: `sudo -S -p '' -u ${user} -- /bin/sh -c ${shellQuote(READER)} sh`,
    stdinPrefix: `${password}\n${BECOME_MARKER}\n`,
    secret: password,
    describe: `sudo -S -u ${spec.user} (password from ${spec.passwordEnv})`,
  }
}

/**
 * When sudo itself refused (no stdout at all, its own `sudo:` message on stderr, or no sudo on
 * the host), a FactError that says so and what to do; undefined when the probe ran.
 */
export function becomeFailure(
  invocation: BecomeInvocation,
  exitCode: number | null,
  sawStdout: boolean,
  stderr: string,
): FactError | undefined {
  if (sawStdout || exitCode === 0 || exitCode === null) return undefined
  const said = stderr
    .split('\n')
    .map(l => l.trim())
    .filter(l => l !== '')
  const sudoSaid = said.filter(l => /^sudo:|sudo: not found|sudo: command not found/.test(l)).join('; ')
  if (exitCode === 127 && /sudo/.test(stderr)) {
    return new FactError(`become (${invocation.describe}): sudo is not installed on the host`)
  }
  if (!sudoSaid && exitCode !== 1) return undefined
  const why = sudoSaid || said.join('; ') || `exit ${exitCode}`
  const hint = /password is required/.test(why)
    ? ': give the account a NOPASSWD sudoers rule for /bin/sh (docs/ssh.md), or set become.passwordEnv'
    : /incorrect password/.test(why)
      ? ': the password in the env var is wrong for this account'
      : /not allowed|may not run|not in the sudoers/.test(why)
        ? ': the sudoers rule does not allow this (docs/ssh.md has a minimal one)'
        : ''
  return new FactError(`become (${invocation.describe}) failed: ${why}${hint}`)
}

/** Removes the secret from text that may be shown (stderr), in case anything ever echoed it. */
export function scrub(text: string, secret: string | undefined): string {
  return secret ? text.split(secret).join('[redacted]') : text
}
