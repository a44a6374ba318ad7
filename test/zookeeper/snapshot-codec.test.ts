// The snapshot's byte layout against an encoding made field by field with JuteWriter (the
// format Apache ZooKeeper reads), reading it back into an identical tree, and the background
// writer's file: the same bytes however it is sliced, nothing left behind when aborted.
import {test} from 'node:test'
import assert from 'node:assert/strict'
import {readFileSync, existsSync, readdirSync} from 'node:fs'
import {join} from 'node:path'
import {JuteWriter, adler32} from '../../src/core/zookeeper/jute.js'
import {DataTree, type ZNode} from '../../src/core/zookeeper/datatree.js'
import {SnapshotWriter, serializeSnapshot, deserializeSnapshot, readSnapshot, writeSnapshot, snapshotFile} from '../../src/core/zookeeper/snapshot.js'
import {SNAP_MAGIC} from '../../src/core/zookeeper/txnlog.js'
import {Op, OPEN_ACL_UNSAFE, writeAcls, type Acl} from '../../src/core/zookeeper/records.js'
import {tempDir, removeDir, waitFor} from '../helpers/util.js'

const CREATOR: Acl[] = [{perms: 31, scheme: 'digest', id: 'bob:aGVsbG8='}, {perms: 1, scheme: 'world', id: 'anyone'}]

function sampleTree(): DataTree {
  const t = new DataTree()
  let zxid = 0x1_0000_0000 - 3
  const time = 1_800_000_000_123
  const create = (path: string, data: string | null, extra: Partial<{acl: Acl[]; owner: bigint; container: boolean}> = {}) => {
    zxid++
    const clientId = extra.owner ?? 0n
    t.applyTxn({clientId, cxid: 1, zxid, time: time + zxid, type: extra.container ? Op.createContainer : Op.create},
      extra.container
        ? {type: Op.createContainer, path, data, acl: extra.acl ?? OPEN_ACL_UNSAFE, parentCVersion: -1}
        : {type: Op.create, path, data, acl: extra.acl ?? OPEN_ACL_UNSAFE, ephemeral: clientId !== 0n, parentCVersion: -1})
  }
  const all = Array.from({length: 256}, (_, i) => String.fromCharCode(i)).join('')
  create('/app', 'x'.repeat(100))
  create('/app/ünïcødé', 'short')
  create('/app/日本', null)
  create('/app/日本/子ノード', '', {acl: CREATOR})
  create('/app/bytes', all)
  create('/app/eph', 'e', {owner: -0x1234_5678_9abcn})
  create('/app/eph2', 'e', {owner: 0x7fff_ffff_ffff_fffen})
  create('/box', null, {container: true})
  create('/app/z', 'y'.repeat(33))
  t.applyTxn({clientId: 0n, cxid: 2, zxid: ++zxid, time, type: Op.delete}, {type: Op.delete, path: '/app/ünïcødé'})
  t.applyTxn({clientId: 0n, cxid: 3, zxid: ++zxid, time, type: Op.setData}, {type: Op.setData, path: '/app/z', data: null, version: -7})
  t.events = []
  return t
}

/** The file as JuteWriter writes it field by field, in the tree's order. */
function reference(t: DataTree, sessions: Map<bigint, number>): Buffer {
  const w = new JuteWriter()
  w.int(SNAP_MAGIC).int(2).long(-1).int(sessions.size)
  for (const [id, to] of sessions) w.bigLong(id).int(to)
  const acls = t.internedAcls()
  w.int(acls.length)
  acls.forEach((a, i) => { w.long(i + 1); writeAcls(w, a) })
  for (const [path, n] of t.nodes) {
    w.ustring(path === '/' ? '' : path).latin1(n.data).long(acls.indexOf(n.acl) + 1)
    w.long(n.czxid).long(n.mzxid).long(n.ctime).long(n.mtime).int(n.version).int(n.cversion).int(n.aversion).bigLong(n.ephemeralOwner).long(n.pzxid)
  }
  w.ustring('/')
  w.long(adler32(w.buf, 0, w.pos)).ustring('/')
  return w.toBuffer()
}

function dump(t: DataTree): unknown[] {
  const f = (n: ZNode) => [n.data, n.acl, n.czxid, n.mzxid, n.ctime, n.mtime, n.version, n.cversion, n.aversion, n.ephemeralOwner, n.pzxid, n.children === null ? null : [...n.children]]
  return [[...t.nodes].map(([p, n]) => [p, f(n)]), [...t.ephemerals].map(([s, ps]) => [s, [...ps]]), [...t.containers]]
}

