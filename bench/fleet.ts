// The benchmark's fleet: one OpenSSH sshd listening on 0.0.0.0 inside a network namespace of
// its own (bench/run.sh creates it), so every 127.x.y.z address is a host and a fleet of 500
// costs one process. test/support/sshd.ts binds one ListenAddress per alias instead, which
// OpenSSH caps at 16. Each host gets its own deploy tree and status app, as in the e2e tests.
import { spawn, execFileSync, type ChildProcess } from 'node:child_process'
import {
  chmodSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  appendFileSync,
  rmSync,
  symlinkSync,
  writeFileSync,
  realpathSync,
  openSync,
  readSync,
  closeSync,
  fstatSync,
} from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import { countExecChannels, freePort, stopProcess, TEST_USER } from '../test/support/sshd.ts'
import { layDeploy, startStatusApp, RELEASES, type StatusApp } from '../test/support/deploy-tree.ts'
import { reapedCpuSec } from './measure.ts'

const SSHD = '/usr/sbin/sshd'
const REVISION = '3f9c2ab' // what layDeploy writes into the current release's REVISION

export interface BenchHost {
  name: string
  address: string
  /** The deployed app: `<root>/apps/blog`. */
  appRoot: string
  status: StatusApp
}

/** Client-side files for reaching the fleet on one front port (sshd itself, or a delay proxy). */
export interface FrontConfig {
  port: number
  /** OpenSSH client config: a `Host host-N / HostName 127.x` block per host. */
  sshConfig: string
  /** The same plus a ControlPath, so Testinfra's ControlMaster=auto really multiplexes. */
  sshConfigMux: string
  /** verify's inventory; group `fleet` holds every host. */
  hostsYaml(count: number): string
}

export interface BenchFleet {
  dir: string
  sshPort: number
  user: string
  identityFile: string
  knownHosts: string
  hosts: BenchHost[]
  /** `{ vars: {...}, hosts: { name: { appRoot, statusPort } } }`, read by the Serverspec and Testinfra specs. */
  fleetJson: string
  /** Host names one per line (first `count`), for xargs and rake. */
  hostsFile(count: number): string
  front(port: number): FrontConfig
  /** Bytes in sshd's log so far: pass to execChannelsSince to count one run's sessions. */
  logOffset(): number
  execChannelsSince(offset: number, count: number): Map<string, number>
  /** Zero every status app's access counter (each tool's requests count as accesses). */
  resetAccesses(): void
  /**
   * CPU seconds (user + system) of everything sshd ran and reaped so far: connection handlers,
   * sessions, every remote command. The "hosts'" side of a run, which a real fleet would pay on
   * the hosts and this one pays on the runner's cores.
   */
  fleetCpuSec(): number
  stop(): Promise<void>
}

