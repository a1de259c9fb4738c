// HTML fleet report (`--html`, `verify report result.json --html`): one self-contained file,
// the compact data (html-model.ts) as JSON plus the stylesheet and script inlined from html/.
// No network: no CDN, no fonts, no images; a Content-Security-Policy forbids any fetch.
import { readFileSync } from 'node:fs'
import type { RunResult } from '../model.ts'
import { htmlData } from './html-model.ts'

const asset = (name: string) => readFileSync(new URL(`./html/${name}`, import.meta.url), 'utf8')

export function renderHtml(run: RunResult): string {
  const data = htmlData(run)
  // `<` escaped so no text can close the script element; U+2028/9 for older parsers
  const json = JSON.stringify(data)
    .replace(/</g, '\\u003c')
    .replace(/\u2028/g, '\\u2028')
    .replace(/\u2029/g, '\\u2029')
  const title = `verify ${data.header.verdict}: ${data.header.summary.hosts} hosts, ${data.header.startedAt}`
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; script-src 'unsafe-inline'">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(title)}</title>
<style>${asset('report.css')}</style>
<style id="col-filter"></style>
</head>
<body>
<header id="header"></header>
<div class="controls">
<label><input type="checkbox" id="only-failing"> only failing hosts</label>
<input type="search" id="search" placeholder="search hosts, groups or checks" aria-label="search hosts, groups or checks">
<span id="shown"></span>
<span class="legend"><span>✓ passed</span><span>✗ failed</span><span>! error</span><span>– skipped</span><span>⚠ warning</span></span>
</div>
<main>
<div class="wrap"><div id="matrix" class="matrix"></div><ol class="columns" id="columns"></ol></div>
<aside id="detail"><h2>Click a cell</h2><p>for expected vs actual, where it failed, the error kind, its duration, time to green and the facts it read.</p></aside>
</main>
<footer id="rendered"></footer>
<script type="application/json" id="verify-data">${json}</script>
<script>${asset('report.js')}</script>
</body>
</html>
`
}

function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, c => `&#${c.charCodeAt(0)};`)
}
