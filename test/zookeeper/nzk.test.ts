// kafkit's ZooKeeper server driven by node-zookeeper-client (what kafkit's broker uses):
// CRUD, Stat fields, watches, ephemerals, sequential nodes, multi, ACLs, sessions.
import {test, after, before} from 'node:test'
import assert from 'node:assert/strict'
import {startKafkitZk, connect, zookeeper, errCode, statOf, waitFor, type KafkitZk} from './helpers.js'
import {RawClient, OPEN_ACL} from './rawclient.js'

let zk: KafkitZk
before(async () => { zk = await startKafkitZk() })
after(async () => { await zk.cleanup() })

test('create, get, set, delete with Apache ZooKeeper error codes and Stat fields', async () => {
  const c = await connect(zk.port)
  try {
    const [path] = await c.call<[string]>('create', '/crud', Buffer.from('v1'), zookeeper.CreateMode.PERSISTENT)
    assert.equal(path, '/crud')
    const [data, stat] = await c.call<[Buffer, Record<string, unknown>]>('getData', '/crud')
    assert.equal(data.toString(), 'v1')
    const s = statOf(stat)
    assert.equal(s.version, 0)
    assert.equal(s.dataLength, 2)
    assert.equal(s.czxid, s.mzxid)
    assert.equal(s.pzxid, s.czxid)
    await assert.rejects(c.call('create', '/crud', Buffer.from('x'), zookeeper.CreateMode.PERSISTENT), e => errCode(e) === -110)
    await assert.rejects(c.call('setData', '/crud', Buffer.from('v2'), 5), e => errCode(e) === -103)
    const [stat2] = await c.call<[Record<string, unknown>]>('setData', '/crud', Buffer.from('v2'), 0)
    assert.equal(statOf(stat2).version, 1)
    assert.ok((statOf(stat2).mzxid as number) > (s.mzxid as number))
    await c.call('create', '/crud/child', Buffer.alloc(0), zookeeper.CreateMode.PERSISTENT)
    await assert.rejects(c.call('remove', '/crud', -1), e => errCode(e) === -111)
    const [, pstat] = await c.call<[string[], Record<string, unknown>]>('getChildren', '/crud')
    assert.equal(statOf(pstat).cversion, 1)
    assert.equal(statOf(pstat).numChildren, 1)
    await c.call('remove', '/crud/child', -1)
    await assert.rejects(c.call('remove', '/crud', 7), e => errCode(e) === -103)
    await c.call('remove', '/crud', 1)
    const [gone] = await c.call<[unknown]>('exists', '/crud')
    assert.equal(gone, null)
    await assert.rejects(c.call('getData', '/crud'), e => errCode(e) === -101)
    await assert.rejects(c.call('create', '/no/parent', Buffer.alloc(0), zookeeper.CreateMode.PERSISTENT), e => errCode(e) === -101)
  } finally {
    c.close()
  }
})

test('sequential and ephemeral nodes; a closed session removes its ephemerals and fires watches', async () => {
  const a = await connect(zk.port)
  const b = await connect(zk.port)
  try {
    await a.call('create', '/seq', Buffer.alloc(0), zookeeper.CreateMode.PERSISTENT)
    const [p1] = await a.call<[string]>('create', '/seq/n-', Buffer.alloc(0), zookeeper.CreateMode.PERSISTENT_SEQUENTIAL)
    const [p2] = await a.call<[string]>('create', '/seq/e-', Buffer.alloc(0), zookeeper.CreateMode.EPHEMERAL_SEQUENTIAL)
    assert.equal(p1, '/seq/n-0000000000')
    assert.equal(p2, '/seq/e-0000000001')
    const [, st] = await a.call<[Buffer, Record<string, unknown>]>('getData', p2)
    assert.equal(statOf(st).ephemeralOwner, a.client.getSessionId().toString('hex'))
    await assert.rejects(a.call('create', p2 + '/x', Buffer.alloc(0), zookeeper.CreateMode.PERSISTENT), e => errCode(e) === -108)
    const events: string[] = []
    b.client.exists(p2, (ev: {getName(): string}) => events.push(ev.getName()), () => {})
    b.client.getChildren('/seq', (ev: {getName(): string}) => events.push(ev.getName()), () => {})
    await waitFor(async () => (await b.call<[unknown]>('exists', p2))[0] !== null, 5000, 'b sees the ephemeral')
    a.close()
    await waitFor(() => events.length >= 2, 10000, `watch events after session close (got ${events})`)
    assert.deepEqual(events.sort(), ['NODE_CHILDREN_CHANGED', 'NODE_DELETED'])
    const [children] = await b.call<[string[]]>('getChildren', '/seq')
    assert.deepEqual(children, ['n-0000000000'])
  } finally {
    a.close()
    b.close()
  }
})

