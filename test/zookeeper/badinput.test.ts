// Bad input: garbage, oversized frames, truncated records, invalid paths, unknown opcodes,
// failed auth and too many connections each get an error code or close that one
// connection; the server keeps serving everyone else and loses nothing.
import {test, before, after} from 'node:test'
import assert from 'node:assert/strict'
import {createConnection} from 'node:net'
import {startKafkitZk, connect, zookeeper, waitFor, logLines, type KafkitZk} from './helpers.js'
import {RawClient, OPEN_ACL} from './rawclient.js'

let zk: KafkitZk
before(async () => { zk = await startKafkitZk({maxClientCnxns: 6, juteMaxBuffer: 4096}) })
after(async () => { await zk.cleanup() })

async function healthy(): Promise<void> {
  const c = await connect(zk.port)
  const [st] = await c.call<[unknown]>('exists', '/')
  assert.notEqual(st, null)
  c.close()
}

function rawBytes(bytes: Buffer): Promise<boolean> {
  return new Promise(resolve => {
    const s = createConnection({host: '127.0.0.1', port: zk.port}, () => s.write(bytes))
    const t = setTimeout(() => { s.destroy(); resolve(false) }, 5000)
    s.on('close', () => { clearTimeout(t); resolve(true) })
    s.on('error', () => {})
  })
}

test('garbage, an oversized frame and a truncated handshake close only that connection', async () => {
  const keep = await connect(zk.port)
  await keep.call('create', '/kept', Buffer.from('v'), zookeeper.CreateMode.PERSISTENT)
  logLines.length = 0
  assert.ok(await rawBytes(Buffer.from([0xff, 0xff, 0xff, 0xff, 1, 2, 3])), 'negative length closes')
  assert.ok(await rawBytes(Buffer.concat([Buffer.from([0, 0, 0x20, 0]), Buffer.alloc(16)])), 'a frame above jute.maxbuffer closes')
  assert.ok(await rawBytes(Buffer.from([0, 0, 0, 6, 0, 0, 0, 0, 0, 0])), 'a truncated ConnectRequest closes')
  assert.ok(logLines.some(l => /jute\.maxbuffer is 4096/.test(l)), 'one clear log line for the big frame')
  assert.ok(logLines.some(l => /malformed request/.test(l)))
  const [data] = await keep.call<[Buffer]>('getData', '/kept')
  assert.equal(data.toString(), 'v')
  keep.close()
  await healthy()
})

test('invalid paths get BadArguments (-8); a truncated request closes the connection', async () => {
  const c = await RawClient.open(zk.port)
  await c.handshake(4000)
  const mk = await c.request(1, 1, w => { w.ustring('/trailing').buffer(Buffer.alloc(0)); OPEN_ACL(w); w.int(0) })
  assert.equal(mk.err, 0)
  for (const p of ['relative', '', '/trailing/', '/trailing/./x', '/trailing/\u0001']) {
    const r = await c.request(1, 1, w => { w.ustring(p).buffer(Buffer.alloc(0)); OPEN_ACL(w); w.int(0) })
    assert.equal(r.err, p === '/trailing/./x' ? -101 : -8, JSON.stringify(p))
  }
  const g = await c.request(2, 4, w => w.ustring('/a//b').bool(false))
  assert.equal(g.err, -8)
  // A getData whose body is cut short.
  const w = Buffer.from([0, 0, 0, 12, 0, 0, 0, 3, 0, 0, 0, 4, 0, 0, 0, 50])
  c.socket.write(w)
  await waitFor(() => c.closed, 5000, 'the connection to close')
  await healthy()
})

test('an unknown opcode gets Unimplemented (-6) and the session is closed', async () => {
  const c = await RawClient.open(zk.port)
  await c.handshake(4000)
  const r = await c.request(1, 1, w => { w.ustring('/eph-unknown').buffer(Buffer.alloc(0)); OPEN_ACL(w); w.int(1) })
  assert.equal(r.err, 0)
  const u = await c.request(2, 77, () => {})
  assert.equal(u.err, -6)
  await waitFor(() => c.closed, 5000, 'the connection to close')
  const check = await connect(zk.port)
  await waitFor(async () => (await check.call<[unknown]>('exists', '/eph-unknown'))[0] === null, 5000, 'the session\'s ephemeral to go')
  check.close()
})

