import { describe, expect as vitestExpect, it } from 'vitest'
import { expect } from '../../../src/dsl/expect.ts'
import { failure } from '../../support/assertion-failure.ts'
import type { PortFacts, Listener } from '../../../src/resources/system/port.ts'
import { covers } from '../../../src/resources/system/port.ts'

function facts(port: number, listeners: Listener[]): PortFacts {
  return {
    port,
    protocol: 'tcp',
    listening: listeners.length > 0,
    addresses: [...new Set(listeners.map(l => l.address))],
    listeners,
    owner: [],
    source: 'ss',
    listeningOn: (a: string) => listeners.some(l => covers(l, a)),
  }
}

const loopback = facts(8080, [{ protocol: 'tcp', address: '::1', port: 8080, family: 6, owner: 'unknown-without-privilege' }])
const closed = facts(9090, [])

describe('port matchers', () => {
  it('toBeListening / toBeListeningOn pass and fail with where it does listen', () => {
    expect(loopback).toBeListening()
    expect(loopback).toBeListeningOn('::1')
    expect(closed).not.toBeListening()
    const f = failure(() => expect(loopback).toBeListeningOn('127.0.0.1'))
    vitestExpect(f.message).toBe('expected port 8080/tcp to be listening on 127.0.0.1, but it listens on ::1')
    vitestExpect(f.expected).toBe('listening on 127.0.0.1')
    vitestExpect(f.actual).toBe('::1')
    vitestExpect(failure(() => expect(closed).toBeListening()).message).toBe(
      'expected port 9090/tcp to be listening, but nothing listens on it',
    )
    vitestExpect(failure(() => expect(loopback).not.toBeListening()).message).toBe(
      'expected port 8080/tcp not to be listening, but it listens on ::1',
    )
  })

  it('anything else is a clear failure', () => {
    vitestExpect(failure(() => expect(Promise.resolve(closed)).toBeListening()).message).toMatch(/did you forget `await port/)
  })
})
