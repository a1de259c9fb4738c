// The chaos soak, bounded for CI: a few seeded rounds of ≥ 100 hosts behind the fault-injecting
// proxy (test/support/chaos-proxy.ts), each checked for every invariant (soak-round.ts). The
// seeds are printed; a failing round replays with `npm run soak -- --seed S --rounds 1`.
// SOAK_SEED fixes the first seed, SOAK_ROUNDS / SOAK_HOSTS the size.
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { ChaosKind } from '../../support/chaos-proxy.ts'
import type { Fleet } from '../../support/sshd.ts'
import { addPerKind, ALL_KINDS, perKindLines, runRound, startSoakFleet, type RoundReport } from './soak-round.ts'

const ROUNDS = Number(process.env.SOAK_ROUNDS ?? 2)
const HOSTS = Number(process.env.SOAK_HOSTS ?? 100)
const FIRST_SEED = Number(process.env.SOAK_SEED ?? Math.floor(Math.random() * 2 ** 31))
// A handshake that completes just before or at --connect-timeout lands, often, after the run's
// deadline has given up on it but before ssh2's own timer: the connection is left open and the
// process never exits (issue 11, item 1; fixed on the `trust` branch). Until that fix is merged
// these two kinds run only in `npm run soak`, which reports them.
const KNOWN_FAILING_HERE: readonly ChaosKind[] = ['handshake-before', 'handshake-at']
const KINDS = ALL_KINDS.filter((k) => !KNOWN_FAILING_HERE.includes(k))

let fleet: Fleet
const total: RoundReport['perKind'] = {}
const started = performance.now()

beforeAll(async () => {
  fleet = await startSoakFleet()
})

afterAll(async () => {
  await fleet?.stop()
  console.log([`soak: ${ROUNDS} rounds × ${HOSTS} hosts, seeds ${FIRST_SEED}…${FIRST_SEED + ROUNDS - 1}, ${((performance.now() - started) / 1000).toFixed(1)}s`, ...perKindLines(total)].join('\n  '))
})

describe('chaos soak', () => {
  for (let i = 0; i < ROUNDS; i++) {
    const seed = FIRST_SEED + i
    it(`round ${i + 1}: ${HOSTS} hosts, seed ${seed}: every invariant holds`, async () => {
      const report = await runRound(fleet, { seed, hosts: HOSTS, kinds: KINDS, log: (line) => console.log(line) })
      addPerKind(total, report.perKind)
      expect(report.violations, `replay: npm run soak -- --seed ${seed} --rounds 1 --hosts ${HOSTS} --kinds ${KINDS.join(',')}`).toEqual([])
      // every kind dealt in the round, so a round that skipped one cannot pass for coverage
      expect(Object.keys(report.perKind).sort()).toEqual([...KINDS].sort())
    }, 150_000)
  }
})