test('data, exists and child watches fire once with the right event', async () => {
  const c = await connect(zk.port)
  try {
    const got: string[] = []
    const w = (ev: {getName(): string; getPath(): string}) => got.push(`${ev.getName()} ${ev.getPath()}`)
    await c.call('exists', '/w', w)
    await c.call('create', '/w', Buffer.from('a'), zookeeper.CreateMode.PERSISTENT)
    await waitFor(() => got.length === 1, 5000, 'NodeCreated')
    await c.call('getData', '/w', w)
    await c.call('setData', '/w', Buffer.from('b'), -1)
    await c.call('setData', '/w', Buffer.from('c'), -1)
    await c.call('getChildren', '/w', w)
    await c.call('create', '/w/x', Buffer.alloc(0), zookeeper.CreateMode.PERSISTENT)
    await c.call('getData', '/w/x', w)
    await c.call('remove', '/w/x', -1)
    await waitFor(() => got.length === 4, 5000, `4 events (got ${got})`)
    assert.deepEqual(got, ['NODE_CREATED /w', 'NODE_DATA_CHANGED /w', 'NODE_CHILDREN_CHANGED /w', 'NODE_DELETED /w/x'])
  } finally {
    c.close()
  }
})

test('multi: Kafka-style check + create commits atomically; a failing op gives per-op results and changes nothing', async () => {
  const c = await connect(zk.port)
  try {
    await c.call('create', '/m', Buffer.from('0'), zookeeper.CreateMode.PERSISTENT)
    const ok = await new Promise<unknown[]>((resolve, reject) => c.client.transaction().check('/m', 0).create('/m/a', Buffer.from('x')).setData('/m', Buffer.from('1'), 0).remove('/m/a', -1).commit((e: Error | null, r: unknown[]) => e ? reject(e) : resolve(r)))
    assert.equal(ok.length, 4)
    assert.deepEqual((ok as Array<{type: number}>).map(r => r.type), [13, 1, 5, 2])
    const [err, res] = await new Promise<[Error | null, Array<{type: number; err?: number}>]>(resolve => c.client.transaction().create('/m/b').check('/m', 5).create('/m/c').commit((e: Error | null, r: Array<{type: number; err?: number}>) => resolve([e, r])))
    assert.equal(errCode(err), -103)
    assert.deepEqual(res.map(r => r.err), [0, -103, -2])
    const [exists] = await c.call<[unknown]>('exists', '/m/b')
    assert.equal(exists, null)
  } finally {
    c.close()
  }
})

