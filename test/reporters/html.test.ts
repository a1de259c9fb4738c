// The HTML fleet report in a real browser: Debian's chromium driven by playwright-core (no
// browser download). 500 hosts × 60 checks: render time, file size, the matrix, the grouping
// by failure pattern, the filter, the search and a cell's detail; a screenshot for the README.
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { renderHtml } from '../../src/reporters/html.ts'
import { htmlData } from '../../src/reporters/html-model.ts'
import { ensurePackages } from '../support/apt.ts'
import { fleetResult } from '../support/fleet-result.ts'
import { REPO_ROOT } from '../support/workdir.ts'

const CHROMIUM = '/usr/bin/chromium'
const ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
]
const SCREENSHOT = join(REPO_ROOT, 'docs/html-report.png')

// The little of playwright-core's API used here, typed locally: the package is a devDependency
// and require() honours NODE_PATH, so a checkout without it installed can point at a copy elsewhere.
interface Page {
  goto(url: string): Promise<unknown>
  waitForFunction(fn: () => unknown): Promise<unknown>
  evaluate<T>(fn: () => T): Promise<T>
  $$eval<T>(selector: string, fn: (elements: any[]) => T): Promise<T>
  check(selector: string): Promise<void>
  uncheck(selector: string): Promise<void>
  fill(selector: string, value: string): Promise<void>
  click(selector: string): Promise<void>
  textContent(selector: string): Promise<string | null>
  screenshot(options: { path: string }): Promise<unknown>
  on(event: 'request', listener: (request: { url(): string }) => void): void
}
interface Browser {
  newPage(options: { viewport: { width: number; height: number } }): Promise<Page>
  close(): Promise<void>
}
const { chromium } = createRequire(import.meta.url)('playwright-core') as {
  chromium: { launch(options: { executablePath: string; args: string[] }): Promise<Browser> }
}
// the page's globals, inside callbacks that run in the browser (this project compiles without the DOM library)
declare const window: any
declare const document: any
declare function getComputedStyle(element: unknown): any

const run = fleetResult({ hosts: 500, checks: 60 })
let dir = ''
let file = ''
let html = ''
let browser: Browser
let page: Page
const requests: string[] = []

async function open(): Promise<number> {
  await page.goto(`file://${file}`)
  await page.waitForFunction(() => (window as unknown as { __verifyRenderMs?: number }).__verifyRenderMs !== undefined)
  return page.evaluate(() => (window as unknown as { __verifyRenderMs: number }).__verifyRenderMs)
}

beforeAll(async () => {
  // CI starts from a fresh Debian image: install the distribution's chromium rather than skip
  ensurePackages({ [CHROMIUM]: 'chromium' })
  dir = mkdtempSync(join(tmpdir(), 'verify-html-'))
  file = join(dir, 'report.html')
  html = renderHtml(run)
  writeFileSync(file, html)
  browser = await chromium.launch({ executablePath: CHROMIUM, args: ARGS })
  page = await browser.newPage({ viewport: { width: 1500, height: 950 } })
  page.on('request', request => requests.push(request.url()))
}, 600_000)

afterAll(async () => {
  await browser?.close()
  if (dir) rmSync(dir, { recursive: true, force: true })
})

