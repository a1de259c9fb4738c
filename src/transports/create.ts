// Picks the transport for a host: `local` runs through execa, everything else over ssh2.
import type { HostSpec } from '../model.ts'
import { LocalTransport } from './local.ts'
import { SshTransport } from './ssh/transport.ts'
import type { SshSession } from './ssh/session.ts'
import { DEFAULT_RETRY, RetryingTransport } from './ssh/retry.ts'
import type { Transport } from './transport.ts'
import type { ConnectPacer } from './ssh/connect-pacer.ts'

export interface TransportOptions {
  connectTimeoutMs: number
  /** The run's one pacer of new handshakes (--connect-rate, --max-handshakes). */
  pacer?: ConnectPacer
  /** The run's ssh_config resolver, bastion pool and host-key policy (ssh/session.ts). */
  ssh?: SshSession
  /** How long a host may take to answer a channel open (`--timeout`). */
  channelTimeoutMs?: number
}

export function createTransport(host: HostSpec, options: TransportOptions): Transport {
  if (host.transport === 'local') return new LocalTransport()
  // each attempt gets what is left of the one connect deadline (retry.ts)
  return new RetryingTransport(
    host,
    connectTimeoutMs =>
      new SshTransport({
        host,
        connectTimeoutMs,
        ...(options.ssh ? { session: options.ssh } : {}),
        ...(options.channelTimeoutMs ? { channelTimeoutMs: options.channelTimeoutMs } : {}),
      }),
    { ...DEFAULT_RETRY, deadlineMs: options.connectTimeoutMs, ...(options.pacer ? { pacer: options.pacer } : {}) },
  )
}
