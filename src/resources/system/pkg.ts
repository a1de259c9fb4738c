// pkg(name): is a package installed, in which version, by which package manager (dpkg or rpm).
// Compare versions with `toSatisfyVersion('>= 1.2.3')`: the manager's own ordering, not string order.
import { FactError } from '../../errors.ts'
import { readFact } from '../../dsl/context.ts'
import { defineFact, factFailure, type FactRequest, type RawFact } from '../../probe/fact.ts'
import { snippet } from '../../probe/snippet.ts'
import { compareVersions, type VersionScheme } from '../../lib/version-compare.ts'

export type PackageManager = 'dpkg' | 'rpm'

export interface PkgFacts {
  name: string
  manager: PackageManager
  installed: boolean
  /** The installed version (the highest, when several are: multi-arch, several kernels); dpkg: `1:9.2p1-2`, rpm: `[epoch:]version-release`. */
  version?: string
  /** Every installed version, highest first. */
  versions: string[]
  /** Architectures of the installed instances (amd64, x86_64, noarch, all…). */
  architectures: string[]
  /** dpkg's two-letter state (`ii` installed, `rc` removed with config left, `hi` held…); undefined for rpm. */
  status?: string
}

export interface PkgOptions {
  /** Which package database to ask; default: dpkg when the host has it, else rpm. */
  manager?: PackageManager
}

// Formats go in as arguments: `${Package}` in dpkg's format must not meet the shell or JS.
const DPKG_FORMAT = '${Package}\t${Architecture}\t${db:Status-Abbrev}\t${Version}\n'
const RPM_FORMAT = '%{NAME}\t%{ARCH}\t%{EPOCH}\t%{VERSION}\t%{RELEASE}\n'

const NO_MANAGER = 3

/** dpkg's database (`status`, `updates/`): read by awk, not through dpkg-query (pkg.sh says why). */
export const DPKG_ADMIN_DIR = '/var/lib/dpkg'

const QUERY_SCRIPT = snippet(import.meta.url, 'pkg.sh')

export function pkgFact(name: string, manager?: PackageManager): FactRequest<PkgFacts> {
  return defineFact({
    key: `pkg:${manager ?? 'auto'}:${name}`,
    describe: `package ${name}`,
    script: QUERY_SCRIPT,
    inline: true,
    args: [name, manager ?? 'auto', DPKG_FORMAT, RPM_FORMAT, DPKG_ADMIN_DIR],
    // which statuses are answers depends on the manager (dpkg-query and rpm say "not installed" differently)
    answers: 'any',
    parse: (raw, request) => parsePkgFact(request, name, raw),
  })
}

function parsePkgFact(request: FactRequest<PkgFacts>, name: string, raw: RawFact): PkgFacts {
  const stdout = raw.stdout.toString('utf8')
  const stderr = raw.stderr.toString('utf8')
  if (raw.exitCode === NO_MANAGER && /no package manager/.test(stderr)) throw new FactError(`${request.describe}: ${stderr.trim()}`)
  const newline = stdout.indexOf('\n')
  const manager = stdout.slice(0, newline)
  const body = stdout.slice(newline + 1)
  if (manager === 'dpkg') {
    // exit 1 with "no packages found matching" is the answer "not installed", anything else is a failure
    if (raw.exitCode !== 0 && !/no packages found matching/.test(stderr)) throw factFailure(request, raw)
    return parseDpkgQuery(name, body)
  }
  if (manager === 'rpm') {
    // rpm exits with the number of packages not found; "error:" means it could not read its database
    if (/^error:/m.test(stderr) || (raw.exitCode !== 0 && !/is not installed/.test(body + stderr))) throw factFailure(request, raw)
    return parseRpmQuery(name, body)
  }
  throw factFailure(request, raw)
}

/** Lines of `Package\tArchitecture\tStatus-Abbrev\tVersion` (dpkg-query takes the name as a glob: filter exactly). */
export function parseDpkgQuery(name: string, out: string): PkgFacts {
  const rows = out
    .split('\n')
    .filter(Boolean)
    .map(line => {
      const [pkgName = '', arch = '', status = '', version = ''] = line.split('\t')
      return { pkgName, arch, status: status.trim(), version }
    })
  const mine = rows.filter(r => r.pkgName === name || `${r.pkgName}:${r.arch}` === name)
  // the second letter is the state: i = installed (first is the wish, third an error flag)
  const installed = mine.filter(r => r.status[1] === 'i')
  return { ...installedFacts(name, 'dpkg', installed, 'deb'), status: (installed[0] ?? mine[0])?.status }
}

/** Lines of `NAME\tARCH\tEPOCH\tVERSION\tRELEASE`, or `package x is not installed`. */
export function parseRpmQuery(name: string, out: string): PkgFacts {
  const rows = out
    .split('\n')
    .filter(l => l.includes('\t'))
    .map(line => {
      const [pkgName = '', arch = '', epoch = '', version = '', release = ''] = line.split('\t')
      // epoch:version-release, rpm's own comparison form
      return { pkgName, arch, version: `${epoch && epoch !== '(none)' ? `${epoch}:` : ''}${version}-${release}` }
    })
  // rpm -q also accepts name-version: only the exact name counts
  const mine = rows.filter(r => r.pkgName === name || `${r.pkgName}.${r.arch}` === name)
  return installedFacts(name, 'rpm', mine, 'rpm')
}

/** The facts both managers give from the installed rows: newest version first, every architecture once. */
function installedFacts(
  name: string,
  manager: 'dpkg' | 'rpm',
  installed: ReadonlyArray<{ version: string; arch: string }>,
  scheme: 'deb' | 'rpm',
): PkgFacts {
  const versions = sortDescending(
    installed.map(r => r.version),
    scheme,
  )
  return {
    name,
    manager,
    installed: installed.length > 0,
    version: versions[0],
    versions,
    architectures: [...new Set(installed.map(r => r.arch))],
  }
}

function sortDescending(versions: string[], scheme: VersionScheme): string[] {
  return [...new Set(versions)].sort((a, b) => compareVersions(b, a, scheme))
}

/** The version ordering to compare this package's versions with. */
export function schemeOf(pkg: Pick<PkgFacts, 'manager'>): VersionScheme {
  return pkg.manager === 'rpm' ? 'rpm' : 'deb'
}

/** `pkg('openssh-server')`: installed, version, manager. */
export function pkg(name: string, options: PkgOptions = {}): Promise<PkgFacts> {
  if (name === '') throw new Error('pkg(): give a package name')
  return readFact(pkgFact(name, options.manager))
}
