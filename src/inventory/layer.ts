// One inventory file as a layer (hosts.yaml or Ansible YAML): what each format's reader gives and
// the layer resolver (layers.ts) merges. Its own module so the readers and the resolver do not
// import each other.
import type { BecomeSetting, ConnectionSettings, HostSettings } from './schema.ts'

export interface LayerHost {
  name: string
  /** Connection settings written for the host (explicit). */
  settings: Omit<HostSettings, 'vars'>
  vars: Record<string, unknown>
  /** `file:line` of the host's definition (or first mention). */
  source: string
  /** True when the host got settings or vars here, not only a mention in a list. */
  defined: boolean
  transport?: 'ssh' | 'local'
}

export interface LayerGroup {
  name: string
  hosts: string[]
  children: Array<{ name: string; source: string }>
  vars: Record<string, unknown>
  become?: BecomeSetting
  /** ansible_group_priority: higher applies later among groups of the same depth. */
  priority?: number
  source: string
}

export interface InventoryLayer {
  file: string
  format: 'verify' | 'ansible'
  defaults: ConnectionSettings
  vars: Record<string, unknown>
  hosts: LayerHost[]
  groups: LayerGroup[]
  warnings: string[]
}
