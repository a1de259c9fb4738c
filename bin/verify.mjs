#!/usr/bin/env node
// Registers tsx so the CLI and the user's .ts specs load through one loader: specs that
// `import … from 'postdeploy-verify'` then share the CLI's copy of the DSL module.
import { register } from 'tsx/esm/api'

register()
const { main } = await import('../src/cli.ts')
process.exitCode = await main(process.argv)
