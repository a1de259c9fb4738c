// The postconditions of the blog's push-style deploy, checked on every host of a wave
// while it is out of the load balancer. Vars come from hosts.yaml (or --var):
//   app, statusPort, and appsRoot (default /apps; the demo points it at a temp dir).
import { describe, it, expect, file, directory, http, serverStatus } from 'postdeploy-verify'

describe('Blog release', ({ vars }) => {
  const root = `${vars.appsRoot ?? '/apps'}/${vars.app}`
  const releases = `${root}/releases/`

  it('current points into releases/', async () => {
    const current = await file(`${root}/current`)
    expect(current).toBeSymlink()
    expect(current.linkTarget).toMatch(new RegExp(`^${releases}`))
  })

  it('current resolves to a release directory', async () => {
    const current = await file(`${root}/current`)
    expect(current).toBeDirectory()
    expect(current.resolvedPath?.startsWith(releases)).toBe(true)
  })

  it('the release records its revision', async () => {
    expect(await file(`${root}/current/REVISION`).content).toMatch(/^[0-9a-f]{7,40}\n$/)
  })

  it('keeps between 1 and 5 releases', async () => {
    const { entries } = await directory(releases)
    expect(entries.length).toBeGreaterThanOrEqual(1)
    expect(entries.length).toBeLessThanOrEqual(5)
  })

  it('shared/log exists', async () => {
    expect(await file(`${root}/shared/log`)).toBeDirectory()
  })

  it('was restarted (out of rotation, so few accesses)', async () => {
    const status = await serverStatus(`http://127.0.0.1:${vars.statusPort}/server-status?auto`, { via: 'host' })
    expect(status.totalAccesses).toBeLessThan(10)
  })

  it('answers its health check', async () => {
    const res = await http(`http://127.0.0.1:${vars.statusPort}/health`, { via: 'host' })
    expect(res.status).toBe(200)
    expect(res.json()).toMatchObject({ status: 'ok' })
  })
})
