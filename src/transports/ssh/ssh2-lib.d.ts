// ssh2's files that src/transports/ssh/ssh2-client.ts imports directly (@types/ssh2 types the index only)
declare module 'ssh2/lib/client.js' {
  const Client: unknown
  export default Client
}
declare module 'ssh2/lib/protocol/keyParser.js' {
  const keyParser: unknown
  export default keyParser
}
