// Builds the one remote script that answers a batch of facts. It runs as `/bin/sh -s`
// (script on stdin), so the batch never appears on a command line and needs no temp files.
//
// Each fact runs in turn under its own `timeout` and byte caps; its stdout and stderr come
// back hex-encoded (`od -An -v -tx1`) between marker lines carrying a random nonce:
//   <nonce> S <id>            fact started
//   <nonce> R <id> <status>   snippet exited (printed as soon as it does)
//   <nonce> O <id> + hex      stdout
//   <nonce> E <id> + hex      stderr
//   <nonce> Z <id>            fact complete
// so one hung or noisy fact errors only the checks that need it.
//
// `od -N` caps and encodes in one process (POSIX, busybox too), where `head -c | base64` took
// two: per fact and stream that is most of what the wrapper costs a host (bench/probe-cost.ts).
// Hex is 3 bytes per byte on the wire against base64's 1.33; facts are small, and the caps bound
// the rest.
//
// `timeout` moves itself into its own process group, out of reach of the session-wide
// signal sshd sends when the run is stopped; __vrun passes that signal on to it, so a
// stopped run leaves no fact running on the host.
import { shellQuote } from './quote.ts'
import type { FactRequest } from './fact.ts'

/**
 * $0 of every fact's shell (`sh -c SNIPPET verify-probe ARGS…`). Fact arguments (paths, names)
 * sit on that command line; the marker lets a process table read on the same host leave out
 * every verify probe's session, not only its own (two runs, or many aliases of one machine).
 */
export const PROBE_MARKER = 'verify-probe'

export interface ScriptFact {
  id: number
  request: FactRequest<unknown>
  timeoutSec: number
  maxBytes: number
}

const PRELUDE = String.raw`
LC_ALL=C; export LC_ALL
exec 3>&1
if command -v timeout >/dev/null 2>&1; then __vT=1; else __vT=; fi
if ! command -v od >/dev/null 2>&1; then printf '%s X od is not installed on the host\n' "$__vN"; exit 0; fi
__vrun() {
  if [ -z "$__vT" ]; then shift; "$@"; return; fi
  timeout -k 2 "$@" &
  __vP=$!
  trap 'kill -TERM "$__vP" 2>/dev/null; exit 143' TERM HUP
  wait "$__vP"
}
__vfact() {
  __vi=$1; __vt=$2; __vc=$3; shift 3
  printf '%s S %s\n' "$__vN" "$__vi"
  __ve=$( { __vo=$( { __vrun "$__vt" sh -c "$@" </dev/null 2>&4 4>&- 3>&-; printf '%s R %s %s\n' "$__vN" "$__vi" "$?" >&3; } | od -An -v -tx1 -N "$__vc" ); printf '%s O %s\n%s\n' "$__vN" "$__vi" "$__vo" >&3; } 4>&1 | od -An -v -tx1 -N "$__vc" )
  printf '%s E %s\n%s\n%s Z %s\n' "$__vN" "$__vi" "$__ve" "$__vN" "$__vi"
}
`

export function buildScript(nonce: string, facts: readonly ScriptFact[]): string {
  const calls = facts.map(({ id, request, timeoutSec, maxBytes }) =>
    // maxBytes + 1 lets the parser tell "exactly at the cap" from "cut at the cap"
    ['__vfact', String(id), String(timeoutSec), String(maxBytes + 1), shellQuote(request.script), PROBE_MARKER, ...request.args.map(shellQuote)].join(' '),
  )
  // One brace group: sh parses the whole batch before running any of it.
  return `{\n__vN=${nonce}\n${PRELUDE}\n${calls.join('\n')}\n}\n`
}
