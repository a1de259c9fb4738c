import { describe, expect, it } from 'vitest'
import { notableProcesses, parseDiscovery, renderGeneratedSpec, targetGroups, type Discovery } from '../../src/commands/generate.ts'
import type { ProcessInfo } from '../../src/resources/system/process.ts'

const proc = (pid: number, ppid: number, name: string, args: string, elapsedSeconds = 3600): ProcessInfo => ({
  pid,
  ppid,
  name,
  args,
  argv: args.split(' '),
  user: 'root',
  uid: 0,
  state: 'S',
  startedAt: new Date(0),
  elapsedSeconds,
})

describe('verify generate', () => {
  it('parses the discovery output (release roots, then services)', () => {
    expect(parseDiscovery('R\0/apps/blog\0R\0/srv/shop\0S\0nginx.service\0ssh.service\0')).toEqual({
      releaseRoots: ['/apps/blog', '/srv/shop'],
      services: ['nginx.service', 'ssh.service'],
    })
    expect(parseDiscovery('')).toEqual({ releaseRoots: [] })
    expect(parseDiscovery('R\0/apps/blog\0P\x0032768\x0060999\0')).toEqual({ releaseRoots: ['/apps/blog'], ephemeralPorts: [32768, 60999] })
  })

  it('keeps daemons (ppid 1, or owning a listening port), not kernel threads or shells', () => {
    const ps = [
      proc(1, 0, 'systemd', '/sbin/init'),
      proc(2, 0, 'kthreadd', ''),
      proc(300, 1, 'nginx', 'nginx: master'),
      proc(301, 300, 'nginx', 'nginx: worker'),
      proc(400, 1, 'kworker/0:1', ''),
      proc(500, 900, 'puma', 'puma 6 [blog]'),
      proc(600, 500, 'bash', 'bash'),
    ]
    const ports = [{ protocol: 'tcp' as const, address: '0.0.0.0', port: 3000, family: 4 as const, owner: [{ pid: 500, name: 'puma' }] }]
    expect(notableProcesses(ps, ports)).toEqual(['nginx', 'puma'])
  })

  it('leaves out transient processes: memfd: executables and anything younger than a minute', () => {
    const ps = [proc(300, 1, 'nginx', 'nginx: master'), proc(310, 1, 'memfd:runc', 'memfd:runc init'), proc(320, 1, 'job', 'job --once', 5)]
    expect(notableProcesses(ps, [])).toEqual(['nginx'])
  })

  it("applies where the host's most specific groups are, never the group of every host", () => {
    const groups = new Map([
      ['fleet', ['web-1', 'web-2', 'jobs-1']],
      ['web', ['web-1', 'web-2']],
      ['blog', ['web-1', 'web-2']],
      ['canary', ['web-1']],
    ])
    expect(targetGroups(['fleet', 'web', 'blog'], groups, 3)).toEqual(['blog', 'web'])
    expect(targetGroups(['fleet', 'web', 'canary'], groups, 3)).toEqual(['canary'])
    expect(targetGroups(['fleet'], groups, 3)).toEqual([])
  })

  it("writes paths and ports that equal a var with the var, the host's address and SSH port with host, no ephemeral port; only what it uses is imported", () => {
    const d: Discovery = {
      host: 'web-1',
      hostInfo: { address: '10.0.0.11', port: 22, groups: ['blog'] },
      vars: { appsRoot: '/srv/apps', app: 'blog', statusPort: 8080, hostRoot: '/srv' },
      releases: [{ root: '/srv/apps/blog', revisionFile: 'REVISION' }],
      ports: [
        { protocol: 'tcp', address: '0.0.0.0', port: 22, family: 4, owner: 'unknown' },
        { protocol: 'tcp', address: '127.0.0.1', port: 8080, family: 4, owner: 'unknown' },
        { protocol: 'tcp', address: '127.0.0.1', port: 41234, family: 4, owner: 'unknown' },
      ],
      ephemeralPorts: [32768, 60999],
      processes: [],
      services: [],
      gaps: [],
    }
    const spec = renderGeneratedSpec(d, new Date('2026-11-25T12:00:00Z'), { groups: ['blog'] })
    expect(spec).toContain("import { describe, it, expect, release, port, inGroup, z } from 'postdeploy-verify'")
    expect(spec).toContain('const Vars = z.object({ appsRoot: z.string(), app: z.string(), statusPort: z.number() })')
    expect(spec).toContain('describe("blog (as found on web-1)", { when: inGroup("blog"), vars: Vars }, ({ host, vars }) => {')
    expect(spec).toContain(
      'it("{appsRoot}/{app}: current points inside releases/", async () => expect(await release(`${vars.appsRoot}/${vars.app}`, { revisionFile: "REVISION" })).toPointInsideReleases())',
    )
    expect(spec).toContain(
      'it("listens on tcp 22 (the SSH port)", async () => expect(await port(host.port)).toBeListeningOn(host.address))',
    )
    expect(spec).toContain(
      'it("listens on tcp {statusPort}", async () => expect(await port(vars.statusPort)).toBeListeningOn("127.0.0.1"))',
    )
    expect(spec).not.toContain('41234')
  })

  it('writes values into the spec as string literals, whatever they hold', () => {
    const d: Discovery = {
      host: 'web-1',
      releases: [{ root: '/apps/it\'s "odd" ${x} `y`', revisionFile: 'REVISION', facts: { previous: 'r1' } as never }],
      ports: [{ protocol: 'tcp', address: '::', port: 443, family: 6, owner: 'unknown' }],
      processes: [],
      services: ['nginx.service'],
      gaps: ['processes: permission denied'],
    }
    const spec = renderGeneratedSpec(d, new Date('2026-11-25T12:00:00Z'))
    expect(spec).toContain('release("/apps/it\'s \\"odd\\" ${x} `y`", { revisionFile: "REVISION" })')
    expect(spec).toContain('it("listens on tcp 443", async () => expect(await port(443)).toBeListening())')
    expect(spec).toContain("import { describe, it, expect, release, port, service } from 'postdeploy-verify'")
    expect(spec).toContain('describe("web-1 as found", () => {')
    expect(spec).toContain('it("service nginx.service is running"')
    expect(spec).toContain('// Not discovered: processes: permission denied')
  })
})
