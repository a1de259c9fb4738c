// `verify check` as a commit hook runs it: no host is contacted; type errors in specs, a
// broken inventory, vars that do not match the specs' schemas and a left-over only are each
// reported with file:line; exit 0 when clean, 3 otherwise.
import { cpSync } from 'node:fs'
import path from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { makeWorkdir, runCli, REPO_ROOT, type Workdir } from '../support/workdir.ts'

const EXAMPLE_SPECS = ['blog-release.spec.ts', 'shop.spec.ts', 'shared']
let work: Workdir

const HOSTS = `vars:
  appsRoot: /srv/apps
hosts:
  web-1: { vars: { statusPort: 5000 } }
  web-2:
  jobs-1:
groups:
  blog:
    hosts: [web-1, web-2]
    vars: { app: blog }
  shop-workers:
    hosts: [jobs-1]
    vars: { app: shop, httpPort: 8080, readinessToken: "\${env:SHOP_TOKEN}" }
`

beforeAll(() => {
  work = makeWorkdir({ 'hosts.yaml': HOSTS.replace('  web-2:\n', '  web-2: { vars: { statusPort: 5001 } }\n') })
  // the repository's example apps: blog and shop, and what they share
  for (const name of EXAMPLE_SPECS) cpSync(path.join(REPO_ROOT, 'specs', name), path.join(work.dir, 'specs', name), { recursive: true })
})
afterAll(() => work?.remove())

