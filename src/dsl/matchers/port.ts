// toBeListening() / toBeListeningOn(address) on `await port(n)`, with messages that say where
// the port does listen.
import type { MatcherContext } from 'expect'
import { baseExpect } from '../jest-expect.ts'
import type { PortFacts } from '../../resources/system/port.ts'

declare module 'expect' {
  interface Matchers<R extends void | Promise<void>, T = unknown> {
    /** Something listens on the port (TCP LISTEN, or a bound UDP socket). */
    toBeListening(): R
    /** It accepts connections to this address: 0.0.0.0 covers IPv4, `::` IPv6 (and IPv4 when dual-stack). */
    toBeListeningOn(address: string): R
  }
}

function isPortFacts(value: unknown): value is PortFacts {
  return typeof value === 'object' && value !== null && 'listeners' in value && typeof (value as PortFacts).listeningOn === 'function'
}

function where(p: PortFacts): string {
  return p.listening ? `it listens on ${p.addresses.join(', ')}` : 'nothing listens on it'
}

function wrongType(received: unknown) {
  const hint = received && typeof (received as PromiseLike<unknown>).then === 'function' ? ' (did you forget `await port(…)`?)' : ''
  return { pass: false, message: () => `expected the result of await port(n)${hint}, received ${typeof received}` }
}

function toBeListening(this: MatcherContext, received: unknown) {
  if (!isPortFacts(received)) return wrongType(received)
  const not = this.isNot ? 'not ' : ''
  return {
    pass: received.listening,
    expected: `${not}listening`,
    actual: received.listening ? received.addresses.join(', ') : 'not listening',
    message: () => `expected port ${received.port}/${received.protocol} ${not}to be listening, but ${where(received)}`,
  }
}

function toBeListeningOn(this: MatcherContext, received: unknown, address: string) {
  if (!isPortFacts(received)) return wrongType(received)
  const not = this.isNot ? 'not ' : ''
  return {
    pass: received.listeningOn(address),
    expected: `${not}listening on ${address}`,
    actual: received.listening ? received.addresses.join(', ') : 'not listening',
    message: () => `expected port ${received.port}/${received.protocol} ${not}to be listening on ${address}, but ${where(received)}`,
  }
}

baseExpect.extend({ toBeListening, toBeListeningOn })