test('a snapshot has the bytes of a field-by-field Jute encoding and reads back into the same tree', () => {
  const t = sampleTree()
  const sessions = new Map([[-0x1234_5678_9abcn, 30000], [0x7fff_ffff_ffff_fffen, 4000]])
  const bytes = serializeSnapshot(t, sessions)
  assert.deepEqual(bytes, reference(t, sessions))
  const back = new DataTree()
  const r = deserializeSnapshot(bytes, back)
  assert.equal(r.nodes, t.nodes.size)
  assert.deepEqual(r.sessions, sessions)
  assert.deepEqual(dump(back), dump(t))
  // A negative owner with the top byte set reads as a TTL node, as in Apache ZooKeeper.
  assert.deepEqual([[...back.containers], [...back.ttls], [...back.ephemerals.keys()]], [['/box'], ['/app/eph'], [0x7fff_ffff_ffff_fffen]])
  // Read through windows smaller than the header and than a record: the same tree.
  for (const window of [16, 100, 333, 4096]) {
    const t2 = new DataTree()
    const read = (b: Buffer, off: number, len: number, at: number) => bytes.copy(b, off, at, Math.min(bytes.length, at + Math.min(len, 7)))
    assert.equal(readSnapshot(read, t2, window).nodes, t.nodes.size)
    assert.deepEqual(dump(t2), dump(t), `windows of ${window} bytes`)
  }
  // Read back and written again: the same file.
  assert.deepEqual(serializeSnapshot(back, sessions), bytes)
  // However it is cut into chunks.
  for (const chunk of [1, 7, 300]) {
    const sw = new SnapshotWriter(t, sessions, Number.MAX_SAFE_INTEGER, chunk)
    const w = new JuteWriter(16)
    let slices = 0
    while (!sw.fill(w, slices % 2 === 0 ? -1 : Infinity)) slices++
    assert.deepEqual(w.toBuffer(), bytes, `chunks of ${chunk} bytes`)
  }
})

test('a torn or inconsistent snapshot is refused', () => {
  const t = sampleTree()
  const bytes = serializeSnapshot(t, new Map())
  for (const cut of [20, 200, bytes.length - 14, bytes.length - 9]) {
    assert.throws(() => deserializeSnapshot(bytes.subarray(0, cut), new DataTree()), `cut at ${cut}`)
    const read = (b: Buffer, off: number, len: number, at: number) => bytes.copy(b, off, at, Math.min(cut, at + len))
    assert.throws(() => readSnapshot(read, new DataTree(), 64), `cut at ${cut}, read in windows`)
  }
  const flipped = Buffer.from(bytes)
  flipped[bytes.length - 40] ^= 1
  assert.throws(() => deserializeSnapshot(flipped, new DataTree()), /checksum|parent|truncated/)
  // A node whose parent is not before it.
  const orphan = new DataTree()
  orphan.nodes.set('/lost/child', orphan.nodes.get('/zookeeper')!.clone())
  assert.throws(() => deserializeSnapshot(serializeSnapshot(orphan, new Map()), new DataTree()), /no parent/)
})

test('the background writer leaves the same file however it is paced, and nothing when aborted', async () => {
  const t = sampleTree()
  for (let i = 0; i < 3000; i++) t.applyTxn({clientId: 0n, cxid: 0, zxid: 0x1_0000_0100 + i, time: 1, type: Op.create}, {type: Op.create, path: `/app/n${i}`, data: 'd'.repeat(i % 50), acl: OPEN_ACL_UNSAFE, ephemeral: false, parentCVersion: -1})
  t.events = []
  const sessions = new Map([[5n, 6000]])
  const want = serializeSnapshot(t, sessions, 0x2_0000_0000)
  const dir = tempDir('kafkit-snapcodec-')
  try {
    for (const [chunk, pace] of [[1 << 20, {sliceMs: 8, buffers: 2}], [500, {sliceMs: 0, buffers: 3}], [64, {sliceMs: 8, buffers: 1}]] as const) {
      const sw = new SnapshotWriter(t, sessions, 0x2_0000_0000, chunk)
      const file = await new Promise<string>((resolve, reject) => writeSnapshot(dir, sw, (err, f) => err ? reject(err) : resolve(f), pace))
      assert.deepEqual(readFileSync(file), want, `chunks of ${chunk}, ${JSON.stringify(pace)}`)
    }
    const sw = new SnapshotWriter(t, sessions, 0x2_0000_0001, 64)
    let reported = false
    const task = writeSnapshot(dir, sw, () => { reported = true }, {sliceMs: 0, buffers: 2})
    await waitFor(() => sw.bytes > 2000, 10000, 'the snapshot to be under way')
    await task.abort()
    assert.equal(existsSync(snapshotFile(dir, 0x2_0000_0001)), false)
    assert.equal(reported, false)
    assert.equal(readdirSync(dir).length, 1)
  } finally {
    removeDir(dir)
  }
})

test('Adler-32 agrees with the byte-at-a-time definition, also chained', () => {
  const buf = Buffer.alloc(20011)
  for (let i = 0; i < buf.length; i++) buf[i] = (i * 7919 + (i >> 3)) & 0xff
  buf.fill(0xff, 5000, 12000)
  let a = 1
  let b = 0
  for (const x of buf) {
    a = (a + x) % 65521
    b = (b + a) % 65521
  }
  const want = ((b << 16) | a) >>> 0
  assert.equal(adler32(buf), want)
  assert.equal(adler32(buf, 9, buf.length, adler32(buf, 0, 9)), want)
})
