#!/usr/bin/env node
// Start-up, paired: for each checkout given (a directory holding bin/verify.mjs, built), the
// median over N rounds of `node -e 0`, `verify --version`, and spawn → first TCP connection
// (a listener that accepts and hangs up, so no SSH time is included), with a .ts and a .js spec,
// and the CPU time verify had used by then (/proc/<pid>/stat, 10 ms ticks: less sensitive to the
// machine's load than wall time). Rounds alternate between the checkouts so load hits both alike.
//   node bench/startup.mjs [--runs 7] <checkout>...
import { spawn, execFileSync } from 'node:child_process'
import { mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs'
import net from 'node:net'
import os from 'node:os'
import path from 'node:path'

const args = process.argv.slice(2)
let runs = 7
if (args[0] === '--runs') { runs = Number(args[1]); args.splice(0, 2) }
const roots = args.length > 0 ? args.map((a) => path.resolve(a)) : [process.cwd()]

const tmp = mkdtempSync(path.join(os.tmpdir(), 'verify-startup-'))
const server = net.createServer()
const accepted = []
server.on('connection', (socket) => { accepted.shift()?.(); socket.destroy() })
await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve))
const port = server.address().port
execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', path.join(tmp, 'key')])
writeFileSync(path.join(tmp, 'known_hosts'), '')

const SPEC = `import { describe, it, expect, file } from 'postdeploy-verify'
describe('start-up', () => { it('stat', async () => { expect(await file('/etc/hostname')).toBeFile() }) })
`
function project(root, ext) {
  const dir = mkdtempSync(path.join(tmp, 'p-'))
  mkdirSync(path.join(dir, 'node_modules'))
  symlinkSync(root, path.join(dir, 'node_modules', 'postdeploy-verify'))
  writeFileSync(path.join(dir, 'package.json'), JSON.stringify({ private: true, type: 'module' }))
  mkdirSync(path.join(dir, 'specs'))
  writeFileSync(path.join(dir, 'specs', `one.spec.${ext}`), SPEC)
  writeFileSync(path.join(dir, 'hosts.yaml'), `defaults: { identityFile: ${tmp}/key, knownHosts: ${tmp}/known_hosts, user: nobody }\nhosts:\n  probe: { address: 127.0.0.1, port: ${port} }\n`)
  return dir
}

function timeProcess(command, argv, cwd, started = performance.now(), onSpawn = () => {}) {
  return new Promise((resolve, reject) => {
    const child = spawn(command, argv, { cwd, stdio: 'ignore', env: { ...process.env, NO_COLOR: '1' } })
    onSpawn(child)
    child.once('error', reject)
    child.once('exit', () => resolve(performance.now() - started))
  })
}

/** utime + stime of a live process, ms (Linux). */
function cpuMs(pid) {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').replace(/^.*\) /, '').split(' ')
  return (Number(fields[11]) + Number(fields[12])) * 10
}

async function firstConnection(bin, cwd, ext) {
  let at = 0
  let cpu = 0
  let child
  const connected = new Promise((resolve) => accepted.push(resolve))
  const started = performance.now()
  void connected.then(() => {
    at = performance.now() - started
    try { cpu = cpuMs(child.pid) } catch { cpu = NaN }
  })
  await timeProcess(process.execPath, [bin, '--hosts', 'probe', '--connect-timeout', '5', '--specs', `specs/*.spec.${ext}`], cwd, started, (c) => { child = c })
  if (at === 0) await Promise.race([connected, new Promise((r) => setTimeout(r, 1000))])
  if (at === 0) throw new Error(`${bin} in ${cwd} exited without connecting`)
  return { at, cpu }
}

const samples = roots.map(() => ({ node: [], version: [], firstTs: [], firstJs: [], cpuTs: [], cpuJs: [] }))
const loadBefore = os.loadavg()[0]
const projects = roots.map((root) => ({ ts: project(root, 'ts'), js: project(root, 'js') }))
try {
  for (let i = 0; i <= runs; i++) {
    for (const [k, root] of roots.entries()) {
      const bin = path.join(root, 'bin', 'verify.mjs')
      const ts = await firstConnection(bin, projects[k].ts, 'ts')
      const js = await firstConnection(bin, projects[k].js, 'js')
      const s = { node: await timeProcess(process.execPath, ['-e', '0'], tmp), version: await timeProcess(process.execPath, [bin, '--version'], tmp), firstTs: ts.at, firstJs: js.at, cpuTs: ts.cpu, cpuJs: js.cpu }
      if (i === 0) continue // the first round only warms caches
      for (const key of Object.keys(s)) samples[k][key].push(s[key])
    }
  }
} finally {
  server.close()
  rmSync(tmp, { recursive: true, force: true })
}
const median = (xs) => { const s = [...xs].sort((a, b) => a - b); return s[Math.floor(s.length / 2)] }
console.log(`node ${process.version}, ${os.cpus().length} cores, load ${loadBefore.toFixed(2)} → ${os.loadavg()[0].toFixed(2)}, median of ${runs} (ms)`)
console.log('| checkout | node -e 0 | verify --version | first connection, .ts spec | first connection, .js spec | CPU by then, .ts | CPU by then, .js |')
console.log('|---|---|---|---|---|---|---|')
for (const [k, root] of roots.entries()) {
  const m = samples[k]
  console.log(`| ${root} | ${median(m.node).toFixed(0)} | ${median(m.version).toFixed(0)} | ${median(m.firstTs).toFixed(0)} | ${median(m.firstJs).toFixed(0)} | ${median(m.cpuTs).toFixed(0)} | ${median(m.cpuJs).toFixed(0)} |`)
}
