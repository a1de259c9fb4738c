// A key passphrase never leaks: runs over the real sshd with an encrypted client key and
// VERIFY_KEY_PASSPHRASE set (a good run, a wrong passphrase, a key the server refuses, checks
// that fail and crash printing the host's environment), then every output stream and report
// file is searched for the passphrase. (The sudo password case lives with the become tests.)
import { execFileSync } from 'node:child_process'
import { appendFileSync, readdirSync, readFileSync } from 'node:fs'
import path from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startFleet, type Fleet } from '../../support/sshd.ts'
import { makeWorkdir, readResult, runCli, type CliRun, type Workdir } from '../../support/workdir.ts'

// spaces, quotes, a dollar and a backslash: the forms that get escaped differently in JSON, XML and shells
const PASSPHRASE = `correct horse "battery" $staple\\7Zq`
const WRONG = 'not-the-passphrase-Wq4'

let fleet: Fleet
let work: Workdir
const runs: Record<string, CliRun> = {}

beforeAll(async () => {
  fleet = await startFleet({ hosts: 1, name: 'faults-secrets' })
  work = makeWorkdir()
  const key = path.join(work.dir, 'id_encrypted')
  execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', PASSPHRASE, '-C', 'verify-encrypted', '-f', key])
  appendFileSync(path.join(fleet.dir, 'authorized_keys'), readFileSync(`${key}.pub`, 'utf8'))
  // one host: each connect decrypts the key (bcrypt KDF, a second of CPU), so hosts cost time here
  const [h1] = fleet.hosts
  work.write(
    'hosts.yaml',
    `defaults:
  port: ${fleet.port}
  identityFile: ${key}
  knownHosts: ${fleet.knownHosts}
hosts:
  host-1: { address: ${h1!.address}, user: ${fleet.user} }
  wrong-user: { address: ${h1!.address}, user: nobody }
`,
  )
  work.write(
    'specs/env.spec.ts',
    `
import { describe, it, expect, command } from 'postdeploy-verify'
describe('secrets', () => {
  it('logs in', async () => { expect((await command('id -un')).stdout).toBe('${fleet.user}\\n') })
  it('fails showing the host environment', async () => { expect((await command('env; cat /proc/self/environ')).stdout).toBe('') })
  it('crashes with the host environment in its message', async () => { throw new Error((await command('env')).stdout) })
})
`,
  )
  const run = async (name: string, args: string[], passphrase: string) => {
    runs[name] = await runCli([...args, '--json', `out/${name}.json`, '--junit', `out/${name}.xml`], {
      cwd: work.dir,
      env: { VERIFY_KEY_PASSPHRASE: passphrase },
    })
  }
  await Promise.all([
    run('good', ['--hosts', 'host-1'], PASSPHRASE),
    run('wrong-passphrase', ['--hosts', 'host-1'], WRONG),
    run('refused', ['--hosts', 'wrong-user'], PASSPHRASE),
  ])
})

afterAll(async () => {
  await fleet?.stop()
  work?.remove()
})

/** The passphrase as it could appear: raw, JSON-escaped, XML-escaped, or its most distinctive part. */
const FORMS = [PASSPHRASE, JSON.stringify(PASSPHRASE).slice(1, -1), PASSPHRASE.replaceAll('"', '&quot;'), 'battery', '7Zq']

function leaks(text: string): string[] {
  return FORMS.filter(form => text.includes(form))
}

describe('with an encrypted key and VERIFY_KEY_PASSPHRASE', () => {
  it('connects with the passphrase and runs the checks (exit 1: the spec throws, which fails its check)', () => {
    const good = runs.good!
    expect(good.exitCode, good.stdout + good.stderr).toBe(1)
    const result = readResult(work.dir, 'out/good.json')
    for (const host of result.hosts) {
      expect(host.checks.map(c => c.status)).toEqual(['passed', 'failed', 'failed'])
    }
    // the host's environment really is in the reports, so its absence of the passphrase means something
    expect(good.stdout).toMatch(/PATH=/)
  })

  it('a wrong passphrase: an auth error that names the key file, not the value', () => {
    const run = runs['wrong-passphrase']!
    expect(run.exitCode, run.stdout + run.stderr).toBe(2)
    const result = readResult(work.dir, 'out/wrong-passphrase.json')
    expect(result.hosts[0]!.error?.kind).toBe('auth')
    expect(result.hosts[0]!.error?.message).toMatch(/id_encrypted/)
    expect(result.hosts[0]!.error?.message).not.toContain(WRONG)
    expect(run.stdout + run.stderr).not.toContain(WRONG)
  })

  it('a key the server refuses: an auth error without the passphrase', () => {
    const run = runs.refused!
    expect(run.exitCode, run.stdout + run.stderr).toBe(2)
    const result = readResult(work.dir, 'out/refused.json')
    expect(result.hosts[0]!.error?.kind).toBe('auth')
  })

  it('no output stream and no report file holds the passphrase', () => {
    const found: string[] = []
    for (const [name, run] of Object.entries(runs)) {
      for (const form of leaks(run.stdout)) found.push(`${name} stdout: ${form}`)
      for (const form of leaks(run.stderr)) found.push(`${name} stderr: ${form}`)
    }
    const reports = readdirSync(path.join(work.dir, 'out'))
    expect(reports.length).toBe(6)
    for (const file of reports) {
      for (const form of leaks(readFileSync(path.join(work.dir, 'out', file), 'utf8'))) found.push(`${file}: ${form}`)
    }
    expect(found).toEqual([])
  })

  it('the passphrase never reaches the host: sshd logs and the host environment are clean', () => {
    expect(leaks(readFileSync(fleet.logFile, 'utf8'))).toEqual([])
  })
})
