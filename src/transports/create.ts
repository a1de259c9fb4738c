// Picks the transport for a host: `local` runs through execa, everything else over ssh2.
import type { HostSpec } from '../model.ts'
import { LocalTransport } from './local.ts'
import { SshTransport } from './ssh.ts'
import type { Transport } from './transport.ts'

export interface TransportOptions {
  connectTimeoutMs: number
}

export function createTransport(host: HostSpec, options: TransportOptions): Transport {
  if (host.transport === 'local') return new LocalTransport()
  return new SshTransport({ host, connectTimeoutMs: options.connectTimeoutMs })
}
