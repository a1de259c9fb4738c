// ssh2's client half only: its index also loads the server, its HTTP agents (node:http, https,
// tls) and key generation, none of which a run uses (start-up: 12 ms CPU on Node 20, 40 on 22).
import { createRequire } from 'node:module'
import type ssh2 from 'ssh2'

const load = createRequire(import.meta.url)

export const Client = load('ssh2/lib/client.js') as typeof ssh2.Client
export const parseKey = (load('ssh2/lib/protocol/keyParser.js') as { parseKey: typeof ssh2.utils.parseKey }).parseKey
