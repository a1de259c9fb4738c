// `verify generate --from-host H`: a starting spec written from a host's current state (release
// layouts, listening TCP ports, long-running processes, running systemd services), the way
// Goss's autoadd does, for a team with no spec yet. One discovery probe through the normal
// run (same inventory, SSH and batching); nothing is written to the host.
import { existsSync, mkdirSync, writeFileSync } from 'node:fs'
import path from 'node:path'
import { ConfigError } from '../errors.ts'
import { ExitCode, type RunResult } from '../model.ts'
import { currentHost, readFact } from '../dsl/context.ts'
import { it, loadSpec, type LoadedSpec } from '../dsl/registry.ts'
import { factFailure, type FactRequest } from '../probe/fact.ts'
import { processTableFact, type ProcessInfo } from '../resources/process.ts'
import { socketTableFact, type Listener } from '../resources/port.ts'
import { release, type ReleaseFacts } from '../resources/release.ts'
import type { RunHooks } from './run-hooks.ts'

export const DEFAULT_ROOTS = ['/apps', '/srv', '/var/www', '/opt', '/home']

export interface Discovery {
  host: string
  releases: Array<{ root: string; facts?: ReleaseFacts; revisionFile?: string }>
  ports: Listener[]
  processes: ProcessInfo[]
  services: string[]
  /** What could not be read (a tool missing, permission denied), said in the spec's header. */
  gaps: string[]
}

// $@: roots. Release layouts up to 3 levels below each root (root/current, root/x/current, root/x/y/current),
// then running systemd services when systemctl is there.
const DISCOVER_SCRIPT = String.raw`for r in "$@"; do
  [ -d "$r" ] || continue
  for c in "$r"/current "$r"/*/current "$r"/*/*/current; do
    [ -L "$c" ] && [ -d "${"$"}{c%/current}/releases" ] && printf 'R\000%s\000' "${"$"}{c%/current}"
  done
done
if command -v systemctl >/dev/null 2>&1; then
  printf 'S\000'
  systemctl list-units --type=service --state=running --no-legend --plain --no-pager 2>/dev/null | while read -r u rest; do printf '%s\000' "$u"; done
fi
exit 0`

export function discoveryFact(roots: readonly string[]): FactRequest<{ releaseRoots: string[]; services?: string[] }> {
  const request: FactRequest<{ releaseRoots: string[]; services?: string[] }> = {
    key: `generate-discovery:${roots.join('\u0000')}`,
    describe: 'discovery of release layouts and services',
    script: DISCOVER_SCRIPT,
    args: [...roots],
    parse: (raw) => {
      if (raw.exitCode !== 0) throw factFailure(request, raw)
      return parseDiscovery(raw.stdout.toString('utf8'))
    },
  }
  return request
}

export function parseDiscovery(out: string): { releaseRoots: string[]; services?: string[] } {
  const fields = out.split('\0')
  const releaseRoots: string[] = []
  let services: string[] | undefined
  for (let i = 0; i < fields.length; i++) {
    if (fields[i] === 'R' && services === undefined) releaseRoots.push(fields[++i]!)
    else if (fields[i] === 'S') services = []
    else if (services !== undefined && fields[i]) services.push(fields[i]!)
  }
  return { releaseRoots: [...new Set(releaseRoots)].sort(), ...(services ? { services: services.sort() } : {}) }
}

async function discover(roots: readonly string[]): Promise<Discovery> {
  const gaps: string[] = []
  const soft = <T,>(what: string, p: Promise<T>, fallback: T): Promise<T> => p.catch((e: unknown) => { gaps.push(`${what}: ${(e as Error).message}`); return fallback })
  const [found, table, sockets] = await Promise.all([
    readFact(discoveryFact(roots)),
    soft('processes', readFact(processTableFact()), { processes: [] as ProcessInfo[], probe: { pid: 0, sessionId: 0, excludedPids: [] as number[] } }),
    soft('listening ports', readFact(socketTableFact()), { source: 'proc' as const, privileged: false, listeners: [] as Listener[] }),
  ])
  const releases = await Promise.all(
    found.releaseRoots.map(async (root) => {
      const withRevision = await soft(`release ${root}`, release(root, { revisionFile: 'REVISION' }), undefined)
      // name the revision file only when the current release has one
      const revisionFile = withRevision?.revision !== undefined ? 'REVISION' : undefined
      return { root, facts: withRevision, revisionFile }
    }),
  )
  if (found.services === undefined) gaps.push('services: systemctl is not installed')
  return { host: currentHost().host.name, releases, ports: sockets.listeners, processes: table.processes, services: found.services ?? [], gaps }
}

