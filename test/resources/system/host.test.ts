import net from 'node:net'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { FactError } from '../../../src/errors.ts'
import { host, parseGetent, parseReach, reachFact, resolveFact } from '../../../src/resources/system/host.ts'
import { onLocalHost } from '../../support/local-host.ts'
import { BASIC_TOOLS, runWithTools } from '../../support/restricted-path.ts'

// getent on Debian 12 with `::1 localhost ip6-localhost` in /etc/hosts.
const AHOSTS_DUAL = `::1             STREAM localhost
::1             DGRAM  
::1             RAW    
127.0.0.1       STREAM 
127.0.0.1       DGRAM  
127.0.0.1       RAW    
`
const HOSTS = '127.0.0.1       localhost\n'

describe('parseGetent', () => {
  it('ahosts: each address once, IPv4 first', () => {
    expect(parseGetent('localhost', AHOSTS_DUAL)).toEqual({
      name: 'localhost',
      resolvable: true,
      addresses: ['127.0.0.1', '::1'],
      ipv4: ['127.0.0.1'],
      ipv6: ['::1'],
    })
  })

  it('hosts (older getent) and not found', () => {
    expect(parseGetent('localhost', HOSTS).addresses).toEqual(['127.0.0.1'])
    expect(parseGetent('x.invalid', 'not found\n')).toMatchObject({ resolvable: false, addresses: [] })
  })
})

describe('parseReach', () => {
  it('nc: success, refused, name not known', () => {
    expect(parseReach('db', 5432, 5, 'nc\nConnection to 127.0.0.1 5432 port [tcp/postgresql] succeeded!\nexit=0\n')).toEqual({
      name: 'db',
      port: 5432,
      reachable: true,
      via: 'nc',
    })
    expect(parseReach('db', 5432, 5, 'nc\nnc: connect to 127.0.0.1 port 5432 (tcp) failed: Connection refused\nexit=1\n')).toMatchObject({
      reachable: false,
      reason: 'nc: connect to 127.0.0.1 port 5432 (tcp) failed: Connection refused',
    })
    expect(
      parseReach('x.invalid', 80, 5, 'nc\nnc: getaddrinfo for host "x.invalid" port 80: Name or service not known\nexit=1\n').reason,
    ).toMatch(/Name or service not known/)
  })

  it('bash /dev/tcp: refused, and stopped by timeout (124)', () => {
    const refused = parseReach(
      'db',
      1,
      5,
      'bash\nbash: connect: Connection refused\nbash: line 1: /dev/tcp/127.0.0.1/1: Connection refused\nexit=1\n',
    )
    expect(refused).toEqual({
      name: 'db',
      port: 1,
      reachable: false,
      via: 'bash',
      reason: 'connect: Connection refused | /dev/tcp/127.0.0.1/1: Connection refused',
    })
    expect(parseReach('db', 1, 3, 'bash\nexit=124\n').reason).toBe('timed out after 3s')
  })

  it('a netcat without -z is an error about the tool, not an unreachable port', () => {
    expect(() =>
      parseReach('db', 1, 5, "nc\nnc: invalid option -- 'z'\nBusyBox v1.36.1 (2023-06-07) multi-call binary.\nexit=1\n"),
    ).toThrow(FactError)
  })
})

describe('host() on this machine', () => {
  let server: net.Server
  let port: number
  let closedPort: number
  beforeAll(async () => {
    server = net.createServer(s => s.destroy())
    await new Promise<void>(resolve => server.listen(0, '127.0.0.1', resolve))
    port = (server.address() as net.AddressInfo).port
    const probe = net.createServer()
    await new Promise<void>(resolve => probe.listen(0, '127.0.0.1', resolve))
    closedPort = (probe.address() as net.AddressInfo).port
    await new Promise(resolve => probe.close(resolve))
  })
  afterAll(() => new Promise(resolve => server.close(resolve)))

  it('resolves localhost, not a .invalid name; connects to a listening port, not to a closed one; one exec', async () => {
    const { value, execCount } = await onLocalHost(() =>
      Promise.all([
        host('localhost'),
        host('nothing.invalid').resolvable,
        host('127.0.0.1').reachable(port),
        host('127.0.0.1').connect(closedPort, { timeout: 2 }),
      ]),
    )
    expect(value[0]).toMatchObject({ resolvable: true })
    expect(value[0].ipv4).toContain('127.0.0.1')
    expect(value[1]).toBe(false)
    expect(value[2]).toBe(true)
    expect(value[3]).toMatchObject({ reachable: false })
    expect(value[3].reason).toMatch(/refused/i)
    expect(execCount).toBe(1)
  })

  it('falls back to bash /dev/tcp without nc, and says what is missing with neither', async () => {
    const withBash = await runWithTools(reachFact('127.0.0.1', port, 2), [...BASIC_TOOLS, 'bash'])
    expect(withBash.parse()).toMatchObject({ reachable: true, via: 'bash' })
    const closed = await runWithTools(reachFact('127.0.0.1', closedPort, 2), [...BASIC_TOOLS, 'bash'])
    expect(closed.parse()).toMatchObject({ reachable: false, via: 'bash' })
    const neither = await runWithTools(reachFact('127.0.0.1', port, 2), BASIC_TOOLS)
    expect(() => neither.parse()).toThrow(/neither nc nor bash is installed/)
  })

  it('without getent, resolving is an error naming getent', async () => {
    const run = await runWithTools(resolveFact('localhost'), BASIC_TOOLS)
    expect(() => run.parse()).toThrow(/getent is not installed/)
  })

  it('refuses names and ports no resolver would take, before anything runs', async () => {
    for (const bad of ['', '-oProxyCommand=x', '$(id)', '`id`', "a'b", 'a b', 'new\nline', 'a/b'])
      expect(() => host(bad)).toThrow(TypeError)
    await expect(host('localhost').connect(0)).rejects.toThrow(TypeError)
    await expect(host('localhost').reachable(70000)).rejects.toThrow(TypeError)
    await expect(host('localhost').connect(22, { timeout: -1 })).rejects.toThrow(TypeError)
    expect(host('[::1]').name).toBe('::1')
  })
})
