// ssh2's client half only: its index also loads the server, its HTTP agents (node:http, https,
// tls) and key generation, none of which a run uses (start-up: 12 ms CPU on Node 20, 40 on 22).
// Static imports, so the build bundles them (scripts/bundle.mjs keeps ssh2's native binding).
import type ssh2 from 'ssh2'
import ClientClass from 'ssh2/lib/client.js'
import keyParser from 'ssh2/lib/protocol/keyParser.js'

export const Client = ClientClass as typeof ssh2.Client
export const parseKey = (keyParser as { parseKey: typeof ssh2.utils.parseKey }).parseKey
