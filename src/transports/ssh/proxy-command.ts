// ProxyCommand: the command's stdin/stdout carry the SSH connection (AWS SSM, Teleport,
// cloudflared, `ssh -W`), so its stdio becomes the socket ssh2 speaks over.
import { Duplex } from 'node:stream'
import { execa } from 'execa'

export interface ProxyProcess {
  sock: Duplex
  /** The command's last stderr lines, for a message when the handshake fails. */
  stderrTail(): string
  /** Ends the command (it normally exits on its own once stdin closes). */
  stop(): void
}

const STDERR_TAIL_BYTES = 2048
const STOP_GRACE_MS = 2_000

/** Runs the (token-expanded) command as OpenSSH does: `exec` under /bin/sh -c, in verify's environment. */
export function spawnProxyCommand(command: string, env: NodeJS.ProcessEnv): ProxyProcess {
  const child = execa('/bin/sh', ['-c', `exec ${command}`], {
    env,
    extendEnv: false,
    stdin: 'pipe',
    stdout: 'pipe',
    stderr: 'pipe',
    buffer: false,
    reject: false,
    // the process ends with its SSH connection; never let it outlive verify
    cleanup: true,
  })
  let tail = ''
  child.stderr!.on('data', (chunk: Buffer) => {
    tail = (tail + chunk.toString('utf8')).slice(-STDERR_TAIL_BYTES)
  })
  const sock = Duplex.from({ readable: child.stdout!, writable: child.stdin! })
  // A command that cannot start (or dies) ends stdout: ssh2 sees the stream end and reports it.
  sock.on('error', () => {})
  child.stdin!.on('error', () => {})
  void child.catch(() => {})
  let stopped = false
  return {
    sock,
    stderrTail: () => tail.trim(),
    stop: () => {
      if (stopped) return
      stopped = true
      sock.destroy()
      if (child.exitCode !== null || child.signalCode !== null) return
      child.kill('SIGTERM')
      const timer = setTimeout(() => child.kill('SIGKILL'), STOP_GRACE_MS)
      timer.unref()
      void child.finally(() => clearTimeout(timer)).catch(() => {})
    },
  }
}
