// The shop: the same release layout as the blog (specs/shared/release-layout.ts), its own
// storefront checks on its web hosts, and the job runner on its worker hosts. Runs only where
// vars.app is "shop" (skipped, with that reason, everywhere else: the demo deploys the blog).
import { describe, it, expect, file, http, inGroup, secret, varIs, z } from 'postdeploy-verify'
import { AppVars } from './shared/vars.ts'
import { releaseLayout } from './shared/release-layout.ts'

const ShopVars = AppVars.extend({
  httpPort: z.number().int().min(1).max(65535),
  /** Sent to the storefront's readiness endpoint; redacted from every report. */
  readinessToken: secret(z.string().min(8)),
})

describe('Shop release', { when: varIs('app', 'shop'), vars: ShopVars }, ({ vars }) => {
  const root = `${vars.appsRoot}/${vars.app}`
  releaseLayout({ root, keep: 3 })

  describe('storefront', { when: inGroup('shop-web'), tags: ['web'] }, () => {
    it.each(['/', '/cart'])('GET %s answers 200', { tags: ['smoke'] }, async (page) => {
      const res = await http(`http://127.0.0.1:${vars.httpPort}${page}`, { via: 'host' })
      expect(res.status).toBe(200)
    })

    it('is ready to take orders', async () => {
      const res = await http(`http://127.0.0.1:${vars.httpPort}/ready`, { via: 'host', headers: { authorization: `Bearer ${vars.readinessToken}` } })
      expect(res.status).toBe(200)
    })
  })

  describe('job runner', { when: inGroup('shop-workers'), tags: ['worker'] }, () => {
    it('has its queue config', async () => {
      expect(await file(`${root}/current/config/queues.yml`)).toBeFile()
    })
  })
})
