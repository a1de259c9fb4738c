// Shared examples: the postconditions of a Capistrano-style push deploy (releases/, a current
// symlink, REVISION, shared/). Call it inside an app's describe with that app's paths; not a
// spec file itself, so verify does not load it on its own.
import { it, expect, file, directory, release } from 'postdeploy-verify'

export interface ReleaseLayout {
  /** The app's deploy root, e.g. /apps/blog. */
  root: string
  /** Most releases kept by the deploy's cleanup. */
  keep?: number
}

export function releaseLayout({ root, keep = 5 }: ReleaseLayout): void {
  const releases = `${root}/releases/`

  it('current points into releases/', async () => {
    const current = await file(`${root}/current`)
    expect(current).toBeSymlink()
    // relative (Capistrano's `releases/…`) or absolute link: compared as paths, not as a regex
    expect(current).toBeInside(releases)
  })

  it('current resolves to a release directory', async () => {
    const current = await file(`${root}/current`)
    expect(current).toBeDirectory()
    // resolved on the host, so a root that is itself behind a symlink still counts
    expect(await release(root)).toPointInsideReleases()
  })

  it('the release records its revision', async () => {
    expect(await file(`${root}/current/REVISION`).content).toMatch(/^[0-9a-f]{7,40}\n$/)
  })

  it(`keeps between 1 and ${keep} releases`, async () => {
    const { entries } = await directory(releases)
    expect(entries.length).toBeGreaterThanOrEqual(1)
    expect(entries.length).toBeLessThanOrEqual(keep)
  })

  it('shared/log exists', async () => {
    expect(await file(`${root}/shared/log`)).toBeDirectory()
  })
}
