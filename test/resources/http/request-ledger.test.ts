// The request ledger: a host run's answered requests appended as one JSON line per origin,
// read back by later runs (another process: the cache is reset here), a cut line tolerated.
import { appendFileSync, readFileSync } from 'node:fs'
import path from 'node:path'
import { afterEach, beforeEach, expect, it } from 'vitest'
import {
  earlierRequestTimes,
  ledgerKey,
  ledgerPath,
  recordRequestTimes,
  resetLedgerCache,
} from '../../../src/resources/http/request-ledger.ts'
import { makeWorkdir, type Workdir } from '../../support/workdir.ts'

let state: Workdir
let previous: string | undefined

beforeEach(() => {
  state = makeWorkdir({})
  previous = process.env['VERIFY_STATE_DIR']
  process.env['VERIFY_STATE_DIR'] = path.join(state.dir, 'state')
  resetLedgerCache()
})

afterEach(() => {
  if (previous === undefined) delete process.env['VERIFY_STATE_DIR']
  else process.env['VERIFY_STATE_DIR'] = previous
  resetLedgerCache()
  state.remove()
})

it("keeps each host run's answered requests per host, vantage point and origin, for later runs", () => {
  const key = ledgerKey('web-1', 'host', 'http://127.0.0.1:8080')
  recordRequestTimes([
    { key, times: [1000, 2000] },
    { key: ledgerKey('web-2', 'host', 'http://127.0.0.1:8080'), times: [1500] },
    { key: 'empty', times: [] },
  ])
  recordRequestTimes([{ key, times: [3000] }])
  expect(readFileSync(ledgerPath(), 'utf8').trim().split('\n')).toHaveLength(3)
  // a later run is another process: nothing cached
  resetLedgerCache()
  expect(earlierRequestTimes(key)).toEqual([1000, 2000, 3000])
  expect(earlierRequestTimes(ledgerKey('web-1', 'runner', 'http://127.0.0.1:8080'))).toEqual([])
})

it('skips a line cut by a crash mid-append, and reads without a ledger as no earlier requests', () => {
  expect(earlierRequestTimes('web-1 host http://a')).toEqual([])
  resetLedgerCache()
  recordRequestTimes([{ key: 'web-1 host http://a', times: [1] }])
  appendFileSync(ledgerPath(), '{"key":"web-1 host http://a","ti')
  resetLedgerCache()
  recordRequestTimes([{ key: 'web-1 host http://a', times: [2] }])
  resetLedgerCache()
  // the cut line is lost; the next run's entry starts on a line of its own
  expect(earlierRequestTimes('web-1 host http://a')).toEqual([1, 2])
})
