// What a person should do about a failed connection: the transport says what happened
// (ECONNREFUSED, a timeout, …); this adds where to look, once, for every transport.
import { HostUnreachableError, VerifyError } from '../../errors.ts'
import type { HostSpec } from '../../model.ts'

type Target = Pick<HostSpec, 'address' | 'source'>

interface Cause {
  /** retry.ts: where the connect was when its deadline fired */
  stage?: string
  code?: string
  level?: string
  message?: string
}

/**
 * RFC 6761 §6.4: names under `.invalid` never resolve, and resolvers should say so without
 * asking anyone. glibc asks the configured DNS server anyway, so we answer first.
 */
export function reservedNameError(target: Target, who: string): HostUnreachableError | undefined {
  const name = target.address.toLowerCase().replace(/\.$/, '')
  if (name !== 'invalid' && !name.endsWith('.invalid')) return undefined
  return explainConnectError(
    new HostUnreachableError(`${who}: cannot resolve ${target.address}: the .invalid domain never resolves (RFC 6761)`, {
      cause: Object.assign(new Error(`reserved name ${target.address}`), { code: 'ENOTFOUND' }),
    }),
    target,
  )
}

/** Appends what to check, based on the error's kind and cause; the error keeps its class and kind. */
export function explainConnectError<E>(error: E, target: Target, attempts = 1): E {
  if (!(error instanceof VerifyError)) return error
  const hint = hintFor(error, attempts)
  if (!hint) return error
  const where = target.source ? ` (host defined at ${target.source})` : ''
  error.message = `${error.message.replace(/\.?\s*$/, '')}. ${hint}${where}.`
  return error
}

// Hints name no address: with ssh_config the host may be reached under another name and port,
// and the transport's message already names the endpoint it tried.
function hintFor(error: VerifyError, attempts: number): string | undefined {
  const cause = (error.cause ?? {}) as Cause
  if (error.kind === 'timeout' && cause.stage === 'ssh-config') {
    return (
      'The time went on reading ssh_config, before any connection to the host: `ssh -G` had not answered yet ' +
      '(a slow Match exec, or a slow command or mount behind an Include); time it with `ssh -G` and the same -F file and host'
    )
  }
  if (error.kind === 'timeout' && cause.stage === 'route') {
    return 'The time went on opening the route to the host: the ProxyCommand or ProxyJump bastion did not get through in time; try it with `ssh -v`'
  }
  if (error.kind === 'timeout') {
    return (
      'No SSH greeting came in time: the host may be down or a firewall may drop the traffic, ' +
      'or the port is held by something that is not sshd (or by an sshd too busy to answer); ' +
      'raise --connect-timeout only if the host is merely slow'
    )
  }
  if (error.kind !== 'unreachable') return undefined
  switch (cause.code) {
    case 'ECONNREFUSED':
      return 'Nothing accepts connections there: check that sshd is running on the host and that the port is right'
    case 'ENOTFOUND':
    case 'EAI_NONAME':
      return "The name does not resolve: check the address in the inventory (a typo?), or HostName in ssh_config, and this machine's DNS"
    case 'EAI_AGAIN':
      return 'DNS could not answer for that name right now: check that this machine reaches its DNS server'
    case 'EHOSTUNREACH':
    case 'ENETUNREACH':
    case 'EHOSTDOWN':
      return 'There is no route to that address: check the address, the VPN or bastion, and firewalls'
  }
  if (isTransientConnectFailure(error)) {
    const times = attempts > 1 ? ` on all ${attempts} attempts` : ''
    return (
      `The server closed the connection before the SSH handshake${times}: sshd may be at its MaxStartups limit ` +
      '(too many connections authenticating at once: lower --max-handshakes or --concurrency), or TCP wrappers or a firewall drop this client'
    )
  }
  return undefined
}

/**
 * A failure worth another try: the server hung up or reset before the SSH handshake finished,
 * which is what an sshd over its MaxStartups limit does ("kex_exchange_identification:
 * Connection closed by remote host" in OpenSSH's words). Refused, unresolvable, timed out,
 * auth and host-key failures are answers, not accidents.
 */
export function isTransientConnectFailure(error: unknown): boolean {
  if (!(error instanceof VerifyError) || error.kind !== 'unreachable') return false
  const cause = (error.cause ?? {}) as Cause
  if (cause.code === 'ECONNRESET' || cause.code === 'EPIPE') return true
  if (/Connection lost before handshake|kex_exchange_identification/i.test(cause.message ?? '')) return true
  // connect.ts: the socket closed after the banner but before authentication, with no error event
  return /closed during the SSH handshake/.test(error.message)
}
