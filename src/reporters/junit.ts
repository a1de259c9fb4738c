// JUnit XML view of a RunResult, shaped for Jenkins (classname split at its last dot into
// package/class) and GitLab (rows keyed by classname + name): one suite per host, one case per check.
import { mkdirSync, writeFileSync } from 'node:fs'
import { dirname } from 'node:path'
import { createRequire } from 'node:module'
import type { Builder, TestCase, TestSuite } from 'junit-report-builder'
import type { CheckResult, ErrorKind, HostResult, RunResult } from '../model.ts'
import { sanitize, sanitizeLine, truncate } from './sanitize.ts'
import { passedNotes } from './rollout-notes.ts'
import { truncationNote } from './truncation-note.ts'

// Loaded only when a JUnit file is written. The typings declare an ES default export, but the
// package is CommonJS, whose module.exports is the builder itself; accept either shape.
let builderModule: Builder | undefined
function rootBuilder(): Builder {
  if (!builderModule) {
    const loaded = createRequire(import.meta.url)('junit-report-builder') as { default?: Builder }
    builderModule = loaded.default ?? (loaded as unknown as Builder)
  }
  return builderModule
}

/** Separator between the spec file and describe titles inside a classname (no dot, so Jenkins keeps it whole). */
export const PATH_SEPARATOR = ' › '

/** classname of the synthetic case that stands for a host that could not be verified. */
const HOST_CLASS = 'host'
// the tool's name: the root element and the suite that holds run-level config errors
const TOOL_SUITE = 'verify'

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

export function renderJunit(run: RunResult): string {
  // a fresh builder per render: the package's default export is a shared, stateful instance
  const builder = rootBuilder().newBuilder().name(TOOL_SUITE)
  if (run.configErrors.length > 0) addConfigSuite(builder, run)
  for (const host of run.hosts) addHostSuite(builder, host, run.startedAt)
  return `${builder.build()}\n`
}

export function writeJunit(run: RunResult, path: string): void {
  mkdirSync(dirname(path), { recursive: true })
  writeFileSync(path, renderJunit(run), 'utf8')
}

function addConfigSuite(builder: Builder, run: RunResult): void {
  const suite = builder.testSuite().name(TOOL_SUITE).timestamp(isoTimestamp(run.startedAt)).time(seconds(run.durationMs))
  run.configErrors.forEach((raw, i) => {
    const message = sanitize(raw)
    suite
      .testCase()
      .className(`${TOOL_SUITE}.config`)
      // numbered so two similar errors stay two rows in GitLab
      .name(`config error ${i + 1}: ${truncate(firstLine(message), VALUE_MAX)}`)
      .time(0)
      .error(truncate(firstLine(message), SUMMARY_MAX), 'config', cdataSafe(message))
  })
}

function addHostSuite(builder: Builder, host: HostResult, startedAt: string): void {
  const { name, address, port, transport } = host.host
  const suite = builder
    .testSuite()
    .name(sanitizeLine(name))
    .timestamp(isoTimestamp(startedAt))
    .time(seconds(host.timings.totalMs))
    // junit-report-builder has no API for the `hostname` attribute, so the host goes in properties
    .property('hostname', sanitizeLine(name))
    .property('address', transport === 'local' ? 'local' : `${sanitizeLine(address)}:${port}`)
  if (host.status === 'error') addHostErrorCase(suite, host)
  if (host.noChecksApply) addNoChecksCase(suite, host)
  for (const check of host.checks) addCheckCase(suite, name, check)
}

// A host that nothing verified shows as a skipped row of its own, so CI makes it visible.
function addNoChecksCase(suite: TestSuite, host: HostResult): void {
  suite.property('noChecksApply', 'true')
  const testCase = suite.testCase().className(`${junitHostId(host.host.name)}.${HOST_CLASS}`).name('no check applies to this host').time(0)
  skipWithMessage(testCase, `every check was skipped on this host (${host.checks.length}); see their reasons`)
}

// Always present for an errored host, so CI turns red on exactly the hosts behind exit code 2.
function addHostErrorCase(suite: TestSuite, host: HostResult): void {
  const kind = host.error?.kind
  const message = sanitize(host.error?.message ?? 'host could not be verified')
  suite
    .testCase()
    .className(`${junitHostId(host.host.name)}.${HOST_CLASS}`)
    .name(kind ? HOST_ERROR_TITLES[kind] : 'host could not be verified')
    .time(seconds(host.timings.connectMs ?? host.timings.totalMs))
    .error(truncate(firstLine(message), SUMMARY_MAX), kind ?? 'error', contentIfLonger(message))
}

