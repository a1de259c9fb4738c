// The one loader for users' TypeScript specs: tsx's ESM hooks, registered once, on the first
// .ts/.mts/.cts/.tsx spec. Plain .js/.mjs specs (and this package's compiled code) load with
// no loader. Registered globally rather than namespaced, so a spec's `import … from
// 'postdeploy-verify'` resolves to the very module the CLI already loaded: one DSL instance.
const TYPESCRIPT = /\.[cm]?tsx?$/

let registered: Promise<void> | undefined

export function needsLoader(file: string): boolean {
  return TYPESCRIPT.test(file)
}

/** Registers tsx's hooks when any of the files is TypeScript; later calls reuse the first. */
export function prepareLoader(files: readonly string[]): Promise<void> {
  if (!files.some(needsLoader)) return Promise.resolve()
  // the DSL first, without hooks: every module imported after register() is a round trip to
  // tsx's loader thread, and a spec's import of the DSL then finds it loaded
  registered ??= import('../index.ts').then(() => import('tsx/esm/api')).then(({ register }) => void register())
  return registered
}
