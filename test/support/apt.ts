// The one way the tests install Debian packages: the global setup installs everything a vitest
// project needs up front (one apt-get call), and a test that needs a tool asks here again so it
// also runs on its own. Nothing is installed when every binary is already there.
import { execFileSync } from 'node:child_process'
import { existsSync } from 'node:fs'
import { delimiter, join } from 'node:path'

/** Binary (an absolute path, or a name looked up on PATH) → the Debian package that provides it. */
export type Packages = Readonly<Record<string, string>>

/** What every test project needs (the end-to-end fleet, and resources read through the local shell). */
export const SUITE_PACKAGES: Packages = {
  '/usr/sbin/sshd': 'openssh-server',
  '/usr/bin/xmllint': 'libxml2-utils', // JUnit output validated against its schema
  '/usr/bin/openssl': 'openssl',
  '/usr/bin/ssh': 'openssh-client',
  '/usr/bin/sudo': 'sudo', // become: sudo -n / sudo -S over SSH as the non-root test user
  '/usr/bin/ss': 'iproute2', // port(): the ss path (the /proc/net fallback is tested too)
  '/usr/bin/systemctl': 'systemd', // service(): is-enabled reads unit links even where systemd is not PID 1
  '/usr/bin/crontab': 'cron', // cron(): the test user's own crontab, read with crontab -l
  '/usr/bin/nc': 'netcat-openbsd', // host().reachable: the nc -z path (the bash /dev/tcp fallback is tested too)
  '/usr/sbin/ifconfig': 'net-tools', // networkInterface(): the fallback when ip is missing
}

/** Only the end-to-end project's tests use these (the HTML report in a browser, the live progress in a terminal). */
export const E2E_PACKAGES: Packages = {
  '/usr/bin/chromium': 'chromium',
  '/usr/bin/tmux': 'tmux',
}

// A second worker (or bench/run.sh) waits for the first one's dpkg lock instead of failing.
const APT = ['-o', 'DPkg::Lock::Timeout=300', '-o', 'Acquire::Retries=3']
// Each vitest project loads its global setup in its own module runner, but they share one
// process and one globalThis: the package lists are fetched once per process.
const UPDATED = Symbol.for('verify.test.apt-updated')

function present(binary: string): boolean {
  if (binary.includes('/')) return existsSync(binary)
  const path = `${process.env.PATH ?? ''}${delimiter}/usr/sbin${delimiter}/sbin`
  return path.split(delimiter).some(dir => dir !== '' && existsSync(join(dir, binary)))
}

/** The packages whose binary is missing, each named once. */
export function missingPackages(packages: Packages): string[] {
  return [
    ...new Set(
      Object.entries(packages)
        .filter(([binary]) => !present(binary))
        .map(([, pkg]) => pkg),
    ),
  ]
}

/** Installs the package of every missing binary in one apt-get call; throws a message saying what to do when it cannot. */
export function ensurePackages(packages: Packages): void {
  const missing = missingPackages(packages)
  if (missing.length === 0) return
  const command = `apt-get install -y ${missing.join(' ')}`
  if (process.getuid?.() !== 0)
    throw new Error(`the tests need ${missing.join(', ')}: run \`${command}\` as root, or run the tests as root`)
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' }
  const global = globalThis as { [UPDATED]?: boolean }
  if (!global[UPDATED]) {
    apt(
      ['update', '-qq'],
      env,
      `apt-get update failed (offline, or no reachable mirror?); install ${missing.join(', ')} by hand: ${command}`,
    )
    global[UPDATED] = true
  }
  apt(['install', '-y', '-qq', '--no-install-recommends', ...missing], env, `${command} failed`)
  const still = missingPackages(packages)
  if (still.length > 0)
    throw new Error(
      `${still.join(', ')} installed, but ${Object.keys(packages)
        .filter(b => !present(b))
        .join(', ')} still missing`,
    )
}

function apt(args: string[], env: NodeJS.ProcessEnv, failure: string): void {
  try {
    execFileSync('apt-get', [...APT, ...args], { stdio: ['ignore', 'inherit', 'inherit'], env })
  } catch (error) {
    throw new Error(`${failure}: ${(error as Error).message.split('\n')[0]}`, { cause: error })
  }
}
