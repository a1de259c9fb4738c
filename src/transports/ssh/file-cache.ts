// What connecting reads from disk, read once per run instead of once per host: known_hosts files
// parsed, identity files parsed (and decrypted). An entry is reused only while the file's stat
// (device, inode, size, mtime, ctime) is unchanged, so a key accept-new appends, or an edit made
// during the run, is seen by the next connection as before. One per SshSession: it ends with the run.
import { readFile, stat } from 'node:fs/promises'

interface Entry {
  signature: string
  value: Promise<unknown>
}

export class SshFileCache {
  private readonly entries = new Map<string, Entry>()

  /**
   * `parse(readFile(path))`, shared by every connection while the file is unchanged. `variant`
   * separates parses of one file that depend on more than its bytes (a key's passphrase).
   * Rejects as readFile would (ENOENT, EACCES, EISDIR); a failure is not kept.
   */
  async read<T>(path: string, parse: (data: Buffer) => T, variant = ''): Promise<T> {
    const st = await stat(path, { bigint: true })
    const signature = `${st.dev}:${st.ino}:${st.size}:${st.mtimeNs}:${st.ctimeNs}`
    const key = `${variant}\0${path}`
    const hit = this.entries.get(key)
    if (hit?.signature === signature) return hit.value as Promise<T>
    // concurrent connects of one wave share this one read and parse
    const value = readFile(path).then(parse)
    this.entries.set(key, { signature, value })
    value.catch(() => {
      if (this.entries.get(key)?.value === value) this.entries.delete(key)
    })
    return value
  }
}
