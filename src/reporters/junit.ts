// JUnit XML view of a RunResult: one suite per host, one case per check, so its counts are the
// console's and the JSON's. Three flavours (docs/ci.md): `ant` (default) is valid against both
// strict schemas (Ant's JUnit.xsd and Jenkins xUnit's junit-10.xsd); `jenkins` adds run totals
// and per-case output; `gitlab` adds the `file` attribute GitLab's test report reads.
import { mkdirSync, writeFileSync } from 'node:fs'
import { dirname } from 'node:path'
import type { CheckResult, ErrorKind, FailureLocation, HostResult, RunResult } from '../model.ts'
import { firstNonBlankLine } from '../lib/format.ts'
import { sanitize, sanitizeLine, truncate } from './sanitize.ts'
import { passedNotes } from './rollout-notes.ts'
import { truncationNote } from './truncation-note.ts'
import { el, renderXml, textEl, type XmlElement } from './xml.ts'

export const JUNIT_FLAVORS = ['ant', 'jenkins', 'gitlab'] as const
export type JunitFlavor = (typeof JUNIT_FLAVORS)[number]

/** `--junit-flavor` when given, else `gitlab` under GitLab CI (`GITLAB_CI`), else the strict `ant`. */
export function junitFlavorFor(flag: JunitFlavor | undefined, env: NodeJS.ProcessEnv = process.env): JunitFlavor {
  if (flag) return flag
  return env.GITLAB_CI ? 'gitlab' : 'ant'
}

/** Separator between the spec file and describe titles inside a classname (no dot, so Jenkins keeps it whole). */
export const PATH_SEPARATOR = ' › '

/** classname of the case that stands for a host that errored before any check was collected. */
const HOST_CLASS = 'host'
// the suite that holds run-level config errors
const TOOL_SUITE = 'verify'
/** `type` of a `<failure>`: a failed expectation (Ant's schema requires one). */
const FAILURE_TYPE = 'assertion'

// attributes are shown on one line by CI UIs; the full text goes into the element content
const SUMMARY_MAX = 300
const VALUE_MAX = 120

const HOST_ERROR_TITLES: Record<ErrorKind, string> = {
  unreachable: 'host unreachable',
  auth: 'host authentication refused',
  'host-key': 'host key rejected',
  timeout: 'host timed out',
  fact: 'host facts unavailable',
  http: 'host HTTP request failed',
  crash: 'host checks crashed',
  spec: 'host spec failed',
  interrupted: 'host run interrupted',
  deadline: 'run deadline reached',
}

/** Host name as the Jenkins package: dots would make Jenkins split inside the name. */
export function junitHostId(hostName: string): string {
  return sanitizeLine(hostName).replaceAll('.', '_')
}

/** `specs/web/nginx › nginx › config`: spec file without `.spec.ts`, then the describe titles, dots made `_`. */
export function junitSpecPath(check: Pick<CheckResult, 'file' | 'path'>): string {
  const file = normalizeFile(check.file).replace(/\.spec\.[cm]?[jt]s$/, '')
  const describes = check.path.slice(0, -1).map(sanitizeLine)
  return [file, ...describes].join(PATH_SEPARATOR).replaceAll('.', '_')
}

/** `<host id>.<spec path>`: the only dot is the one Jenkins splits at. */
export function junitClassname(hostName: string, check: Pick<CheckResult, 'file' | 'path'>): string {
  return `${junitHostId(hostName)}.${junitSpecPath(check)}`
}

export interface JunitOptions {
  flavor?: JunitFlavor
}

export function renderJunit(run: RunResult, options: JunitOptions = {}): string {
  const flavor = options.flavor ?? 'ant'
  const suites: XmlElement[] = []
  if (run.configErrors.length > 0) suites.push(configSuite(run, flavor, suites.length))
  for (const host of run.hosts) suites.push(hostSuite(host, run.startedAt, flavor, suites.length))
  return renderXml(el('testsuites', flavor === 'ant' ? [] : totals(run, suites), suites))
}

/** Writes the report; `flavor` undefined: the default for this environment (junitFlavorFor). */
export function writeJunit(run: RunResult, path: string, flavor?: JunitFlavor): void {
  mkdirSync(dirname(path), { recursive: true })
  writeFileSync(path, renderJunit(run, { flavor: junitFlavorFor(flavor) }), 'utf8')
}

/** Counts over the suites, so they always add up (junit-10 allows no `skipped` here). */
function totals(run: RunResult, suites: XmlElement[]): XmlElement['attributes'] {
  const sum = (name: string) => suites.reduce((n, s) => n + Number(s.attributes?.find(([a]) => a === name)?.[1] ?? 0), 0)
  return [
    ['name', TOOL_SUITE],
    ['tests', sum('tests')],
    ['failures', sum('failures')],
    ['errors', sum('errors')],
    ['time', seconds(run.durationMs)],
  ]
}

