// A connection storm against ONE sshd with OpenSSH's default MaxStartups 10:30:100 (the test
// fleet's sshd sets none): 100 host aliases of one address:port, as a bastion or a small sshd
// sees a fleet. With the default pacing (--max-handshakes 8 per address:port) every host is
// verified; unpaced, sshd really drops handshakes (its log says so) and each drop is retried or,
// at worst, reported as a MaxStartups drop, never as a host that is down.
import { readFileSync } from 'node:fs'
import path from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startFleet, type Fleet } from '../support/sshd.ts'
import { makeWorkdir, readResult, runCli, type Workdir } from '../support/workdir.ts'
import { fleetDefaults } from '../support/fleet-project.ts'

const ALIASES = 100
let fleet: Fleet
let work: Workdir

const SPEC = `
import { describe, it, expect, file } from 'postdeploy-verify'
describe('alias', ({ vars }) => {
  it('sees its tree', async () => expect(await file(vars.root)).toBeDirectory())
})
`

beforeAll(async () => {
  fleet = await startFleet({ hosts: 1, name: 'storm' })
  const h = fleet.hosts[0]!
  const names = Array.from({ length: ALIASES }, (_, i) => `alias-${String(i + 1).padStart(3, '0')}`)
  work = makeWorkdir({
    'specs/alias.spec.ts': SPEC,
    'hosts.yaml': [
      fleetDefaults(fleet),
      `vars: { root: ${JSON.stringify(h.root)} }`,
      'hosts:',
      ...names.map(n => `  ${n}: { address: ${h.address} }`),
      'groups:',
      `  storm:\n    hosts: [${names.join(', ')}]`,
      '',
    ].join('\n'),
  })
})

afterAll(async () => {
  await fleet?.stop()
  work?.remove()
})

function drops(since: number): number {
  return readFileSync(fleet.logFile, 'utf8')
    .slice(since)
    .split('\n')
    .filter(l => /past MaxStartups/.test(l)).length
}

async function run(extra: string[]) {
  const since = readFileSync(fleet.logFile, 'utf8').length
  const out = path.join(work.dir, `storm-${extra.join('') || 'default'}.json`)
  const cli = await runCli(['--hosts', 'storm', '--json', out, ...extra], { cwd: work.dir })
  const result = readResult(out)
  return { cli, result, drops: drops(since) }
}

describe(`${ALIASES} aliases of one sshd (MaxStartups 10:30:100)`, () => {
  it('default pacing: every host verified, zero errors', async () => {
    const { cli, result, drops } = await run([])
    expect(result.configErrors, cli.stderr).toEqual([])
    const errors = result.hosts.filter(h => h.status === 'error').map(h => `${h.host.name}: ${h.error?.message}`)
    expect(errors, cli.stdout + cli.stderr).toEqual([])
    expect(cli.exitCode).toBe(0)
    expect(result.summary).toMatchObject({ hosts: ALIASES, passed: ALIASES })
    console.log(`connect-storm: ${ALIASES} aliases, default pacing: ${cli.ms} ms, ${drops} handshakes dropped by sshd, 0 errors`)
  })

  it('unpaced (--connect-rate 0 --max-handshakes 0): sshd drops handshakes, and a drop is never reported as a host that is down', async () => {
    const { cli, result, drops } = await run(['--connect-rate', '0', '--max-handshakes', '0'])
    expect(drops, 'the storm is real: sshd logs "past MaxStartups"').toBeGreaterThan(0)
    const errors = result.hosts.filter(h => h.status === 'error')
    // retried with jittered backoff; a host dropped on every attempt says why
    for (const h of errors) expect(h.error?.message).toMatch(/MaxStartups/)
    expect(result.hosts.filter(h => h.status === 'verified')).toHaveLength(ALIASES - errors.length)
    console.log(
      `connect-storm: ${ALIASES} aliases, unpaced: ${cli.ms} ms, ${drops} handshakes dropped by sshd, ${errors.length} hosts errored after retries`,
    )
  })
})
