// The JavaScript of dist/, bundled by esbuild: start-up was mostly Node loading ~450 files (ours,
// yaml's, zod's, commander's…) one by one. Entries dist/cli.js and dist/index.js share chunks
// beside them in dist/ (one DSL instance: a spec's `import 'postdeploy-verify'` is dist/index.js);
// lazy commands stay lazy chunks. zod is inside too (its ~100 files were the largest share left):
// package.json pins the version bundled, so the types users see from 'zod' are its own; a spec
// that imports zod itself gets a second copy, which interoperates (Standard Schema, zod 4's
// instanceof by traits). Not bundled: ssh2 (a native binding and __dirname beside its files),
// expect, undici, typescript, execa (loaded on use), tsx (the loader).
// Each module's `import.meta.url` stays its own: the URL of dist/<its path>.js, so the snippets
// and assets copied beside it are found as before.
import { readFile } from 'node:fs/promises'
import { createRequire } from 'node:module'
import path from 'node:path'

const EXTERNAL = ['ssh2', 'ssh2/*', 'expect', 'undici', 'typescript', 'execa', 'tsx', 'tsx/*']

/** Bundles ROOT/src's entries into DIST (ES modules, source maps); resolves when written. */
export async function bundle(root, dist) {
  // esbuild comes with tsx (a dependency), so the build needs no package of its own
  const tsx = createRequire(path.join(root, 'package.json')).resolve('tsx/package.json')
  const esbuild = await import(createRequire(tsx).resolve('esbuild'))
  const src = path.join(root, 'src')
  // the zod bundled is the zod whose types the package names: the one package.json pins
  const pinned = JSON.parse(await readFile(path.join(root, 'package.json'), 'utf8')).dependencies.zod
  const zodPackage = createRequire(path.join(root, 'package.json')).resolve('zod/package.json')
  const bundled = JSON.parse(await readFile(zodPackage, 'utf8')).version
  if (bundled !== pinned) throw new Error(`zod ${bundled} would be bundled, but package.json pins ${pinned} (npm install)`)
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
    external: EXTERNAL,
    logLevel: 'warning',
    // bundled CommonJS (yaml, commander…) requires Node's modules: ES modules have no `require`
    banner: { js: "import { createRequire as __verifyRequire } from 'node:module'; const require = __verifyRequire(import.meta.url);" },
    plugins: [moduleUrls(src), fdirPicomatch()],
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