test('digest ACLs: NoAuth without credentials, access after addAuthInfo', async () => {
  const owner = await connect(zk.port)
  const other = await connect(zk.port)
  try {
    owner.client.addAuthInfo('digest', Buffer.from('alice:secret'))
    const acl = [new zookeeper.ACL(zookeeper.Permission.ALL, new zookeeper.Id('auth', ''))]
    await owner.call('create', '/secret', Buffer.from('s'), acl, zookeeper.CreateMode.PERSISTENT)
    const [acls] = await owner.call<[Array<{id: {scheme: string; id: string}; permission: number}>]>('getACL', '/secret')
    assert.equal(acls[0].id.scheme, 'digest')
    assert.match(acls[0].id.id, /^alice:/)
    await assert.rejects(other.call('getData', '/secret'), e => errCode(e) === -102)
    await assert.rejects(other.call('setData', '/secret', Buffer.from('x'), -1), e => errCode(e) === -102)
    other.client.addAuthInfo('digest', Buffer.from('alice:secret'))
    const [data] = await other.call<[Buffer]>('getData', '/secret')
    assert.equal(data.toString(), 's')
    await assert.rejects(owner.call('create', '/bad-acl', Buffer.alloc(0), [new zookeeper.ACL(31, new zookeeper.Id('nope', 'x'))], zookeeper.CreateMode.PERSISTENT), e => errCode(e) === -114)
  } finally {
    owner.close()
    other.close()
  }
})

test('a silent session expires: its ephemerals go, watchers are told, its id is refused afterwards', async () => {
  const raw = await RawClient.open(zk.port)
  const watcher = await connect(zk.port)
  try {
    await raw.handshake(1000)
    assert.equal(raw.timeout, 1000)
    const r = await raw.request(1, 1, w => { w.ustring('/expiring').buffer(Buffer.alloc(0)); OPEN_ACL(w); w.int(1) })
    assert.equal(r.err, 0)
    const events: string[] = []
    await watcher.call('exists', '/expiring', (ev: {getName(): string}) => events.push(ev.getName()))
    await waitFor(() => events.includes('NODE_DELETED'), 10000, 'the ephemeral to go with its session')
    await waitFor(() => raw.closed, 5000, 'the expired session\'s connection to close')
    const again = await RawClient.open(zk.port)
    await again.handshake(1000, raw.sessionId, raw.passwd)
    assert.equal(again.sessionId, 0n)
    assert.equal(again.timeout, 0)
    again.close()
  } finally {
    raw.close()
    watcher.close()
  }
})

test('reconnecting with session id and password keeps the session, its ephemerals and its watches', async () => {
  const c = await connect(zk.port, {sessionTimeout: 4000})
  const other = await connect(zk.port)
  try {
    await c.call('create', '/recon', Buffer.alloc(0), zookeeper.CreateMode.EPHEMERAL)
    const events: string[] = []
    await c.call('create', '/recon-data', Buffer.from('a'), zookeeper.CreateMode.PERSISTENT)
    await c.call('getData', '/recon-data', (ev: {getName(): string}) => events.push(ev.getName()))
    const before = c.client.getSessionId().toString('hex')
    const reconnected = new Promise(resolve => c.client.once('connected', resolve))
    ;(c.client as {connectionManager: {socket: {destroy(): void}}}).connectionManager.socket.destroy()
    await reconnected
    assert.equal(c.client.getSessionId().toString('hex'), before)
    const [st] = await other.call<[unknown]>('exists', '/recon')
    assert.notEqual(st, null)
    await other.call('setData', '/recon-data', Buffer.from('b'), -1)
    await waitFor(() => events.includes('NODE_DATA_CHANGED'), 5000, 'the watch re-registered with SetWatches to fire')
  } finally {
    c.close()
    other.close()
  }
})

test('containers are reaped once emptied and TTL nodes once their TTL has passed', async () => {
  const z = await startKafkitZk({extendedTypesEnabled: true, containerCheckIntervalMs: 100})
  const raw = await RawClient.open(z.port)
  try {
    await raw.handshake(4000)
    const mk = (xid: number, type: number, path: string, flags: number, ttl?: number) => raw.request(xid, type, w => {
      w.ustring(path).buffer(Buffer.alloc(0)); OPEN_ACL(w); w.int(flags)
      if (ttl !== undefined) w.long(ttl)
    })
    assert.equal((await mk(1, 19, '/box', 4)).err, 0)
    assert.equal((await mk(2, 1, '/box/item', 0)).err, 0)
    assert.equal((await mk(3, 21, '/short', 5, 200)).err, 0)
    assert.equal((await mk(4, 21, '/long', 5, 600000)).err, 0)
    assert.equal((await raw.request(5, 2, w => w.ustring('/box/item').int(-1))).err, 0)
    await waitFor(() => !z.server.tree.get('/box') && !z.server.tree.get('/short'), 5000, 'the empty container and the expired TTL node to go')
    assert.ok(z.server.tree.get('/long'), 'a TTL node within its TTL stays')
  } finally {
    raw.close()
    await z.cleanup()
  }
})

