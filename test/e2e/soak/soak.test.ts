// The chaos soak, bounded for CI: a few seeded rounds of ≥ 100 hosts behind the fault-injecting
// proxy (test/support/chaos-proxy.ts), each checked for every invariant (soak-round.ts). The
// seeds are printed; a failing round replays with `npm run soak -- --seed S --rounds 1`.
// SOAK_SEED fixes the first seed, SOAK_ROUNDS / SOAK_HOSTS the size, SOAK_KNOWN_LEAK=1 names the old leak apart.
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { ChaosKind } from '../../support/chaos-proxy.ts'
import type { Fleet } from '../../support/sshd.ts'
import { addPerKind, ALL_KINDS, perKindLines, runRound, startSoakFleet, type RoundReport } from './soak-round.ts'

const ROUNDS = Number(process.env.SOAK_ROUNDS ?? 2)
const HOSTS = Number(process.env.SOAK_HOSTS ?? 100)
const FIRST_SEED = Number(process.env.SOAK_SEED ?? Math.floor(Math.random() * 2 ** 31))
// Issue 11 item 1, fixed: a connect attempt the run gave up on at --connect-timeout used to
// complete later and keep the process alive. Every round now fails on it; SOAK_KNOWN_LEAK=1 names
// it apart again (for bisecting an older commit).
const KNOWN_LEAK_UNFIXED = process.env.SOAK_KNOWN_LEAK === '1'
// while it is, every other round leaves out the kinds that trigger it, so the process's own exit
// (code, and within 2 s of its report) is checked too
const LEAK_KINDS: readonly ChaosKind[] = ['handshake-before', 'handshake-at', 'reset-handshake']
const kindsFor = (round: number) => (KNOWN_LEAK_UNFIXED && round % 2 === 1 ? ALL_KINDS.filter(k => !LEAK_KINDS.includes(k)) : ALL_KINDS)

let fleet: Fleet
const total: RoundReport['perKind'] = {}
const started = performance.now()

beforeAll(async () => {
  fleet = await startSoakFleet()
})

afterAll(async () => {
  await fleet?.stop()
  console.log(
    [
      `soak: ${ROUNDS} rounds × ${HOSTS} hosts, seeds ${FIRST_SEED}…${FIRST_SEED + ROUNDS - 1}, ${((performance.now() - started) / 1000).toFixed(1)}s`,
      ...perKindLines(total),
    ].join('\n  '),
  )
})

describe('chaos soak', () => {
  for (let i = 0; i < ROUNDS; i++) {
    const seed = FIRST_SEED + i
    const kinds = kindsFor(i)
    it(`round ${i + 1}: ${HOSTS} hosts, seed ${seed}, ${kinds.length} fault kinds: every invariant holds`, async () => {
      const report = await runRound(fleet, { seed, hosts: HOSTS, kinds, knownLeak: KNOWN_LEAK_UNFIXED, log: line => console.log(line) })
      addPerKind(total, report.perKind)
      expect(report.violations, `replay: npm run soak -- --seed ${seed} --rounds 1 --hosts ${HOSTS} --kinds ${kinds.join(',')}`).toEqual([])
      // every kind dealt in the round, so a round that skipped one cannot pass for coverage
      expect(Object.keys(report.perKind).sort()).toEqual([...kinds].sort())
      if (kinds !== ALL_KINDS) expect(report.exitAfterLastReportMs, 'the process exited by itself after its reports').toBeDefined()
    }, 150_000)
  }
})