function addCheckCase(suite: TestSuite, hostName: string, check: CheckResult): void {
  const testCase = suite
    .testCase()
    .className(junitClassname(hostName, check))
    .name(sanitizeLine(check.path.at(-1) ?? check.id))
    .time(seconds(check.durationMs))
    .file(normalizeFile(check.file))
  const message = sanitize(check.message ?? '')
  if (check.status === 'failed') {
    testCase.failure(failureSummary(check, message)).stacktrace(cdataSafe(failureContent(check, message)))
  } else if (check.status === 'error') {
    testCase.error(truncate(firstLine(message), SUMMARY_MAX) || 'error', check.errorKind ?? 'error', contentIfLonger(message))
  } else if (check.status === 'waived') {
    // CI shows a waived failure as skipped, the justification as why, the failure itself in system-out
    const w = check.waiver
    skipWithMessage(testCase, truncate(sanitizeLine(`waived: ${w?.justification ?? ''} (until ${w?.expires ?? '?'})`), SUMMARY_MAX))
    testCase.standardOutput(cdataSafe(failureContent(check, message)))
  } else if (check.status === 'skipped') {
    skipWithMessage(testCase, truncate(firstLine(message), SUMMARY_MAX))
    // also in system-out, for readers that ignore skipped/@message
    if (message) testCase.standardOutput(cdataSafe(`skipped: ${message}`))
  } else {
    // a passed case: a warn-severity failure and the time to green go to system-out (the case stays green)
    const notes = [passedNotes(check), truncationNote(check)].filter(Boolean).join('\n')
    if (notes) testCase.standardOutput(cdataSafe(sanitize(notes)))
  }
}

/**
 * `<skipped message="…"/>`: junit-report-builder 5 (the latest) writes `<skipped/>` with no
 * attributes, so the message is set on the element it built.
 */
function skipWithMessage(testCase: TestCase, message: string): void {
  testCase.skipped()
  if (!message) return
  const build = testCase.build.bind(testCase)
  testCase.build = (parent) => {
    const element = build(parent)
    const skipped = element.children.find((child) => (child as { name?: string }).name === 'skipped')
    ;(skipped as typeof element | undefined)?.attribute('message', message)
    return element
  }
}

/** One line for the `message` attribute: expected vs actual when the matcher gave them. */
function failureSummary(check: CheckResult, message: string): string {
  if (check.expected !== undefined || check.actual !== undefined) {
    const expected = truncate(sanitizeLine(check.expected ?? '?'), VALUE_MAX)
    const actual = truncate(sanitizeLine(check.actual ?? '?'), VALUE_MAX)
    return `expected ${expected}, actual ${actual}`
  }
  return truncate(firstLine(message), SUMMARY_MAX) || 'failed'
}

function failureContent(check: CheckResult, message: string): string {
  if (message) return message
  const lines = [`expected: ${sanitize(check.expected ?? '?')}`, `actual:   ${sanitize(check.actual ?? '?')}`]
  return lines.join('\n')
}

/** Element content only when the attribute could not hold it all: avoids printing short messages twice. */
function contentIfLonger(message: string): string | undefined {
  const summary = truncate(firstLine(message), SUMMARY_MAX)
  return summary === message.trim() ? undefined : cdataSafe(message)
}

// junit-report-builder splits only the first `]]>` of CDATA content (String#replace with a
// string pattern); split every later one here so content cannot close its CDATA section early.
function cdataSafe(text: string): string {
  const first = text.indexOf(']]>')
  if (first < 0) return text
  const end = first + 3
  return text.slice(0, end) + text.slice(end).replaceAll(']]>', ']]]]><![CDATA[>')
}

function firstLine(text: string): string {
  return sanitizeLine(text.split('\n').find((line) => line.trim() !== '') ?? '')
}

function normalizeFile(file: string): string {
  return sanitizeLine(file).replaceAll('\\', '/')
}

/** Milliseconds to seconds, rounded to the millisecond so the attribute never uses an exponent. */
function seconds(ms: number): number {
  return Number.isFinite(ms) && ms > 0 ? Math.round(ms) / 1000 : 0
}

/** ISO 8601 in UTC to the second; a value that is not a date is passed through unchanged. */
function isoTimestamp(value: string): string {
  const date = new Date(value)
  return Number.isNaN(date.getTime()) ? sanitizeLine(value) : date.toISOString().replace(/\.\d{3}Z$/, 'Z')
}
