// hostClock(): the host's clock against the runner's, read in the batch like any fact, so
// times the host reports (process start times, mtimes) can be compared with a pipeline's
// timestamp in the host's own time, whatever the drift.
import { readFact } from '../../dsl/context.ts'
import { defineFact, type FactRequest } from '../../probe/fact.ts'
import { snippet } from '../../probe/snippet.ts'

export interface HostClock {
  /** The host's time when it answered (ms since the epoch, by its clock). */
  hostNowMs: number
  /** The runner's time when the answer arrived. */
  runnerReceivedMs: number
  /** host − runner, in ms: positive when the host's clock is ahead. Within the one-way latency (and 1 s without %N). */
  offsetMs: number
  /** The host's date has sub-second precision (GNU date %N). */
  precise: boolean
}

const CLOCK_SCRIPT = snippet(import.meta.url, 'clock.sh')

export function hostClockFact(): FactRequest<HostClock> {
  return defineFact({
    key: 'host-clock',
    describe: 'host clock (date)',
    script: CLOCK_SCRIPT,
    // the moment the answer arrived is what the offset is measured against
    parse: raw => parseHostClock(raw.stdout.toString('utf8'), Date.now()),
  })
}

export function parseHostClock(out: string, runnerReceivedMs: number): HostClock {
  const match = /^(\d+)(?:\.(\d+|%?N))?\s*$/.exec(out.trim())
  if (!match) throw new Error(`unexpected date output: ${JSON.stringify(out.slice(0, 60))}`)
  const precise = match[2] !== undefined && /^\d+$/.test(match[2])
  const fraction = precise ? Number(`0.${match[2]}`) : 0
  const hostNowMs = Math.round((Number(match[1]) + fraction) * 1000)
  return { hostNowMs, runnerReceivedMs, offsetMs: hostNowMs - runnerReceivedMs, precise }
}

export function hostClock(): Promise<HostClock> {
  return readFact(hostClockFact())
}
