// Type test of the public API, compiled by the consumer test (test/e2e/consumer.test.ts) against
// the packed package's .d.ts under each user tsconfig, and by the repo's own tsc against the
// source. Every resource resolves to its exported, named facts type (what completion shows);
// `@ts-expect-error` lines must stay errors, or tsc reports them as unused.
import {
  command,
  cron,
  describe,
  directory,
  expect,
  file,
  group,
  host,
  hostClock,
  http,
  it,
  kernelParam,
  mount,
  networkInterface,
  pkg,
  port,
  process as proc,
  release,
  restart,
  serverStatus,
  service,
  tree,
  user,
  x509,
  z,
  defineVars,
  type CommandResult,
  type CronFacts,
  type DirectoryFacts,
  type FileFacts,
  type GroupFacts,
  type HostClock,
  type HostFacts,
  type HttpResponse,
  type InterfaceFacts,
  type KernelParamFacts,
  type MountFacts,
  type PkgFacts,
  type PortFacts,
  type ProcessList,
  type ReleaseFacts,
  type RestartFacts,
  type ServerStatus,
  type ServiceEnablement,
  type ServiceFacts,
  type TreeFacts,
  type UserAccess,
  type UserFacts,
  type X509Facts,
  type Reachability,
  type RunResult,
  type CheckResult,
  type VarsOf,
} from 'postdeploy-verify'

/** true when A and B are the same type (not merely assignable either way). */
type Equals<A, B> = (<T>() => T extends A ? 1 : 2) extends <T>() => T extends B ? 1 : 2 ? true : false
type Facts<F extends (...args: never[]) => unknown> = Awaited<ReturnType<F>>
function assertType<T extends true>(): T | undefined {
  return undefined
}

// every resource resolves to the facts type the package exports under its name
assertType<Equals<Facts<typeof file>, FileFacts>>()
assertType<Equals<Facts<typeof directory>, DirectoryFacts>>()
assertType<Equals<Facts<typeof command>, CommandResult>>()
assertType<Equals<Facts<typeof http>, HttpResponse>>()
assertType<Equals<Facts<typeof serverStatus>, ServerStatus>>()
assertType<Equals<Facts<typeof release>, ReleaseFacts>>()
assertType<Equals<Facts<typeof proc>, ProcessList>>()
assertType<Equals<Facts<typeof port>, PortFacts>>()
assertType<Equals<Facts<typeof service>, ServiceFacts>>()
assertType<Equals<Facts<typeof pkg>, PkgFacts>>()
assertType<Equals<Facts<typeof user>, UserFacts>>()
assertType<Equals<Facts<typeof group>, GroupFacts>>()
assertType<Equals<Facts<typeof restart>, RestartFacts>>()
assertType<Equals<Facts<typeof hostClock>, HostClock>>()
assertType<Equals<Facts<typeof mount>, MountFacts>>()
assertType<Equals<Facts<typeof networkInterface>, InterfaceFacts>>()
assertType<Equals<Facts<typeof host>, HostFacts>>()
assertType<Equals<Facts<typeof kernelParam>, KernelParamFacts>>()
assertType<Equals<Facts<typeof cron>, CronFacts>>()
assertType<Equals<Facts<typeof x509>, X509Facts>>()
assertType<Equals<Facts<typeof tree>, TreeFacts>>()
// the facts read separately from a resource
assertType<Equals<Awaited<ReturnType<ReturnType<typeof file>['accessibleBy']>>, UserAccess>>()
assertType<Equals<Awaited<ReturnType<typeof file>['content']>, string>>()
assertType<Equals<Awaited<ReturnType<typeof service>['enablement']>, ServiceEnablement>>()
assertType<Equals<Facts<ReturnType<typeof host>['connect']>, Reachability>>()
// the result model, for reporters and scripts reading the JSON
assertType<Equals<RunResult['hosts'][number]['checks'][number], CheckResult>>()
// @ts-expect-error: the two are different types, so Equals is false
assertType<Equals<FileFacts, DirectoryFacts>>()

const AppVars = defineVars(z.object({ app: z.string(), statusPort: z.number().int() }))
assertType<Equals<VarsOf<typeof AppVars>, Readonly<{ app: string; statusPort: number }>>>()

describe('the DSL as a spec writes it', { vars: AppVars, tags: ['types'] }, ({ vars, host: info }) => {
  const app: string = vars.app
  // @ts-expect-error: typed vars know their names
  void vars.ap
  void info.groups.includes('web')
  it('reads facts by name', { severity: 'warn', wait: '30s' }, async () => {
    const f = await file(`/apps/${app}/current`)
    const type: FileFacts['type'] = f.type
    expect(f).toBeSymlink()
    expect(f.exists).toBe(true)
    expect(type).not.toBe('directory')
    // @ts-expect-error: a misspelled fact is a type error, not undefined at run time
    void f.exist
    const p = await port(vars.statusPort)
    expect(p).toBeListening()
    expect(await pkg('nginx')).toSatisfyVersion('>= 1.18')
    expect(await proc({ name: 'nginx' })).toAllSatisfy(pr => pr.user === 'www-data')
    // @ts-expect-error: port() takes a number
    await port('80')
    // @ts-expect-error: not a matcher
    expect(f).toBeSymlinkTo()
  })
})

// @ts-expect-error: an option that does not exist
describe('bad option', { tagz: ['x'] }, () => {})
