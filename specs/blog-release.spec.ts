// The postconditions of the blog's push-style deploy, checked on every host of a wave
// while it is out of the load balancer. Runs only where vars.app is "blog"; its vars are
// declared (and validated on every such host before connecting): app, statusPort, and
// appsRoot (default /apps; the demo points it at a temp dir).
import { describe, it, expect, http, outOfRotation, serverStatus, varIs, z } from 'postdeploy-verify'
import { AppVars } from './shared/vars.ts'
import { releaseLayout } from './shared/release-layout.ts'

const BlogVars = AppVars.extend({
  statusPort: z.number().int().min(1).max(65535),
})

describe('Blog release', { when: varIs('app', 'blog'), vars: BlogVars }, ({ vars }) => {
  releaseLayout({ root: `${vars.appsRoot}/${vars.app}` })

  // the premise of the counter check below: no traffic reaches the host while it is verified
  it('is out of the load balancer', async () => {
    expect(await outOfRotation(`http://127.0.0.1:${vars.statusPort}/server-status?auto`, { via: 'host', window: '1s' })).toBeOutOfRotation()
  })

  it('was restarted (out of rotation, so few accesses)', async () => {
    const status = await serverStatus(`http://127.0.0.1:${vars.statusPort}/server-status?auto`, { via: 'host' })
    expect(status.totalAccesses).toBeLessThan(10 + status.verifyRequests)
  })

  it('answers its health check', { tags: ['smoke'] }, async () => {
    const res = await http(`http://127.0.0.1:${vars.statusPort}/health`, { via: 'host' })
    expect(res.status).toBe(200)
    expect(res.json()).toMatchObject({ status: 'ok' })
  })
})
