// `verify generate --from-host H`: a starting spec written from a host's current state (release
// layouts, listening TCP ports, long-running processes, running systemd services), the way
// Goss's autoadd does, for a team with no spec yet. One discovery probe through the normal
// run (same inventory, SSH and batching); nothing is written to the host.
import { existsSync, mkdirSync, writeFileSync } from 'node:fs'
import path from 'node:path'
import { ConfigError } from '../errors.ts'
import { ExitCode, type RunResult } from '../model.ts'
import { currentHost, readFact } from '../dsl/context.ts'
import { it, loadSpec } from '../dsl/registry/declare.ts'
import type { LoadedSpec } from '../dsl/registry/types.ts'
import { defineFact, type FactRequest } from '../probe/fact.ts'
import { snippet } from '../probe/snippet.ts'
import { processTableFact, type ProcessInfo } from '../resources/system/process.ts'
import { socketTableFact, type Listener } from '../resources/system/port.ts'
import { release, type ReleaseFacts } from '../resources/deploy/release.ts'
import type { RunHooks } from './run-hooks.ts'

export const DEFAULT_ROOTS = ['/apps', '/srv', '/var/www', '/opt', '/home']

export interface Discovery {
  host: string
  /** The host as the spec sees it: a listener on its SSH port or address is written with `host.port` / `host.address`. */
  hostInfo?: { address: string; port: number; groups: readonly string[] }
  /** The host's vars: paths and ports that equal one are written with the var (so the spec fits every host of the group). */
  vars?: Record<string, unknown>
  releases: Array<{ root: string; facts?: ReleaseFacts; revisionFile?: string }>
  ports: Listener[]
  processes: ProcessInfo[]
  services: string[]
  /** The kernel's ephemeral port range: listeners there (a test server's port 0) are left out. */
  ephemeralPorts?: [number, number]
  /** What could not be read (a tool missing, permission denied), said in the spec's header. */
  gaps: string[]
}

/** Where the spec applies: `inGroup(...)` of the host's most specific groups, or every host. */
export interface Targeting {
  groups: string[]
}

const DISCOVER_SCRIPT = snippet(import.meta.url, 'generate-discovery.sh')

export interface DiscoveryFacts {
  releaseRoots: string[]
  services?: string[]
  /** The kernel's range for ephemeral (auto-assigned) ports: a listener there was given a port at random. */
  ephemeralPorts?: [number, number]
}

export function discoveryFact(roots: readonly string[]): FactRequest<DiscoveryFacts> {
  return defineFact({
    key: `generate-discovery:${roots.join('\u0000')}`,
    describe: 'discovery of release layouts and services',
    script: DISCOVER_SCRIPT,
    args: [...roots],
    parse: raw => parseDiscovery(raw.stdout.toString('utf8')),
  })
}

export function parseDiscovery(out: string): DiscoveryFacts {
  const fields = out.split('\0')
  const releaseRoots: string[] = []
  let services: string[] | undefined
  let ephemeralPorts: [number, number] | undefined
  for (let i = 0; i < fields.length; i++) {
    if (fields[i] === 'R' && services === undefined) releaseRoots.push(fields[++i]!)
    else if (fields[i] === 'P' && services === undefined) ephemeralPorts = [Number(fields[++i]), Number(fields[++i])]
    else if (fields[i] === 'S') services = []
    else if (services !== undefined && fields[i]) services.push(fields[i]!)
  }
  return {
    releaseRoots: [...new Set(releaseRoots)].sort(),
    ...(services ? { services: services.sort() } : {}),
    ...(ephemeralPorts ? { ephemeralPorts } : {}),
  }
}

