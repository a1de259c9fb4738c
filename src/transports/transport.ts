// One interface for every way of reaching a host. Resources never import a transport:
// they ask the probe for facts, and the probe runs its script through this interface.
import type { Duplex } from 'node:stream'
import type { ConnectTimings } from '../model.ts'

export type { ConnectTimings }

export interface ExecOptions {
  /** Bytes written to the remote `/bin/sh -s` on stdin: the batched probe script. */
  script: string
  /** Called with each chunk of stdout as it arrives, so facts resolve while later ones still run. */
  onStdout: (chunk: Buffer) => void
  /** Called with each chunk of stderr as it arrives (the probe frames each fact's stderr there). */
  onStderr?: (chunk: Buffer) => void
  /** When given, stdin stays open after the script until this aborts: the probe's watchdog stops the batch on EOF. */
  holdStdin?: AbortSignal
  /** Abort the channel (the host's checks are done or timed out). */
  signal?: AbortSignal
  /** No byte back for this long (every fact on the host is bounded below it) means the host or the connection stalled. */
  idleTimeoutMs?: number
}

export interface ExecResult {
  exitCode: number | null
  /** Standard error of the script itself (capped), for diagnostics when framing breaks. */
  stderr: string
}

/** Where a connect is spending its time: reading ssh_config (`ssh -G`), opening a ProxyCommand or bastion route, or the SSH handshake. */
export type ConnectStage = 'ssh-config' | 'route' | 'handshake'

export interface CloseOptions {
  /** How long a connection may take to say goodbye before it is destroyed (a frozen server never answers). */
  graceMs?: number
}

export interface Transport {
  readonly kind: 'ssh' | 'local'
  /** Opens the connection; rejects with a typed VerifyError (unreachable, auth, host-key, timeout). */
  connect(): Promise<void>
  /** Runs `/bin/sh -s` with the script on stdin: one exec channel, one round trip. */
  exec(options: ExecOptions): Promise<ExecResult>
  /** A TCP stream to host:port as seen from the host (ssh: forwardOut; local: net.connect). */
  openTcp(host: string, port: number): Promise<Duplex>
  /** Exec channels opened so far: the round trips this host cost. */
  readonly execCount: number
  /** Where the last connect() spent its time, when the transport measures it. */
  readonly connectTimings?: ConnectTimings
  /** Where an unfinished connect() is, when the transport knows. */
  readonly connectStage?: ConnectStage | undefined
  /** Ends the connection, or gives up a connect still in progress (nothing it opens later survives). */
  close(options?: CloseOptions): Promise<void>
}
