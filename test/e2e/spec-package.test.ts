// Specs shared as an npm package: a package packed with `npm pack` and installed into the
// project's node_modules imports 'postdeploy-verify' and declares checks through a function;
// it works with the project's copy of the DSL and with a nested copy of its own (what npm
// installs when versions differ): one registry, one host context, errors classified alike.
import { cpSync, existsSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { execa } from 'execa'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { layDeploy } from '../support/deploy-tree.ts'
import { makeWorkdir, readResult, REPO_ROOT, runCli, type Workdir } from '../support/workdir.ts'

const PACKAGE_JS = `// @acme/release-specs: release checks shared by every acme app
import { describe, it, expect, file, defineVars, z } from 'postdeploy-verify'

export const ReleaseVars = defineVars(z.object({ appRoot: z.string() }))

export function releaseChecks({ title = 'acme release' } = {}) {
  describe(title, { vars: ReleaseVars, tags: ['acme'] }, ({ vars }) => {
    it('current is a symlink', async () => {
      expect(await file(vars.appRoot + '/current')).toBeSymlink()
    })
    it('records its revision', async () => {
      expect(await file(vars.appRoot + '/current/REVISION').content).toMatch(/^[0-9a-f]+\\n$/)
    })
  })
}
`

const PACKAGE_DTS = `export declare function releaseChecks(options?: { title?: string }): void
`

const SPEC = `import { describe, it, expect, file } from 'postdeploy-verify'
import { releaseChecks } from '@acme/release-specs'

releaseChecks({ title: 'blog release (from @acme/release-specs)' })

describe('blog', ({ vars }) => {
  it('has shared/log', async () => {
    expect(await file(vars.appRoot + '/shared/log')).toBeDirectory()
  })
})
`

let work: Workdir
let tmp: string
let appRoot: string
const installed = () => path.join(work.dir, 'node_modules', '@acme', 'release-specs')

beforeAll(async () => {
  tmp = mkdtempSync(path.join(os.tmpdir(), 'verify-spec-package-'))
  appRoot = layDeploy(path.join(tmp, 'host'), 'blog').appRoot
  const source = path.join(tmp, 'release-specs')
  mkdirSync(source)
  writeFileSync(
    path.join(source, 'package.json'),
    JSON.stringify({
      name: '@acme/release-specs',
      version: '1.2.0',
      type: 'module',
      exports: { '.': { types: './index.d.ts', default: './index.js' } },
      peerDependencies: { 'postdeploy-verify': '*' },
    }),
  )
  writeFileSync(path.join(source, 'index.js'), PACKAGE_JS)
  writeFileSync(path.join(source, 'index.d.ts'), PACKAGE_DTS)
  // npm pack, then unpack into node_modules as npm install would (no registry needed)
  const packed = await execa('npm', ['pack', '--silent', '--pack-destination', tmp], { cwd: source })
  const tarball = path.join(tmp, packed.stdout.trim().split('\n').pop()!)
  work = makeWorkdir({ 'specs/blog.spec.ts': SPEC })
  mkdirSync(installed(), { recursive: true })
  await execa('tar', ['-xzf', tarball, '--strip-components=1', '-C', installed()])
})

afterAll(() => {
  work?.remove()
  if (tmp) rmSync(tmp, { recursive: true, force: true })
})

const run = (out: string, root = appRoot) => runCli(['--hosts', 'local', '--var', `appRoot=${root}`, '--json', out], { cwd: work.dir })

describe('a spec package from npm', () => {
  it("declares its checks through the project's postdeploy-verify (exit 0)", async () => {
    expect(existsSync(path.join(installed(), 'index.js'))).toBe(true)
    const result = await run('one.json')
    expect(result.exitCode, result.stdout + result.stderr).toBe(0)
    const checks = readResult(work.dir, 'one.json').hosts[0]!.checks
    expect(checks.map(c => [c.path.join(' › '), c.status])).toEqual([
      ['blog release (from @acme/release-specs) › current is a symlink', 'passed'],
      ['blog release (from @acme/release-specs) › records its revision', 'passed'],
      ['blog › has shared/log', 'passed'],
    ])
    // reported under the spec that called it, pointing at where the package declares it
    expect(checks[0]).toMatchObject({ file: 'specs/blog.spec.ts', line: 4, tags: ['acme'] })
    expect(checks[0]!.source).toMatch(/node_modules\/@acme\/release-specs\/index\.js:\d+$/)
  })

  it('still works when the package brings its own nested copy of postdeploy-verify', async () => {
    const nested = path.join(installed(), 'node_modules', 'postdeploy-verify')
    mkdirSync(nested, { recursive: true })
    cpSync(path.join(REPO_ROOT, 'dist'), path.join(nested, 'dist'), { recursive: true })
    cpSync(path.join(REPO_ROOT, 'package.json'), path.join(nested, 'package.json'))
    // its dependencies (zod, expect, …) resolve as a real install's would
    symlinkSync(path.join(REPO_ROOT, 'node_modules'), path.join(nested, 'node_modules'))
    try {
      const result = await run('nested.json')
      expect(result.exitCode, result.stdout + result.stderr).toBe(0)
      expect(readResult(work.dir, 'nested.json').summary).toMatchObject({ checks: 3, passed: 3 })

      // errors thrown by the copy's resources are classified as the runner's own: failed, not crashed
      const broken = await run('broken.json', path.join(tmp, 'nowhere'))
      expect(broken.exitCode, broken.stdout + broken.stderr).toBe(1)
      const checks = readResult(work.dir, 'broken.json').hosts[0]!.checks
      expect(checks.map(c => [c.path.at(-1), c.status, c.errorKind])).toEqual([
        ['current is a symlink', 'failed', undefined],
        ['records its revision', 'failed', undefined],
        ['has shared/log', 'failed', undefined],
      ])
      expect(checks[1]!.actual).toBe('missing')
    } finally {
      rmSync(path.join(installed(), 'node_modules'), { recursive: true, force: true })
    }
  })

  it("type-checks against the package's declarations with verify check", async () => {
    const result = await runCli(['check', '--hosts', 'local', '--var', `appRoot=${appRoot}`], { cwd: work.dir })
    expect(result.exitCode, result.stdout + result.stderr).toBe(0)
    work.write('specs/typo.spec.ts', `import { releaseChecks } from '@acme/release-specs'\nreleaseChecks({ titel: 'x' })\n`)
    const typo = await runCli(['check', '--hosts', 'local', '--var', `appRoot=${appRoot}`], { cwd: work.dir })
    expect(typo.exitCode, typo.stdout + typo.stderr).toBe(3)
    expect(typo.stderr).toMatch(/^specs\/typo\.spec\.ts:2:\d+: TS\d+: Object literal may only specify known properties, .*'titel'/m)
  })
})
