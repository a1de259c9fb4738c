// The real-OpenSSH fixture behind every end-to-end test: one throwaway sshd listening on
// loopback aliases 127.0.0.2…, so a "fleet" of hosts costs one process and no containers.
import { spawn, type ChildProcess } from 'node:child_process'
import { existsSync } from 'node:fs'
import { chmod, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import net from 'node:net'
import { tmpdir, userInfo } from 'node:os'
import { join } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import { execa } from 'execa'
import type { HostSpec } from '../../src/model.ts'
import { ensurePackages } from './apt.ts'

export const TEST_USER = 'verifytest'
const SSHD = '/usr/sbin/sshd'
// OpenSSH refuses more than 16 listen sockets (MAX_LISTEN_SOCKS); keep one spare.
export const MAX_FLEET_HOSTS = 15
const READY_TIMEOUT_MS = 15_000
const PORT_ATTEMPTS = 5

export interface FleetHost {
  /** host-1, host-2, … */
  name: string
  /** Loopback alias the host listens on: 127.0.0.2, 127.0.0.3, … */
  address: string
  /** This host's own directory tree: `<dir>/hosts/<address>/`. */
  root: string
}

export interface Fleet {
  dir: string
  port: number
  /** `verifytest` when running as root (always in CI); the current user otherwise. */
  user: string
  identityFile: string
  knownHosts: string
  /** `ssh-ed25519 AAAA…` line of the server's host key. */
  hostKeyPub: string
  hosts: FleetHost[]
  logFile: string
  /** Exec/shell channels sshd started so far, per host address (every address present, 0 if none). */
  execChannels(): Promise<Map<string, number>>
  stop(): Promise<void>
}

/** `extraConfig`: more sshd_config lines (e.g. `MaxStartups` for a soak that connects to hundreds of hosts through one sshd). */
export async function startFleet(opts: { hosts: number; name?: string; extraConfig?: string[] }): Promise<Fleet> {
  assertFleetSize(opts.hosts)
  await ensureSshdInstalled()
  const user = await ensureTestUser()
  const dir = await mkdtemp(join(tmpdir(), `verify-sshd-${opts.name ?? 'fleet'}-`))
  try {
    // sshd's per-session child runs as the test user and must read authorized_keys and host roots.
    await chmod(dir, 0o755)
    const keys = await generateKeys(dir)
    const hosts = await makeHostRoots(dir, opts.hosts)
    const server = await startSshd(dir, hosts, user, opts.extraConfig ?? [])
    const knownHosts = join(dir, 'known_hosts')
    await writeFile(knownHosts, hosts.map(h => `[${h.address}]:${server.port} ${keys.hostKeyPub}\n`).join(''))
    return {
      dir,
      port: server.port,
      user,
      identityFile: keys.identityFile,
      knownHosts,
      hostKeyPub: keys.hostKeyPub,
      hosts,
      logFile: server.logFile,
      execChannels: async () => countExecChannels(await readFile(server.logFile, 'utf8'), hosts),
      stop: async () => {
        await stopProcess(server.child)
        // A connection's sshd child may still append to the log while we delete: retry ENOTEMPTY.
        await rm(dir, { recursive: true, force: true, maxRetries: 5, retryDelay: 100 })
      },
    }
  } catch (err) {
    await rm(dir, { recursive: true, force: true })
    throw err
  }
}

/** HostSpecs for the fleet, ready for a transport or runner without writing a hosts.yaml. */
export function fleetHostSpecs(fleet: Fleet): HostSpec[] {
  return fleet.hosts.map(h => ({
    name: h.name,
    address: h.address,
    port: fleet.port,
    user: fleet.user,
    identityFile: fleet.identityFile,
    knownHosts: fleet.knownHosts,
    transport: 'ssh',
    groups: [],
    vars: { root: h.root },
  }))
}

function assertFleetSize(hosts: number): void {
  if (!Number.isInteger(hosts) || hosts < 1) throw new Error(`startFleet: hosts must be a positive integer, got ${hosts}`)
  if (hosts > MAX_FLEET_HOSTS) {
    throw new Error(
      `startFleet: at most ${MAX_FLEET_HOSTS} hosts per fleet (OpenSSH allows 16 listen sockets per sshd), got ${hosts}; start several fleets instead`,
    )
  }
}

// ---------------------------------------------------------------------------------------------
// Machine setup: package, privsep dir, test user. Each step is idempotent and tolerates a
// concurrent vitest worker doing the same thing at the same moment.

let installing: Promise<void> | undefined

export function ensureSshdInstalled(): Promise<void> {
  installing ??= installSshd()
  return installing
}

async function installSshd(): Promise<void> {
  ensurePackages({ [SSHD]: 'openssh-server' })
  if (isRoot()) await mkdir('/run/sshd', { recursive: true, mode: 0o755 }) // privilege separation dir
}

function isRoot(): boolean {
  return process.getuid?.() === 0
}

async function ensureTestUser(): Promise<string> {
  // Without root we cannot add users, but sshd run as a user can still log that same user in.
  if (!isRoot()) return userInfo().username
  await retryOnLock(async () => {
    if (!(await userExists())) await addUser()
  })
  await retryOnLock(unlockUser)
  return TEST_USER
}

async function userExists(): Promise<boolean> {
  const result = await execa('id', ['-u', TEST_USER], { reject: false })
  return result.exitCode === 0
}

async function addUser(): Promise<void> {
  // Home `/` exists, so sshd does not print "Could not chdir to home directory" into every session's stderr.
  const result = await execa('useradd', ['-M', '-d', '/', '-s', '/bin/sh', TEST_USER], { reject: false })
  if (result.exitCode === 0 || /already exists/.test(result.stderr)) return
  throw new Error(`useradd ${TEST_USER} failed (${result.exitCode}): ${result.stderr}`)
}

async function unlockUser(): Promise<void> {
  // useradd leaves the password `!`, which sshd without PAM treats as a locked account and refuses.
  const shadow = await execa('getent', ['shadow', TEST_USER], { reject: false })
  const password = shadow.stdout.split(':')[1]
  const home = (await execa('getent', ['passwd', TEST_USER])).stdout.split(':')[5]
  // Only a locked account (`!…`) needs unlocking: a password a test set (sudo -S) must survive other fleets starting.
  if (password !== undefined && !password.startsWith('!') && home === '/') return
  await execa('usermod', ['-p', '*', '-d', '/', TEST_USER])
}

/** useradd/usermod fail with "cannot lock /etc/passwd" while another worker holds the lock. */
async function retryOnLock(step: () => Promise<void>): Promise<void> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await step()
    } catch (err) {
      if (attempt >= 10 || !/lock/i.test(String((err as Error).message))) throw err
      await sleep(100 * attempt)
    }
  }
}