/** Long-running processes worth a check: started by init (ppid 1) or owning a listening port; no kernel threads. */
export function notableProcesses(processes: readonly ProcessInfo[], ports: readonly Listener[]): string[] {
  const owners = new Set(ports.flatMap((l) => (Array.isArray(l.owner) ? l.owner.map((o) => o.pid) : [])))
  const names = processes.filter((p) => p.args !== '' && (p.ppid === 1 || owners.has(p.pid))).map((p) => p.name)
  return [...new Set(names)].sort().slice(0, 25)
}

export function renderGeneratedSpec(d: Discovery, takenAt: Date): string {
  const q = (s: string) => JSON.stringify(s)
  const lines: string[] = [
    `// Generated by \`verify generate --from-host ${d.host}\` on ${takenAt.toISOString()}: the host's state then,`,
    '// as a starting point. Review every check: keep what must hold after each deploy, delete what is incidental.',
    ...d.gaps.map((g) => `// Not discovered: ${g}`),
    "import { describe, it, expect, release, port, process as proc, service } from 'postdeploy-verify'",
    '',
    `describe(${q(`${d.host} as found`)}, () => {`,
  ]
  for (const r of d.releases) {
    const opts = r.revisionFile ? `, { revisionFile: ${q(r.revisionFile)} }` : ''
    lines.push(`  it(${q(`${r.root}: current points inside releases/`)}, async () => expect(await release(${q(r.root)}${opts})).toPointInsideReleases())`)
    if (r.facts?.previous !== undefined) lines.push(`  it(${q(`${r.root}: the rollback target is intact`)}, async () => expect(await release(${q(r.root)}${opts})).toHaveIntactPrevious())`)
    if (r.revisionFile) lines.push(`  it(${q(`${r.root}: is at the version being deployed`)}, async () => expect(await release(${q(r.root)}${opts})).toBeAtExpectedVersion())`)
  }
  const tcp = [...new Set(d.ports.filter((l) => l.protocol === 'tcp').map((l) => l.port))].sort((a, b) => a - b)
  for (const p of tcp) {
    const addrs = [...new Set(d.ports.filter((l) => l.protocol === 'tcp' && l.port === p).map((l) => l.address))].sort()
    lines.push(`  it(${q(`listens on tcp ${p}`)}, async () => expect((await port(${p})).addresses).toEqual(${JSON.stringify(addrs)}))`)
  }
  for (const name of notableProcesses(d.processes, d.ports)) lines.push(`  it(${q(`runs ${name}`)}, async () => expect((await proc(${q(name)})).count).toBeGreaterThan(0))`)
  for (const unit of d.services) lines.push(`  it(${q(`service ${unit} is running`)}, async () => expect((await service(${q(unit)})).running).toBe(true))`)
  lines.push('})', '')
  return lines.join('\n')
}

export interface GenerateOptions {
  roots: string[]
  output?: string
  force?: boolean
}

type Run = (hooks: RunHooks) => Promise<number>

export async function runGenerate(hostName: string, options: GenerateOptions, run: Run): Promise<number> {
  const found = new Map<string, Discovery>()
  const probe: LoadedSpec = await loadSpec('(generate)', async () => {
    it('generate: discover the host', async () => {
      const d = await discover(options.roots)
      found.set(d.host, d)
    })
  })
  let result: RunResult | undefined
  // only the discovery probe runs: no user spec is needed (or loaded) to generate the first one
  await run({ specs: [], extraSpecs: [probe], quiet: true, onResult: (r) => { result = r } })
  if (result?.configErrors.length) throw new ConfigError(result.configErrors.join('\n'))
  const host = result?.hosts[0]
  if (!host || result!.hosts.length !== 1) throw new ConfigError(`--from-host ${hostName}: select exactly one host`)
  const d = found.get(host.host.name)
  if (!d) {
    const why = host.error?.message ?? host.checks.find((c) => c.status === 'error')?.message ?? 'no answer'
    process.stderr.write(`could not read ${host.host.name}: ${why}\n`)
    return ExitCode.HostError
  }
  const output = options.output ?? path.join('specs', `${host.host.name.replace(/[^A-Za-z0-9_.-]+/g, '-')}.spec.ts`)
  if (existsSync(output) && !options.force) throw new ConfigError(`${output} exists; pass -o another file, or --force to overwrite`)
  mkdirSync(path.dirname(output), { recursive: true })
  writeFileSync(output, renderGeneratedSpec(d, new Date()), 'utf8')
  const counts = `${d.releases.length} release layouts, ${new Set(d.ports.map((l) => l.port)).size} listening ports, ${notableProcesses(d.processes, d.ports).length} processes, ${d.services.length} services`
  process.stdout.write(`wrote ${output} from ${host.host.name}: ${counts}${d.gaps.length ? ` (not discovered: ${d.gaps.join('; ')})` : ''}\n`)
  return ExitCode.Ok
}