describe('HTML fleet report, 500 hosts × 60 checks, in chromium', () => {
  it('is one file under 1 MiB that draws in under a second and asks the network for nothing', async () => {
    expect(Buffer.byteLength(html)).toBeLessThan(1024 * 1024)
    const times: number[] = []
    for (let i = 0; i < 5; i++) times.push(await open())
    console.log(
      `HTML report 500×60: ${Buffer.byteLength(html)} bytes; drawn at ${times.map(Math.round).join(', ')} ms after navigation start`,
    )
    // the best of five loads: a load slowed by other processes on a shared machine is not the page's doing
    expect(Math.min(...times)).toBeLessThan(1000)
    expect(new Set(requests)).toEqual(new Set([`file://${file}`]))
  })

  it('draws the matrix: a row per host, a column per check, each status with its own glyph, colour and shape', async () => {
    const counts = await page.evaluate(() => {
      const q = (s: string) => document.querySelectorAll(s).length
      return {
        rows: q('#matrix .host'),
        cols: q('#matrix .head .col'),
        f: q('#matrix .host > i.f'),
        e: q('#matrix .host > i.e'),
        s: q('#matrix .host > i.s'),
        w: q('#matrix .host > i.w'),
        p: q('#matrix .host > i.p'),
      }
    })
    expect(counts).toEqual({
      rows: 500,
      cols: 60,
      f: run.summary.failed,
      e: run.summary.errors,
      s: run.summary.skipped,
      w: run.summary.warnings,
      p: run.summary.passed - run.summary.warnings!,
    })
    const looks = await page.evaluate(() =>
      ['p', 'f', 'e', 's', 'w'].map(k => {
        const td = document.querySelector(`#matrix .host > i.${k}`)!
        const style = getComputedStyle(td)
        return { glyph: td.textContent, background: style.backgroundColor, shape: style.clipPath }
      }),
    )
    expect(new Set(looks.map(l => l.glyph)).size).toBe(5)
    expect(new Set(looks.map(l => l.background)).size).toBe(5)
    expect(looks[2]!.shape).toMatch(/polygon/) // errors are diamonds, not only orange
  })

  it('groups rows by failure pattern, failing groups first and largest first', async () => {
    const groups = await page.$$eval('#matrix .group', rows => rows.map(r => r.textContent))
    expect(groups).toEqual([
      '20 hosts fail the same 2 checks: suite 1 › check 5 reads its facts; suite 2 › check 18 reads its facts',
      '12 hosts fail the same 1 check: suite 4 › check 31 reads its facts',
      expect.stringMatching(/^6 hosts fail the same 60 checks: unreachable: suite 1 › check 1 reads its facts; .*; … 57 more$/),
      '462 hosts: no failure',
    ])
    const firstGroup = await page.$$eval('#matrix .host[data-g="0"] b', names => names.map(t => t.textContent))
    expect(firstGroup.slice(0, 3)).toEqual(['web-004.prod.example.com', 'web-029.prod.example.com', 'web-054.prod.example.com'])
  })

  it('filters to failing hosts, and searches hosts and checks', async () => {
    await page.check('#only-failing')
    const visible = () => page.$$eval('#matrix .host', rows => rows.filter(r => r.checkVisibility()).length)
    expect(await visible()).toBe(run.summary.hostsFailed + run.summary.hostsErrored)
    expect(await page.textContent('#shown')).toBe(`${run.summary.hostsFailed + run.summary.hostsErrored} of 500 hosts`)
    await page.uncheck('#only-failing')
    expect(await visible()).toBe(500)

    await page.fill('#search', 'web-110')
    await page.waitForFunction(() => document.getElementById('shown')!.textContent === '1 of 500 hosts')
    expect(await visible()).toBe(1)
    // a query no host matches narrows the columns to the checks it names
    await page.fill('#search', 'check 31 reads')
    await page.waitForFunction(() => document.getElementById('shown')!.textContent === '500 of 500 hosts')
    const shownColumns = await page.$$eval('#matrix .head .col', cols => cols.filter(t => t.checkVisibility()).map(t => t.textContent))
    expect(shownColumns).toEqual(['31 suite 4 › check 31 reads its facts'])
    await page.fill('#search', '')
    await page.waitForFunction(() => document.getElementById('col-filter')!.textContent === '')
  })

  it("shows a cell's detail: expected vs actual, file:line, error kind, duration, time to green, facts read", async () => {
    const data = htmlData(run)
    const host = data.hosts.findIndex(h => h.name === 'web-004.prod.example.com')
    await page.click(`#matrix .host[data-h="${host}"] > i:nth-child(6)`)
    const detail = await page.textContent('#detail')
    expect(detail).toContain('suite 1 › check 5 reads its facts')
    expect(detail).toContain('statusfailed')
    expect(detail).toContain('expected"20260107-1200"')
    expect(detail).toContain('actual"20251231-0900"')
    expect(detail).toContain('specspecs/shop.spec.ts:14')
    expect(detail).toContain('failed atspecs/shop.spec.ts:15:5')
    expect(detail).toContain('> 15 |   expect(rel.current).toBe(vars.expectVersion)')
    expect(detail).toContain(`duration${run.hosts[3]!.checks[4]!.durationMs} ms`)
    expect(detail).toContain('file:/apps/blog/current\ncommand:systemctl is-active app-4')

    const timeout = data.hosts.findIndex(h => h.name === 'web-008.prod.example.com')
    await page.click(`#matrix .host[data-h="${timeout}"] > i:nth-child(32)`)
    expect(await page.textContent('#detail')).toContain('error kindtimeout')

    const waited = data.hosts.findIndex(h => h.name === 'web-011.prod.example.com')
    await page.click(`#matrix .host[data-h="${waited}"] > i:nth-child(4)`)
    expect(await page.textContent('#detail')).toContain('time to green (--wait)green after 12.4s (4 attempts)')
  })

  it('heads the page with the verdict, gate, duration, expected version and the selection', async () => {
    const header = await page.textContent('#header')
    expect(header).toContain('ERROR (exit 2)')
    expect(header).toContain('expected version20260107-1200')
    expect(header).toContain('limitweb-*')
    expect(header).toContain('shard1/2')
    expect(header).toContain('duration64.0s')
    expect(header).toContain('gatenone')
  })

  it('keeps a screenshot for the README (failing hosts, one cell open)', async () => {
    await page.check('#only-failing')
    const host = htmlData(run).hosts.findIndex(h => h.name === 'web-029.prod.example.com')
    await page.click(`#matrix .host[data-h="${host}"] > i:nth-child(19)`)
    await page.screenshot({ path: SCREENSHOT })
    expect(existsSync(SCREENSHOT)).toBe(true)
  })
})
