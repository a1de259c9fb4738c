// Durations as people write them on a command line or in a spec: `90s`, `2m`, `1m30s`, `500ms`.
const UNIT_MS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 }

/** Milliseconds of `90s`, `2m`, `1m30s`, `500ms`, `1h`; a bare number is seconds. Throws on anything else. */
export function parseDuration(text: string): number {
  const trimmed = text.trim()
  if (/^\d+(\.\d+)?$/.test(trimmed)) return Math.round(Number(trimmed) * 1000)
  const parts = [...trimmed.matchAll(/(\d+(?:\.\d+)?)(ms|s|m|h)/g)]
  if (parts.length === 0 || parts.map(p => p[0]).join('') !== trimmed) {
    throw new Error(`"${text}" is not a duration (e.g. 90s, 2m, 1m30s, 500ms)`)
  }
  return Math.round(parts.reduce((sum, p) => sum + Number(p[1]) * UNIT_MS[p[2]!]!, 0))
}

/** A duration option given as seconds (number) or text. */
export function durationMs(value: number | string): number {
  return typeof value === 'number' ? Math.round(value * 1000) : parseDuration(value)
}
