// What keeps the process alive once the run has told its result: a run must leave nothing behind
// (sockets, timers, child processes), so the process ends on its own, at once. With
// VERIFY_DEBUG_HANDLES=1 the CLI names whatever is still live shortly after its last output, and
// on exit says how long after that output it ended; the e2e suite fails a run that leaves any.
// verify's own handles are all closed before the report; what a spec leaves (its own timer or
// socket) would hold a CI job forever, so 1.5 s after the report it is named and the process exits.
import { createHook } from 'node:async_hooks'
import type { ChildProcess } from 'node:child_process'
import type { Socket } from 'node:net'

export const DEBUG_HANDLES_ENV = 'VERIFY_DEBUG_HANDLES'
/** First line of the listing; the e2e helper looks for it. */
export const LIVE_HANDLES_HEADER = 'verify: live handles after the run'
/** How long after the last output closing sockets and exiting children may still be settling. */
const SETTLE_MS = 500
/** After the last output, what still holds the process is named, and the process exits with its code. */
const BACKSTOP_MS = 1_500
const POLL_MS = 25

// Requests that finish on their own within a tick (a close, a write); never what holds a process.
const TRANSIENT = new Set(['CloseReq', 'WriteWrap', 'ShutdownWrap', 'FSReqCallback', 'FSReqPromise', 'GetAddrInfoReqWrap'])

/** The resources holding the event loop, stdio excepted, each described as far as Node lets us. */
export function liveHandles(): string[] {
  const counts = new Map<string, number>()
  for (const name of process.getActiveResourcesInfo()) if (!TRANSIENT.has(name)) counts.set(name, (counts.get(name) ?? 0) + 1)
  const details: string[] = []
  const handles = (process as unknown as { _getActiveHandles(): unknown[] })._getActiveHandles()
  for (const handle of handles) {
    if (handle === process.stdin || handle === process.stdout || handle === process.stderr) {
      // the handle is a Pipe or TTY; the resource list calls it PipeWrap or TTYWrap
      const wrap = `${(handle as { _handle?: { constructor?: { name?: string } } })._handle?.constructor?.name}Wrap`
      if (counts.has(wrap)) counts.set(wrap, counts.get(wrap)! - 1)
      continue
    }
    details.push(describeHandle(handle))
  }
  const summary = [...counts].filter(([, n]) => n > 0).map(([name, n]) => `${name}${n > 1 ? ` ×${n}` : ''}`)
  if (summary.length === 0) return []
  return [`resources: ${summary.join(', ')}`, ...details, ...liveTimers()]
}

interface TrackedTimer {
  timer: WeakRef<NodeJS.Timeout>
  createdAt: string
}

const timers = new Map<number, TrackedTimer>()
let tracking = false

/** Debug mode only: remembers where each timer was created, so a live one can be named (Node lists timers only by count). */
export function trackTimers(env: NodeJS.ProcessEnv = process.env): void {
  if (tracking || !debugOn(env)) return
  tracking = true
  createHook({
    init(asyncId, type, _trigger, resource) {
      if (type !== 'Timeout') return
      timers.set(asyncId, { timer: new WeakRef(resource as NodeJS.Timeout), createdAt: callerFrame(new Error().stack ?? '') })
    },
    destroy(asyncId) {
      timers.delete(asyncId)
    },
  }).enable()
}

function liveTimers(): string[] {
  const out: string[] = []
  for (const { timer, createdAt } of timers.values()) {
    const t = timer.deref() as (NodeJS.Timeout & { _destroyed?: boolean; _idleTimeout?: number }) | undefined
    if (!t || t._destroyed || !t.hasRef()) continue
    out.push(`timer ${t._idleTimeout}ms, created at ${createdAt}`)
  }
  return out
}

/** The file this module runs from: src/…/live-handles.ts, or the dist/ bundle chunk that holds it. */
const OWN_FILE = fileOf(new Error().stack?.split('\n')[1] ?? '')

function fileOf(frame: string): string {
  return /((?:file:\/\/)?\/[^():]+):\d+:\d+\)?$/.exec(frame.trim())?.[1] ?? ''
}

/** The first frame outside Node's own code and this module's file: who set the timer. */
function callerFrame(stack: string): string {
  const frames = stack
    .split('\n')
    .slice(1)
    .map(l => l.trim().replace(/^at /, ''))
  return frames.find(f => !f.includes('node:') && (OWN_FILE === '' || fileOf(f) !== OWN_FILE)) ?? frames[0] ?? '?'
}

function debugOn(env: NodeJS.ProcessEnv): boolean {
  return Boolean(env[DEBUG_HANDLES_ENV]) && env[DEBUG_HANDLES_ENV] !== '0'
}

function describeHandle(handle: unknown): string {
  const name = (handle as object).constructor?.name ?? typeof handle
  if (name === 'Socket') {
    const s = handle as Socket
    const remote = s.remoteAddress ? `${s.remoteAddress}:${s.remotePort}` : '(not connected)'
    return `socket ${s.localAddress ?? '?'}:${s.localPort ?? '?'} → ${remote}${s.destroyed ? ' (destroyed)' : ''}`
  }
  if (name === 'ChildProcess') {
    const c = handle as ChildProcess
    return `child process ${c.pid ?? '?'}: ${c.spawnargs.join(' ')}`
  }
  if (name === 'Server') {
    const address = (handle as { address(): unknown }).address()
    return `server ${JSON.stringify(address)}`
  }
  return name
}

/**
 * After the last output: with VERIFY_DEBUG_HANDLES set, lists what is still live once closing
 * handles have had SETTLE_MS to go (on stderr), and on exit the delay since that output. In any
 * mode, a process still held BACKSTOP_MS after its output names the holders and exits. Its own
 * timers are unref'd: they never keep the process alive themselves.
 */
export function watchExit(env: NodeJS.ProcessEnv = process.env, stderr: NodeJS.WritableStream = process.stderr): void {
  const outputAt = performance.now()
  setTimeout(() => {
    const live = liveHandles()
    const where = debugOn(env) ? '' : ` (${DEBUG_HANDLES_ENV}=1 also says where each timer was set)`
    stderr.write(
      `verify: still running ${BACKSTOP_MS}ms after the report, held by what a spec (or verify) left open${where}; exiting:\n${live.map(l => `  ${l}`).join('\n')}\n`,
    )
    process.exit()
  }, BACKSTOP_MS).unref()
  if (!debugOn(env)) return
  process.once('exit', () => {
    stderr.write(`verify: exited ${Math.round(performance.now() - outputAt)}ms after the run's last output\n`)
  })
  const poll = () => {
    const live = liveHandles()
    if (live.length === 0) return
    if (performance.now() - outputAt < SETTLE_MS) return void setTimeout(poll, POLL_MS).unref()
    stderr.write(
      `${LIVE_HANDLES_HEADER} (${SETTLE_MS}ms after its last output), keeping the process alive:\n${live.map(l => `  ${l}`).join('\n')}\n`,
    )
  }
  setTimeout(poll, 0).unref()
}
