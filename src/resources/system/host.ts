// host(name): another machine as the host under test sees it: does the name resolve there
// (getent, so /etc/hosts, DNS and every other NSS source count), and can it open a TCP
// connection to a port (nc -z, else bash's /dev/tcp). Everything runs on the host, not here.
import { isIP } from 'node:net'
import { FactError } from '../../errors.ts'
import { readFact } from '../../dsl/context.ts'
import { defineFact, type FactRequest } from '../../probe/fact.ts'
import { snippet } from '../../probe/snippet.ts'
import { assertPort, normalizeHostName, wholeSeconds } from '../../lib/valid-names.ts'

export interface HostFacts {
  name: string
  /** The host under test resolves the name (getent ahosts). */
  resolvable: boolean
  /** Every address it resolves to, IPv4 first, each once. */
  addresses: string[]
  ipv4: string[]
  ipv6: string[]
}

export interface Reachability {
  name: string
  port: number
  reachable: boolean
  /** The tool the host used to try: `nc` or `bash` (/dev/tcp). */
  via: 'nc' | 'bash'
  /** Why not, in the host's words (`Connection refused`, `timed out after 3s`). */
  reason?: string
}

export interface ReachOptions {
  /** Seconds to wait for the connection (default 5). */
  timeout?: number
}

const RESOLVE_SCRIPT = snippet(import.meta.url, 'host-resolve.sh')

const REACH_SCRIPT = snippet(import.meta.url, 'host-reach.sh')

export function resolveFact(name: string): FactRequest<HostFacts> {
  return defineFact({
    key: `host.resolve:${name}`,
    describe: `resolve ${name} on the host`,
    script: RESOLVE_SCRIPT,
    args: [name],
    parse: raw => parseGetent(name, raw.stdout.toString('utf8')),
  })
}

/**
 * `getent ahosts`: `127.0.0.1       STREAM localhost` then DGRAM and RAW lines for each address;
 * `getent hosts`: `127.0.0.1       localhost`. Either way the first column is an address.
 */
export function parseGetent(name: string, out: string): HostFacts {
  if (out.trim() === 'not found') return { name, resolvable: false, addresses: [], ipv4: [], ipv6: [] }
  const seen = new Set<string>()
  for (const line of out.split('\n')) {
    const first = line.trim().split(/\s+/)[0] ?? ''
    if (isIP(first)) seen.add(first)
  }
  const ipv4 = [...seen].filter(a => isIP(a) === 4)
  const ipv6 = [...seen].filter(a => isIP(a) === 6)
  return { name, resolvable: seen.size > 0, addresses: [...ipv4, ...ipv6], ipv4, ipv6 }
}

export function reachFact(name: string, port: number, timeoutSec: number): FactRequest<Reachability> {
  return defineFact({
    key: `host.reach:${name}:${port}:${timeoutSec}`,
    describe: `connect to ${name} port ${port} from the host`,
    script: REACH_SCRIPT,
    args: [name, String(port), String(timeoutSec)],
    // the tool's own limit ends first; the fact's limit is only the safety net
    timeoutSec: timeoutSec + 5,
    parse: raw => parseReach(name, port, timeoutSec, raw.stdout.toString('utf8')),
  })
}

export function parseReach(name: string, port: number, timeoutSec: number, out: string): Reachability {
  const lines = out.split('\n').filter(l => l !== '')
  const via = lines[0]
  const status = /^exit=(\d+)$/.exec(lines.at(-1) ?? '')
  if ((via !== 'nc' && via !== 'bash') || !status) throw new Error(`unexpected output: ${JSON.stringify(out.slice(0, 200))}`)
  const code = Number(status[1])
  const said = lines
    .slice(1, -1)
    .map(l => l.replace(/^bash: (line \d+: )?/, '').trim())
    .filter(l => !/ succeeded!?$/.test(l))
    .join(' | ')
  // a netcat without -z/-v (busybox built without NC_EXTRA) says so; that is no answer about the port
  if (via === 'nc' && code !== 0 && /invalid option|unrecognized option|illegal option|usage:/i.test(said)) {
    throw new FactError(`connect to ${name} port ${port}: the host's nc does not support -z -v -w (${said.slice(0, 200)})`)
  }
  if (code === 0) return { name, port, reachable: true, via }
  const reason = code === 124 ? `timed out after ${timeoutSec}s` : said || `${via} exited ${code}`
  return { name, port, reachable: false, via, reason }
}

export class HostRef implements PromiseLike<HostFacts> {
  constructor(readonly name: string) {}

  then<A = HostFacts, B = never>(
    onFulfilled?: ((value: HostFacts) => A | PromiseLike<A>) | null,
    onRejected?: ((reason: unknown) => B | PromiseLike<B>) | null,
  ): Promise<A | B> {
    return readFact(resolveFact(this.name)).then(onFulfilled, onRejected)
  }

  /** The host under test resolves the name. */
  get resolvable(): Promise<boolean> {
    return this.then(f => f.resolvable)
  }

  /** A TCP connection from the host under test to this name and port, with the reason when it fails. */
  async connect(port: number, options: ReachOptions = {}): Promise<Reachability> {
    assertPort('host().connect', port)
    const timeout = wholeSeconds('host().connect', options.timeout ?? 5)
    return readFact(reachFact(this.name, port, timeout))
  }

  /** The host under test can open a TCP connection to this name and port within the timeout. */
  reachable(port: number, options: ReachOptions = {}): Promise<boolean> {
    return this.connect(port, options).then(r => r.reachable)
  }
}

export function host(name: string): HostRef {
  return new HostRef(normalizeHostName('host', name))
}