// ---------------------------------------------------------------------------------------------
// Keys and directories.

async function generateKeys(dir: string): Promise<{ identityFile: string; hostKeyPub: string }> {
  const hostKey = join(dir, 'ssh_host_ed25519_key')
  const identityFile = join(dir, 'id_ed25519')
  await keygen(hostKey, 'verify-test-host')
  await keygen(identityFile, 'verify-test-client')
  const hostKeyPub = pubKeyLine(await readFile(`${hostKey}.pub`, 'utf8'))
  const clientPub = pubKeyLine(await readFile(`${identityFile}.pub`, 'utf8'))
  await writeFile(join(dir, 'authorized_keys'), `${clientPub}\n`, { mode: 0o644 })
  return { identityFile, hostKeyPub }
}

function keygen(file: string, comment: string): Promise<unknown> {
  return execa('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', comment, '-f', file])
}

/** `type base64` without the comment. */
function pubKeyLine(text: string): string {
  return text.trim().split(/\s+/).slice(0, 2).join(' ')
}

async function makeHostRoots(dir: string, count: number): Promise<FleetHost[]> {
  const hosts: FleetHost[] = []
  for (let i = 0; i < count; i++) {
    const address = `127.0.0.${i + 2}`
    const root = join(dir, 'hosts', address)
    await mkdir(root, { recursive: true, mode: 0o755 })
    hosts.push({ name: `host-${i + 1}`, address, root })
  }
  await chmod(join(dir, 'hosts'), 0o755)
  return hosts
}

// ---------------------------------------------------------------------------------------------
// The sshd process.

interface RunningSshd {
  child: ChildProcess
  port: number
  logFile: string
}

async function startSshd(dir: string, hosts: FleetHost[], user: string, extraConfig: string[]): Promise<RunningSshd> {
  let lastError: unknown
  // Another worker may grab the port between our probe and sshd's bind: then try a fresh one.
  for (let attempt = 1; attempt <= PORT_ATTEMPTS; attempt++) {
    const port = await freePort()
    const configFile = join(dir, `sshd_config.${port}`)
    const logFile = join(dir, `sshd.${port}.log`)
    await writeFile(configFile, sshdConfig(dir, hosts, port, user) + extraConfig.map(line => `${line}\n`).join(''))
    await writeFile(logFile, '', { mode: 0o644 })
    const child = spawn(SSHD, ['-D', '-e', '-f', configFile, '-E', logFile], { stdio: ['ignore', 'ignore', 'pipe'] })
    killOnExit(child)
    try {
      await waitReady(child, logFile, hosts, port)
      return { child, port, logFile }
    } catch (err) {
      lastError = err
      await stopProcess(child)
      if (!(err instanceof PortTakenError)) throw err
    }
  }
  throw lastError
}

