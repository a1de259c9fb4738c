// The one var merge: later wins, maps merge key by key, lists and scalars are replaced; and which
// layer set each merged var (`varSources`, for messages). The resolver and `--var` both use it.
import type { LayerVars } from './layer.ts'
import { label } from './yaml-source.ts'

/** Merges var maps, later wins; maps merge key by key, anything else is replaced. Never mutates a layer. */
export function mergeVars(...layers: Array<Record<string, unknown> | undefined>): Record<string, unknown> {
  const merged: Record<string, unknown> = {}
  for (const layer of layers) if (layer) mergeInto(merged, layer)
  return merged
}

/** `file:LINE` of the layer that set each merged var (every dotted path, maps included): the last one that has it. */
export function traceVarSources(merged: Record<string, unknown>, layers: readonly LayerVars[]): Record<string, string> {
  const sources: Record<string, string> = {}
  const newestFirst = [...layers].reverse()
  const visit = (value: Record<string, unknown>, path: string[]): void => {
    for (const [key, inner] of Object.entries(value)) {
      const at = [...path, key]
      const layer = newestFirst.find(l => hasPath(l.values, at))
      if (layer?.locate) setOwn(sources, at.join('.'), label(layer.locate(at)))
      if (isPlainObject(inner)) visit(inner, at)
    }
  }
  visit(merged, [])
  return sources
}

export function withVarSources(varSources: Record<string, string>): { varSources?: Record<string, string> } {
  return Object.keys(varSources).length > 0 ? { varSources } : {}
}

export function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return false
  const proto = Object.getPrototypeOf(value)
  return proto === Object.prototype || proto === null
}

/** Defines an own property, so a key such as `__proto__` is data and never a prototype. */
export function setOwn(target: Record<string, unknown>, key: string, value: unknown): void {
  Object.defineProperty(target, key, { value, enumerable: true, writable: true, configurable: true })
}

function mergeInto(target: Record<string, unknown>, source: Record<string, unknown>): void {
  for (const [key, value] of Object.entries(source)) {
    const current = Object.hasOwn(target, key) ? target[key] : undefined
    if (isPlainObject(current) && isPlainObject(value)) mergeInto(current, value)
    else setOwn(target, key, copyValue(value))
  }
}

function copyValue(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(copyValue)
  if (!isPlainObject(value)) return value
  const copy: Record<string, unknown> = {}
  mergeInto(copy, value)
  return copy
}

function hasPath(vars: Record<string, unknown>, path: string[]): boolean {
  let value: unknown = vars
  for (const seg of path) {
    if (!isPlainObject(value) || !Object.hasOwn(value, seg)) return false
    value = value[seg]
  }
  return true
}
