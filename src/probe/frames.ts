// Streaming parser for the probe's framed output (see script.ts): facts resolve as soon
// as their frame closes, while later facts of the same batch are still running.
import type { RawFact } from './fact.ts'

export interface FrameHandlers {
  onFact(id: number, raw: RawFact): void
  /** The script could not run at all on this host (a missing base64, …). */
  onFatal(reason: string): void
}

interface Open {
  status?: number
  out: string[]
  err: string[]
  section?: 'O' | 'E'
}

export class FrameParser {
  private buffer = ''
  private readonly open = new Map<number, Open>()
  private current?: Open
  private readonly marker: string

  constructor(nonce: string, private readonly caps: Map<number, number>, private readonly handlers: FrameHandlers) {
    this.marker = `${nonce} `
  }

  push(chunk: Buffer | string): void {
    this.buffer += chunk.toString()
    let nl: number
    while ((nl = this.buffer.indexOf('\n')) >= 0) {
      const line = this.buffer.slice(0, nl)
      this.buffer = this.buffer.slice(nl + 1)
      this.handleLine(line)
    }
  }

  /** Ids that started or were pending but never completed. */
  get unfinished(): number[] {
    return [...this.open.keys()]
  }

  private handleLine(line: string): void {
    if (!line.startsWith(this.marker)) {
      // hex data of the current section (od's lines); anything else is noise from a login script
      if (this.current?.section && /^[0-9a-f \t]+$/.test(line)) this.current[this.current.section === 'O' ? 'out' : 'err'].push(line)
      return
    }
    const [tag, idText, extra] = line.slice(this.marker.length).split(' ')
    if (tag === 'X') return this.handlers.onFatal(line.slice(this.marker.length + 2))
    const id = Number(idText)
    if (tag === 'S') {
      this.current = { out: [], err: [] }
      this.open.set(id, this.current)
      return
    }
    const frame = this.open.get(id)
    if (!frame) return
    if (tag === 'R') frame.status = Number(extra)
    else if (tag === 'O' || tag === 'E') frame.section = tag
    else if (tag === 'Z') this.close(id, frame)
  }

  private close(id: number, frame: Open): void {
    this.open.delete(id)
    if (this.current === frame) this.current = undefined
    const cap = this.caps.get(id) ?? Infinity
    const out = fromHex(frame.out)
    const err = fromHex(frame.err)
    const truncated = out.length > cap || err.length > cap
    // No R line: the snippet's writer was killed before it could report (e.g. SIGPIPE on cap).
    const exitCode = frame.status ?? (truncated ? 141 : -1)
    this.handlers.onFact(id, {
      stdout: out.length > cap ? out.subarray(0, cap) : out,
      stderr: err.length > cap ? err.subarray(0, cap) : err,
      exitCode,
      truncated,
      timedOut: exitCode === 124 || exitCode === 137,
    })
  }
}

function fromHex(lines: string[]): Buffer {
  return Buffer.from(lines.join('').replace(/[ \t]/g, ''), 'hex')
}