interface CaseOut {
  element: XmlElement
  /** The case's name, to head its output in the suite's system-out (ant). */
  name: string
  status: 'passed' | 'failed' | 'error' | 'skipped'
  /** Text for system-out: inside the case (jenkins, gitlab), or gathered in the suite's (ant). */
  out?: string
}

function suiteElement(
  attrs: { name: string; hostname: string; timestamp: string; time: number; id: number },
  properties: Array<[string, string]>,
  cases: CaseOut[],
  flavor: JunitFlavor,
  notes: { out: string[]; err: string[] },
): XmlElement {
  const count = (status: CaseOut['status']) => cases.filter(c => c.status === status).length
  const caseOut = cases.flatMap(c => (c.out && flavor === 'ant' ? [`[${c.name}]\n${c.out}`] : []))
  if (flavor !== 'ant') for (const c of cases) if (c.out) c.element.children!.push(textEl('system-out', c.out))
  return el(
    'testsuite',
    [
      ['name', attrs.name],
      ['package', junitHostId(attrs.name)],
      ['id', attrs.id],
      ['hostname', attrs.hostname],
      ['timestamp', timestamp(attrs.timestamp, flavor)],
      ['time', attrs.time],
      ['tests', cases.length],
      ['failures', count('failed')],
      ['errors', count('error')],
      ['skipped', count('skipped')],
    ],
    [
      el(
        'properties',
        [],
        properties.map(([name, value]) =>
          el('property', [
            ['name', name],
            ['value', value],
          ]),
        ),
      ),
      ...cases.map(c => c.element),
      textEl('system-out', [...notes.out, ...caseOut].join('\n\n')),
      textEl('system-err', notes.err.join('\n\n')),
    ],
  )
}

function configSuite(run: RunResult, flavor: JunitFlavor, id: number): XmlElement {
  const cases = run.configErrors.map((raw, i): CaseOut => {
    const message = sanitize(raw)
    // numbered so two similar errors stay two rows in GitLab
    const name = `config error ${i + 1}: ${truncate(headline(message), VALUE_MAX)}`
    const testCase = el('testcase', [
      ['classname', `${TOOL_SUITE}.config`],
      ['name', name],
      ['time', 0],
    ])
    testCase.children!.push(
      textEl('error', contentIfLonger(message), [
        ['message', truncate(headline(message), SUMMARY_MAX)],
        ['type', 'config'],
      ]),
    )
    return { element: testCase, name, status: 'error' }
  })
  // 'localhost' is what Ant's schema asks for when no host applies
  return suiteElement(
    { name: TOOL_SUITE, hostname: 'localhost', timestamp: run.startedAt, time: seconds(run.durationMs), id },
    [],
    cases,
    flavor,
    { out: [], err: [] },
  )
}

function hostSuite(host: HostResult, startedAt: string, flavor: JunitFlavor, id: number): XmlElement {
  const { name, address, port, transport } = host.host
  const properties: Array<[string, string]> = [
    ['hostname', sanitizeLine(name)],
    ['address', transport === 'local' ? 'local' : `${sanitizeLine(address)}:${port}`],
  ]
  const notes = { out: [] as string[], err: [] as string[] }
  if (host.noChecksApply) {
    properties.push(['noChecksApply', 'true'])
    notes.out.push(`no check applies to this host: every check was skipped on it (${host.checks.length}); see their reasons`)
  }
  const cases = host.checks.map(check => checkCase(name, check, flavor))
  if (host.status === 'error') {
    const kind = host.error?.kind
    const message = sanitize(host.error?.message ?? 'host could not be verified')
    notes.err.push(`${kind ? HOST_ERROR_TITLES[kind] : 'host could not be verified'}: ${message}`)
    // the checks carry the host's error already; only a host with none gets a case, so CI still turns red
    if (host.checks.length === 0) cases.unshift(hostErrorCase(host, kind, message))
  }
  return suiteElement(
    { name: sanitizeLine(name), hostname: sanitizeLine(name), timestamp: startedAt, time: seconds(host.timings.totalMs), id },
    properties,
    cases,
    flavor,
    notes,
  )
}

function hostErrorCase(host: HostResult, kind: ErrorKind | undefined, message: string): CaseOut {
  const name = kind ? HOST_ERROR_TITLES[kind] : 'host could not be verified'
  const testCase = el('testcase', [
    ['classname', `${junitHostId(host.host.name)}.${HOST_CLASS}`],
    ['name', name],
    ['time', seconds(host.timings.connectMs ?? host.timings.totalMs)],
  ])
  testCase.children!.push(
    textEl('error', contentIfLonger(message), [
      ['message', truncate(headline(message), SUMMARY_MAX)],
      ['type', kind ?? 'error'],
    ]),
  )
  return { element: testCase, name, status: 'error' }
}

