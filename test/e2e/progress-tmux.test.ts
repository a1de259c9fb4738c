// The live progress view in a real terminal: verify runs inside tmux (a TTY, CI unset) against
// 20 hosts on two sshd fleets whose checks take 1–12 s; the pane is captured mid-run (hosts
// done/total, checks so far, failing hosts named, the slowest host still running) and at the
// end (the view cleared, the report in its place).
import { execFileSync, spawnSync } from 'node:child_process'
import { existsSync, writeFileSync } from 'node:fs'
import path from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { ensurePackages } from '../support/apt.ts'
import { startFleet, type Fleet } from '../support/sshd.ts'
import { waitFor } from '../support/faults.ts'
import { makeWorkdir, REPO_ROOT, type Workdir } from '../support/workdir.ts'

const SOCKET = `verify-progress-${process.pid}`
const SESSION = 'verify'
const SPEC = `
import { describe, it, expect, command } from 'postdeploy-verify'
describe('app', ({ vars }) => {
  it('answers after its warm-up', async () => { expect((await command('sleep ' + vars.delay + '; echo up')).stdout).toBe('up\\n') })
  it('runs the expected release', async () => { expect((await command('echo ' + vars.release)).stdout.trim()).toBe('r42') })
})
`
let fleets: Fleet[] = []
let work: Workdir
const captures: string[] = []

function tmux(...args: string[]): string {
  return execFileSync('tmux', ['-L', SOCKET, ...args], { encoding: 'utf8' })
}
const pane = () => tmux('capture-pane', '-p', '-t', SESSION)

beforeAll(async () => {
  ensurePackages({ tmux: 'tmux' })
  fleets = await Promise.all([startFleet({ hosts: 10, name: 'progress-a' }), startFleet({ hosts: 10, name: 'progress-b' })])
  const lines: string[] = []
  fleets.forEach((fleet, f) =>
    fleet.hosts.forEach((h, i) => {
      const n = f * 10 + i + 1
      // staggered warm-ups; every seventh host runs the wrong release
      const vars = { delay: 1 + ((n * 7) % 12), release: n % 7 === 3 ? 'r41' : 'r42' }
      lines.push(
        `  web-${String(n).padStart(2, '0')}: { address: ${h.address}, port: ${fleet.port}, user: ${fleet.user}, identityFile: ${fleet.identityFile}, knownHosts: ${fleet.knownHosts}, vars: ${JSON.stringify(vars)} }`,
      )
    }),
  )
  work = makeWorkdir({
    'hosts.yaml': `hosts:\n${lines.join('\n')}\ngroups:\n  fleet:\n    hosts: [${lines.map((_, i) => `web-${String(i + 1).padStart(2, '0')}`).join(', ')}]\n`,
    'specs/app.spec.ts': SPEC,
  })
  const script = path.join(work.dir, 'run.sh')
  writeFileSync(
    script,
    `cd ${work.dir}\nenv -u CI NO_COLOR=1 node ${path.join(REPO_ROOT, 'bin/verify.mjs')} --hosts fleet --timeout 30\necho "EXIT=$?"\nsleep 600\n`,
  )
  tmux('new-session', '-d', '-s', SESSION, '-x', '150', '-y', '40', `sh ${script}`)
}, 180_000)

afterAll(async () => {
  if (existsSync('/usr/bin/tmux')) spawnSync('tmux', ['-L', SOCKET, 'kill-server'])
  await Promise.all(fleets.map(f => f.stop()))
  work?.remove()
})

describe('live progress in a terminal (tmux), 20 hosts', () => {
  it('shows hosts done, checks so far, failing hosts and the slowest one still running, redrawn in place', async () => {
    // mid-run: some hosts done, a failing one already named, others still running
    const seen = await waitFor(() => {
      const text = pane()
      const m = /verify: (\d+)\/20 hosts done/.exec(text)
      if (m && Number(m[1]) >= 3 && Number(m[1]) <= 17 && text.includes('failing (') && text.includes('slowest:')) {
        captures.push(text)
        return true
      }
      return false
    }, 120_000)
    expect(seen, pane()).toBe(true)
    const mid = captures[0]!
    console.log(`tmux capture-pane mid-run:\n${mid.trimEnd()}`)
    expect(mid).toMatch(/^verify: \d+\/20 hosts done · checks \d+ passed, \d+ failed, 0 errors · \d+\.\ds$/m)
    expect(mid).toMatch(/^failing \(\d+\): .*web-\d\d \(1 failed\)/m)
    expect(mid).toMatch(/^running \d+; slowest: web-\d\d \(\d+\.\ds\)$/m)
    // redrawn in place: one view on the screen, not a scroll of them
    expect(mid.match(/hosts done/g)).toHaveLength(1)
  }, 150_000)

  it('clears the view when the run ends; the report and exit code follow', async () => {
    expect(await waitFor(() => pane().includes('EXIT='), 120_000), pane()).toBe(true)
    const end = pane()
    console.log(`tmux capture-pane at the end:\n${end.trimEnd()}`)
    expect(end).toContain('EXIT=1')
    expect(end).toMatch(/FAIL \(exit 1\): 3 of 20 hosts failed a check/)
    expect(end).not.toContain('hosts done')
    expect(end).not.toContain('slowest:')
  }, 150_000)
})
