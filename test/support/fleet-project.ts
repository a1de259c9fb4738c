// A spec project wired to an sshd fleet: hosts.yaml naming every fleet host with its own
// appsRoot (and status port when apps run), plus the groups a rollout test needs.
import path from 'node:path'
import type { Fleet } from './sshd.ts'
import { makeWorkdir, type Workdir } from './workdir.ts'

export interface FleetProjectOptions {
  apps?: Array<{ port: number }>
  /** Group name → host indexes (0-based). `fleet` (every host) is always there. */
  groups?: Record<string, number[]>
  /** Extra vars on every host. */
  vars?: Record<string, unknown>
  files?: Record<string, string>
}

/** hosts.yaml's `defaults:` line that logs in to every host of the fleet (its port, user, key and known_hosts). */
export function fleetDefaults(fleet: Fleet): string {
  return `defaults: { port: ${fleet.port}, user: ${fleet.user}, identityFile: ${fleet.identityFile}, knownHosts: ${fleet.knownHosts} }`
}

export function fleetInventory(fleet: Fleet, options: FleetProjectOptions = {}): string {
  const hosts = fleet.hosts.map((h, i) => {
    const vars: Record<string, unknown> = { appsRoot: path.join(h.root, 'apps'), hostRoot: h.root }
    if (options.apps?.[i]) vars['statusPort'] = options.apps[i]!.port
    return `  ${h.name}: { address: ${h.address}, vars: ${JSON.stringify(vars)} }`
  })
  const groups = { fleet: fleet.hosts.map((_, i) => i), ...options.groups }
  const groupLines = Object.entries(groups).map(
    ([name, idx]) => `  ${name}:\n    hosts: [${idx.map(i => fleet.hosts[i]!.name).join(', ')}]`,
  )
  return [
    fleetDefaults(fleet),
    `vars: ${JSON.stringify({ app: 'blog', ...options.vars })}`,
    'hosts:',
    ...hosts,
    'groups:',
    ...groupLines,
    '',
  ].join('\n')
}

export function makeFleetProject(fleet: Fleet, options: FleetProjectOptions = {}): Workdir {
  return makeWorkdir({ 'hosts.yaml': fleetInventory(fleet, options), ...options.files })
}
