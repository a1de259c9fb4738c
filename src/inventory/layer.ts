// One inventory file as a layer (hosts.yaml or Ansible YAML): what each format's reader gives the
// one resolver (resolve.ts). Names are not checked against each other here: a staging file may
// name groups the base file defines.
import type { BecomeSetting, ConnectionSettings, HostSettings } from './schema.ts'
import type { Place, Problem } from './yaml-source.ts'

/** One map of vars as written, and where each key of it is (for `varSources`), when the reader knows. */
export interface LayerVars {
  values: Record<string, unknown>
  locate?: (path: readonly string[]) => Place
}

/** One place a host is named: with settings (defined), `name:` alone (declared), or in a group's list. */
export interface LayerHost {
  name: string
  kind: 'defined' | 'declared' | 'listed'
  /** Connection settings written for the host (explicit). */
  settings: Omit<HostSettings, 'vars'>
  vars: LayerVars
  at: Place
  /** The group whose `hosts:` names it, if any. */
  group?: string
}

export interface LayerGroup {
  name: string
  hosts: string[]
  children: Array<{ name: string; at: Place }>
  vars: LayerVars
  become?: BecomeSetting
  /** ansible_group_priority: higher applies later among groups of the same depth. */
  priority?: number
  at: Place
}

export interface InventoryLayer {
  file: string
  format: 'verify' | 'ansible'
  defaults: ConnectionSettings
  vars: LayerVars
  /** Every mention of a host, in file order. */
  hosts: LayerHost[]
  groups: LayerGroup[]
  warnings: string[]
  /** Problems found in this file alone; reported with the resolver's, all at once. */
  problems: Problem[]
}