function checkCase(hostName: string, check: CheckResult, flavor: JunitFlavor): CaseOut {
  const name = sanitizeLine(check.path.at(-1) ?? check.id)
  const attributes: XmlElement['attributes'] = [
    ['classname', junitClassname(hostName, check)],
    ['name', name],
    ['time', seconds(check.durationMs)],
  ]
  // only GitLab's reader knows `file`; both strict schemas reject it
  if (flavor === 'gitlab') attributes.push(['file', normalizeFile(check.failedAt?.file ?? check.file)])
  const testCase = el('testcase', attributes)
  const message = sanitize(check.message ?? '')
  const at = check.failedAt ? failureLocation(check.failedAt) : ''
  if (check.status === 'failed') {
    const summary = failureSummary(check, message) + (check.failedAt ? ` (at ${locationText(check.failedAt)})` : '')
    testCase.children!.push(
      textEl('failure', [failureContent(check, message), at].filter(Boolean).join('\n\n'), [
        ['message', truncate(summary, SUMMARY_MAX + VALUE_MAX)],
        ['type', FAILURE_TYPE],
      ]),
    )
    return { element: testCase, name, status: 'failed', out: at || undefined }
  }
  if (check.status === 'waived') {
    // CI shows a waived failure as skipped, the justification as why, the failure itself in system-out
    const w = check.waiver
    testCase.children!.push(
      el('skipped', [['message', truncate(sanitizeLine(`waived: ${w?.justification ?? ''} (until ${w?.expires ?? '?'})`), SUMMARY_MAX)]]),
    )
    return { element: testCase, name, status: 'skipped', out: [failureContent(check, message), at].filter(Boolean).join('\n\n') }
  }
  if (check.status === 'error') {
    const summary = truncate(headline(message), SUMMARY_MAX) || 'error'
    testCase.children!.push(
      textEl('error', [contentIfLonger(message), at].filter(Boolean).join('\n\n'), [
        ['message', summary],
        ['type', check.errorKind ?? 'error'],
      ]),
    )
    return { element: testCase, name, status: 'error', out: at || undefined }
  }
  if (check.status === 'skipped') {
    const reason = truncate(headline(message), SUMMARY_MAX)
    testCase.children!.push(el('skipped', reason ? [['message', reason]] : []))
    // also in system-out, for readers that ignore skipped/@message
    return { element: testCase, name, status: 'skipped', out: message ? `skipped: ${message}` : undefined }
  }
  // a passed case: a warn-severity failure and the time to green go to system-out (the case stays green)
  const notes = [passedNotes(check), truncationNote(check)].filter(Boolean).join('\n')
  return { element: testCase, name, status: 'passed', out: notes ? sanitize(notes) : undefined }
}

function locationText(at: FailureLocation): string {
  return `${normalizeFile(at.file)}:${at.line}${at.column === undefined ? '' : `:${at.column}`}`
}

/** `at specs/web.spec.ts:12:5` and the code frame under it. */
function failureLocation(at: FailureLocation): string {
  return [`at ${locationText(at)}`, at.frame ? sanitize(at.frame) : ''].filter(Boolean).join('\n')
}

/** One line for the `message` attribute: expected vs actual when the matcher gave them. */
function failureSummary(check: CheckResult, message: string): string {
  if (check.expected !== undefined || check.actual !== undefined) {
    const expected = truncate(sanitizeLine(check.expected ?? '?'), VALUE_MAX)
    const actual = truncate(sanitizeLine(check.actual ?? '?'), VALUE_MAX)
    return `expected ${expected}, actual ${actual}`
  }
  return truncate(headline(message), SUMMARY_MAX) || 'failed'
}

function failureContent(check: CheckResult, message: string): string {
  if (message) return message
  const lines = [`expected: ${sanitize(check.expected ?? '?')}`, `actual:   ${sanitize(check.actual ?? '?')}`]
  return lines.join('\n')
}

/** Element content only when the attribute could not hold it all: avoids printing short messages twice. */
function contentIfLonger(message: string): string {
  const summary = truncate(headline(message), SUMMARY_MAX)
  return summary === message.trim() ? '' : message
}

/** A message's first line with text, sanitized: the summary attribute. */
function headline(text: string): string {
  return sanitizeLine(firstNonBlankLine(text))
}

function normalizeFile(file: string): string {
  return sanitizeLine(file).replaceAll('\\', '/')
}

/** Milliseconds to seconds, rounded to the millisecond so the attribute never uses an exponent. */
function seconds(ms: number): number {
  return Number.isFinite(ms) && ms > 0 ? Math.round(ms) / 1000 : 0
}

/**
 * UTC to the second. Ant's schema allows no time zone (`2025-03-04T05:06:07`, UTC implied);
 * the jenkins and gitlab flavours keep the `Z`. A value that is not a date becomes the epoch, so the file stays valid.
 */
function timestamp(value: string, flavor: JunitFlavor): string {
  const date = new Date(value)
  const iso = (Number.isNaN(date.getTime()) ? new Date(0) : date).toISOString().replace(/\.\d{3}Z$/, 'Z')
  return flavor === 'ant' ? iso.slice(0, -1) : iso
}
