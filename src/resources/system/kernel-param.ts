// kernelParam(name): a sysctl's current value, read from /proc/sys (no sysctl binary needed).
// Names are checked strictly here so that nothing but a file under /proc/sys is ever read.
import { ExpectationError } from '../../errors.ts'
import { readFact } from '../../dsl/context.ts'
import { defineFact, type FactRequest } from '../../probe/fact.ts'
import { snippet } from '../../probe/snippet.ts'

export interface KernelParamFacts {
  /** As asked: `net.ipv4.ip_forward`. */
  name: string
  /** The file read: `/proc/sys/net/ipv4/ip_forward`. */
  path: string
  /** The value as the kernel prints it, trimmed; several fields are joined by one space (`32768 60999`). */
  value: string
  /** The value as a number, when it is exactly one integer that a JS number holds exactly. */
  number?: number
  /** The fields of a multi-valued parameter (`ip_local_port_range` → ['32768', '60999']). */
  values: string[]
}

const COMPONENT = /^[A-Za-z0-9_][A-Za-z0-9_.:@+-]*$/

/**
 * sysctl(8) spelling to a path under /proc/sys: in `net.ipv4.conf.eth0/100.rp_filter` dots
 * separate and a slash stands for a dot inside a name (interface eth0.100); a name written
 * with slashes (`net/ipv4/ip_forward`) is used as it is.
 */
export function kernelParamPath(name: string): string {
  if (typeof name !== 'string' || name === '' || name.length > 512) throw invalid(name)
  const slashFirst = name.includes('/') && (!name.includes('.') || name.indexOf('/') < name.indexOf('.'))
  const parts = slashFirst ? name.split('/') : name.split('.').map(part => part.replaceAll('/', '.'))
  if (!parts.every(part => COMPONENT.test(part))) throw invalid(name)
  return parts.join('/')
}

function invalid(name: unknown): TypeError {
  return new TypeError(`kernelParam: ${JSON.stringify(name)} is not a sysctl name (like net.ipv4.ip_forward)`)
}

const READ_SCRIPT = snippet(import.meta.url, 'kernel-param.sh')

export function kernelParamFact(name: string): FactRequest<KernelParamFacts> {
  const rel = kernelParamPath(name)
  const path = `/proc/sys/${rel}`
  return defineFact({
    key: `kernel-param:${rel}`,
    describe: `read kernel parameter ${name}`,
    script: READ_SCRIPT,
    args: [rel],
    parse: raw => parseKernelParam(name, path, raw.stdout.toString('utf8')),
  })
}

export function parseKernelParam(name: string, path: string, out: string): KernelParamFacts {
  if (out === 'missing\n')
    throw new ExpectationError(
      `kernel parameter ${name} does not exist on the host (no ${path})`,
      'an existing kernel parameter',
      'missing',
    )
  if (out === 'directory\n')
    throw new ExpectationError(
      `${name} is a group of kernel parameters, not one parameter (${path} is a directory)`,
      'a kernel parameter',
      'a directory',
    )
  if (!out.startsWith('ok\n')) throw new Error(`unexpected output: ${JSON.stringify(out.slice(0, 80))}`)
  const values = out
    .slice(3)
    .trim()
    .split(/\s+/)
    .filter(v => v !== '')
  const value = values.join(' ')
  // kernel.shmall and friends exceed 2^53: those stay strings rather than become wrong numbers
  const number = /^-?\d+$/.test(value) && Number.isSafeInteger(Number(value)) ? Number(value) : undefined
  return { name, path, value, number, values }
}

/** An invalid name rejects the returned promise (nothing is sent to the host). */
export async function kernelParam(name: string): Promise<KernelParamFacts> {
  return readFact(kernelParamFact(name))
}