test('SetWatches2 re-registers persistent-recursive watches and reports what changed while away', async () => {
  const first = await RawClient.open(zk.port)
  const other = await connect(zk.port)
  try {
    await first.handshake(4000)
    await other.call('create', '/sw2', Buffer.from('a'), zookeeper.CreateMode.PERSISTENT)
    const seen = (await first.request(1, 3, w => w.ustring('/sw2').bool(false))).zxid
    first.close()
    await other.call('setData', '/sw2', Buffer.from('b'), -1)
    const again = await RawClient.open(zk.port)
    try {
      await again.handshake(4000, first.sessionId, first.passwd)
      assert.equal(again.sessionId, first.sessionId)
      // relativeZxid, data, exist, child, persistent, persistentRecursive
      const r = await again.request(-8, 105, w => w.long(seen).stringVector(['/sw2']).stringVector([]).stringVector([]).stringVector([]).stringVector(['/sw2']))
      assert.equal(r.err, 0)
      await other.call('create', '/sw2/deep', Buffer.alloc(0), zookeeper.CreateMode.PERSISTENT)
      await other.call('setData', '/sw2/deep', Buffer.from('x'), -1)
      await waitFor(async () => { await again.request(2, 3, w => w.ustring('/').bool(false)); return again.events.length >= 3 }, 5000, `events (got ${JSON.stringify(again.events)})`)
      assert.deepEqual(again.events.map(e => `${e[0]} ${e[2]}`), ['3 /sw2', '1 /sw2/deep', '3 /sw2/deep'])
    } finally {
      again.close()
    }
  } finally {
    first.close()
    other.close()
  }
})

test('a read waits only for the unsynced writes it would observe', async () => {
  const z = await startKafkitZk()
  const a = await connect(z.port)
  const b = await connect(z.port)
  // The commit stage's durability callback: the log calls it after each fsync.
  const server = z.server.commit as unknown as {durable(zxid: number): void}
  const original = server.durable.bind(server)
  try {
    await a.call('create', '/hot', Buffer.from('0'), zookeeper.CreateMode.PERSISTENT)
    await a.call('create', '/cold', Buffer.from('c'), zookeeper.CreateMode.PERSISTENT)
    let held: number[] = []
    server.durable = (zxid: number) => { held.push(zxid) } // the disk "stalls"
    const write = a.call('setData', '/hot', Buffer.from('1'), -1)
    let acked = false
    void write.then(() => { acked = true })
    await waitFor(() => held.length > 0, 5000, 'the write to reach the log')
    const [cold] = await b.call<[Buffer]>('getData', '/cold')
    assert.equal(cold.toString(), 'c', 'an unrelated read answers at once')
    let hotRead = false
    const hot = b.call<[Buffer]>('getData', '/hot').then(r => { hotRead = true; return r })
    await waitFor(() => z.server.gated.size >= 2, 5000, 'the read of /hot to be held (the write\'s reply is held too)')
    assert.equal(hotRead, false, 'the read of the unsynced node waits')
    assert.equal(acked, false)
    server.durable = original
    for (const z2 of held) original(z2)
    held = []
    const [hv] = await hot
    assert.equal(hv.toString(), '1')
    await write
  } finally {
    server.durable = original
    a.close()
    b.close()
    await z.cleanup()
  }
})
