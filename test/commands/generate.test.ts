import { describe, expect, it } from 'vitest'
import { notableProcesses, parseDiscovery, renderGeneratedSpec, type Discovery } from '../../src/commands/generate.ts'
import type { ProcessInfo } from '../../src/resources/process.ts'

const proc = (pid: number, ppid: number, name: string, args: string): ProcessInfo => ({ pid, ppid, name, args, argv: args.split(' '), user: 'root', uid: 0, state: 'S', startedAt: new Date(0), elapsedSeconds: 1 })

describe('verify generate', () => {
  it('parses the discovery output (release roots, then services)', () => {
    expect(parseDiscovery('R\0/apps/blog\0R\0/srv/shop\0S\0nginx.service\0ssh.service\0')).toEqual({ releaseRoots: ['/apps/blog', '/srv/shop'], services: ['nginx.service', 'ssh.service'] })
    expect(parseDiscovery('')).toEqual({ releaseRoots: [] })
  })

  it('keeps daemons (ppid 1, or owning a listening port), not kernel threads or shells', () => {
    const ps = [proc(1, 0, 'systemd', '/sbin/init'), proc(2, 0, 'kthreadd', ''), proc(300, 1, 'nginx', 'nginx: master'), proc(301, 300, 'nginx', 'nginx: worker'), proc(400, 1, 'kworker/0:1', ''), proc(500, 900, 'puma', 'puma 6 [blog]'), proc(600, 500, 'bash', 'bash')]
    const ports = [{ protocol: 'tcp' as const, address: '0.0.0.0', port: 3000, family: 4 as const, owner: [{ pid: 500, name: 'puma' }] }]
    expect(notableProcesses(ps, ports)).toEqual(['nginx', 'puma'])
  })

  it('writes values into the spec as string literals, whatever they hold', () => {
    const d: Discovery = {
      host: 'web-1',
      releases: [{ root: "/apps/it's \"odd\" ${x} `y`", revisionFile: 'REVISION', facts: { previous: 'r1' } as never }],
      ports: [{ protocol: 'tcp', address: '::', port: 443, family: 6, owner: 'unknown' }],
      processes: [],
      services: ['nginx.service'],
      gaps: ['processes: permission denied'],
    }
    const spec = renderGeneratedSpec(d, new Date('2026-11-25T12:00:00Z'))
    expect(spec).toContain('release("/apps/it\'s \\"odd\\" ${x} `y`", { revisionFile: "REVISION" })')
    expect(spec).toContain('it("listens on tcp 443", async () => expect((await port(443)).addresses).toEqual(["::"]))')
    expect(spec).toContain('it("service nginx.service is running"')
    expect(spec).toContain('// Not discovered: processes: permission denied')
  })
})
