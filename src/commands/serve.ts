// `verify serve`: the gate as an HTTP endpoint for rollout controllers (Argo Rollouts' Web metric,
// Flagger webhooks, a CodeDeploy hook's curl). Each request runs the user's specs through the
// CLI's own run (same inventory, flags, redaction, waivers), quietly, on inventory groups and
// hosts only; see src/serve/ for the HTTP side.
import path from 'node:path'
import { ConfigError } from '../errors.ts'
import type { RunResult } from '../model.ts'
import { loadInventories, type InventoryFormat } from '../inventory/load.ts'
import { loadSpecs } from '../runner/load-specs.ts'
import { isLoopback, TOKEN_ENV, tokenId } from '../serve/auth.ts'
import { startGateServer, type GateServer, type GateSelection } from '../serve/server.ts'
import type { RunHooks } from './run-hooks.ts'

export interface ServeFlags {
  bind: string
  port: number
  /** Seconds a finished result answers for its selection. */
  cache: number
  maxRuns: number
  inventory: string | string[]
  inventoryFormat?: InventoryFormat
  specs: string
  limit?: string
}

type Run = (flags: Record<string, unknown>, hooks: RunHooks) => Promise<number>

export async function runServe(flags: ServeFlags, run: Run, env: NodeJS.ProcessEnv = process.env): Promise<GateServer> {
  const token = env[TOKEN_ENV] || undefined
  if (!token && !isLoopback(flags.bind))
    throw new ConfigError(`verify serve --bind ${flags.bind}: binding beyond loopback needs a bearer token: set ${TOKEN_ENV}`)
  // loaded once: a spec module runs its describe() calls only on its first import
  const specs = await loadSpecs(flags.specs)
  const paths = [flags.inventory].flat().map(p => path.resolve(p))
  const server = await startGateServer({
    bind: flags.bind,
    port: flags.port,
    token,
    maxRuns: flags.maxRuns,
    cacheMs: flags.cache * 1000,
    unknownNames: async names => {
      const inventory = await loadInventories(paths, flags.inventoryFormat)
      return names.filter(n => !inventory?.groups.has(n) && !inventory?.hosts.has(n))
    },
    runGate: selection => runSelection(selection, flags, specs, run),
    log: line => process.stderr.write(`${line}\n`),
  })
  const auth = token ? `bearer token from ${TOKEN_ENV} (${tokenId(token)})` : 'no token (loopback only)'
  process.stdout.write(
    `verify serve: listening on ${server.url} (GET /v1/gate/<group>, POST /v1/gate); ${auth}; cache ${flags.cache}s, ${flags.maxRuns} runs at once\n`,
  )
  return server
}

/** Resolves once SIGINT or SIGTERM came and the server is closed: `verify serve` runs until stopped. */
export function untilStopped(server: GateServer): Promise<void> {
  return new Promise(resolve => {
    const stop = (signal: NodeJS.Signals) => {
      for (const s of ['SIGINT', 'SIGTERM'] as const) process.removeListener(s, stop)
      process.stderr.write(`verify serve: ${signal}: closing\n`)
      void server.close().finally(resolve)
    }
    for (const s of ['SIGINT', 'SIGTERM'] as const) process.on(s, stop)
  })
}

async function runSelection(
  selection: GateSelection,
  flags: ServeFlags,
  specs: Awaited<ReturnType<typeof loadSpecs>>,
  run: Run,
): Promise<RunResult> {
  let result: RunResult | undefined
  const limit = selection.limit ?? flags.limit
  await run(
    { ...flags, hosts: selection.names.join(','), limit, json: undefined, junit: undefined, list: false },
    {
      specs,
      quiet: true,
      onResult: r => {
        result = r
      },
    },
  )
  if (!result) throw new Error('the run gave no result')
  return result
}
