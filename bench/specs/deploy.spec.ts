// The benchmark's 22 deploy postconditions, the same checks as bench/serverspec/spec/deploy_spec.rb
// and bench/testinfra/test_deploy.py, written with the typed catalogue (process, port, pkg, user) as
// the docs recommend: no command() rows. Vars (hosts.yaml written by bench/fleet.ts):
//   appRoot, statusPort per host; revision, previousRelease for all.
import { describe, it, expect, file, directory, http, serverStatus, process as proc, port, pkg, user } from 'postdeploy-verify'

describe('blog deploy', ({ vars }) => {
  const app = String(vars.appRoot)
  const releases = `${app}/releases`
  const revisionFile = `${app}/current/REVISION`

  it('current is a symlink', async () => {
    expect(await file(`${app}/current`)).toBeSymlink()
  })
  it('current links into releases/', async () => {
    expect((await file(`${app}/current`)).linkTarget?.startsWith(`${releases}/`)).toBe(true)
  })
  it('current resolves to a directory', async () => {
    expect(await file(`${app}/current`)).toBeDirectory()
  })
  it('REVISION is a file', async () => {
    expect(await file(revisionFile)).toBeFile()
  })
  it('REVISION looks like a commit', async () => {
    expect(await file(revisionFile).content).toMatch(/^[0-9a-f]{7,40}\n$/)
  })
  it('REVISION is the deployed revision', async () => {
    expect(await file(revisionFile).content).toBe(`${vars.revision}\n`)
  })
  it('REVISION has mode 0644', async () => {
    expect((await file(revisionFile)).mode).toBe('0644')
  })
  it('REVISION is owned by root', async () => {
    expect((await file(revisionFile)).owner).toBe('root')
  })
  it('releases/ is a directory', async () => {
    expect(await file(releases)).toBeDirectory()
  })
  it('releases/ has mode 0755', async () => {
    expect((await file(releases)).mode).toBe('0755')
  })
  it('keeps between 1 and 5 releases', async () => {
    const { entries } = await directory(releases)
    expect(entries.length).toBeGreaterThanOrEqual(1)
    expect(entries.length).toBeLessThanOrEqual(5)
  })
  it('the previous release is intact', async () => {
    expect(await file(`${releases}/${vars.previousRelease}/REVISION`)).toBeFile()
  })
  it('shared/log is a directory', async () => {
    expect(await file(`${app}/shared/log`)).toBeDirectory()
  })
  it('shared/log is owned by root', async () => {
    expect((await file(`${app}/shared/log`)).owner).toBe('root')
  })
  it('the release has public/', async () => {
    expect(await file(`${app}/current/public`)).toBeDirectory()
  })
  it('the app root belongs to group root', async () => {
    expect((await file(app)).group).toBe('root')
  })
  it('blog-app is running', async () => {
    expect((await proc('blog-app')).count).toBeGreaterThan(0)
  })
  it('the status port is listening', async () => {
    expect(await port(Number(vars.statusPort), { owner: false })).toBeListening()
  })
  it('answers its health check', async () => {
    const res = await http(`http://127.0.0.1:${vars.statusPort}/health`, { via: 'host' })
    expect(res.status).toBe(200)
    expect(res.json()).toMatchObject({ status: 'ok' })
  })
  it('was restarted (few accesses)', async () => {
    const status = await serverStatus(`http://127.0.0.1:${vars.statusPort}/server-status?auto`, { via: 'host' })
    expect(status.totalAccesses).toBeLessThan(10)
  })
  it('bash is installed', async () => {
    expect((await pkg('bash')).installed).toBe(true)
  })
  it('user www-data exists', async () => {
    expect((await user('www-data')).exists).toBe(true)
  })
})
