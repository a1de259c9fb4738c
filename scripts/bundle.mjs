// The JavaScript of dist/, bundled by esbuild: start-up was mostly Node loading ~450 files (ours,
// yaml's, zod's, commander's…) one by one. Entries dist/cli.js and dist/index.js share chunks
// beside them in dist/ (one DSL instance: a spec's `import 'postdeploy-verify'` is dist/index.js);
// lazy commands stay lazy chunks. zod is inside too (its ~100 files were the largest share left):
// package.json pins the version bundled, so the types users see from 'zod' are its own; a spec
// that imports zod itself gets a second copy, which interoperates (Standard Schema, zod 4's
// instanceof by traits). ssh2's JavaScript too, its native parts loaded from its installed place
// (pinned as well). Not bundled: expect, undici, typescript, execa (loaded on use), tsx (the loader).
// Each module's `import.meta.url` stays its own: the URL of dist/<its path>.js, so the snippets
// and assets copied beside it are found as before.
import { readFile } from 'node:fs/promises'
import { createRequire } from 'node:module'
import path from 'node:path'

const EXTERNAL = ['*.node', 'expect', 'undici', 'typescript', 'execa', 'tsx', 'tsx/*']

/** Bundles ROOT/src's entries into DIST (ES modules, source maps); resolves when written. */
export async function bundle(root, dist) {
  // esbuild comes with tsx (a dependency), so the build needs no package of its own
  const tsx = createRequire(path.join(root, 'package.json')).resolve('tsx/package.json')
  const esbuild = await import(createRequire(tsx).resolve('esbuild'))
  const src = path.join(root, 'src')
  // the zod bundled is the zod whose types the package names, and ssh2's JavaScript goes with the
  // native binding built for the installed ssh2: each is the version package.json pins
  const dependencies = JSON.parse(await readFile(path.join(root, 'package.json'), 'utf8')).dependencies
  for (const name of ['zod', 'ssh2']) {
    const bundled = JSON.parse(
      await readFile(createRequire(path.join(root, 'package.json')).resolve(`${name}/package.json`), 'utf8'),
    ).version
    if (bundled !== dependencies[name])
      throw new Error(`${name} ${bundled} would be bundled, but package.json pins ${dependencies[name]} (npm install)`)
  }
  await esbuild.build({
    absWorkingDir: root,
    entryPoints: { cli: path.join(src, 'cli.ts'), index: path.join(src, 'index.ts') },
    outdir: dist,
    chunkNames: 'chunk-[hash]',
    bundle: true,
    splitting: true,
    format: 'esm',
    platform: 'node',
    target: 'node20',
    sourcemap: true,
    // as tsc's maps: positions and paths, not the sources themselves (the package stays small)
    sourcesContent: false,
    external: EXTERNAL,
    logLevel: 'warning',
    // bundled CommonJS (yaml, commander…) requires Node's modules: ES modules have no `require`
    banner: { js: "import { createRequire as __verifyRequire } from 'node:module'; const require = __verifyRequire(import.meta.url);" },
    plugins: [moduleUrls(src), fdirPicomatch(), ssh2InPlace()],
  })
}

/** `import.meta.url` in src/<path>.ts becomes the URL of dist/<path>.js (every output file is in dist/ itself). */
function moduleUrls(src) {
  return {
    name: 'module-urls',
    setup(build) {
      build.onLoad({ filter: /\.ts$/ }, async args => {
        const text = await readFile(args.path, 'utf8')
        if (!args.path.startsWith(src + path.sep)) return { contents: text, loader: 'ts' }
        const rest = text.replaceAll('import.meta.url', '')
        if (rest.includes('import.meta.'))
          throw new Error(`${args.path}: import.meta other than .url would mean the bundle's file, not this module's`)
        const own = `./${path.relative(src, args.path).split(path.sep).join('/').replace(/\.ts$/, '.js')}`
        return { contents: text.replaceAll('import.meta.url', `new URL(${JSON.stringify(own)}, import.meta.url).href`), loader: 'ts' }
      })
    },
  }
}

/**
 * fdir (tinyglobby's walker) loads picomatch with a `createRequire` esbuild cannot follow: a second
 * copy, from node_modules, on every run. It gets the bundled one instead (unchanged when fdir changes).
 */
function fdirPicomatch() {
  return {
    name: 'fdir-picomatch',
    setup(build) {
      build.onLoad({ filter: /[\\/]fdir[\\/]dist[\\/]index\.mjs$/ }, async args => {
        const text = await readFile(args.path, 'utf8')
        if (!text.includes('__require("picomatch")')) return undefined
        const patched = text.replaceAll('__require.resolve("picomatch")', '0').replaceAll('__require("picomatch")', '__bundledPicomatch')
        return { contents: `import __bundledPicomatch from "picomatch";\n${patched}`, loader: 'js' }
      })
    },
  }
}

/**
 * ssh2's JavaScript is bundled, but each of its files still sees its installed place: `__dirname`,
 * `__filename`, its native binding (`./crypto/build/Release/sshcrypto.node`) and `cpu-features`
 * resolve from the ssh2 package installed beside dist/ (the version package.json pins), as unbundled.
 */
function ssh2InPlace() {
  return {
    name: 'ssh2-in-place',
    setup(build) {
      build.onLoad({ filter: /[\\/]node_modules[\\/]ssh2[\\/]lib[\\/].*\.js$/ }, async args => {
        const text = await readFile(args.path, 'utf8')
        const own = `ssh2/lib/${args.path
          .split(/[\\/]node_modules[\\/]ssh2[\\/]lib[\\/]/)
          .pop()
          .split(path.sep)
          .join('/')}`
        const place =
          `var __filename = require.resolve(${JSON.stringify(own)}), __dirname = require('node:path').dirname(__filename), ` +
          `__ssh2Require = require('node:module').createRequire(__filename);\n`
        const rewired = text.replace(/require\((['"])(cpu-features|\.[^'"]*\.node)\1\)/g, (_m, q, spec) => `__ssh2Require(${q}${spec}${q})`)
        return { contents: place + rewired, loader: 'js' }
      })
    },
  }
}
