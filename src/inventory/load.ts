// Loading inventories: each file is read and parsed once (yaml-source.ts), read as a layer by its
// format (parse-native.ts for hosts.yaml, ansible.ts for Ansible YAML), and the layers go to the
// one resolver (resolve.ts). Every problem names its file:line:col and all of them are reported
// at once, so a broken inventory is fixed in one pass.
import { readFile } from 'node:fs/promises'
import { displayPath } from '../lib/format.ts'
import { InventoryError } from '../errors.ts'
import { ansibleLayer, isAnsibleShape } from './ansible.ts'
import type { InventoryLayer } from './layer.ts'
import { nativeLayer } from './parse-native.ts'
import { resolveLayers, type Inventory } from './resolve.ts'
import { YamlSource } from './yaml-source.ts'

export { RESERVED_NAMES, type Inventory } from './resolve.ts'

export type InventoryFormat = 'auto' | 'verify' | 'ansible'

/** Reads and resolves one hosts.yaml; throws InventoryError listing every problem found. */
export async function loadInventory(path: string): Promise<Inventory> {
  const file = displayPath(path)
  let text: string
  try {
    text = await readFile(path, 'utf8')
  } catch (err) {
    throw new InventoryError(`cannot read ${file}: ${(err as Error).message}`, { cause: err })
  }
  return resolveLayers([readLayer(text, file, 'verify')])
}

/** Like loadInventory, but a file that does not exist is no inventory rather than an error. */
export async function loadInventoryIfExists(path: string): Promise<Inventory | undefined> {
  try {
    return await loadInventory(path)
  } catch (err) {
    if (err instanceof InventoryError && (err.cause as NodeJS.ErrnoException | undefined)?.code === 'ENOENT') return undefined
    throw err
  }
}

/**
 * Loads one or more inventories (`--inventory` given several times: later files layer over
 * earlier ones); undefined when the only file given does not exist (as with a missing hosts.yaml).
 */
export async function loadInventories(paths: readonly string[], format: InventoryFormat = 'auto'): Promise<Inventory | undefined> {
  const layers: InventoryLayer[] = []
  for (const path of paths) {
    const text = await readText(path)
    if (text === undefined) {
      if (paths.length === 1) return undefined
      throw new InventoryError(`cannot read ${displayPath(path)}: no such file (every --inventory must exist when several are given)`)
    }
    layers.push(readLayer(text, displayPath(path), format))
  }
  return resolveLayers(layers)
}

/** One file as a layer: parsed once, its format told by its shape unless given. */
function readLayer(text: string, file: string, format: InventoryFormat): InventoryLayer {
  const src = YamlSource.parse(text, file)
  const ansible = format === 'ansible' || (format === 'auto' && looksLikeAnsible(src))
  return ansible ? ansibleLayer(src) : nativeLayer(src)
}

function looksLikeAnsible(src: YamlSource): boolean {
  try {
    return isAnsibleShape(src.toJS())
  } catch {
    // not readable as data (an alias bomb): hosts.yaml's reader says why
    return false
  }
}

async function readText(path: string): Promise<string | undefined> {
  try {
    return await readFile(path, 'utf8')
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined
    throw new InventoryError(`cannot read ${displayPath(path)}: ${(err as Error).message}`, { cause: err })
  }
}