export async function startBenchFleet(size: number): Promise<BenchFleet> {
  assertOwnNetworkNamespace()
  execFileSync('id', ['-u', TEST_USER], { stdio: 'ignore' }) // throws when bench/run.sh has not created the user
  const dir = mkdtempSync(path.join(os.tmpdir(), 'verify-bench-'))
  chmodSync(dir, 0o755) // the session runs as the unprivileged test user and must read the trees
  const children: ChildProcess[] = []
  const apps: StatusApp[] = []
  const stop = async () => {
    for (const child of children) await stopProcess(child)
    await Promise.all(apps.map(a => a.close()))
    rmSync(dir, { recursive: true, force: true, maxRetries: 5, retryDelay: 100 })
  }
  try {
    const hostKey = path.join(dir, 'ssh_host_ed25519_key')
    const identityFile = path.join(dir, 'id_ed25519')
    keygen(hostKey)
    keygen(identityFile)
    const hostKeyPub = pubKeyLine(readFileSync(`${hostKey}.pub`, 'utf8'))
    writeFileSync(path.join(dir, 'authorized_keys'), `${pubKeyLine(readFileSync(`${identityFile}.pub`, 'utf8'))}\n`, { mode: 0o644 })

    children.push(startBlogApp(dir))
    sourceAddressPerHost(addresses(size))
    const hosts: BenchHost[] = []
    for (const [i, address] of addresses(size).entries()) {
      const root = path.join(dir, 'hosts', address)
      mkdirSync(root, { recursive: true, mode: 0o755 })
      const { appRoot } = layDeploy(root)
      const status = await startStatusApp()
      apps.push(status)
      hosts.push({ name: `host-${i + 1}`, address, appRoot, status })
    }

    const sshPort = await freePort()
    const logFile = path.join(dir, 'sshd.log')
    writeFileSync(logFile, '', { mode: 0o644 })
    const configFile = path.join(dir, 'sshd_config')
    writeFileSync(configFile, sshdConfig(dir, sshPort))
    const sshd = spawn(SSHD, ['-D', '-e', '-f', configFile, '-E', logFile], { stdio: ['ignore', 'ignore', 'inherit'] })
    children.unshift(sshd) // stop sshd first, so no new session starts while the rest goes
    await waitListening(sshd, logFile, sshPort)

    const knownHosts = path.join(dir, 'known_hosts')
    writeFileSync(knownHosts, '')
    const fleetJson = path.join(dir, 'fleet.json')
    writeFileSync(
      fleetJson,
      JSON.stringify(
        {
          vars: { revision: REVISION, previousRelease: RELEASES[0] },
          hosts: Object.fromEntries(hosts.map(h => [h.name, { appRoot: h.appRoot, statusPort: h.status.port }])),
        },
        null,
        2,
      ),
    )
    mkdirSync(path.join(dir, 'cm'), { mode: 0o700 })

    const fronts = new Map<number, FrontConfig>()
    const fleet: BenchFleet = {
      dir,
      sshPort,
      user: TEST_USER,
      identityFile,
      knownHosts,
      hosts,
      fleetJson,
      hostsFile: count =>
        writeOnce(
          path.join(dir, `hosts.${count}.txt`),
          hosts
            .slice(0, count)
            .map(h => `${h.name}\n`)
            .join(''),
        ),
      front: port => {
        let front = fronts.get(port)
        if (!front) {
          appendFileSync(knownHosts, hosts.map(h => `[${h.address}]:${port} ${hostKeyPub}\n`).join(''))
          front = makeFront(fleet, port)
          fronts.set(port, front)
        }
        return front
      },
      logOffset: () => fstatSize(logFile),
      execChannelsSince: (offset, count) => countExecChannels(readFrom(logFile, offset), hosts.slice(0, count)),
      resetAccesses: () => {
        for (const h of hosts) h.status.accesses = 0
      },
      fleetCpuSec: () => reapedCpuSec(sshd.pid!),
      stop,
    }
    fleet.front(sshPort)
    return fleet
  } catch (error) {
    await stop()
    throw error
  }
}

/** 127.0.0.2, 127.0.0.3, …, skipping .0 and .255 so no address looks like a network or broadcast. */
export function addresses(count: number): string[] {
  const out: string[] = []
  for (let n = 2; out.length < count; n++) {
    const [a, b, c] = [(n >> 16) & 255, (n >> 8) & 255, n & 255]
    if (c === 0 || c === 255) continue
    out.push(`127.${a}.${b}.${c}`)
  }
  return out
}

function makeFront(fleet: BenchFleet, port: number): FrontConfig {
  const common = [
    'Host *',
    `  Port ${port}`,
    `  User ${fleet.user}`,
    `  IdentityFile ${fleet.identityFile}`,
    '  IdentitiesOnly yes',
    `  UserKnownHostsFile ${fleet.knownHosts}`,
    '  GlobalKnownHostsFile /dev/null',
    '  StrictHostKeyChecking yes',
    '  BatchMode yes',
    '  LogLevel ERROR',
  ]
  const hostBlocks = fleet.hosts.flatMap(h => [`Host ${h.name}`, `  HostName ${h.address}`])
  const sshConfig = path.join(fleet.dir, `ssh_config.${port}`)
  writeFileSync(sshConfig, [...hostBlocks, ...common, ''].join('\n'))
  const sshConfigMux = path.join(fleet.dir, `ssh_config_mux.${port}`)
  writeFileSync(sshConfigMux, [...hostBlocks, ...common, `  ControlPath ${path.join(fleet.dir, 'cm', '%C')}`, ''].join('\n'))
  return {
    port,
    sshConfig,
    sshConfigMux,
    hostsYaml: count => writeOnce(path.join(fleet.dir, `hosts.${port}.${count}.yaml`), inventory(fleet, port, count)),
  }
}

function inventory(fleet: BenchFleet, port: number, count: number): string {
  const hosts = fleet.hosts.slice(0, count)
  return [
    'defaults:',
    `  port: ${port}`,
    `  user: ${fleet.user}`,
    `  identityFile: ${fleet.identityFile}`,
    `  knownHosts: ${fleet.knownHosts}`,
    'vars:',
    `  revision: "${REVISION}"`,
    `  previousRelease: "${RELEASES[0]}"`,
    'hosts:',
    ...hosts.map(
      h => `  ${h.name}: { address: ${h.address}, vars: { appRoot: ${JSON.stringify(h.appRoot)}, statusPort: ${h.status.port} } }`,
    ),
    'groups:',
    '  fleet:',
    '    hosts:',
    ...hosts.map(h => `      - ${h.name}`),
    '',
  ].join('\n')
}

