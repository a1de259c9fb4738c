// Builds the one remote script that answers a batch of facts. It runs as `/bin/sh -s`
// (script on stdin), so the batch never appears on a command line and needs no temp files.
//
// The host's cost must not grow with the number of checks (bench/probe-cost.ts measures it), so
// a batch forks little of its own:
// - facts marked `inline` run as functions of this shell (no fork; only their own commands);
//   the others run as `sh -c SNIPPET verify-probe ARGS…`;
// - a fact's stdout and stderr go straight to the channel's two streams, raw (SSH channels are
//   8-bit clean), between marker lines carrying a random nonce the host never sees outside this
//   shell's memory, printed on both streams:
//     \n<nonce> S <id>\n        fact started
//     \n<nonce> Z <id> <status>\n   fact done (stdout); `\n<nonce> Z <id>\n` on stderr
//     \n<nonce> E\n             the batch ran to its end
//   The parser cuts each fact at its byte cap (frames.ts) and a fact printing past it stops the
//   batch as an overrun does (below), the way `head -c` stopped its writer;
// - one watchdog per batch, `sh -c 'read …; kill -KILL 0' verify-probe`, blocked on the channel's
//   stdin, which the runner holds open: the runner times each fact from its S line and ends stdin
//   when one overruns, and so does a stopped or lost run. The watchdog then kills the batch's
//   process group; the fact that was running times out, the ones not started go in the next batch.
//   Its command line also carries the marker that lets a process table on the same host leave out
//   every verify probe's session (two runs, or many aliases of one machine).
import { shellQuote } from './quote.ts'
import type { FactRequest } from './fact.ts'

/** $0 of the watchdog (and of every `sh -c` fact): marks a verify probe's session for process tables. */
export const PROBE_MARKER = 'verify-probe'

/** The watchdog's program: one process per batch, asleep in `read` until stdin ends. */
export const WATCHDOG_SCRIPT = 'read -r x; kill -KILL 0'

export interface ScriptFact {
  id: number
  request: FactRequest<unknown>
  timeoutSec: number
  maxBytes: number
}

const PRELUDE = String.raw`LC_ALL=C; export LC_ALL
exec 7<&0
sh -c '${WATCHDOG_SCRIPT}' ${PROBE_MARKER} <&7 >/dev/null 2>&1 &
__vW=$!
exec 7<&-
__va() { printf '\n%s S %s\n' "$__vN" "$1"; printf '\n%s S %s\n' "$__vN" "$1" >&2; }
__vz() { __vs=$?; printf '\n%s Z %s %s\n' "$__vN" "$1" "$__vs"; printf '\n%s Z %s\n' "$__vN" "$1" >&2; }`

const EPILOGUE = String.raw`kill "$__vW" 2>/dev/null
printf '\n%s E\n' "$__vN"
exit 0`

export function buildScript(nonce: string, facts: readonly ScriptFact[]): string {
  // one function per distinct inline snippet, defined once however many facts use it
  const functions = new Map<string, string>()
  const calls = facts.map(({ id, request }) => {
    const args = request.args.map(shellQuote)
    let call: string
    if (request.inline) {
      let name = functions.get(request.script)
      if (!name) functions.set(request.script, (name = `__vi${functions.size}`))
      call = [name, ...args].join(' ')
    } else {
      call = ['sh', '-c', shellQuote(request.script), PROBE_MARKER, ...args].join(' ')
    }
    return `__va ${id}; ${call} </dev/null; __vz ${id}`
  })
  const definitions = [...functions].map(([body, name]) => `${name}() {\n${body}\n}`)
  // One brace group: sh parses the whole batch before running any of it (and never reads the
  // stdin left to the watchdog).
  return `{\n__vN=${nonce}\n${PRELUDE}\n${definitions.join('\n')}\n${calls.join('\n')}\n${EPILOGUE}\n}\n`
}
