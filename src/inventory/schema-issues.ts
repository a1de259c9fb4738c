// zod's issues for hosts.yaml turned into problems at the YAML line they are about, each saying
// which key, what was expected and what was written.
import type { z } from 'zod'
import type { DataPath, Problem, YamlSource } from './yaml-source.ts'

export function describeIssues(issues: readonly z.core.$ZodIssue[], data: unknown, base: DataPath, src: YamlSource): Problem[] {
  return issues.flatMap(issue => describeIssue(issue, data, [...base, ...(issue.path as Array<string | number>)], src))
}

function describeIssue(issue: z.core.$ZodIssue, data: unknown, path: DataPath, src: YamlSource): Problem[] {
  if (issue.code === 'invalid_union') return describeUnionIssue(issue, data, path, src)
  if (issue.code === 'unrecognized_keys') {
    return issue.keys.map(key => ({
      at: src.at([...path, key], { key: true }),
      message: `${prefixFor(path)}unknown key "${key}" (${issue.message})`,
    }))
  }
  if (issue.code === 'invalid_key') {
    const name = String(path[path.length - 1])
    const reason = issue.issues[0]?.message ?? issue.message
    return [{ at: src.at(path, { key: true }), message: `${prefixFor(path.slice(0, -1))}invalid name "${name}": ${reason}` }]
  }
  return [{ at: src.at(path), message: `${prefixFor(path)}${issue.message}${describeActual(issue, valueAt(data, path))}` }]
}

/** A union (group `hosts:`) fails in each branch; report the branch whose type matched, if one did. */
function describeUnionIssue(issue: z.core.$ZodIssueInvalidUnion, data: unknown, path: DataPath, src: YamlSource): Problem[] {
  const matched = issue.errors.filter(branch => !isTypeMismatch(branch))
  if (matched.length === 1) return describeIssues(matched[0]!, data, path, src)
  return [{ at: src.at(path), message: `${prefixFor(path)}${issue.message}${describeActual(issue, valueAt(data, path))}` }]
}

function isTypeMismatch(branch: readonly z.core.$ZodIssue[]): boolean {
  return branch.length === 1 && branch[0]!.code === 'invalid_type' && branch[0]!.path.length === 0
}

function prefixFor(path: DataPath): string {
  if (path.length === 0) return ''
  return path.map((seg, i) => (typeof seg === 'number' ? `[${seg}]` : i === 0 ? seg : `.${seg}`)).join('') + ': '
}

function describeActual(issue: z.core.$ZodIssue, value: unknown): string {
  const showsValue = ['invalid_type', 'invalid_union', 'too_small', 'too_big', 'invalid_format'].includes(issue.code)
  if (!showsValue || value === undefined) return ''
  const text = JSON.stringify(value) ?? String(value)
  return `, got ${text.length > 40 ? `${text.slice(0, 37)}...` : text}`
}

function valueAt(data: unknown, path: DataPath): unknown {
  let value = data
  for (const seg of path) {
    if (value === null || typeof value !== 'object') return undefined
    value = (value as Record<string | number, unknown>)[seg]
  }
  return value
}
