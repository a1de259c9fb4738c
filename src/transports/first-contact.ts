// The process's first contact with any host, in ms since the process started (performance.now()):
// when the first connection was attempted and when a host first sent a byte back. `--timings`
// prints both, so start-up is measured to the point that matters, whatever the run loads on the way.
import type { EventEmitter } from 'node:events'

let attemptAt: number | undefined
let firstByteAt: number | undefined

/** A connection to a host is about to be opened (an SSH handshake, a local shell). */
export function noteConnectAttempt(): void {
  attemptAt ??= performance.now()
}

/** A host's first byte has arrived (for a reader we add our listener to ourselves). */
export function noteFirstByte(): void {
  firstByteAt ??= performance.now()
}

/** Notes the stream's first data without reading it: our listener goes in just as its reader's does. */
export function watchFirstByte(stream: EventEmitter | undefined): void {
  if (!stream || firstByteAt !== undefined) return
  // a 'data' listener of our own, added earlier, would start the flow before the reader listens
  const onNewListener = (event: string | symbol) => {
    if (event !== 'data') return
    stream.removeListener('newListener', onNewListener)
    stream.prependOnceListener('data', noteFirstByte)
  }
  stream.on('newListener', onNewListener)
}

/** Both marks, rounded; a mark from before `since` (an earlier run in the same process) is left out. */
export function firstContact(since = 0): { firstConnectMs?: number; firstByteMs?: number } {
  return {
    ...(attemptAt !== undefined && attemptAt >= since ? { firstConnectMs: Math.round(attemptAt) } : {}),
    ...(firstByteAt !== undefined && firstByteAt >= since ? { firstByteMs: Math.round(firstByteAt) } : {}),
  }
}
