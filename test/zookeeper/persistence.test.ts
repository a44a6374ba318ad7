// Durability: recovery from snapshot + log after a restart, snapshots every snapCount
// txns with log roll-over, a torn log tail, a corrupt newest snapshot, autopurge, and a
// kill -9 in the middle of a stream of writes (every acknowledged write survives).
import {test} from 'node:test'
import assert from 'node:assert/strict'
import {readdirSync, writeFileSync, readFileSync, openSync, writeSync, closeSync} from 'node:fs'
import {join} from 'node:path'
import {startKafkitZk, connect, zookeeper, statOf, waitFor, tempDir, removeDir, freePort, logLines} from './helpers.js'
import {startCommand} from '../helpers/util.js'

const files = (dir: string, prefix: string) => readdirSync(join(dir, 'version-2')).filter(f => f.startsWith(prefix + '.'))
  .sort((a, b) => parseInt(a.split('.')[1], 16) - parseInt(b.split('.')[1], 16))

test('a restart recovers every znode, Stat and session from snapshot + txn log', async () => {
  const dir = tempDir('kafkit-zk-')
  try {
    let zk = await startKafkitZk({}, dir)
    const c = await connect(zk.port, {sessionTimeout: 8000})
    await c.call('create', '/r', Buffer.from('root'), zookeeper.CreateMode.PERSISTENT)
    for (let i = 0; i < 20; i++) await c.call('create', '/r/s-', Buffer.from(String(i)), zookeeper.CreateMode.PERSISTENT_SEQUENTIAL)
    await c.call('setData', '/r', Buffer.from('root2'), -1)
    await c.call('create', '/r/eph', Buffer.alloc(0), zookeeper.CreateMode.EPHEMERAL)
    await c.call('remove', '/r/s-0000000003', -1)
    const [data, st] = await c.call<[Buffer, Record<string, unknown>]>('getData', '/r')
    const [kids] = await c.call<[string[]]>('getChildren', '/r')
    const sid = c.client.getSessionId().toString('hex')
    c.client.connectionManager.socket.destroy() // no closeSession: the session must survive
    c.close()
    await zk.stop()
    zk = await startKafkitZk({}, dir)
    const d = await connect(zk.port)
    const [data2, st2] = await d.call<[Buffer, Record<string, unknown>]>('getData', '/r')
    assert.equal(data2.toString(), data.toString())
    assert.deepEqual({...statOf(st2), numChildren: 0}, {...statOf(st), numChildren: 0})
    const [kids2] = await d.call<[string[]]>('getChildren', '/r')
    assert.deepEqual(kids2.sort(), kids.filter(k => k !== 'eph' || true).sort())
    const [, est] = await d.call<[Buffer, Record<string, unknown>]>('getData', '/r/eph')
    assert.equal(statOf(est).ephemeralOwner, sid)
    assert.ok(zk.server.sessions.sessions.size >= 1, 'sessions are restored')
    const [n] = await d.call<[string]>('create', '/r/s-', Buffer.alloc(0), zookeeper.CreateMode.PERSISTENT_SEQUENTIAL)
    assert.equal(n, '/r/s-0000000021')
    d.close()
    await zk.stop()
  } finally {
    removeDir(dir)
  }
})

