// A mixed fleet over real sshd, with the repository's own example specs (blog, shop, and the
// release layout they share): web and worker hosts of two apps, each running only the checks
// that apply to it, the rest reported as skipped with the reason; a host nothing applies to
// is flagged and never connected to; vars are validated before any connection; a secret var
// never reaches any output.
import { cpSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import http from 'node:http'
import type { AddressInfo } from 'node:net'
import path from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { XMLParser } from 'fast-xml-parser'
import { startFleet, type Fleet } from '../support/sshd.ts'
import { layDeploy, startStatusApp, type StatusApp } from '../support/deploy-tree.ts'
import { makeWorkdir, readResult, REPO_ROOT, runCli, type Workdir } from '../support/workdir.ts'
import { fleetDefaults } from '../support/fleet-project.ts'
import type { CheckResult } from '../../src/model.ts'

// quotes, $(…) and backticks, but only characters an HTTP header may carry
const TOKEN = 'rt-9f2c"$(id)`x`-7'
const ENV = { SHOP_READINESS_TOKEN: TOKEN }

const EXAMPLE_SPECS = ['blog-release.spec.ts', 'shop.spec.ts', 'shared']
let fleet: Fleet
let blogApp: StatusApp
let storefront: http.Server
let work: Workdir

/** The shop's storefront: pages answer 200; /ready only with the readiness token. */
function startStorefront(): Promise<http.Server> {
  const server = http.createServer((req, res) => {
    if (req.url === '/ready') res.statusCode = req.headers.authorization === `Bearer ${TOKEN}` ? 200 : 401
    else res.statusCode = req.url === '/' || req.url === '/cart' ? 200 : 404
    res.end()
  })
  return new Promise(resolve => server.listen(0, '127.0.0.1', () => resolve(server)))
}

// web-1: blog; shop-1: shop web; jobs-1: shop worker; db-1: nothing of ours runs there
function inventory(overrides: { blogVars?: string } = {}): string {
  const [web, shop, jobs, db] = fleet.hosts
  const appsRoot = (h: typeof web) => JSON.stringify(path.join(h!.root, 'apps'))
  return `${fleetDefaults(fleet)}
hosts:
  web-1: { address: ${web!.address}, vars: { appsRoot: ${appsRoot(web)} } }
  shop-1: { address: ${shop!.address}, vars: { appsRoot: ${appsRoot(shop)} } }
  jobs-1: { address: ${jobs!.address}, vars: { appsRoot: ${appsRoot(jobs)} } }
  db-1: { address: ${db!.address} }
groups:
  blog:
    hosts: [web-1]
    vars: ${overrides.blogVars ?? `{ app: blog, statusPort: ${blogApp.port} }`}
  shop-web: { hosts: [shop-1] }
  shop-workers: { hosts: [jobs-1] }
  shop:
    groups: [shop-web, shop-workers]
    vars:
      app: shop
      httpPort: ${(storefront.address() as AddressInfo).port}
      readinessToken: "\${env:SHOP_READINESS_TOKEN}"
  db: { hosts: [db-1] }
  all: { groups: [blog, shop, db] }
`
}

beforeAll(async () => {
  fleet = await startFleet({ hosts: 4, name: 'mixed' })
  blogApp = await startStatusApp()
  storefront = await startStorefront()
  const [web, shop, jobs] = fleet.hosts
  layDeploy(web!.root, 'blog')
  layDeploy(shop!.root, 'shop')
  const jobsApp = layDeploy(jobs!.root, 'shop').appRoot
  mkdirSync(path.join(jobsApp, 'current', 'config'))
  writeFileSync(path.join(jobsApp, 'current', 'config', 'queues.yml'), 'default: 5\n')
  work = makeWorkdir({ 'hosts.yaml': '' })
  // the repository's example apps: blog and shop, and what they share
  for (const name of EXAMPLE_SPECS) cpSync(path.join(REPO_ROOT, 'specs', name), path.join(work.dir, 'specs', name), { recursive: true })
  work.write('hosts.yaml', inventory())
})

afterAll(async () => {
  await blogApp?.close()
  await new Promise(resolve => storefront?.close(resolve))
  await fleet?.stop()
  work?.remove()
})

const parseXml = (file: string) =>
  new XMLParser({ ignoreAttributes: false, attributeNamePrefix: '' }).parse(readFileSync(path.join(work.dir, file), 'utf8'))
const byStatus = (checks: CheckResult[]) =>
  Object.fromEntries(
    ['passed', 'skipped', 'failed', 'error'].map(s => [s, checks.filter(c => c.status === s).map(c => c.path.join(' › '))]),
  )

/** sshd connections per host address, from its log. */
function connections(): Map<string, number> {
  const log = readFileSync(fleet.logFile, 'utf8')
  return new Map(
    fleet.hosts.map(h => [h.address, log.split('\n').filter(l => l.includes(`on ${h.address} port`) && /Connection from/.test(l)).length]),
  )
}

describe('a mixed group over real sshd', () => {
  it('runs on each host only its checks, reports the rest as skipped with why, flags the host nothing applies to (exit 0)', async () => {
    const before = connections()
    const run = await runCli(['--hosts', 'all', '--json', 'out/all.json', '--junit', 'out/all.xml'], { cwd: work.dir, env: ENV })
    expect(run.exitCode, run.stdout + run.stderr).toBe(0)
    const json = readResult(work.dir, 'out/all.json')
    const [web, shop, jobs, db] = json.hosts
    expect(json.hosts.map(h => h.host.name)).toEqual(['web-1', 'shop-1', 'jobs-1', 'db-1'])

    expect(byStatus(web!.checks)).toMatchObject({ skipped: ['Shop release'], failed: [], error: [] })
    expect(web!.checks.filter(c => c.status === 'passed')).toHaveLength(8)
    expect(web!.checks.find(c => c.status === 'skipped')!.message).toBe('var app is not "shop"')

    expect(byStatus(shop!.checks)).toMatchObject({ skipped: ['Blog release', 'Shop release › job runner'], failed: [], error: [] })
    expect(byStatus(shop!.checks).passed).toEqual(
      expect.arrayContaining([
        'Shop release › storefront › GET / answers 200',
        'Shop release › storefront › is ready to take orders',
        'Shop release › keeps between 1 and 3 releases',
      ]),
    )
    expect(byStatus(jobs!.checks)).toMatchObject({ skipped: ['Blog release', 'Shop release › storefront'], failed: [], error: [] })
    expect(byStatus(jobs!.checks).passed).toContain('Shop release › job runner › has its queue config')
    expect(jobs!.checks.find(c => c.path.join(' › ') === 'Shop release › storefront')!.message).toBe('host is not in group shop-web')

    // the shared example's checks say where they are written
    expect(shop!.checks.find(c => c.path.at(-1) === 'shared/log exists')!.source).toMatch(/^specs\/shared\/release-layout\.ts:\d+$/)

    // nothing applies on db-1: flagged, and never connected to
    expect(db).toMatchObject({ noChecksApply: true, execChannels: 0 })
    expect(byStatus(db!.checks).skipped).toEqual(['Blog release', 'Shop release'])
    expect(json.summary).toMatchObject({ hosts: 4, failed: 0, errors: 0, hostsWithNoChecks: 1 })
    const after = connections()
    expect(after.get(fleet.hosts[3]!.address)).toBe(before.get(fleet.hosts[3]!.address))
    for (const h of fleet.hosts.slice(0, 3)) expect(after.get(h.address)! - before.get(h.address)!).toBe(1)

    expect(run.stdout).toMatch(/^- db-1 \(.*\) NO CHECKS APPLY/m)
    expect(run.stdout).toMatch(/jobs-1[\s\S]*- Shop release › storefront {2}skipped: host is not in group shop-web/)
    expect(run.stdout).toMatch(/no check applies on 1 host\nPASS \(exit 0\)/)

    const suites = parseXml('out/all.xml').testsuites.testsuite as Array<{
      name: string
      skipped: string
      testcase: Array<{ name: string; skipped?: { message: string } }>
    }>
    const jobsSuite = suites.find(s => s.name === 'jobs-1')!
    expect(jobsSuite.testcase.find(c => c.name === 'storefront')!.skipped).toEqual({ message: 'host is not in group shop-web' })
    expect((suites.find(s => s.name === 'db-1') as unknown as { 'system-out': string })['system-out']).toContain(
      'no check applies to this host',
    )
  })

  it('--tags, --exclude-tags and --grep narrow the run; what they leave out is skipped with the flag named', async () => {
    const run = await runCli(['--hosts', 'shop', '--tags', 'smoke', '--json', 'out/smoke.json'], { cwd: work.dir, env: ENV })
    expect(run.exitCode, run.stdout + run.stderr).toBe(0)
    const [shop, jobs] = readResult(work.dir, 'out/smoke.json').hosts
    expect(byStatus(shop!.checks).passed).toEqual([
      'Shop release › storefront › GET / answers 200',
      'Shop release › storefront › GET /cart answers 200',
    ])
    expect(shop!.checks.find(c => c.path.at(-1) === 'shared/log exists')!.message).toBe('not tagged smoke (--tags)')
    // the worker has no smoke check: flagged
    expect(jobs!.noChecksApply).toBe(true)

    const grep = await runCli(['--hosts', 'shop-1', '--grep', 'storefront', '--exclude-tags', 'smoke', '--json', 'out/grep.json'], {
      cwd: work.dir,
      env: ENV,
    })
    expect(grep.exitCode, grep.stdout + grep.stderr).toBe(0)
    const checks = readResult(work.dir, 'out/grep.json').hosts[0]!.checks
    expect(byStatus(checks).passed).toEqual(['Shop release › storefront › is ready to take orders'])
    expect(checks.find(c => c.path.at(-1) === 'current points into releases/')!.message).toBe('title does not match --grep storefront')
  })

  it('a missing or mistyped var stops the run before connecting to any host, naming the hosts.yaml line (exit 3)', async () => {
    work.write(
      'bad-vars.yaml',
      inventory({ blogVars: '{ app: blog }' }).replace(/(shop-1: \{ address: [^,]+, vars: \{ )/, '$1httpPort: "eighty", '),
    )
    const before = connections()
    const run = await runCli(['--hosts', 'all', '-i', 'bad-vars.yaml', '--json', 'out/bad.json'], { cwd: work.dir, env: ENV })
    expect(run.exitCode, run.stdout + run.stderr).toBe(3)
    expect(run.stderr).toMatch(
      /^ +bad-vars\.yaml:3 web-1: statusPort is required \(number\) — specs\/blog-release\.spec\.ts:\d+ "Blog release"$/m,
    )
    expect(run.stderr).toMatch(
      /^ +bad-vars\.yaml:4 shop-1: httpPort must be a number, got "eighty" — specs\/shop\.spec\.ts:\d+ "Shop release"$/m,
    )
    expect(connections()).toEqual(before)
    expect(readResult(work.dir, 'out/bad.json').configErrors[0]).toMatch(/nothing was connected to/)
  })

  it('an unset ${env:…} var is an error naming the variable and the line (exit 3)', async () => {
    const run = await runCli(['--hosts', 'shop'], { cwd: work.dir })
    expect(run.exitCode, run.stdout + run.stderr).toBe(3)
    expect(run.stderr).toMatch(/hosts\.yaml:\d+ shop-1, jobs-1: readinessToken: environment variable SHOP_READINESS_TOKEN is not set/)
    // verifying only the blog does not need the shop's secret
    const blog = await runCli(['--hosts', 'blog'], { cwd: work.dir })
    expect(blog.exitCode, blog.stdout + blog.stderr).toBe(0)
  })

  it('a secret var never reaches the console, JSON or JUnit, even when a check prints it', async () => {
    work.write(
      'leak/leak.spec.ts',
      `
import { describe, it, expect, command, http, inGroup, secret, z } from 'postdeploy-verify'
describe('leaks', { when: inGroup('shop-web'), vars: z.object({ readinessToken: secret(z.string()), httpPort: z.number() }) }, ({ vars }) => {
  it('echoes the token', async () => {
    expect((await command("printf '%s' '" + vars.readinessToken + "'")).stdout).toBe('not it')
  })
  it('compares with the token', () => { expect('nope').toBe(vars.readinessToken) })
  it('throws it', () => { throw new Error('token is ' + vars.readinessToken) })
  it('sends it', async () => { expect((await http('http://127.0.0.1:' + vars.httpPort + '/ready?t=' + encodeURIComponent(vars.readinessToken), { via: 'host' })).status).toBe(418) })
})
`,
    )
    const run = await runCli(['--hosts', 'shop-1', '--specs', 'leak/*.spec.ts', '--json', 'out/leak.json', '--junit', 'out/leak.xml'], {
      cwd: work.dir,
      env: ENV,
    })
    expect(run.exitCode, run.stdout + run.stderr).toBeGreaterThanOrEqual(1)
    const outputs = [
      run.stdout,
      run.stderr,
      readFileSync(path.join(work.dir, 'out/leak.json'), 'utf8'),
      readFileSync(path.join(work.dir, 'out/leak.xml'), 'utf8'),
    ]
    for (const text of outputs) {
      expect(text).not.toContain('rt-9f2c')
      expect(text).not.toContain(encodeURIComponent(TOKEN).slice(0, 12))
    }
    expect(run.stdout).toContain('[secret:readinessToken]')
    const list = await runCli(['list', '--hosts', 'shop-1', '--specs', 'leak/*.spec.ts'], { cwd: work.dir, env: ENV })
    expect(list.stdout + list.stderr).not.toContain('rt-9f2c')
  })

  it('verify list shows per host what would run and what is skipped, without connecting', async () => {
    const before = connections()
    const run = await runCli(['list', '--hosts', 'all'], { cwd: work.dir, env: ENV })
    expect(run.exitCode, run.stdout + run.stderr).toBe(0)
    expect(run.stdout).toMatch(/^jobs-1 \(.*\) {2}groups: all, shop, shop-workers$/m)
    expect(run.stdout).toMatch(/^ {4}• Shop release › job runner › has its queue config {2}\[worker\]/m)
    expect(run.stdout).toMatch(/^ {4}- Shop release › storefront {2}skipped: host is not in group shop-web/m)
    expect(run.stdout).toMatch(/^db-1 \(.*\) {2}groups: all, db {2}NO CHECKS APPLY$/m)
    expect(run.stdout).toMatch(/4 hosts: 22 checks would run, 7 skipped; no check applies on 1 host \(nothing was connected to\)/)
    expect(connections()).toEqual(before)
    const flag = await runCli(['--hosts', 'db', '--list'], { cwd: work.dir, env: ENV })
    expect(flag.exitCode).toBe(3)
    expect(flag.stderr).toMatch(/no checks apply to the selected hosts: all 2 were skipped/)
  })
})
