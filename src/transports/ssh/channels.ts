// One exec channel on an SSH connection: opened, fed the probe's script on stdin, read until it
// closes (stderr capped), stopped with a signal the server's process group gets; and which open
// failures are worth a retry.
import type ssh2 from 'ssh2'
import type { ClientChannel } from 'ssh2'
import type { VerifyError } from '../../errors.ts'
import type { ExecOptions, ExecResult } from '../transport.ts'

const STDERR_CAP = 64 * 1024
// SSH_OPEN_RESOURCE_SHORTAGE (RFC 4254): the server is busy, not refusing.
const OPEN_RESOURCE_SHORTAGE = 4

export function openExecChannel(client: ssh2.Client, command: string): Promise<ClientChannel> {
  return new Promise((resolve, reject) => {
    try {
      client.exec(command, (err, channel) => (err ? reject(err) : resolve(channel)))
    } catch (err) {
      reject(err)
    }
  })
}

export interface IdleWatch {
  ms: number
  /** Gives the connection up; the channel's close then settles the call with the loss. */
  stalled(): void
}

/** Feeds the script to the channel's stdin and settles when the channel closes (or on abort); `onIdle`: no byte for that long means a stall. */
export function runScript(
  channel: ClientChannel,
  options: ExecOptions,
  lostReason: () => VerifyError | undefined,
  onIdle?: IdleWatch,
): Promise<ExecResult> {
  const { script, onStdout, onStderr, holdStdin, signal } = options
  return new Promise((resolve, reject) => {
    let exitCode: number | null = null
    let settled = false
    const stderr = cappedCollector(STDERR_CAP)
    let idle: NodeJS.Timeout | undefined
    const watch = () => {
      if (!onIdle || settled) return
      clearTimeout(idle)
      idle = setTimeout(() => onIdle.stalled(), onIdle.ms)
    }
    const settle = (action: () => void) => {
      if (settled) return
      settled = true
      clearTimeout(idle)
      signal?.removeEventListener('abort', onAbort)
      action()
    }
    const onAbort = () => {
      settle(() => resolve({ exitCode: null, stderr: stderr.text() }))
      stopChannel(channel)
    }
    // Keep reading after settling: ssh2 only emits 'close' once stdout has been drained.
    channel.on('data', (chunk: Buffer) => {
      if (settled) return
      watch()
      try {
        onStdout(chunk)
      } catch (err) {
        settle(() => reject(err))
        stopChannel(channel)
      }
    })
    channel.stderr.on('data', (chunk: Buffer) => {
      watch()
      stderr.push(chunk)
      if (!settled) onStderr?.(chunk)
    })
    channel.on('exit', (code: number | null) => {
      exitCode = typeof code === 'number' ? code : null
    })
    channel.on('error', () => {}) // the 'close' that follows carries the outcome
    channel.on('close', () => {
      const lost = exitCode === null ? lostReason() : undefined
      settle(() => (lost ? reject(lost) : resolve({ exitCode, stderr: stderr.text() })))
    })
    signal?.addEventListener('abort', onAbort, { once: true })
    if (signal?.aborted) onAbort()
    else {
      if (holdStdin) holdOpen(channel, script, holdStdin)
      else channel.end(script)
      watch()
    }
  })
}

/** Writes the script and ends stdin only when `until` aborts (EOF is the probe watchdog's cue). */
function holdOpen(channel: ClientChannel, script: string, until: AbortSignal): void {
  channel.write(script)
  const end = () => {
    try {
      channel.end()
    } catch {
      /* closed */
    }
  }
  if (until.aborted) end()
  else until.addEventListener('abort', end, { once: true })
}

/** TERM the remote process group (sshd killpg()s it), then close: closing alone leaves it running. */
function stopChannel(channel: ClientChannel): void {
  try {
    signalAfterEof(channel, 'TERM')
    channel.close()
  } catch {
    // already closing
  }
}

interface ChannelInternals {
  outgoing?: { id?: number; state?: string }
  _client?: { _protocol?: { signal?(id: number, signal: string): void } }
}

/** ssh2's channel.signal() is a no-op once stdin has ended, though RFC 4254 allows requests after EOF. */
function signalAfterEof(channel: ClientChannel, signal: string): void {
  const { outgoing, _client } = channel as unknown as ChannelInternals
  if (outgoing?.id === undefined || (outgoing.state !== 'open' && outgoing.state !== 'eof')) return
  _client?._protocol?.signal?.(outgoing.id, signal)
}

function cappedCollector(cap: number): { push(chunk: Buffer): void; text(): string } {
  const chunks: Buffer[] = []
  let size = 0
  let dropped = 0
  return {
    push(chunk) {
      const take = Math.min(chunk.length, cap - size)
      if (take > 0) chunks.push(chunk.subarray(0, take))
      size += take
      dropped += chunk.length - take
    },
    text() {
      const text = Buffer.concat(chunks).toString('utf8')
      return dropped > 0 ? `${text}\n[stderr truncated: ${dropped} more bytes]` : text
    },
  }
}

export function isChannelOpenFailure(err: unknown): boolean {
  return /Channel open failure|No free channels/.test((err as Error).message ?? '')
}

export function isResourceShortage(err: unknown): boolean {
  return (err as { reason?: unknown }).reason === OPEN_RESOURCE_SHORTAGE
}
