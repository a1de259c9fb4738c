// `--dry-run` on the example specs: per host the first round's script verbatim, the HTTP
// requests and from where, the checks and the skips; and no connection of any kind: the hosts
// are TCP listeners that count connections, the runner-side HTTP target counts requests, and
// one host is an address nothing answers on (a connect attempt would hang on it).
import { cpSync } from 'node:fs'
import { createServer as createHttpServer, type Server as HttpServer } from 'node:http'
import { createServer, type Server } from 'node:net'
import path from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { makeWorkdir, runCli, REPO_ROOT, type CliRun, type Workdir } from '../support/workdir.ts'

let work: Workdir
let sshd: Server
let web: HttpServer
let tcpConnections = 0
let httpRequests = 0
let run: CliRun

function listen(server: Server | HttpServer): Promise<number> {
  return new Promise(resolve => server.listen(0, '127.0.0.1', () => resolve((server.address() as { port: number }).port)))
}

beforeAll(async () => {
  sshd = createServer(socket => {
    tcpConnections++
    socket.destroy()
  })
  web = createHttpServer((_, res) => {
    httpRequests++
    res.end('ok')
  })
  const sshPort = await listen(sshd)
  const webPort = await listen(web)
  work = makeWorkdir({
    'hosts.yaml': `defaults: { user: deploy }
vars: { appsRoot: /srv/apps }
hosts:
  web-1: { address: 127.0.0.1, port: ${sshPort}, vars: { statusPort: 5000 } }
  shop-1: { address: 192.0.2.10, vars: { httpPort: 8080, readinessToken: "s3cret-readiness" } }
groups:
  blog: { hosts: [web-1], vars: { app: blog } }
  shop-web: { hosts: [shop-1], vars: { app: shop } }
`,
    // a runner-side request, with quoting a shell must keep: a path with a quote and a $()
    'specs/runner.spec.ts': `import { describe, it, expect, http, file } from 'postdeploy-verify'
describe('from the runner', () => {
  it('reaches the public URL', async () => { expect((await http('http://127.0.0.1:${webPort}/public')).status).toBe(200) })
  it("reads an odd path", async () => { expect((await file("/srv/it's \$(rm -rf x)")).exists).toBe(true) })
})
`,
  })
  for (const name of ['blog-release.spec.ts', 'shop.spec.ts', 'shared'])
    cpSync(path.join(REPO_ROOT, 'specs', name), path.join(work.dir, 'specs', name), { recursive: true })
  run = await runCli(['--hosts', 'web-1,shop-1', '--dry-run', '--connect-timeout', '30'], { cwd: work.dir })
}, 120_000)

afterAll(async () => {
  await new Promise(resolve => sshd?.close(resolve))
  await new Promise(resolve => web?.close(resolve))
  work?.remove()
})

describe('verify --dry-run', () => {
  it('exits 0 without connecting: no TCP connection to a host, no HTTP request, no wait on an address that does not answer', () => {
    expect(run.exitCode, run.stdout + run.stderr).toBe(0)
    expect(tcpConnections).toBe(0)
    expect(httpRequests).toBe(0)
    // a connect to 192.0.2.10 (TEST-NET-1) would wait for --connect-timeout (30 s)
    expect(run.ms).toBeLessThan(25_000)
    expect(run.stdout).toMatch(/dry run: 2 hosts, \d+ checks would run, \d+ would not; nothing was connected to/)
  })

  it('prints per host the checks that would run and those that would not, with why', () => {
    const [web1, shop1] = run.stdout.split(/^== /m).slice(1)
    expect(web1).toMatch(/^web-1 \(ssh deploy@127\.0\.0\.1:\d+/)
    expect(web1).toContain('• Blog release › answers its health check  specs/blog-release.spec.ts:')
    expect(web1).toContain('- Shop release  skipped: var app is not "shop"')
    expect(shop1).toMatch(/^shop-1 \(ssh deploy@192\.0\.2\.10:22/)
    expect(shop1).toContain('- Shop release › job runner  skipped: host is not in group shop-workers')
  })

  it("prints the first round's script verbatim, with every value single-quoted", () => {
    const [web1] = run.stdout.split(/^== /m).slice(1)
    expect(web1).toContain("round 1: one connection, one exec channel running '/bin/sh -s', with this script on stdin")
    const script = web1!
      .split('\n')
      .filter(l => l.startsWith('    | '))
      .map(l => l.slice(6))
    expect(script[0]).toBe('{')
    expect(script.at(-1)).toBe('}')
    // each fact a shell function of the batch, its values arguments: `__va N; __viK 'arg' …; __vz N`
    expect(script.join('\n')).toMatch(/^__va \d+; __vi\d+ '\/srv\/apps\/blog\/current\/REVISION' '1048577' <\/dev\/null; __vz \d+$/m)
    // the hostile path is an argument, quoted so that it is never shell code
    expect(script.join('\n')).toContain(`'/srv/it'\\''s $(rm -rf x)'`)
  })

  it('prints the HTTP requests and whether they go via the host; credentials in headers are hidden', () => {
    const [web1, shop1] = run.stdout.split(/^== /m).slice(1)
    expect(web1).toMatch(/GET http:\/\/127\.0\.0\.1:5000\/health  \(via host: tunnelled through web-1's SSH connection\)/)
    expect(web1).toMatch(/GET http:\/\/127\.0\.0\.1:\d+\/public  \(via runner: from this machine\)/)
    expect(shop1).toContain('GET http://127.0.0.1:8080/ready  (via host')
    expect(run.stdout).not.toContain('s3cret-readiness')
  })
})
