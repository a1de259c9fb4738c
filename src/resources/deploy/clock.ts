// hostClock(): the host's clock against the runner's, read in the batch like any fact, so
// times the host reports (process start times, mtimes) can be compared with a pipeline's
// timestamp in the host's own time, whatever the drift.
import { readFact } from '../../dsl/context.ts'
import { factFailure, type FactRequest } from '../../probe/fact.ts'

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

// %N is GNU/busybox-with-FEATURE; where it is not expanded the output ends in "N" or "%N"
const CLOCK_SCRIPT = String.raw`date -u +%s.%N`

export function hostClockFact(): FactRequest<HostClock> {
  const request: FactRequest<HostClock> = {
    key: 'host-clock',
    describe: 'host clock (date)',
    script: CLOCK_SCRIPT,
    args: [],
    parse: (raw) => {
      // taken first: the moment the answer arrived is what the offset is measured against
      const runnerReceivedMs = Date.now()
      if (raw.exitCode !== 0) throw factFailure(request, raw)
      return parseHostClock(raw.stdout.toString('utf8'), runnerReceivedMs)
    },
  }
  return request
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
