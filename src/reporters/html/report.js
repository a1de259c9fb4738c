// verify's HTML fleet report: draws the hosts × checks matrix from the JSON in #verify-data.
// No network, no dependencies; one innerHTML per render so 500 hosts × 60 checks draws at once.
;(() => {
  'use strict'
  const data = JSON.parse(document.getElementById('verify-data').textContent)
  const { header, columns, facts, hosts } = data
  const GLYPH = { p: '✓', f: '✗', e: '!', s: '–', w: '⚠', ' ': '' }
  const LABEL = { p: 'passed', f: 'failed', e: 'error', s: 'skipped', w: 'passed with a warning (severity warn)', ' ': 'not on this host' }
  const $ = (id) => document.getElementById(id)
  const esc = (text) => String(text).replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`)
  const secs = (ms) => `${(ms / 1000).toFixed(ms < 10000 ? 2 : 1)}s`

  // ---- rows grouped by failure pattern: the failed/errored cells (and the host's own error) as a key
  const groups = new Map()
  hosts.forEach((h, i) => {
    const bad = []
    for (let c = 0; c < h.cells.length; c++) if (h.cells[c] === 'f' || h.cells[c] === 'e') bad.push(c)
    const key = `${h.error ? `${h.error.kind}|` : ''}${bad.map((c) => h.cells[c] + c).join(',')}`
    let g = groups.get(key)
    if (!g) groups.set(key, (g = { key, bad, error: h.error, hosts: [] }))
    g.hosts.push(i)
  })
  const ordered = [...groups.values()].sort((a, b) => (a.key === '') - (b.key === '') || b.hosts.length - a.hosts.length || (a.key < b.key ? -1 : 1))

  function groupLabel(g) {
    const n = g.hosts.length
    const hostsWord = `${n} ${n === 1 ? 'host' : 'hosts'}`
    if (g.key === '') return `${hostsWord}: no failure`
    const titles = g.bad.slice(0, 3).map((c) => columns[c].title).join('; ')
    const more = g.bad.length > 3 ? `; … ${g.bad.length - 3} more` : ''
    const what = g.error ? `${g.error.kind}: ` : ''
    return `${hostsWord} ${n === 1 ? 'fails' : 'fail the same'} ${g.bad.length} ${g.bad.length === 1 ? 'check' : 'checks'}: ${what}${titles}${more}`
  }

  // ---- header
  function renderHeader() {
    const s = header.summary
    const t = header.target || {}
    const sel = header.selection || {}
    const items = [
      ['hosts', `${s.hosts} (${s.hostsFailed} failed, ${s.hostsErrored} errored)`],
      ['checks', `${s.checks}: ${s.passed} passed, ${s.failed} failed, ${s.errors} errors, ${s.skipped} skipped${s.warnings ? `, ${s.warnings} warnings` : ''}`],
      ['gate', header.gate || 'none (--max-failing-hosts not set)'],
      ['duration', secs(header.durationMs)],
      ['started', header.startedAt],
      ['expected version', t.expectVersion || '—'],
      ['--hosts', t.hosts || '—'],
      ['inventory', (t.inventory || []).join(', ') || '—'],
      ['limit', sel.limit || '—'],
      ['shard', sel.shard || '—'],
    ]
    if (sel.mergedFrom) items.push(['merged from', sel.mergedFrom.join(', ')])
    if (sel.rerunOf) items.push(['re-run of', sel.rerunOf])
    if (header.interrupted) items.push(['interrupted by', header.interrupted])
    items.push(['tool', header.tool])
    $('header').innerHTML =
      `<h1>verify</h1><span class="verdict v${header.exitCode}" id="verdict">${esc(header.verdict)} (exit ${header.exitCode})</span>` +
      `<dl>${items.map(([k, v]) => `<div><dt>${esc(k)}</dt><dd>${esc(v)}</dd></div>`).join('')}</dl>` +
      (header.configErrors.length ? `<div class="errors">${header.configErrors.map((e) => `<pre>${esc(e)}</pre>`).join('')}</div>` : '')
  }

  // ---- the matrix: rows of fixed-size cells in chunks the browser lays out only when scrolled to
  const CHUNK = 25
  function renderMatrix() {
    const out = ['<div class="head"><div class="corner">host</div>']
    columns.forEach((c, i) => out.push(`<div class="col" title="${esc(`${i + 1}. ${c.title} (${c.file}${c.line ? `:${c.line}` : ''})`)}"><span>${i + 1} ${esc(c.title)}</span></div>`))
    out.push('</div>')
    ordered.forEach((g, gi) => {
      const ok = g.key === '' ? ' ok' : ''
      out.push(`<div class="group${ok}" data-g="${gi}">${esc(groupLabel(g))}</div>`)
      for (let start = 0; start < g.hosts.length; start += CHUNK) {
        const rows = g.hosts.slice(start, start + CHUNK)
        out.push(`<div class="chunk${ok}" data-g="${gi}" style="contain-intrinsic-size: auto ${rows.length * 20}px">`)
        for (const hi of rows) {
          const h = hosts[hi]
          out.push(`<div class="host${ok}" data-h="${hi}" data-g="${gi}"><b title="${esc(`${h.name} (${h.address})`)}">${esc(h.name)}</b>`)
          const cells = h.cells
          for (let c = 0; c < cells.length; c++) {
            const k = cells[c]
            out.push(k === ' ' ? '<i class="n"></i>' : `<i class="${k}">${GLYPH[k]}</i>`)
          }
          out.push('</div>')
        }
        out.push('</div>')
      }
    })
    $('matrix').innerHTML = out.join('')
    $('columns').innerHTML = columns.map((c) => `<li>${esc(c.title)} <small>${esc(c.file)}${c.line ? `:${c.line}` : ''}</small></li>`).join('')
  }

  // ---- a cell's detail
  let selected
  function showCell(td) {
    const tr = td.parentElement
    if (!tr.dataset.h) return
    const h = hosts[Number(tr.dataset.h)]
    const c = Array.prototype.indexOf.call(tr.children, td) - 1
    const k = h.cells[c]
    if (k === ' ') return
    if (selected) selected.classList.remove('sel')
    ;(selected = td).classList.add('sel')
    const col = columns[c]
    const d = h.details[c] || {}
    const row = (label, value, pre) => (value === undefined || value === '' ? '' : `<dt>${esc(label)}</dt><dd>${pre ? `<pre>${esc(value)}</pre>` : esc(value)}</dd>`)
    const wait = d.timeToGreenMs !== undefined ? `green after ${secs(d.timeToGreenMs)}${d.attempts ? ` (${d.attempts} attempts)` : ''}` : d.waitedMs !== undefined ? `not green after ${secs(d.waitedMs)}${d.attempts ? ` (${d.attempts} attempts)` : ''}` : undefined
    const read = (d.facts || col.facts).map((f) => facts[f])
    const at = d.at ? `${d.at.file}:${d.at.line}${d.at.column ? `:${d.at.column}` : ''}` : undefined
    $('detail').innerHTML =
      `<h2><span class="cell-status ${k}">${GLYPH[k]}</span> ${esc(col.title)}</h2><dl>` +
      row('host', `${h.name} (${h.address})`) +
      row('status', LABEL[k]) +
      row('error kind', d.kind) +
      row('spec', `${col.file}${col.line ? `:${col.line}` : ''}`) +
      row('failed at', at) +
      (d.at && d.at.frame ? row('code', d.at.frame, true) : '') +
      row('expected', d.expected, true) +
      row('actual', d.actual, true) +
      row('message', d.message, true) +
      row('duration', `${h.ms[c]} ms`) +
      row('time to green (--wait)', wait) +
      row('host error', h.error ? `${h.error.kind}: ${h.error.message}` : undefined, true) +
      row('facts read (what ran on the host)', read.length ? read.join('\n') : 'none', true) +
      row('output cut (--max-output)', d.truncatedFacts ? d.truncatedFacts.join('\n') : undefined, true) +
      '</dl>'
  }

  // ---- filter to failing hosts, and search over host names and check titles
  function applySearch() {
    const q = $('search').value.trim().toLowerCase()
    const onlyFailing = $('only-failing').checked
    const rows = $('matrix').querySelectorAll('.host, .group, .chunk')
    const hostHit = (h) => !q || h.name.toLowerCase().includes(q) || h.groups.some((g) => g.toLowerCase().includes(q))
    const colHits = q ? columns.map((c, i) => (c.title.toLowerCase().includes(q) || c.file.toLowerCase().includes(q) ? i : -1)).filter((i) => i >= 0) : []
    const checksOnly = q !== '' && colHits.length > 0 && !hosts.some(hostHit)
    // a query that names hosts (or their groups) narrows the rows; otherwise one that names checks narrows the columns
    $('col-filter').textContent = checksOnly && colHits.length < columns.length
      ? `#matrix .head > :nth-child(n+2):not(${colHits.map((i) => `:nth-child(${i + 2})`).join(',')}), #matrix .host > :nth-child(n+2):not(${colHits.map((i) => `:nth-child(${i + 2})`).join(',')}) { display: none }`
      : ''
    let shown = 0
    const visible = new Set()
    for (const row of rows) {
      if (!row.dataset.h) continue
      const show = checksOnly || hostHit(hosts[Number(row.dataset.h)])
      row.hidden = !show
      if (show) {
        if (!onlyFailing || !row.classList.contains('ok')) shown++
        visible.add(row.dataset.g)
        visible.add(row.parentElement)
      }
    }
    // a chunk with no row left would keep its reserved height: hide it too
    for (const el of rows) if (!el.dataset.h) el.hidden = el.classList.contains('chunk') ? !visible.has(el) : !visible.has(el.dataset.g)
    $('shown').textContent = `${shown} of ${hosts.length} hosts`
  }

  renderHeader()
  renderMatrix()
  $('matrix').addEventListener('click', (e) => {
    const td = e.target.closest('.host > i')
    if (td) showCell(td)
  })
  $('only-failing').addEventListener('change', (e) => {
    $('matrix').classList.toggle('only-failing', e.target.checked)
    applySearch()
  })
  let timer
  $('search').addEventListener('input', () => {
    clearTimeout(timer)
    timer = setTimeout(applySearch, 120)
  })
  applySearch()
  // layout forced here so the figure covers the whole first draw
  void document.body.offsetHeight
  const ms = performance.now()
  window.__verifyRenderMs = ms
  $('rendered').textContent = `drawn ${hosts.length} hosts × ${columns.length} checks in ${Math.round(ms)} ms after the page started loading`
})()