function sshdConfig(dir: string, port: number): string {
  return [
    `Port ${port}`,
    // Safe only because this network namespace has nothing but lo (assertOwnNetworkNamespace).
    'ListenAddress 0.0.0.0',
    `HostKey ${path.join(dir, 'ssh_host_ed25519_key')}`,
    `PidFile ${path.join(dir, 'sshd.pid')}`,
    `AuthorizedKeysFile ${path.join(dir, 'authorized_keys')}`,
    'StrictModes no',
    'UsePAM no',
    'PubkeyAuthentication yes',
    'PasswordAuthentication no',
    'KbdInteractiveAuthentication no',
    'PermitRootLogin no',
    `AllowUsers ${TEST_USER}`,
    'AllowTcpForwarding yes',
    'X11Forwarding no',
    'PrintMotd no',
    'UseDNS no',
    'LogLevel VERBOSE',
    // A real fleet has one sshd per host; one sshd standing in for all must not drop handshakes.
    'MaxStartups 100000',
    // Testinfra's xdist workers share one ControlMaster connection per host.
    'MaxSessions 100',
    '',
  ].join('\n')
}

/**
 * Connections to 127.0.0.57 leave from 127.0.0.57 rather than 127.0.0.1, so the client end
 * sshd logs is unique per host. Otherwise two hosts' connections may share a client port at the
 * same moment (the kernel only needs the 4-tuple unique) and a session would be counted on the
 * wrong host. Routes of this namespace only.
 */
function sourceAddressPerHost(list: string[]): void {
  const routes = list.map(a => `route replace local ${a}/32 dev lo src ${a} table local\n`).join('')
  execFileSync('ip', ['-batch', '-'], { input: routes })
}

/** A long-running process named `blog-app` (a symlink to sleep), for the process checks. */
function startBlogApp(dir: string): ChildProcess {
  const bin = path.join(dir, 'bin')
  mkdirSync(bin, { mode: 0o755 })
  symlinkSync(realpathSync('/bin/sleep'), path.join(bin, 'blog-app'))
  return spawn(path.join(bin, 'blog-app'), ['infinity'], { stdio: 'ignore' })
}

/** Refuse to put sshd on 0.0.0.0 anywhere but a namespace of our own, with only loopback. */
function assertOwnNetworkNamespace(): void {
  const interfaces = Object.keys(os.networkInterfaces())
  if (interfaces.some(name => name !== 'lo')) {
    throw new Error(
      `the bench fleet listens on 0.0.0.0 and must run in its own network namespace (found interfaces ${interfaces.join(', ')}); run it through bench/run.sh`,
    )
  }
  if (!interfaces.includes('lo')) throw new Error('loopback is down in this network namespace: ip link set lo up')
}

function keygen(file: string): void {
  execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', 'verify-bench', '-f', file])
}

function pubKeyLine(text: string): string {
  return text.trim().split(/\s+/).slice(0, 2).join(' ')
}

function writeOnce(file: string, content: string): string {
  writeFileSync(file, content)
  return file
}

async function waitListening(child: ChildProcess, logFile: string, port: number): Promise<void> {
  const deadline = Date.now() + 15_000
  while (Date.now() < deadline) {
    const log = readFileSync(logFile, 'utf8')
    if (log.includes(`Server listening on 0.0.0.0 port ${port}.`)) return
    if (child.exitCode !== null) throw new Error(`sshd exited (${child.exitCode}):\n${log}`)
    await sleep(50)
  }
  throw new Error(`sshd did not listen on port ${port} within 15 s:\n${readFileSync(logFile, 'utf8')}`)
}

function fstatSize(file: string): number {
  const fd = openSync(file, 'r')
  try {
    return fstatSync(fd).size
  } finally {
    closeSync(fd)
  }
}

function readFrom(file: string, offset: number): string {
  const fd = openSync(file, 'r')
  try {
    const size = fstatSync(fd).size
    const buffer = Buffer.alloc(Math.max(0, size - offset))
    readSync(fd, buffer, 0, buffer.length, offset)
    return buffer.toString('utf8')
  } finally {
    closeSync(fd)
  }
}