describe('verify check', () => {
  it('passes the example specs and a matching inventory; an unset ${env:…} is a note, not a failure (exit 0)', async () => {
    const run = await runCli(['check'], { cwd: work.dir })
    expect(run.exitCode, run.stdout + run.stderr).toBe(0)
    expect(run.stdout).toMatch(/^note: readinessToken on jobs-1: not checked, refers to an environment variable that is not set here$/m)
    expect(run.stdout).toMatch(/verify check: OK: 2 spec files type-check, 3 hosts' vars match, \d+ checks would run \(\d+\.\d+s\)/)
  })

  it('reports a type error in a spec and a missing var, each with file:line (exit 3)', async () => {
    work.write('hosts.yaml', HOSTS)
    work.write(
      'specs/status.spec.ts',
      `import { describe, it, expect, http, z } from 'postdeploy-verify'

const StatusVars = z.object({ statusPort: z.number() })

describe('status page', { vars: StatusVars }, ({ vars }) => {
  it('answers', async () => {
    const res = await http(\`http://127.0.0.1:\${vars.statusPrt}/\`)
    expect(res.status).toBe(200)
  })
})
`,
    )
    try {
      const run = await runCli(['check'], { cwd: work.dir })
      expect(run.exitCode, run.stdout + run.stderr).toBe(3)
      expect(run.stderr).toMatch(
        /^specs\/status\.spec\.ts:7:\d+: TS2551: Property 'statusPrt' does not exist on type .*Did you mean 'statusPort'\?/m,
      )
      expect(run.stderr).toMatch(
        /^hosts\.yaml:5 web-2: statusPort is required \(number\) — specs\/blog-release\.spec\.ts:\d+ "Blog release"$/m,
      )
      expect(run.stderr).toMatch(/^hosts\.yaml:5 web-2: statusPort is required \(number\) — specs\/status\.spec\.ts:5 "status page"$/m)
      expect(run.stderr).toMatch(/^hosts\.yaml:6 jobs-1: statusPort is required \(number\) — specs\/status\.spec\.ts:5 "status page"$/m)
      expect(run.stderr).toMatch(/verify check: 4 problems/)
    } finally {
      work.write('hosts.yaml', HOSTS.replace('  web-2:\n', '  web-2: { vars: { statusPort: 5001 } }\n'))
      work.write(
        'specs/status.spec.ts',
        `import { describe, it } from 'postdeploy-verify'\ndescribe('status page', () => it('answers', () => {}))\n`,
      )
    }
  })

  it('reports a spec that does not load, a broken inventory and a left-over only (exit 3)', async () => {
    work.write('broken/syntax.spec.ts', `import { describe, it } from 'postdeploy-verify'\ndescribe('x', () => {\n  const = 1\n})\n`)
    work.write(
      'broken/focus.spec.ts',
      `import { describe, it } from 'postdeploy-verify'\ndescribe('x', () => {\n  it.only('focused', () => {})\n})\ndescribe.only('y', () => {})\n`,
    )
    work.write('broken.yaml', 'hosts:\n  web-1: { port: "abc" }\n')
    const run = await runCli(['check', '--specs', 'broken/*.spec.ts', '-i', 'broken.yaml'], { cwd: work.dir })
    expect(run.exitCode, run.stdout + run.stderr).toBe(3)
    expect(run.stderr).toMatch(/^broken\/syntax\.spec\.ts:3:\d+: TS\d+: /m)
    expect(run.stderr).toMatch(/^broken\.yaml:2:\d+: hosts\.web-1\.port: /m)
    expect(run.stderr).toMatch(/^broken\/syntax\.spec\.ts:3(:\d+)?: .*/m)
    // the top-level one is found without any host (the inventory is broken)
    expect(run.stderr).toMatch(/^broken\/focus\.spec\.ts:5: only is left in/m)
  })
})

describe("verify check with the run's flags", () => {
  const VERSION_SPEC = `import { describe, it, expect, z } from 'postdeploy-verify'

const ReleaseVars = z.object({ expectVersion: z.string(), statusPort: z.number() })

describe('release', { vars: ReleaseVars }, ({ vars }) => {
  it('is the expected version', async () => expect(vars.expectVersion.length).toBeGreaterThan(0))
})
`
  let project: Workdir
  beforeAll(() => {
    project = makeWorkdir({
      'hosts.yaml': 'hosts:\n  web-1: { vars: { statusPort: 5000 } }\n  web-2: { vars: { statusPort: 5001 } }\n',
      'specs/release.spec.ts': VERSION_SPEC,
    })
  })
  afterAll(() => project?.remove())

  it("accepts --expect-version and the run's other flags, which set vars and narrow the selection as for a run (exit 0)", async () => {
    const missing = await runCli(['check'], { cwd: project.dir })
    expect(missing.exitCode).toBe(3)
    expect(missing.stderr).toMatch(/web-1: expectVersion is required \(string\)/)
    const run = await runCli(
      [
        'check',
        '--expect-version',
        '20261121',
        '--since',
        '2026-11-21T12:00:00Z',
        '--wait',
        '2m',
        '--limit',
        'web-*',
        '--shard',
        '1/2',
        '--junit',
        'never-written.xml',
        '--tags',
        'smoke',
      ],
      { cwd: project.dir },
    )
    expect(run.exitCode, run.stdout + run.stderr).toBe(0)
    // --limit and --shard narrowed the hosts to web-1; --tags left nothing to run on them, which check reports as 0 checks, not a problem
    expect(run.stdout).toMatch(/verify check: OK: 1 spec file type-check, 1 host's vars match, 0 checks would run/)
  }, 180_000)

  it('gives a --var that parses as a number to a var whose schema wants text as the text typed', async () => {
    const run = await runCli(['check', '--var', 'expectVersion=20261121'], { cwd: project.dir })
    expect(run.exitCode, run.stdout + run.stderr).toBe(0)
    expect(run.stdout).toMatch(/2 hosts' vars match, 2 checks would run/)
  })

  it('says how --var reads values, and how to quote one, when its value still does not fit', async () => {
    const run = await runCli(['check', '--var', 'expectVersion=20261121', '--var', 'statusPort=08080'], { cwd: project.dir })
    expect(run.exitCode).toBe(3)
    expect(run.stderr).toMatch(
      /--var web-1: statusPort must be a number, got "08080" \(set by --var, which reads a value as JSON when it parses, else as text: --var statusPort=8080 is a number, --var 'statusPort="8080"' text, --var 'statusPort=\["a","b"\]' a list\)/,
    )
  })
})
