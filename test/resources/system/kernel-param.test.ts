import { readFileSync } from 'node:fs'
import { describe, expect, it } from 'vitest'
import { ExpectationError } from '../../../src/errors.ts'
import { kernelParam, kernelParamPath, parseKernelParam } from '../../../src/resources/system/kernel-param.ts'
import { describeFailure } from '../../../src/runner/check.ts'
import { onLocalHost } from '../../support/local-host.ts'

describe('kernelParamPath', () => {
  it('maps sysctl spellings to a path under /proc/sys', () => {
    expect(kernelParamPath('net.ipv4.ip_forward')).toBe('net/ipv4/ip_forward')
    expect(kernelParamPath('net/ipv4/ip_forward')).toBe('net/ipv4/ip_forward')
    // sysctl(8): in dotted form a slash stands for a dot inside a name (VLAN interface eth0.100)
    expect(kernelParamPath('net.ipv4.conf.eth0/100.rp_filter')).toBe('net/ipv4/conf/eth0.100/rp_filter')
    expect(kernelParamPath('net/ipv4/conf/eth0.100/rp_filter')).toBe('net/ipv4/conf/eth0.100/rp_filter')
    expect(kernelParamPath('fs.binfmt_misc.status')).toBe('fs/binfmt_misc/status')
  })

  it('refuses anything that could leave /proc/sys or read as an option', () => {
    for (const bad of [
      '',
      '..',
      '../../etc/shadow',
      'net..ipv4',
      'net/../../etc/passwd',
      '/etc/passwd',
      '-n',
      'a b',
      'net.ipv4.$(id)',
      'kernel.`id`',
      "kernel.o'x",
      'kernel\nostype',
      '.hidden',
    ]) {
      expect(() => kernelParamPath(bad), bad).toThrow(TypeError)
    }
  })
})

describe('parseKernelParam', () => {
  it('one integer: value and number', () => {
    expect(parseKernelParam('net.ipv4.ip_forward', '/proc/sys/net/ipv4/ip_forward', 'ok\n1\n')).toEqual({
      name: 'net.ipv4.ip_forward',
      path: '/proc/sys/net/ipv4/ip_forward',
      value: '1',
      number: 1,
      values: ['1'],
    })
  })

  it('several fields (tab-separated by the kernel): value joined by one space, no number', () => {
    const f = parseKernelParam('net.ipv4.ip_local_port_range', '/p', 'ok\n32768\t60999\n')
    expect(f).toMatchObject({ value: '32768 60999', number: undefined, values: ['32768', '60999'] })
  })

  it('text, negative, and integers too big for a JS number', () => {
    expect(parseKernelParam('kernel.ostype', '/p', 'ok\nLinux\n')).toMatchObject({ value: 'Linux', number: undefined })
    expect(parseKernelParam('kernel.perf_event_paranoid', '/p', 'ok\n-1\n').number).toBe(-1)
    expect(parseKernelParam('kernel.shmall', '/p', 'ok\n18446744073692774399\n')).toMatchObject({
      value: '18446744073692774399',
      number: undefined,
    })
  })

  it('missing and directory are failed expectations', () => {
    expect(() => parseKernelParam('net.nope', '/proc/sys/net/nope', 'missing\n')).toThrow(ExpectationError)
    expect(() => parseKernelParam('net.ipv4', '/proc/sys/net/ipv4', 'directory\n')).toThrow(/a group of kernel parameters/)
  })
})

describe('kernelParam() on this machine', () => {
  it('reads what /proc/sys holds, several at once in one exec', async () => {
    const { value, execCount } = await onLocalHost(() =>
      Promise.all([kernelParam('kernel.ostype'), kernelParam('net.ipv4.ip_local_port_range'), kernelParam('kernel/pid_max')]),
    )
    expect(value[0].value).toBe('Linux')
    expect(value[1].values).toEqual(readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8').trim().split(/\s+/))
    expect(value[2].number).toBe(Number(readFileSync('/proc/sys/kernel/pid_max', 'utf8')))
    expect(execCount).toBe(1)
  })

  it('a missing parameter fails the check; a write-only one is an error naming the reason', async () => {
    const missing = await onLocalHost(() => kernelParam('net.ipv4.no_such_param')).catch((e: unknown) => e)
    expect(describeFailure(missing)).toMatchObject({ status: 'failed', actual: 'missing' })
    const writeOnly = await onLocalHost(() => kernelParam('vm.compact_memory')).catch((e: unknown) => e)
    expect(describeFailure(writeOnly)).toMatchObject({ status: 'error', errorKind: 'fact' })
    expect(String((writeOnly as Error).message)).toMatch(/vm.compact_memory.*(Permission denied|Invalid argument)/)
  })

  it('an invalid name rejects without running anything', async () => {
    const { execCount } = await onLocalHost(async () => {
      await expect(kernelParam('../../etc/shadow')).rejects.toThrow(TypeError)
    })
    expect(execCount).toBe(0)
  })
})
