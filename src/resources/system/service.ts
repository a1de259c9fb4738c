// service(name): a systemd unit's state. `await service(n)` reads `systemctl show` (needs a
// running systemd); `service(n).enablement` reads `systemctl is-enabled`, which reads the unit
// links on disk and so also answers where systemd is installed but not running (containers).
import { FactError } from '../../errors.ts'
import { readFact } from '../../dsl/context.ts'
import { defineFact, factFailure, type FactRequest, type RawFact } from '../../probe/fact.ts'
import { snippet } from '../../probe/snippet.ts'

export interface ServiceFacts {
  /** The unit as systemd names it: `nginx` → `nginx.service`. */
  unit: string
  /** systemd knows the unit (LoadState is not `not-found`). */
  exists: boolean
  /** loaded, not-found, masked, bad-setting, error. */
  loadState: string
  /** ActiveState: active, inactive, failed, activating, deactivating, reloading. */
  activeState: string
  /** SubState: running, exited, dead, failed, listening, … */
  subState: string
  /** ActiveState is `active`: what Serverspec `be_running` and Testinfra `is_running` mean (a oneshot that exited counts). */
  active: boolean
  /** SubState is `running`: a process of the unit is running now. */
  running: boolean
  /** UnitFileState: enabled, disabled, static, masked, indirect, alias, generated, … ('' when unknown). */
  unitFileState: string
  /** `systemctl is-enabled` would exit 0 (static, alias, indirect… count), as Serverspec and Testinfra `be_enabled`/`is_enabled`. */
  enabled: boolean
  /** Enabled by an [Install] link: `enabled` or `enabled-runtime` only. */
  explicitlyEnabled: boolean
  /** When it last became active (ActiveEnterTimestamp), if ever. */
  activeSince?: Date
  /** When its state last changed (StateChangeTimestamp). */
  stateChangedAt?: Date
  mainPid?: number
  /** NRestarts: automatic restarts since the last manual start. */
  restarts?: number
  /** Result of the last run: success, exit-code, signal, timeout, … */
  result?: string
  description?: string
  fragmentPath?: string
}

export interface ServiceEnablement {
  unit: string
  /** `systemctl is-enabled` exited 0 (as Serverspec and Testinfra). */
  enabled: boolean
  /** Only `enabled` / `enabled-runtime`: installed links, not static or alias. */
  explicitlyEnabled: boolean
  /** What is-enabled printed: enabled, disabled, static, masked, alias, indirect, … or `not-found`. */
  state: string
}

/** States `systemctl is-enabled` answers with exit status 0 (man systemctl, is-enabled). */
const ENABLED_STATES = new Set(['enabled', 'enabled-runtime', 'static', 'alias', 'indirect', 'generated', 'transient'])
const EXPLICIT_STATES = new Set(['enabled', 'enabled-runtime'])

const PROPERTIES = [
  'Id',
  'Description',
  'LoadState',
  'ActiveState',
  'SubState',
  'UnitFileState',
  'MainPID',
  'NRestarts',
  'Result',
  'ActiveEnterTimestamp',
  'StateChangeTimestamp',
  'FragmentPath',
].join(',')

const NO_SYSTEMD = 3

const SHOW_SCRIPT = snippet(import.meta.url, 'service-show.sh')
const IS_ENABLED_SCRIPT = snippet(import.meta.url, 'service-is-enabled.sh')

function noSystemd(what: string, raw: RawFact): FactError | undefined {
  if (raw.exitCode !== NO_SYSTEMD) return undefined
  const reason = raw.stderr.toString('utf8').trim()
  return reason.startsWith('no systemd') ? new FactError(`${what}: ${reason}`) : undefined
}

export function serviceShowFact(name: string): FactRequest<ServiceFacts> {
  return defineFact({
    key: `service:${name}`,
    describe: `service ${name} (systemctl show)`,
    script: SHOW_SCRIPT,
    args: [name, PROPERTIES],
    failure: (request, raw) => noSystemd(request.describe, raw) ?? factFailure(request, raw),
    parse: raw => parseSystemctlShow(raw.stdout.toString('utf8')),
  })
}

