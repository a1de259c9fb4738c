// Streaming parser for the probe's framed output (see script.ts): stdout and stderr each carry
// every fact's raw bytes, unencoded, between `\n<nonce> S <id>\n` and `\n<nonce> Z <id> …\n`
// marker lines (a marker split across chunks is joined; bytes outside a frame, such as a login
// script's noise, are dropped); `E` on stdout says the batch ran to its end. A fact resolves once
// both streams have closed its frame, while later facts of the same batch are still running.
// An `X <reason>` line is the fatal path (the script could not run at all): script.ts prints
// none today, since the probe needs nothing beyond sh.
import type { RawFact } from './fact.ts'

export interface FrameHandlers {
  onFact(id: number, raw: RawFact): void
  /** A fact's S line arrived: it is running on the host now. */
  onStart?(id: number): void
  /** A running fact printed past its byte cap (once per fact): the batch should be stopped. */
  onOverflow?(id: number): void
  /** The script could not run at all on this host. */
  onFatal(reason: string): void
}

interface Collected {
  chunks: Buffer[]
  size: number
  /** Bytes seen, kept or not: more than the cap means cut. */
  total: number
}

interface Open {
  out: Collected
  err: Collected
  status?: number
  outDone: boolean
  errDone: boolean
}

type Stream = 'out' | 'err'

const collected = (): Collected => ({ chunks: [], size: 0, total: 0 })

export class FrameParser {
  private readonly open = new Map<number, Open>()
  private readonly current: Record<Stream, number | undefined> = { out: undefined, err: undefined }
  private readonly pending: Record<Stream, Buffer> = { out: Buffer.alloc(0), err: Buffer.alloc(0) }
  private readonly marker: Buffer
  /** The batch printed its last line: it was not cut short. */
  ended = false

  constructor(
    nonce: string,
    private readonly caps: Map<number, number>,
    private readonly handlers: FrameHandlers,
  ) {
    this.marker = Buffer.from(`\n${nonce} `)
  }

  push(chunk: Buffer | string): void {
    this.feed('out', Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk))
  }

  pushStderr(chunk: Buffer | string): void {
    this.feed('err', Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk))
  }

  /** Ids that started but never completed (after an overrun: the facts not started go in the next batch). */
  get unfinished(): number[] {
    return [...this.open.keys()]
  }

  /** What a fact that never completed printed so far (to tell a timeout what it had said). */
  partial(id: number): Pick<RawFact, 'stdout' | 'stderr' | 'truncated'> | undefined {
    const frame = this.open.get(id)
    return frame && { stdout: Buffer.concat(frame.out.chunks), stderr: Buffer.concat(frame.err.chunks), truncated: this.isCut(id, frame) }
  }

  /** The streams ended: a fact whose stdout frame closed but whose stderr frame did not (a lost tail) completes. */
  finish(): void {
    // no marker can complete any more: a held-back tail that began like one was data after all
    for (const stream of ['out', 'err'] as const) {
      const held = this.pending[stream]
      this.pending[stream] = Buffer.alloc(0)
      if (held.indexOf(this.marker) !== 0) this.data(stream, held)
    }
    for (const [id, frame] of [...this.open]) if (frame.outDone) this.close(id, frame)
  }

  /** Length of the longest end of `buffer` that is a proper beginning of the marker (0: none). */
  private markerStartAtEnd(buffer: Buffer): number {
    const longest = Math.min(buffer.length, this.marker.length - 1)
    for (let keep = longest; keep > 0; keep--) {
      const from = buffer.length - keep
      // the marker begins with a newline: only a newline can start a split one
      if (buffer[from] === 0x0a && buffer.subarray(from).equals(this.marker.subarray(0, keep))) return keep
    }
    return 0
  }

  private feed(stream: Stream, chunk: Buffer): void {
    let buffer = this.pending[stream].length > 0 ? Buffer.concat([this.pending[stream], chunk]) : chunk
    for (;;) {
      const at = buffer.indexOf(this.marker)
      if (at < 0) {
        // hold back only a tail that is the start of a marker split across chunks: the rest is data now
        const keep = this.markerStartAtEnd(buffer)
        this.data(stream, buffer.subarray(0, buffer.length - keep))
        this.pending[stream] = Buffer.from(buffer.subarray(buffer.length - keep))
        return
      }
      const lineEnd = buffer.indexOf(0x0a, at + this.marker.length)
      if (lineEnd < 0) {
        this.data(stream, buffer.subarray(0, at))
        this.pending[stream] = Buffer.from(buffer.subarray(at))
        return
      }
      this.data(stream, buffer.subarray(0, at))
      this.line(stream, buffer.subarray(at + this.marker.length, lineEnd).toString('latin1'))
      buffer = buffer.subarray(lineEnd + 1)
    }
  }

  private data(stream: Stream, bytes: Buffer): void {
    if (bytes.length === 0) return
    const id = this.current[stream]
    const frame = id === undefined ? undefined : this.open.get(id)
    // outside a frame: noise from a login script, dropped
    if (!frame || id === undefined) return
    const sink = frame[stream]
    const cap = this.caps.get(id) ?? Infinity
    const take = Math.max(0, Math.min(bytes.length, cap - sink.size))
    if (take > 0) {
      sink.chunks.push(Buffer.from(bytes.subarray(0, take)))
      sink.size += take
    }
    const was = frame.out.total > cap || frame.err.total > cap
    sink.total += bytes.length
    if (!was && sink.total > cap) this.handlers.onOverflow?.(id)
  }

  private line(stream: Stream, line: string): void {
    const [tag, idText, extra] = line.split(' ')
    if (tag === 'X') return this.handlers.onFatal(line.slice(2))
    if (tag === 'E') {
      if (stream === 'out') this.ended = true
      return
    }
    const id = Number(idText)
    if (!Number.isInteger(id)) return
    if (tag === 'S') {
      this.current[stream] = id
      if (!this.open.has(id)) {
        this.open.set(id, { out: collected(), err: collected(), outDone: false, errDone: false })
        this.handlers.onStart?.(id)
      }
      return
    }
    if (tag !== 'Z') return
    const frame = this.open.get(id)
    if (this.current[stream] === id) this.current[stream] = undefined
    if (!frame) return
    if (stream === 'out') {
      frame.outDone = true
      frame.status = Number(extra)
    } else {
      frame.errDone = true
    }
    if (frame.outDone && frame.errDone) this.close(id, frame)
  }

  private isCut(id: number, frame: Open): boolean {
    const cap = this.caps.get(id) ?? Infinity
    return frame.out.total > cap || frame.err.total > cap
  }

  private close(id: number, frame: Open): void {
    this.open.delete(id)
    const exitCode = Number.isInteger(frame.status) ? frame.status! : -1
    this.handlers.onFact(id, {
      stdout: Buffer.concat(frame.out.chunks),
      stderr: Buffer.concat(frame.err.chunks),
      exitCode,
      truncated: this.isCut(id, frame),
      timedOut: false,
    })
  }
}