test('snapshots every snapCount txns roll the log; torn tails and a corrupt snapshot are tolerated; autopurge keeps snapRetainCount', async () => {
  const dir = tempDir('kafkit-zk-')
  try {
    let zk = await startKafkitZk({snapCount: 10}, dir)
    const c = await connect(zk.port)
    for (let i = 0; i < 60; i++) await c.call('create', `/p${i}`, Buffer.from(String(i)), zookeeper.CreateMode.PERSISTENT)
    await waitFor(() => files(dir, 'snapshot').length >= 4, 5000, 'several snapshots')
    assert.ok(files(dir, 'log').length >= 4, `log files rolled: ${files(dir, 'log')}`)
    c.close()
    await zk.stop()
    // A torn entry at the end of the newest log (an unacknowledged write) and a corrupt newest snapshot.
    const logs = files(dir, 'log')
    // The log is padded with zeros (preAllocSize): the torn entry goes where the data ends.
    const newestLog = join(dir, 'version-2', logs[logs.length - 1])
    const logBytes = readFileSync(newestLog)
    assert.ok(logBytes.length >= 64 * 1024 * 1024, `the log file is preallocated (${logBytes.length} bytes)`)
    let end = 16
    while (logBytes.readInt32BE(end + 8) !== 0) end += 12 + logBytes.readInt32BE(end + 8) + 1
    const fd = openSync(newestLog, 'r+')
    writeSync(fd, Buffer.from([0, 0, 0, 0, 0x12, 0x34, 0x56, 0x78, 0, 0, 0, 40, 1, 2, 3]), 0, 15, end)
    closeSync(fd)
    const snaps = files(dir, 'snapshot')
    const newest = join(dir, 'version-2', snaps[snaps.length - 1])
    const bytes = readFileSync(newest)
    bytes[Math.floor(bytes.length / 2)] ^= 0xff
    writeFileSync(newest, bytes)
    logLines.length = 0
    zk = await startKafkitZk({snapCount: 10, snapRetainCount: 3}, dir)
    assert.ok(logLines.some(l => l.includes('Problem reading snap file')), 'the corrupt snapshot is reported')
    assert.ok(logLines.some(l => l.includes('unacknowledged tail')), 'the torn tail is reported')
    const d = await connect(zk.port)
    for (let i = 0; i < 60; i++) {
      const [data] = await d.call<[Buffer]>('getData', `/p${i}`)
      assert.equal(data.toString(), String(i))
    }
    const r = zk.server.db.purgeNow()
    assert.ok(r.snapshots > 0)
    assert.equal(files(dir, 'snapshot').length, 3)
    d.close()
    await zk.stop()
    zk = await startKafkitZk({}, dir)
    const e = await connect(zk.port)
    const [data59] = await e.call<[Buffer]>('getData', '/p59')
    assert.equal(data59.toString(), '59')
    e.close()
    await zk.stop()
  } finally {
    removeDir(dir)
  }
})

test('kill -9 during a stream of writes: every acknowledged write is there after restart', async () => {
  const dir = tempDir('kafkit-zk-crash-')
  const runDir = tempDir('kafkit-run-')
  try {
    const port = await freePort()
    const cfg = join(dir, 'zookeeper.properties')
    writeFileSync(cfg, `dataDir=${join(dir, 'data').replace(/\\/g, '/')}\nclientPort=${port}\nclientPortAddress=127.0.0.1\nadmin.enableServer=false\nsnapCount=500\n`)
    let proc = startCommand('zookeeper-server-start', [cfg], {KAFKIT_RUN_DIR: runDir})
    await proc.waitForOutput('binding to port')
    const c = await connect(port)
    const acked: string[] = []
    let stop = false
    // Eight writers in parallel so that group commit batches several writes per fsync.
    const writer = async (id: number) => {
      for (let i = 0; !stop; i++) {
        const p = `/crash-${id}-${i}`
        try {
          await c.call('create', p, Buffer.from(p), zookeeper.CreateMode.PERSISTENT)
          acked.push(p)
        } catch {
          return
        }
      }
    }
    const writers = [0, 1, 2, 3, 4, 5, 6, 7].map(writer)
    await waitFor(() => acked.length >= 1500, 60000, '1500 acknowledged writes')
    proc.child.kill('SIGKILL')
    stop = true
    await proc.exited
    const n = acked.length
    c.close()
    await Promise.all(writers)
    proc = startCommand('zookeeper-server-start', [cfg], {KAFKIT_RUN_DIR: runDir})
    await proc.waitForOutput('binding to port')
    const d = await connect(port)
    const missing: string[] = []
    for (const p of acked.slice(0, n)) {
      const [st] = await d.call<[unknown]>('exists', p)
      if (st === null) missing.push(p)
    }
    assert.deepEqual(missing, [], `${missing.length} of ${n} acknowledged writes lost`)
    d.close()
    await proc.stop()
  } finally {
    removeDir(dir)
    removeDir(runDir)
  }
})
