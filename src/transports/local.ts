// The machine running verify, reached without SSH: `--hosts local` and the demo.
// Same contract as ssh/transport.ts so the probe and resources cannot tell the difference.
import net from 'node:net'
import type { Duplex } from 'node:stream'
import { HostUnreachableError } from '../errors.ts'
import type { ExecOptions, ExecResult, Transport } from './transport.ts'
import { noteConnectAttempt, noteFirstByte } from './first-contact.ts'

const STDERR_CAP = 64 * 1024
const KILL_AFTER_MS = 500

export class LocalTransport implements Transport {
  readonly kind = 'local' as const
  execCount = 0

  async connect(): Promise<void> {}

  async exec({ script, onStdout, onStderr, holdStdin, signal }: ExecOptions): Promise<ExecResult> {
    this.execCount++
    noteConnectAttempt()
    // on first use: execa costs ~150 ms of start-up that an SSH run does not need
    const { execa } = await import('execa')
    const child = execa('/bin/sh', ['-s'], {
      ...(holdStdin ? { stdin: 'pipe' as const } : { input: script }),
      stdout: 'pipe',
      buffer: { stdout: false, stderr: true },
      maxBuffer: { stderr: STDERR_CAP },
      reject: false,
      cancelSignal: signal,
      // the batch's own process group, so cancelling it also stops a hung fact's children
      detached: true,
      cleanup: true,
    })
    child.stdout.once('data', noteFirstByte)
    child.stdout.on('data', (chunk: Buffer) => onStdout(chunk))
    if (onStderr) child.stderr.on('data', (chunk: Buffer) => onStderr(chunk))
    // stdin held open until holdStdin aborts: EOF is the probe watchdog's cue to stop the batch
    const endStdin = () => child.stdin?.end()
    if (holdStdin) {
      child.stdin?.on('error', () => {}) // the batch may be gone before we end it
      child.stdin?.write(script)
      if (holdStdin.aborted) endStdin()
      else holdStdin.addEventListener('abort', endStdin, { once: true })
    }
    // At once, not once the child is reaped: its subshells hold stdout open, so that would wait for the fact itself.
    const stop = () => {
      if (child.pid) stopGroup(child.pid)
    }
    signal?.addEventListener('abort', stop, { once: true })
    const result = await child.finally(() => {
      signal?.removeEventListener('abort', stop)
      holdStdin?.removeEventListener('abort', endStdin)
      if (holdStdin) endStdin()
    })
    if (result.failed && !result.isCanceled && result.exitCode === undefined && !result.signal) {
      throw new HostUnreachableError(`cannot run /bin/sh locally: ${result.shortMessage}`, { cause: result })
    }
    if (result.isCanceled && child.pid) killGroup(child.pid)
    return { exitCode: result.exitCode ?? null, stderr: String(result.stderr ?? '') }
  }

  openTcp(host: string, port: number): Promise<Duplex> {
    return new Promise((resolve, reject) => {
      const socket = net.connect({ host, port })
      socket.once('connect', () => {
        socket.off('error', reject)
        resolve(socket)
      })
      socket.once('error', reject)
    })
  }

  async close(): Promise<void> {}
}

/** TERM the batch's process group first, then KILL whatever is left. */
function stopGroup(pid: number): void {
  signalGroup(pid, 'SIGTERM')
  setTimeout(() => signalGroup(pid, 'SIGKILL'), KILL_AFTER_MS).unref()
}

function signalGroup(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pid, signal)
  } catch {
    // already gone
  }
}

function killGroup(pid: number): void {
  try {
    process.kill(-pid, 'SIGKILL')
  } catch {
    // already gone
  }
}
