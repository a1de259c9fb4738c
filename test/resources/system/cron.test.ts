import { describe, expect, it } from 'vitest'
import { ExpectationError, FactError } from '../../../src/errors.ts'
import { cron, cronFact, hasEntry, parseCronOutput, parseCrontab } from '../../../src/resources/system/cron.ts'
import { BASIC_TOOLS, runWithTools } from '../../support/restricted-path.ts'

// `crontab -l` of Debian 12's cron 3.0pl1 (it drops the "DO NOT EDIT" header it stores).
const CRONTAB = `SHELL=/bin/sh
MAILTO="ops@example.com"
PATH = /usr/local/bin:/usr/bin:/bin
# nightly backup
0 3 * * * /usr/local/bin/backup --all  >/dev/null 2>&1
@reboot /usr/bin/true

*/5   1-5 * jan,feb mon-fri  echo "a  b" % x
0 0 L * ? /opt/cronie-ext
this is not cron
`

describe('parseCrontab', () => {
  const facts = parseCrontab(CRONTAB)

  it('splits entries, settings, comments and nonsense', () => {
    expect(facts.env).toEqual({ SHELL: '/bin/sh', MAILTO: 'ops@example.com', PATH: '/usr/local/bin:/usr/bin:/bin' })
    expect(facts.comments).toEqual(['nightly backup'])
    expect(facts.unparsed).toEqual(['this is not cron'])
    expect(facts.entries.map(e => e.schedule)).toEqual(['0 3 * * *', '@reboot', '*/5 1-5 * jan,feb mon-fri', '0 0 L * ?'])
  })

  it('an entry: five fields and the command as written, with its line number', () => {
    expect(facts.entries[0]).toEqual({
      line: '0 3 * * * /usr/local/bin/backup --all  >/dev/null 2>&1',
      lineNumber: 5,
      schedule: '0 3 * * *',
      minute: '0',
      hour: '3',
      dayOfMonth: '*',
      month: '*',
      dayOfWeek: '*',
      command: '/usr/local/bin/backup --all  >/dev/null 2>&1',
    })
    expect(facts.entries[1]).toMatchObject({ special: '@reboot', command: '/usr/bin/true' })
    expect(facts.entries[1]!.minute).toBeUndefined()
    expect(facts.entries[2]!.command).toBe('echo "a  b" % x')
  })

  it('hasEntry: whole line or command (spaces squeezed), or a RegExp over the line', () => {
    expect(hasEntry(facts, '0 3 * * * /usr/local/bin/backup --all >/dev/null 2>&1')).toBe(true)
    expect(hasEntry(facts, '/usr/local/bin/backup --all >/dev/null 2>&1')).toBe(true)
    expect(hasEntry(facts, '/usr/local/bin/backup')).toBe(false)
    expect(hasEntry(facts, /backup --all/)).toBe(true)
    expect(hasEntry(facts, /^@reboot /)).toBe(true)
    expect(hasEntry(facts, /^@daily/)).toBe(false)
    const sticky = /backup/g
    expect([hasEntry(facts, sticky), hasEntry(facts, sticky)]).toEqual([true, true])
  })
})

describe('parseCronOutput', () => {
  it('a crontab, no crontab, an unknown user, a refused listing', () => {
    expect(parseCronOutput('c', `ok\x00deploy\x00${CRONTAB}\x000\x00`).entries).toHaveLength(4)
    expect(parseCronOutput('c', 'ok\x00deploy\x00\x001\x00no crontab for deploy')).toMatchObject({
      user: 'deploy',
      hasCrontab: false,
      entries: [],
    })
    // busybox crontab
    expect(parseCronOutput('c', "ok\x00deploy\x00\x001\x00crontab: can't open 'deploy': No such file or directory").hasCrontab).toBe(false)
    expect(() => parseCronOutput('c', 'nouser\x00ghost')).toThrow(ExpectationError)
    expect(() => parseCronOutput('c', 'ok\x00deploy\x00\x001\x00must be privileged to use -u')).toThrow(FactError)
  })
})

describe('cron() requests', () => {
  it('refuses user names that are not user names, before anything runs', () => {
    for (const bad of ['', '-r', '../etc/shadow', 'a b', '$(id)', '`id`', "o'neil", 'new\nline', '.hidden'])
      expect(() => cron(bad), bad).toThrow(TypeError)
    expect(() => cron('www-data')).not.toThrow()
    expect(() => cron('machine$')).not.toThrow()
  })

  it('without crontab installed: an error naming crontab', async () => {
    const run = await runWithTools(cronFact('root'), BASIC_TOOLS)
    expect(() => run.parse()).toThrow(/crontab is not installed/)
  })
})
