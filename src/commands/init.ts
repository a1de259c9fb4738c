// `verify init`: scaffolds specs/ (a typed release spec), hosts.yaml and a tsconfig.json in an
// existing repository, for a team that has neither. Never overwrites a file (without --force); says what it wrote and what is next.
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import path from 'node:path'

export interface InitOptions {
  dir: string
  /** The app's name (default: the directory's name). */
  app?: string
  /** Where releases live on the hosts (default /apps): releases under <appsRoot>/<app>/releases. */
  appsRoot?: string
  force?: boolean
}

export interface InitOutcome {
  written: string[]
  skipped: string[]
  notes: string[]
}

export function initProject(options: InitOptions): InitOutcome {
  const app = safeName(options.app ?? path.basename(path.resolve(options.dir)))
  const appsRoot = options.appsRoot ?? '/apps'
  const files: Record<string, string> = {
    'hosts.yaml': hostsTemplate(app, appsRoot),
    [`specs/${app}.spec.ts`]: specTemplate(),
    'tsconfig.json': tsconfigTemplate(),
  }
  const outcome: InitOutcome = { written: [], skipped: [], notes: [] }
  for (const [rel, content] of Object.entries(files)) {
    const abs = path.join(options.dir, rel)
    if (existsSync(abs) && !options.force) {
      outcome.skipped.push(rel)
      continue
    }
    mkdirSync(path.dirname(abs), { recursive: true })
    writeFileSync(abs, content, 'utf8')
    outcome.written.push(rel)
  }
  outcome.notes.push(...packageNotes(options.dir), ...gitignoreNotes(options.dir))
  return outcome
}

/** The request ledger (.verify/) is this machine's state, not the project's. */
function gitignoreNotes(dir: string): string[] {
  const file = path.join(dir, '.gitignore')
  const current = existsSync(file) ? readFileSync(file, 'utf8') : ''
  if (/^\/?\.verify\/?$/m.test(current)) return []
  writeFileSync(file, `${current}${current === '' || current.endsWith('\n') ? '' : '\n'}.verify/\n`)
  return ['added .verify/ to .gitignore (verify keeps its own requests there, so status counters stay rerun-safe)']
}

/** Specs are ES modules: a package.json without "type": "module" would load them as CommonJS. */
function packageNotes(dir: string): string[] {
  const file = path.join(dir, 'package.json')
  if (!existsSync(file)) {
    writeFileSync(file, `${JSON.stringify({ private: true, type: 'module', devDependencies: { 'postdeploy-verify': '*' } }, null, 2)}\n`)
    return ['wrote package.json ("type": "module", postdeploy-verify as a dev dependency): run npm install']
  }
  try {
    const pkg = JSON.parse(readFileSync(file, 'utf8')) as { type?: string }
    if (pkg.type !== 'module')
      return ['package.json has no "type": "module": add it, or rename the spec to .spec.mts, so the spec loads as an ES module']
  } catch {
    return ['package.json is not valid JSON; specs need "type": "module" in it']
  }
  return []
}

function safeName(name: string): string {
  const cleaned = name
    .toLowerCase()
    .replace(/[^a-z0-9_-]+/g, '-')
    .replace(/^-+|-+$/g, '')
  return cleaned || 'app'
}

function hostsTemplate(app: string, appsRoot: string): string {
  return `# Hosts verify can reach over SSH, grouped the way you deploy (docs: README, docs/rollouts.md).
# verify --hosts staging     verifies every host of the group; --limit, --shard, --hosts - narrow it.
defaults:
  user: deploy
  # identityFile: ~/.ssh/id_ed25519
  # knownHosts: ~/.ssh/known_hosts
vars:
  app: ${app}
  # where apps live on the hosts (releases under <appsRoot>/<app>/releases); required by the spec
  appsRoot: ${appsRoot}
  # statusPort: 8080        # the app's server-status port: enables the restart check
hosts:
  web-1: { address: 10.0.0.11 }
  web-2: { address: 10.0.0.12 }
groups:
  canary:
    hosts: [web-1]
  staging:
    hosts: [web-1, web-2]
`
}

function specTemplate(): string {
  return `// What must hold on every host after a deploy.
// Run: verify --hosts staging --expect-version <commit> --since <when the deploy began>
// Vars come from hosts.yaml (or --var key=value); \`verify check\` validates them against the schema below.
import { describe, it, expect, release, file, restart, hasVars, z } from 'postdeploy-verify'

// Every var this spec reads, typed. A host that lacks one stops the run before any connection
// (exit 3) with its hosts.yaml line: appsRoot has no default on purpose, so a host without it is
// an error rather than a check of the wrong directory.
const ReleaseVars = z.object({
  app: z.string(),
  appsRoot: z.string(),
  statusPort: z.number().optional(),
})

describe('release', { vars: ReleaseVars }, ({ vars }) => {
  const root = \`\${vars.appsRoot}/\${vars.app}\`

  it('is at the version being deployed', async () => {
    expect(await release(root, { revisionFile: 'REVISION' })).toBeAtExpectedVersion()
  })

  it('current points inside releases/', async () => {
    expect(await release(root)).toPointInsideReleases()
  })

  it('can roll back: the previous release is intact', async () => {
    expect(await release(root, { revisionFile: 'REVISION' })).toHaveIntactPrevious()
  })

  it('shared/ exists', async () => {
    expect(await file(\`\${root}/shared\`)).toBeDirectory()
  })

  // Where the app has a status page (statusPort set): with --since, its uptime must be shorter than
  // the time since the deploy began; without, its counter (verify's own requests discounted, every
  // run's) must stay under maxAccesses. Add processes: { args: vars.app } to require new workers too.
  it('restarted since the deploy', { when: hasVars('statusPort') }, async () => {
    expect(await restart({ statusPage: { url: \`http://127.0.0.1:\${vars.statusPort}/server-status?auto\`, via: 'host', maxAccesses: 10 } })).toBeRestarted()
  })
})
`
}

/** Type-checks the specs as verify runs them (ES modules the Node way, `.ts` imports), for the editor and `tsc`. */
function tsconfigTemplate(): string {
  const compilerOptions = {
    target: 'ES2022',
    lib: ['ES2023'],
    module: 'NodeNext',
    moduleResolution: 'NodeNext',
    strict: true,
    noEmit: true,
    allowImportingTsExtensions: true,
    types: ['node'],
  }
  return `${JSON.stringify({ compilerOptions, include: ['specs'] }, null, 2)}\n`
}

export function renderInit(outcome: InitOutcome): string {
  const lines = [
    ...outcome.written.map(f => `wrote ${f}`),
    ...outcome.skipped.map(f => `kept ${f} (exists; --force overwrites)`),
    ...outcome.notes.map(n => `note: ${n}`),
    '',
    'next: edit hosts.yaml, then  verify check  and  verify --hosts staging --expect-version <commit>',
    'or start from a host as it is:  verify generate --from-host web-1',
  ]
  return `${lines.join('\n')}\n`
}