async function discover(options: GenerateOptions): Promise<Discovery> {
  const { host } = currentHost()
  // the inventory's appsRoot is where this team's release layouts are: looked at first
  const appsRoot = host.vars['appsRoot']
  const roots = [
    ...new Set([...(typeof appsRoot === 'string' && appsRoot.startsWith('/') && !options.rootsGiven ? [appsRoot] : []), ...options.roots]),
  ]
  const gaps: string[] = []
  const soft = <T>(what: string, p: Promise<T>, fallback: T): Promise<T> =>
    p.catch((e: unknown) => {
      gaps.push(`${what}: ${(e as Error).message}`)
      return fallback
    })
  const [found, table, sockets] = await Promise.all([
    readFact(discoveryFact(roots)),
    soft('processes', readFact(processTableFact()), {
      processes: [] as ProcessInfo[],
      probe: { pid: 0, sessionId: 0, excludedPids: [] as number[] },
    }),
    soft('listening ports', readFact(socketTableFact()), { source: 'proc' as const, privileged: false, listeners: [] as Listener[] }),
  ])
  const releases = await Promise.all(
    found.releaseRoots.map(async root => {
      const withRevision = await soft(`release ${root}`, release(root, { revisionFile: 'REVISION' }), undefined)
      // name the revision file only when the current release has one
      const revisionFile = withRevision?.revision !== undefined ? 'REVISION' : undefined
      return { root, facts: withRevision, revisionFile }
    }),
  )
  if (found.services === undefined) gaps.push('services: systemctl is not installed')
  return {
    host: host.name,
    hostInfo: { address: host.address, port: host.port, groups: host.groups },
    vars: host.vars,
    releases,
    ports: sockets.listeners,
    processes: table.processes,
    services: found.services ?? [],
    ...(found.ephemeralPorts ? { ephemeralPorts: found.ephemeralPorts } : {}),
    gaps,
  }
}

/** A process younger than this is transient (a job, a test's server), not part of the host's steady state. */
const MIN_PROCESS_AGE_SEC = 60

/**
 * Long-running processes worth a check: started by init (ppid 1) or owning a listening port; no
 * kernel threads, no anonymous-memory executables (`memfd:`), none younger than a minute.
 */
export function notableProcesses(processes: readonly ProcessInfo[], ports: readonly Listener[]): string[] {
  const owners = new Set(ports.flatMap(l => (Array.isArray(l.owner) ? l.owner.map(o => o.pid) : [])))
  const steady = processes.filter(
    p => p.args !== '' && !p.name.startsWith('memfd:') && !p.args.startsWith('memfd:') && p.elapsedSeconds >= MIN_PROCESS_AGE_SEC,
  )
  const names = steady.filter(p => p.ppid === 1 || owners.has(p.pid)).map(p => p.name)
  return [...new Set(names)].sort().slice(0, 25)
}

/** The host's most specific groups (fewest hosts, short of the whole inventory): where a spec from this host applies. */
export function targetGroups(
  hostGroups: readonly string[],
  groups: ReadonlyMap<string, readonly string[]>,
  inventoryHosts: number,
): string[] {
  const sized = hostGroups.map(g => ({ g, n: groups.get(g)?.length ?? Infinity })).filter(x => x.n < inventoryHosts)
  const smallest = Math.min(...sized.map(x => x.n))
  return sized
    .filter(x => x.n === smallest)
    .map(x => x.g)
    .sort()
}

/** Builds the spec's expressions: values that equal a var (or the host's address/port) become that var, noting what is used. */
class SpecWriter {
  readonly imports = new Set<string>(['describe', 'it', 'expect'])
  readonly stringVars = new Map<string, string>()
  readonly numberVars = new Map<string, number>()
  usesHost = false
  constructor(private readonly d: Discovery) {}

  /** A path as a template literal over the vars it starts with (the longest), else a string literal. */
  path(p: string): string {
    const candidates = Object.entries(this.d.vars ?? {}).filter(
      (e): e is [string, string] =>
        isIdentifier(e[0]) &&
        typeof e[1] === 'string' &&
        e[1].startsWith('/') &&
        e[1].length > 1 &&
        (p === e[1] || p.startsWith(`${e[1].replace(/\/+$/, '')}/`)),
    )
    const best = candidates.sort((a, b) => b[1].length - a[1].length)[0]
    if (!best) return JSON.stringify(p)
    this.stringVars.set(best[0], best[1])
    const rest = p.slice(best[1].replace(/\/+$/, '').length)
    const segments = rest.split('/').map(seg => {
      const named = Object.entries(this.d.vars ?? {}).find(
        ([k, v]) => isIdentifier(k) && typeof v === 'string' && v === seg && seg.length > 1 && !v.includes('/'),
      )
      if (!named) return escapeTemplate(seg)
      this.stringVars.set(named[0], seg)
      return `\${vars.${named[0]}}`
    })
    return `\`\${vars.${best[0]}}${segments.join('/')}\``
  }

