// The registry's state while a spec file loads (its top-level blocks are recorded) and while its
// checks are collected for one host.
import type { HostSpec } from '../../model.ts'
import type { HostInfo } from '../when.ts'
import type { Collection, LoadedSpec } from './types.ts'

export interface Scope {
  path: string[]
  tags: string[]
  only: boolean
  severity?: 'warn' | 'fail'
  waitMs?: number
  /** The enclosing block's line in the spec: for blocks a shared module declares from its own describe bodies. */
  line?: number
}

export interface Collecting {
  host: HostSpec
  info: HostInfo
  spec: LoadedSpec
  scope: Scope
  out: Collection
}

// Shared by every copy of the registry in the process (a spec package may bring its own copy
// of postdeploy-verify), so `describe` always reaches the runner's registry.
export interface RegistryState {
  loading?: LoadedSpec
  collecting?: Collecting
}
const STATE_KEY = Symbol.for('postdeploy-verify.registry.v1')
export const state: RegistryState = ((globalThis as Record<symbol, unknown>)[STATE_KEY] ??= {}) as RegistryState