test('a failed auth answers AuthFailed (-115) and closes', async () => {
  const c = await RawClient.open(zk.port)
  await c.handshake(4000)
  c.send(new (await import('../../src/core/zookeeper/jute.js')).JuteWriter().int(-4).int(100).int(0).ustring('kerberos-ish').buffer(Buffer.from('x')))
  const f = await c.next()
  assert.equal(f.readInt32BE(0), -4)
  assert.equal(f.readInt32BE(12), -115)
  await waitFor(() => c.closed, 5000, 'the connection to close')
})

test('more connections than maxClientCnxns from one address: the extra ones are closed', async () => {
  const open: RawClient[] = []
  try {
    for (let i = 0; i < 6; i++) open.push(await RawClient.open(zk.port))
    for (const c of open) await c.handshake(4000)
    const extra = await RawClient.open(zk.port)
    await waitFor(() => extra.closed, 5000, 'the 7th connection to be closed')
    assert.ok(logLines.some(l => /Too many connections from \/127\.0\.0\.1 - max is 6/.test(l)))
    const r = await open[0].request(1, 3, w => w.ustring('/').bool(false))
    assert.equal(r.err, 0)
  } finally {
    for (const c of open) c.close()
  }
  await waitFor(() => zk.server.connections.size === 0, 5000, 'connections to close')
  await healthy()
})

test('fuzz: 2000 random requests (any opcode, random bodies) never take the server down', async () => {
  let seed = 12345
  const rnd = (n: number) => { seed = (seed * 1103515245 + 12345) & 0x7fffffff; return seed % n }
  const ops = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22, 100, 101, 102, 103, 104, 105, 106, 107, -11, 999]
  let sent = 0
  while (sent < 2000) {
    const c = await RawClient.open(zk.port)
    await c.handshake(4000)
    for (let i = 0; i < 50 && !c.closed; i++, sent++) {
      const body = Buffer.alloc(rnd(120))
      for (let k = 0; k < body.length; k++) body[k] = rnd(4) === 0 ? rnd(256) : 0
      if (body.length >= 4 && rnd(2) === 0) body.writeInt32BE(rnd(8), 0) // plausible short string lengths
      const frame = Buffer.alloc(12 + body.length)
      frame.writeInt32BE(8 + body.length, 0)
      frame.writeInt32BE(i + 1, 4)
      frame.writeInt32BE(ops[rnd(ops.length)], 8)
      body.copy(frame, 12)
      c.socket.write(frame)
    }
    c.close()
  }
  await healthy()
  const check = await connect(zk.port)
  const [kept] = await check.call<[Buffer]>('getData', '/kept')
  assert.equal(kept.toString(), 'v')
  check.close()
})

test('deleteContainer (opcode 20) from a client gets BadArguments and changes nothing, as Apache ZooKeeper 3.8 answers', async () => {
  const c = await RawClient.open(zk.port)
  await c.handshake(4000)
  // createContainer (19): path, data, acl, flags 4 (CONTAINER).
  const made = await c.request(1, 19, w => { w.ustring('/dc-container').buffer(Buffer.alloc(0)); OPEN_ACL(w); w.int(4) })
  assert.equal(made.err, 0)
  const plain = await c.request(2, 1, w => { w.ustring('/dc-plain').buffer(Buffer.alloc(0)); OPEN_ACL(w); w.int(0) })
  assert.equal(plain.err, 0)
  for (const [xid, path] of [[3, '/dc-plain'], [4, '/dc-nope'], [5, '/dc-container']] as const) {
    const r = await c.request(xid, 20, w => { w.raw(Buffer.from(path)) })
    assert.equal(r.err, -8, path)
  }
  // The session stays open and both nodes are still there.
  const still = await c.request(6, 3, w => { w.ustring('/dc-container').bool(false) })
  assert.equal(still.err, 0)
  assert.equal(c.closed, false)
  c.close()
})
