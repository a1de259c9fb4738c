// The benchmark's "verify, 1 check" row: connecting, authenticating and one fact per host, so
// the table separates what connecting costs from what the 22 checks of deploy.spec.ts add.
import { describe, it, expect, file } from 'postdeploy-verify'

describe('blog deploy', ({ vars }) => {
  it('current is a symlink', async () => {
    expect(await file(`${String(vars.appRoot)}/current`)).toBeSymlink()
  })
})