  /** A path as the check's title shows it: the same text on every host (`{appsRoot}/blog`). */
  title(p: string): string {
    const expr = this.path(p)
    return expr.startsWith('`')
      ? expr
          .slice(1, -1)
          .replace(/\$\{vars\.([^}]+)\}/g, '{$1}')
          .replace(/\\([`$\\])/g, '$1')
      : p
  }

  port(n: number): string {
    if (this.d.hostInfo?.port === n) {
      this.usesHost = true
      return 'host.port'
    }
    const named = Object.entries(this.d.vars ?? {}).find(([k, v]) => isIdentifier(k) && v === n)
    if (!named) return String(n)
    this.numberVars.set(named[0], n)
    return `vars.${named[0]}`
  }

  use(name: string): string {
    this.imports.add(name)
    return name
  }
}

const IMPORT_ORDER = ['describe', 'it', 'expect', 'release', 'port', 'process as proc', 'service', 'inGroup', 'z']

export function renderGeneratedSpec(d: Discovery, takenAt: Date, targeting: Targeting = { groups: [] }): string {
  const q = (s: string) => JSON.stringify(s)
  const w = new SpecWriter(d)
  const body: string[] = []
  for (const r of d.releases) {
    const opts = r.revisionFile ? `, { revisionFile: ${q(r.revisionFile)} }` : ''
    const root = w.path(r.root)
    const shown = w.title(r.root)
    w.use('release')
    body.push(
      `  it(${q(`${shown}: current points inside releases/`)}, async () => expect(await release(${root}${opts})).toPointInsideReleases())`,
    )
    if (r.facts?.previous !== undefined)
      body.push(
        `  it(${q(`${shown}: the rollback target is intact`)}, async () => expect(await release(${root}${opts})).toHaveIntactPrevious())`,
      )
    if (r.revisionFile)
      body.push(
        `  it(${q(`${shown}: is at the version being deployed`)}, async () => expect(await release(${root}${opts})).toBeAtExpectedVersion())`,
      )
  }
  for (const p of steadyPorts(d)) {
    const addrs = new Set(d.ports.filter(l => l.protocol === 'tcp' && l.port === p).map(l => l.address))
    const expr = w.port(p)
    const title =
      expr === 'host.port'
        ? `listens on tcp ${p} (the SSH port)`
        : expr.startsWith('vars.')
          ? `listens on tcp {${expr.slice(5)}}`
          : `listens on tcp ${p}`
    w.use('port')
    // the host's own address (or a wildcard covering it) is written as host.address, so the check fits every host
    const own = d.hostInfo && (addrs.has(d.hostInfo.address) || addrs.has('0.0.0.0') || addrs.has('::') || addrs.has('*'))
    const loopback = !own && [...addrs].every(a => a === '127.0.0.1' || a === '::1') ? [...addrs].sort()[0] : undefined
    if (own) w.usesHost = true
    const matcher = own ? 'toBeListeningOn(host.address)' : loopback ? `toBeListeningOn(${q(loopback)})` : 'toBeListening()'
    body.push(`  it(${q(title)}, async () => expect(await port(${expr})).${matcher})`)
  }
  for (const name of notableProcesses(d.processes, d.ports)) {
    w.use('process as proc')
    body.push(`  it(${q(`runs ${name}`)}, async () => expect((await proc(${q(name)})).count).toBeGreaterThan(0))`)
  }
  for (const unit of d.services) {
    w.use('service')
    body.push(`  it(${q(`service ${unit} is running`)}, async () => expect((await service(${q(unit)})).running).toBe(true))`)
  }
  const options: string[] = []
  if (targeting.groups.length > 0) options.push(`when: ${w.use('inGroup')}(${targeting.groups.map(q).join(', ')})`)
  const schema = [...[...w.stringVars.keys()].map(k => `${k}: z.string()`), ...[...w.numberVars.keys()].map(k => `${k}: z.number()`)]
  if (schema.length > 0) {
    w.use('z')
    options.push('vars: Vars')
  }
  const params = [w.usesHost ? 'host' : '', schema.length > 0 ? 'vars' : ''].filter(Boolean)
  const title = targeting.groups.length > 0 ? `${targeting.groups.join(', ')} (as found on ${d.host})` : `${d.host} as found`
  const imports = IMPORT_ORDER.filter(name => w.imports.has(name))
  return [
    `// Generated by \`verify generate --from-host ${d.host}\` on ${takenAt.toISOString()}: the host's state then,`,
    '// as a starting point. Review every check: keep what must hold after each deploy, delete what is incidental.',
    targeting.groups.length > 0
      ? `// Runs on hosts in ${targeting.groups.join(' or ')} (${d.host}'s most specific group); skipped elsewhere.`
      : `// ${d.host} is in no group smaller than the inventory: this runs on every host; add when: inGroup('…') to narrow it.`,
    ...(schema.length > 0
      ? ["// Paths and ports that equal one of the host's vars are written with the var, so each host checks its own."]
      : []),
    ...d.gaps.map(g => `// Not discovered: ${g}`),
    `import { ${imports.join(', ')} } from 'postdeploy-verify'`,
    '',
    ...(schema.length > 0 ? [`const Vars = z.object({ ${schema.join(', ')} })`, ''] : []),
    `describe(${q(title)}${options.length > 0 ? `, { ${options.join(', ')} }` : ''}, (${params.length > 0 ? `{ ${params.join(', ')} }` : ''}) => {`,
    ...body,
    '})',
    '',
  ].join('\n')
}

/** Listening TCP ports that belong to the host's steady state: not in the kernel's ephemeral range, unless a var or the SSH port names them. */
function steadyPorts(d: Discovery): number[] {
  const [lo, hi] = d.ephemeralPorts ?? [32768, 60999]
  const named = new Set<number>([
    ...Object.values(d.vars ?? {}).filter((v): v is number => typeof v === 'number'),
    ...(d.hostInfo ? [d.hostInfo.port] : []),
  ])
  const tcp = new Set(d.ports.filter(l => l.protocol === 'tcp').map(l => l.port))
  return [...tcp].filter(p => named.has(p) || p < lo || p > hi).sort((a, b) => a - b)
}

function isIdentifier(name: string): boolean {
  return /^[A-Za-z_$][\w$]*$/.test(name)
}

function escapeTemplate(text: string): string {
  return text.replace(/[`$\\]/g, c => `\\${c}`)
}

export interface GenerateOptions {
  roots: string[]
  /** --roots was given: look only there (not also under the host's appsRoot var). */
  rootsGiven?: boolean
  output?: string
  force?: boolean
  /** The inventory's groups (name → hosts) and its host count, to pick where the spec applies. */
  groups?: ReadonlyMap<string, readonly string[]>
  inventoryHosts?: number
}

type Run = (hooks: RunHooks) => Promise<number>

function plural(n: number, one: string, many = `${one}s`): string {
  return `${n} ${n === 1 ? one : many}`
}

export async function runGenerate(hostName: string, options: GenerateOptions, run: Run): Promise<number> {
  const found = new Map<string, Discovery>()
  const probe: LoadedSpec = await loadSpec('(generate)', async () => {
    it('generate: discover the host', async () => {
      const d = await discover(options)
      found.set(d.host, d)
    })
  })
  let result: RunResult | undefined
  // only the discovery probe runs: no user spec is needed (or loaded) to generate the first one
  await run({
    specs: [],
    extraSpecs: [probe],
    quiet: true,
    onResult: r => {
      result = r
    },
  })
  if (result?.configErrors.length) throw new ConfigError(result.configErrors.join('\n'))
  const host = result?.hosts[0]
  if (!host || result!.hosts.length !== 1) throw new ConfigError(`--from-host ${hostName}: select exactly one host`)
  const d = found.get(host.host.name)
  if (!d) {
    const why = host.error?.message ?? host.checks.find(c => c.status === 'error')?.message ?? 'no answer'
    process.stderr.write(`could not read ${host.host.name}: ${why}\n`)
    return ExitCode.HostError
  }
  const output = options.output ?? path.join('specs', `${host.host.name.replace(/[^A-Za-z0-9_.-]+/g, '-')}.spec.ts`)
  if (existsSync(output) && !options.force) throw new ConfigError(`${output} exists; pass -o another file, or --force to overwrite`)
  mkdirSync(path.dirname(output), { recursive: true })
  const targeting = { groups: options.groups ? targetGroups(host.host.groups, options.groups, options.inventoryHosts ?? 0) : [] }
  writeFileSync(output, renderGeneratedSpec(d, new Date(), targeting), 'utf8')
  const layouts = d.releases.length
  const where = targeting.groups.length > 0 ? `; runs on ${targeting.groups.join(', ')}` : '; runs on every host (no smaller group)'
  const counts = `${layouts} release ${layouts === 1 ? 'layout' : 'layouts'}, ${plural(steadyPorts(d).length, 'listening port')}, ${plural(notableProcesses(d.processes, d.ports).length, 'process', 'processes')}, ${plural(d.services.length, 'service')}${where}`
  process.stdout.write(
    `wrote ${output} from ${host.host.name}: ${counts}${d.gaps.length ? ` (not discovered: ${d.gaps.join('; ')})` : ''}\n`,
  )
  return ExitCode.Ok
}
