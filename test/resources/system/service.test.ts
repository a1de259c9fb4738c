import { existsSync } from 'node:fs'
import { describe, expect, it } from 'vitest'
import { isEnabledFact, parseSystemctlShow, parseSystemdTimestamp, service } from '../../../src/resources/system/service.ts'
import { FactError } from '../../../src/errors.ts'
import type { RawFact } from '../../../src/probe/fact.ts'
import { onLocalHost } from '../../support/local-host.ts'
import { rawFact } from '../../support/raw-fact.ts'

// `TZ=UTC0 systemctl show --no-pager -p Id,Description,… nginx` on Debian 12 (systemd 252): the
// properties come in systemd's own order (service ones first), not in -p order.
const NGINX_RUNNING = `MainPID=1199
NRestarts=0
Result=success
Id=nginx.service
Description=A high performance web server and a reverse proxy server
LoadState=loaded
ActiveState=active
SubState=running
FragmentPath=/lib/systemd/system/nginx.service
UnitFileState=enabled
StateChangeTimestamp=Tue 2024-05-14 10:21:33 UTC
ActiveEnterTimestamp=Tue 2024-05-14 10:21:33 UTC
`
const ONESHOT_EXITED = `MainPID=0
NRestarts=0
Result=success
Id=apparmor.service
Description=Load AppArmor profiles
LoadState=loaded
ActiveState=active
SubState=exited
FragmentPath=/lib/systemd/system/apparmor.service
UnitFileState=enabled
StateChangeTimestamp=Mon 2024-05-13 06:02:11 UTC
ActiveEnterTimestamp=Mon 2024-05-13 06:02:11 UTC
`
const FAILED_RESTARTING = `MainPID=0
NRestarts=5
Result=exit-code
Id=blog-puma.service
Description=Blog (puma)
LoadState=loaded
ActiveState=failed
SubState=failed
FragmentPath=/etc/systemd/system/blog-puma.service
UnitFileState=enabled
StateChangeTimestamp=Tue 2024-05-14 10:30:02 UTC
ActiveEnterTimestamp=Tue 2024-05-14 10:29:58 UTC
`
const NOT_FOUND = `MainPID=0
NRestarts=0
Result=success
Id=nosuch.service
Description=nosuch.service
LoadState=not-found
ActiveState=inactive
SubState=dead
FragmentPath=
UnitFileState=
StateChangeTimestamp=
ActiveEnterTimestamp=
`
const MASKED = `MainPID=0
NRestarts=0
Result=success
Id=cryptdisks.service
Description=cryptdisks.service
LoadState=masked
ActiveState=inactive
SubState=dead
FragmentPath=
UnitFileState=masked
StateChangeTimestamp=
ActiveEnterTimestamp=
`
const STATIC_TIMER_TARGET = `Id=systemd-journald.service
Description=Journal Service
LoadState=loaded
ActiveState=active
SubState=running
UnitFileState=static
ExecStart={ path=/lib/systemd/systemd-journald ; argv[]=/lib/systemd/systemd-journald ; ignore_errors=no ; start_time=[n/a] ; stop_time=[n/a] ; pid=0 ; code=(null) ; status=0/0 }
ActiveEnterTimestamp=Mon 2024-05-13 06:02:09 UTC
`

describe('parseSystemctlShow', () => {
  it('a running service: active, running, enabled, since when, main pid', () => {
    expect(parseSystemctlShow(NGINX_RUNNING)).toEqual({
      unit: 'nginx.service',
      exists: true,
      loadState: 'loaded',
      activeState: 'active',
      subState: 'running',
      active: true,
      running: true,
      unitFileState: 'enabled',
      enabled: true,
      explicitlyEnabled: true,
      activeSince: new Date('2024-05-14T10:21:33Z'),
      stateChangedAt: new Date('2024-05-14T10:21:33Z'),
      mainPid: 1199,
      restarts: 0,
      result: 'success',
      description: 'A high performance web server and a reverse proxy server',
      fragmentPath: '/lib/systemd/system/nginx.service',
    })
  })

  it('a oneshot that exited is active (Serverspec/Testinfra "running") but not running', () => {
    expect(parseSystemctlShow(ONESHOT_EXITED)).toMatchObject({ active: true, running: false, subState: 'exited', mainPid: undefined })
  })

  it('a failed, restarting service', () => {
    expect(parseSystemctlShow(FAILED_RESTARTING)).toMatchObject({
      active: false,
      running: false,
      activeState: 'failed',
      restarts: 5,
      result: 'exit-code',
      enabled: true,
    })
  })

  it('not-found and masked units', () => {
    expect(parseSystemctlShow(NOT_FOUND)).toMatchObject({
      exists: false,
      active: false,
      enabled: false,
      unitFileState: '',
      activeSince: undefined,
      fragmentPath: undefined,
    })
    expect(parseSystemctlShow(MASKED)).toMatchObject({ exists: true, loadState: 'masked', enabled: false, explicitlyEnabled: false })
  })

  it('static counts as enabled (systemctl is-enabled exits 0) but not explicitly; values with "=" survive', () => {
    expect(parseSystemctlShow(STATIC_TIMER_TARGET)).toMatchObject({
      enabled: true,
      explicitlyEnabled: false,
      unitFileState: 'static',
      running: true,
    })
  })

  it('rejects output that is not systemctl show', () => {
    expect(() => parseSystemctlShow('Failed to connect to bus: Host is down\n')).toThrow(/unexpected systemctl show output/)
  })

  it('timestamps: UTC, unix, never', () => {
    expect(parseSystemdTimestamp('Tue 2024-05-14 10:21:33 UTC')).toEqual(new Date('2024-05-14T10:21:33Z'))
    expect(parseSystemdTimestamp('Tue 2024-05-14 10:21:33.123456 UTC')).toEqual(new Date('2024-05-14T10:21:33.123Z'))
    expect(parseSystemdTimestamp('@1715682093')).toEqual(new Date(1715682093000))
    expect(parseSystemdTimestamp('')).toBeUndefined()
    expect(parseSystemdTimestamp('n/a')).toBeUndefined()
    expect(() => parseSystemdTimestamp('Tue 2024-05-14 10:21:33 CEST')).toThrow(/expected UTC/)
  })
})

