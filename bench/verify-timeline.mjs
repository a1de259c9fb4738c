#!/usr/bin/env node
// bin/verify.mjs with time stamps, for the benchmark's "where the time goes" section: the same
// start-up (the compiled CLI imported), plus the moment of the first outgoing TCP
// connection and of exit. Writes them as JSON (ms since process start) to $BENCH_TIMELINE.
import { writeFileSync } from 'node:fs'
import module from 'node:module'
import net from 'node:net'
import v8 from 'node:v8'

const stamps = { scriptStart: performance.now() }
const connect = net.Socket.prototype.connect
net.Socket.prototype.connect = function (...args) {
  // TCP only: tsx itself connects to a unix socket (its IPC pipe) while registering
  const target = Array.isArray(args[0]) ? args[0][0] : args[0]
  const tcp = typeof target === 'number' || (typeof target === 'object' && target !== null && 'port' in target)
  if (tcp) stamps.firstConnect ??= performance.now()
  return connect.apply(this, args)
}
process.on('exit', () => {
  stamps.exit = performance.now()
  if (process.env.BENCH_TIMELINE) writeFileSync(process.env.BENCH_TIMELINE, JSON.stringify({ timeOrigin: performance.timeOrigin, ...stamps }))
})

// as bin/verify.mjs: the compiled CLI, no loader (tsx is registered by the runner for .ts specs)
module.enableCompileCache?.()
v8.setFlagsFromString('--heap-growing-percent=100') // as bin/verify.mjs
stamps.depsLoaded = performance.now()
stamps.tsxRegistered = performance.now()
const { main } = await import('../dist/cli.js')
stamps.cliImported = performance.now()
process.exitCode = await main(process.argv)
stamps.mainReturned = performance.now()
// what keeps the process alive after main() returned, if anything
stamps.aliveAfterMain = process._getActiveHandles().map((h) => h.constructor?.name ?? typeof h)
setImmediate(() => { stamps.aliveAfterMainTick = process._getActiveHandles().map((h) => h.constructor?.name ?? typeof h) })
