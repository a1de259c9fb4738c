// Checks on values a spec passes to resources, before anything reaches a host. Values still go
// to the remote shell as positional parameters; these checks stop values that a remote tool
// would read as an option (leading '-') or as a path (a '/' or '..' in a user name).

/** POSIX portable user names, plus the trailing `$` of machine accounts. */
const USER_NAME = /^[A-Za-z0-9_][A-Za-z0-9_.-]*\$?$/

export function assertUserName(caller: string, name: string): void {
  if (typeof name !== 'string' || name.length === 0 || name.length > 256 || !USER_NAME.test(name)) {
    throw new TypeError(
      `${caller}: ${JSON.stringify(name)} is not a valid user name (letters, digits, '_', '.', '-', not starting with '-' or '.')`,
    )
  }
}

/** A DNS name or an IP literal (IPv6 with an optional %zone); brackets around IPv6 are removed. */
export function normalizeHostName(caller: string, name: string): string {
  const bare = typeof name === 'string' && name.startsWith('[') && name.endsWith(']') ? name.slice(1, -1) : name
  const ok =
    typeof bare === 'string' &&
    bare.length > 0 &&
    bare.length <= 253 &&
    (/^[A-Za-z0-9_](?:[A-Za-z0-9_.-]*[A-Za-z0-9_.])?$/.test(bare) || /^[0-9A-Fa-f:.]*:[0-9A-Fa-f:.]*(?:%[A-Za-z0-9_.-]+)?$/.test(bare))
  if (!ok) throw new TypeError(`${caller}: ${JSON.stringify(name)} is not a valid host name or IP address`)
  return bare
}

export function assertPort(caller: string, port: number): void {
  if (!Number.isInteger(port) || port < 1 || port > 65535)
    throw new TypeError(`${caller}: ${JSON.stringify(port)} is not a TCP port (1-65535)`)
}

/** Seconds, as a whole number the remote `timeout`, `nc -w` and `openssl` accept. */
export function wholeSeconds(caller: string, seconds: number): number {
  if (typeof seconds !== 'number' || !Number.isFinite(seconds) || seconds <= 0 || seconds > 3600) {
    throw new TypeError(`${caller}: timeout must be between 0 and 3600 seconds, got ${JSON.stringify(seconds)}`)
  }
  return Math.max(1, Math.ceil(seconds))
}
