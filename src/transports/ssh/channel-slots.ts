// Counting semaphore over a connection's channels: at most MaxSessions-minus-room open at once.

/** Counting semaphore that hands a freed slot straight to the longest waiter. */
export class ChannelSlots {
  private free: number
  private readonly waiters: Array<() => void> = []

  constructor(size: number) {
    this.free = size
  }

  acquire(signal?: AbortSignal): Promise<boolean> {
    if (this.free > 0) {
      this.free--
      return Promise.resolve(true)
    }
    return new Promise(resolve => {
      const grant = () => {
        signal?.removeEventListener('abort', onAbort)
        resolve(true)
      }
      const onAbort = () => {
        this.waiters.splice(this.waiters.indexOf(grant), 1)
        resolve(false)
      }
      this.waiters.push(grant)
      signal?.addEventListener('abort', onAbort, { once: true })
    })
  }

  release(): void {
    const next = this.waiters.shift()
    if (next) next()
    else this.free++
  }

  /** Grants every waiter at once: only for a dead connection, where each will see the loss and give up. */
  wakeAll(): void {
    for (const grant of this.waiters.splice(0)) grant()
  }
}
