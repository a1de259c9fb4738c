import * as net from 'node:net'
import * as nodeHttp from 'node:http'
import { Agent, Pool, request } from 'undici'
let conns = 0
const server = nodeHttp.createServer((req, res) => { res.end('hi') })
server.on('connection', () => conns++)
server.listen(0, '127.0.0.1', async () => {
  const port = (server.address() as net.AddressInfo).port
  for (const [name, d] of [['agent', new Agent()], ['agent-c4', new Agent({ connections: 4 })], ['pool', new Pool(`http://127.0.0.1:${port}`)]] as const) {
    conns = 0
    for (let i = 0; i < 3; i++) { const r = await request(`http://127.0.0.1:${port}/`, { dispatcher: d }); await r.body.text(); if (process.argv[2]) await new Promise((r) => setTimeout(r, Number(process.argv[2]))) }
    console.log(name, conns)
    await d.close()
  }
  server.close()
})
