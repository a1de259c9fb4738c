// Runs once before all test files: installs what the end-to-end tests need on a fresh
// Debian machine (CI starts with nothing), so no worker races on apt.
import { existsSync } from 'node:fs'
import { execFileSync } from 'node:child_process'

const NEEDED: Array<[binary: string, pkg: string]> = [
  ['/usr/sbin/sshd', 'openssh-server'],
  ['/usr/bin/xmllint', 'libxml2-utils'],
  ['/usr/bin/openssl', 'openssl'],
  ['/usr/bin/ssh', 'openssh-client'],
]

export default function setup(): void {
  const missing = NEEDED.filter(([bin]) => !existsSync(bin)).map(([, pkg]) => pkg)
  if (missing.length === 0) return
  if (process.getuid?.() !== 0) throw new Error(`tests need ${missing.join(', ')}; install them (apt-get install -y ${missing.join(' ')}) or run as root`)
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' }
  execFileSync('apt-get', ['update', '-qq'], { stdio: 'inherit', env })
  execFileSync('apt-get', ['install', '-y', '-qq', ...missing], { stdio: 'inherit', env })
}
