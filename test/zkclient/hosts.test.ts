// Clients given one connect string spread over its servers, as the Java client's shuffled host
// list spreads them: 30 clients, three servers that accept and never answer (so each client stays
// on its first choice), every server gets some of them.
import {test} from 'node:test'
import assert from 'node:assert/strict'
import {createServer, type Server, type Socket} from 'node:net'
import {ZkClient} from '../../src/core/zkclient/client.js'
import {waitFor} from '../helpers/util.js'

test('30 clients of "a,b,c" spread their first connections over the three servers', {timeout: 30000}, async () => {
  const sockets: Socket[] = []
  const counts = [0, 0, 0]
  const servers: Server[] = []
  for (let i = 0; i < 3; i++) {
    const srv = createServer(s => { counts[i]++; sockets.push(s); s.on('error', () => {}) })
    await new Promise<void>(r => srv.listen(0, '127.0.0.1', r))
    servers.push(srv)
  }
  const connect = servers.map(s => `127.0.0.1:${(s.address() as {port: number}).port}`).join(',')
  const clients = Array.from({length: 30}, () => new ZkClient(connect, {sessionTimeout: 60000}))
  try {
    for (const c of clients) c.start()
    await waitFor(() => counts[0] + counts[1] + counts[2] >= clients.length, 20000, 'every client connecting')
    assert.ok(counts.every(n => n > 0), `first connections per server: ${counts.join(', ')}`)
  } finally {
    for (const c of clients) void c.close().catch(() => {})
    for (const s of sockets) s.destroy()
    for (const s of servers) s.close()
  }
})