describe('systemctl is-enabled parsing', () => {
  const raw = rawFact
  const parse = (name: string, r: RawFact) => isEnabledFact(name).parse(r)

  it('reads the state word and the exit status (captured from systemd 252)', () => {
    expect(parse('ssh', raw(0, 'enabled\n'))).toEqual({ unit: 'ssh.service', enabled: true, explicitlyEnabled: true, state: 'enabled' })
    expect(parse('debug-shell', raw(1, 'disabled\n'))).toEqual({
      unit: 'debug-shell.service',
      enabled: false,
      explicitlyEnabled: false,
      state: 'disabled',
    })
    expect(parse('systemd-journald', raw(0, 'static\n'))).toMatchObject({ enabled: true, explicitlyEnabled: false, state: 'static' })
    expect(parse('cryptdisks', raw(1, 'masked\n'))).toMatchObject({ enabled: false, state: 'masked' })
    expect(parse('dbus-org.freedesktop.login1.service', raw(0, 'alias\n'))).toMatchObject({
      unit: 'dbus-org.freedesktop.login1.service',
      enabled: true,
      state: 'alias',
    })
  })

  it('a missing unit: systemd 252 on stderr, newer versions print not-found', () => {
    expect(parse('nosuch', raw(1, '', 'Failed to get unit file state for nosuch.service: No such file or directory\n'))).toMatchObject({
      enabled: false,
      state: 'not-found',
    })
    expect(parse('nosuch', raw(4, 'not-found\n'))).toMatchObject({ enabled: false, state: 'not-found' })
    expect(
      parse(
        'a$(b)',
        raw(
          1,
          '',
          'Invalid unit name "a$(b)" escaped as "a\\x24\\x28b\\x29" (maybe you should use systemd-escape?).\nFailed to get unit file state for a\\x24\\x28b\\x29.service: No such file or directory\n',
        ),
      ),
    ).toMatchObject({ state: 'not-found' })
  })

  it('no systemctl, or another failure, is a FactError', () => {
    expect(() => parse('ssh', raw(3, '', 'no systemd on this host (systemctl is not installed)\n'))).toThrow(
      /service ssh \(systemctl is-enabled\): no systemd on this host/,
    )
    expect(() => parse('ssh', raw(1, '', 'Failed to connect to bus: Permission denied\n'))).toThrow(FactError)
  })
})

const hasSystemctl = existsSync('/usr/bin/systemctl') || existsSync('/bin/systemctl')
const systemdRunning = existsSync('/run/systemd/system')

describe('service() on the local machine', () => {
  it.runIf(hasSystemctl)('is-enabled reads the unit links, also without a running systemd', async () => {
    const { value, execCount } = await onLocalHost(() =>
      Promise.all([
        service('ssh').enablement,
        service('debug-shell').enablement,
        service('systemd-journald').enablement,
        service('no-such-unit-here').enablement,
        service('-x').enablement,
        service("it's $(touch /tmp/verify-pwned) `x`\nz").enablement,
      ]),
    )
    expect(execCount).toBe(1)
    expect(value.map(e => e.state)).toEqual(['enabled', 'disabled', 'static', 'not-found', 'not-found', 'not-found'])
    expect(value.map(e => e.enabled)).toEqual([true, false, true, false, false, false])
    expect(existsSync('/tmp/verify-pwned')).toBe(false)
  })

  it.runIf(!systemdRunning)(
    'without a running systemd, the full state is a FactError "no systemd on this host", never a pass',
    async () => {
      const error = await onLocalHost(async () => service('ssh')).catch((e: unknown) => e)
      expect(error).toBeInstanceOf(FactError)
      expect(String(error)).toMatch(/service ssh \(systemctl show\): no systemd on this host/)
    },
  )

  it.runIf(systemdRunning)('with systemd running, reads ssh.service', async () => {
    const { value } = await onLocalHost(async () => service('ssh'))
    expect(value).toMatchObject({ unit: 'ssh.service', exists: true, enabled: true })
  })
})
