#!/usr/bin/env node
// Registers tsx so the CLI and the user's .ts specs load through one loader: specs that
// `import … from 'postdeploy-verify'` then share the CLI's copy of the DSL module.
//
// Every module imported after register() costs a round trip to tsx's loader thread, so the
// packages a run always needs are loaded first, without it (about half of start-up; see
// bench/README.md). undici loads on first use instead.
await Promise.all(['ssh2', 'zod', 'yaml', 'expect', 'commander', 'execa', 'tinyglobby', 'p-limit', 'ssh-config'].map((name) => import(name)))
const { register } = await import('tsx/esm/api')
register()
const [{ main }, { trackTimers, watchExit }] = await Promise.all([import('../src/cli.ts'), import('../src/runner/live-handles.ts')])
trackTimers()
process.exitCode = await main(process.argv)
// VERIFY_DEBUG_HANDLES=1: name whatever still holds the process after the run (nothing should)
watchExit()
