// Runs once before all test files: installs what the end-to-end tests need on a fresh
// Debian machine (CI starts with nothing), so no worker races on apt.
import { existsSync } from 'node:fs'
import { execFileSync } from 'node:child_process'

const NEEDED: Array<[binary: string, pkg: string]> = [
  ['/usr/sbin/sshd', 'openssh-server'],
  ['/usr/bin/xmllint', 'libxml2-utils'],
  ['/usr/bin/openssl', 'openssl'],
  ['/usr/bin/ssh', 'openssh-client'],
  ['/usr/bin/sudo', 'sudo'], // become: sudo -n / sudo -S over SSH as the non-root test user
  ['/usr/bin/ss', 'iproute2'], // port(): the ss path (the /proc/net fallback is tested too)
  ['/usr/bin/systemctl', 'systemd'], // service(): is-enabled reads unit links even where systemd is not PID 1
  ['/usr/bin/crontab', 'cron'], // cron(): the test user's own crontab, read with crontab -l
  ['/usr/bin/nc', 'netcat-openbsd'], // host().reachable: the nc -z path (the bash /dev/tcp fallback is tested too)
  ['/usr/sbin/ifconfig', 'net-tools'], // networkInterface(): the fallback when ip is missing
]

export default function setup(): void {
  const missing = NEEDED.filter(([bin]) => !existsSync(bin)).map(([, pkg]) => pkg)
  if (missing.length === 0) return
  if (process.getuid?.() !== 0) throw new Error(`tests need ${missing.join(', ')}; install them (apt-get install -y ${missing.join(' ')}) or run as root`)
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' }
  execFileSync('apt-get', ['update', '-qq'], { stdio: 'inherit', env })
  execFileSync('apt-get', ['install', '-y', '-qq', '--no-install-recommends', ...missing], { stdio: 'inherit', env })
}