/** `Key=value` lines of `systemctl show` (values may contain `=`). */
export function parseSystemctlShow(out: string): ServiceFacts {
  const props = new Map<string, string>()
  for (const line of out.split('\n')) {
    const eq = line.indexOf('=')
    if (eq > 0) props.set(line.slice(0, eq), line.slice(eq + 1))
  }
  const loadState = props.get('LoadState')
  const activeState = props.get('ActiveState')
  if (loadState === undefined || activeState === undefined)
    throw new Error(`unexpected systemctl show output: ${JSON.stringify(out.slice(0, 120))}`)
  const unitFileState = props.get('UnitFileState') ?? ''
  const subState = props.get('SubState') ?? ''
  const mainPid = numberOf(props.get('MainPID'))
  return {
    unit: props.get('Id') ?? '',
    exists: loadState !== 'not-found',
    loadState,
    activeState,
    subState,
    active: activeState === 'active',
    running: subState === 'running',
    unitFileState,
    enabled: ENABLED_STATES.has(unitFileState),
    explicitlyEnabled: EXPLICIT_STATES.has(unitFileState),
    activeSince: parseSystemdTimestamp(props.get('ActiveEnterTimestamp')),
    stateChangedAt: parseSystemdTimestamp(props.get('StateChangeTimestamp')),
    mainPid: mainPid ? mainPid : undefined,
    restarts: numberOf(props.get('NRestarts')),
    result: props.get('Result') || undefined,
    description: props.get('Description') || undefined,
    fragmentPath: props.get('FragmentPath') || undefined,
  }
}

/** `Tue 2024-05-14 10:21:33 UTC` (printed under TZ=UTC0), `@1715682093` (--timestamp=unix); '' / n/a: never. */
export function parseSystemdTimestamp(value: string | undefined): Date | undefined {
  if (value === undefined || value === '' || value === 'n/a' || value === '0') return undefined
  const unix = /^@(\d+)$/.exec(value)
  if (unix) return new Date(Number(unix[1]) * 1000)
  const m = /^(?:\w{3} )?(\d{4}-\d{2}-\d{2}) (\d{2}:\d{2}:\d{2}(?:\.\d+)?) UTC$/.exec(value.trim())
  if (!m) throw new Error(`unexpected systemd timestamp ${JSON.stringify(value)} (expected UTC)`)
  return new Date(`${m[1]}T${m[2]}Z`)
}

function numberOf(value: string | undefined): number | undefined {
  return value !== undefined && /^\d+$/.test(value) ? Number(value) : undefined
}

export function isEnabledFact(name: string): FactRequest<ServiceEnablement> {
  return defineFact({
    key: `service.is-enabled:${name}`,
    describe: `service ${name} (systemctl is-enabled)`,
    script: IS_ENABLED_SCRIPT,
    inline: true,
    args: [name],
    // is-enabled exits non-zero for disabled, masked… units: the status is part of the answer
    answers: 'any',
    parse: (raw, request) => {
      const missing = noSystemd(request.describe, raw)
      if (missing) throw missing
      return parseIsEnabled(request, name, raw)
    },
  })
}

/** The state word on stdout; systemd 252 says "No such file or directory" on stderr for a missing unit. */
export function parseIsEnabled(request: Pick<FactRequest<unknown>, 'describe'>, name: string, raw: RawFact): ServiceEnablement {
  const stdout = raw.stdout.toString('utf8').trim()
  const stderr = raw.stderr.toString('utf8')
  const unit = /\.[a-z]+$/.test(name) ? name : `${name}.service`
  const word = stdout.split('\n').at(-1)?.trim() ?? ''
  if (/^[a-z-]+$/.test(word)) {
    return { unit, enabled: raw.exitCode === 0, explicitlyEnabled: raw.exitCode === 0 && EXPLICIT_STATES.has(word), state: word }
  }
  // a name systemd cannot even take as a unit (it says "Invalid argument") names no unit either
  if (raw.exitCode !== 0 && /No such file or directory|not found|not-found|Invalid argument/i.test(stderr)) {
    return { unit, enabled: false, explicitlyEnabled: false, state: 'not-found' }
  }
  throw factFailure(request, raw)
}

export class ServiceRef implements PromiseLike<ServiceFacts> {
  constructor(readonly name: string) {}

  then<A = ServiceFacts, B = never>(
    onFulfilled?: ((value: ServiceFacts) => A | PromiseLike<A>) | null,
    onRejected?: ((reason: unknown) => B | PromiseLike<B>) | null,
  ): Promise<A | B> {
    return readFact(serviceShowFact(this.name)).then(onFulfilled, onRejected)
  }

  /** Enabled state from the unit links (`systemctl is-enabled`): also where systemd is not running. */
  get enablement(): Promise<ServiceEnablement> {
    return readFact(isEnabledFact(this.name))
  }
}

/** `service('nginx')`: `await` it for the full state, or read `.enablement` alone. */
export function service(name: string): ServiceRef {
  if (name === '') throw new Error('service(): give a unit name')
  return new ServiceRef(name)
}