function sshdConfig(dir: string, hosts: FleetHost[], port: number, user: string): string {
  return [
    `Port ${port}`,
    ...hosts.map(h => `ListenAddress ${h.address}`),
    `HostKey ${join(dir, 'ssh_host_ed25519_key')}`,
    `PidFile ${join(dir, `sshd.${port}.pid`)}`,
    `AuthorizedKeysFile ${join(dir, 'authorized_keys')}`,
    'StrictModes no',
    'UsePAM no',
    'PubkeyAuthentication yes',
    'PasswordAuthentication no',
    'KbdInteractiveAuthentication no',
    'PermitRootLogin no',
    `AllowUsers ${user}`,
    'AllowTcpForwarding yes',
    'X11Forwarding no',
    'PrintMotd no',
    'UseDNS no',
    'LogLevel VERBOSE',
    '',
  ].join('\n')
}

class PortTakenError extends Error {}
const BIND_FAILED = /Bind to port \d+ on \S+ failed|Cannot bind any address/

/** A port nobody holds on any address: binding the wildcard conflicts with every specific bind. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer()
    server.once('error', reject)
    server.listen(0, '0.0.0.0', () => {
      const { port } = server.address() as net.AddressInfo
      server.close(() => resolve(port))
    })
  })
}

async function waitReady(child: ChildProcess, logFile: string, hosts: FleetHost[], port: number): Promise<void> {
  let stderr = ''
  child.stderr?.on('data', (chunk: Buffer) => {
    stderr += chunk.toString()
  })
  let exited = false
  child.once('exit', () => {
    exited = true
  })
  const deadline = Date.now() + READY_TIMEOUT_MS
  while (Date.now() < deadline) {
    const log = await readFile(logFile, 'utf8')
    if (BIND_FAILED.test(log)) throw new PortTakenError(`port ${port} taken:\n${log}`)
    if (exited) throw new Error(`sshd exited during startup (exit ${child.exitCode}):\n${stderr}${log}`)
    // sshd logs this right after listen(), so from here the kernel accepts connections on every alias.
    // (Probing with connect() instead would fork sshd children that outlive a quick stop().)
    if (hosts.every(h => log.includes(`Server listening on ${h.address} port ${port}.`))) return
    await sleep(50)
  }
  throw new Error(
    `sshd did not listen on port ${port} of ${hosts.map(h => h.address).join(', ')} within ${READY_TIMEOUT_MS} ms:\n${stderr}${await readFile(logFile, 'utf8')}`,
  )
}

/** A crashed test run must not leave sshd listening: kill our own pid (and only it) on exit. */
function killOnExit(child: ChildProcess): void {
  const kill = () => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL')
  }
  process.once('exit', kill)
  child.once('exit', () => process.removeListener('exit', kill))
}

/** SIGTERM, then SIGKILL after 5 s; resolves once the child has exited. */
export async function stopProcess(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return
  const exited = new Promise<void>(resolve => child.once('exit', () => resolve()))
  child.kill('SIGTERM')
  const timer = setTimeout(() => child.kill('SIGKILL'), 5_000)
  await exited
  clearTimeout(timer)
}

// ---------------------------------------------------------------------------------------------
// Log parsing.

const CONNECTION = /Connection from (\S+) port (\d+) on (\S+) port (\d+)/
const SESSION = /Starting session: (?:command|shell|forced-command)\b.* for \S+ from (\S+) port (\d+) id \d+/

/**
 * Sessions per host alias. Session lines name only the client end, which is 127.0.0.1 for every
 * alias, so the connection lines map each client endpoint to the server address it reached.
 */
export function countExecChannels(log: string, hosts: Pick<FleetHost, 'address'>[]): Map<string, number> {
  const counts = new Map(hosts.map(h => [h.address, 0]))
  const serverOf = new Map<string, string>()
  for (const line of log.split('\n')) {
    const conn = CONNECTION.exec(line)
    if (conn) {
      serverOf.set(`${conn[1]}:${conn[2]}`, conn[3]!)
      continue
    }
    const session = SESSION.exec(line)
    if (!session) continue
    const address = serverOf.get(`${session[1]}:${session[2]}`)
    if (address !== undefined) counts.set(address, (counts.get(address) ?? 0) + 1)
  }
  return counts
}
