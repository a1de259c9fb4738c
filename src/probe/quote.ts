// Values from specs and inventories reach the remote shell only through this function:
// single quotes make everything literal; an embedded ' becomes '\'' (close, escaped quote, reopen).

export function shellQuote(value: string): string {
  if (value.includes('\0')) throw new TypeError(`a NUL byte cannot be passed to a remote shell: ${JSON.stringify(value)}`)
  return `'${value.replaceAll("'", `'\\''`)}'`
}
