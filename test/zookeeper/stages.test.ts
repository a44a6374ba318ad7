// The three stages of the write path, each on its own: prepare (request -> txn, the tree
// untouched), commit (zxids, log, committed only once durable) and final (apply, watches,
// the reply with the Stat as of the txn).
import {test} from 'node:test'
import assert from 'node:assert/strict'
import {JuteReader, JuteWriter} from '../../src/core/zookeeper/jute.js'
import {DataTree} from '../../src/core/zookeeper/datatree.js'
import {Op, Err, EventType, OPEN_ACL_UNSAFE, type Txn, type TxnHeader} from '../../src/core/zookeeper/records.js'
import {Preparer, type Requester} from '../../src/core/zookeeper/prepare.js'
import {Finalizer, NO_REPLY} from '../../src/core/zookeeper/final.js'
import {LogCommit} from '../../src/core/zookeeper/commit.js'
import {TxnLog, replayLogs} from '../../src/core/zookeeper/txnlog.js'
import {tempDir, removeDir, waitFor} from './helpers.js'

const who: Requester = {authIds: [{scheme: 'ip', id: '127.0.0.1'}], remote: '127.0.0.1'}
const SID = 0x1234n

function req(body: (w: JuteWriter) => void): JuteReader {
  const w = new JuteWriter()
  body(w)
  return new JuteReader(w.toBuffer())
}

const openAcl = (w: JuteWriter) => w.int(1).int(31).ustring('world').ustring('anyone')
const create = (path: string, data: string, flags = 0) => req(w => { w.ustring(path).latin1(data); openAcl(w); w.int(flags) })

/** A tree holding /a (data "x") and its sequential parent /q, applied as committed txns. */
function seeded(): {tree: DataTree; prep: Preparer; fin: Finalizer; zxid: {n: number}} {
  const tree = new DataTree()
  const prep = new Preparer(tree, {extendedTypesEnabled: false})
  const fin = new Finalizer(tree)
  const zxid = {n: 0}
  for (const p of [prep.write(SID, 1, Op.create, create('/a', 'x'), who), prep.write(SID, 2, Op.create, create('/q', ''), who)]) {
    p.hdr.zxid = ++zxid.n
    fin.apply(p.hdr, p.txn, NO_REPLY, 0, null)
  }
  tree.events = []
  return {tree, prep, fin, zxid}
}

test('prepare: a request becomes its txn (or an error txn) and the tree is not touched', () => {
  const {tree, prep} = seeded()
  const before = JSON.stringify([...tree.nodes.entries()].map(([p, n]) => [p, n.version, n.cversion, n.data]))
  const c = prep.write(SID, 7, Op.create, create('/q/job-', 'd', 2), who)
  assert.deepEqual(c.hdr, {clientId: SID, cxid: 7, zxid: 0, time: c.hdr.time, type: Op.create})
  assert.deepEqual(c.txn, {type: Op.create, path: '/q/job-0000000000', data: 'd', acl: [...OPEN_ACL_UNSAFE], ephemeral: false, parentCVersion: 1})
  const c2 = prep.write(SID, 8, Op.create2, create('/b', ''), who)
  assert.equal(c2.hdr.type, Op.create2, 'create2 is logged with its own header type, as Apache does')
  const s = prep.write(SID, 9, Op.setData, req(w => w.ustring('/a').latin1('y').int(0)), who)
  assert.deepEqual(s.txn, {type: Op.setData, path: '/a', data: 'y', version: 1})
  const cases: Array<[number, JuteReader, number]> = [
    [Op.create, create('/a', ''), Err.NodeExists],
    [Op.create, create('/missing/x', ''), Err.NoNode],
    [Op.setData, req(w => w.ustring('/a').latin1('y').int(5)), Err.BadVersion],
    [Op.delete, req(w => w.ustring('/').int(-1)), Err.BadArguments],
    [Op.create, req(w => { w.ustring('/acl').latin1(''); w.int(0); w.int(0) }), Err.InvalidACL],
  ]
  for (const [type, r, code] of cases) {
    const e = prep.write(SID, 10, type, r, who)
    assert.deepEqual([e.hdr.type, e.txn], [Op.error, {type: Op.error, err: code}])
  }
  // A multi whose second op depends on the first, and one that fails at its second op.
  const multi = (ops: Array<[number, (w: JuteWriter) => void]>) => req(w => {
    for (const [t, body] of ops) { w.int(t).bool(false).int(-1); body(w) }
    w.int(-1).bool(true).int(-1)
  })
  const ok = prep.write(SID, 11, Op.multi, multi([
    [Op.create, w => { w.ustring('/m').latin1(''); openAcl(w); w.int(0) }],
    [Op.create, w => { w.ustring('/m/c').latin1(''); openAcl(w); w.int(0) }],
    [Op.setData, w => w.ustring('/m').latin1('v').int(0)],
  ]), who)
  assert.equal(ok.txn.type, Op.multi)
  assert.deepEqual((ok.txn as {txns: Txn[]}).txns.map(t => t.type), [Op.create, Op.create, Op.setData])
  const bad = prep.write(SID, 12, Op.multi, multi([
    [Op.check, w => w.ustring('/a').int(0)],
    [Op.check, w => w.ustring('/a').int(3)],
    [Op.delete, w => w.ustring('/a').int(-1)],
  ]), who)
  assert.deepEqual(bad.txn, {type: Op.multi, txns: [{type: Op.error, err: 0}, {type: Op.error, err: Err.BadVersion}, {type: Op.error, err: Err.RuntimeInconsistency}]})
  assert.equal(JSON.stringify([...tree.nodes.entries()].map(([p, n]) => [p, n.version, n.cversion, n.data])), before, 'the tree is as it was')
  assert.deepEqual(tree.events, [], 'no watch fired')
  assert.deepEqual(prep.closeSession(SID, 3).txn, {type: Op.closeSession, paths: []})
})

test('final: a txn is applied, its watches queued, and the reply carries the Stat as of that txn', () => {
  const {tree, prep, fin, zxid} = seeded()
  const apply = (p: {hdr: TxnHeader; txn: Txn}, type: number, xid: number) => {
    p.hdr.zxid = ++zxid.n
    const w = new JuteWriter()
    const err = fin.apply(p.hdr, p.txn, type, xid, w)
    const r = new JuteReader(w.toBuffer(), 4)
    return {err, xid: r.int(), zxid: r.long(), code: r.int(), r}
  }
  const c = apply(prep.write(SID, 5, Op.create2, create('/n', 'data'), who), Op.create2, 5)
  assert.deepEqual([c.err, c.xid, c.zxid, c.code, c.r.ustring()], [0, 5, 3, 0, '/n'])
  assert.deepEqual([c.r.long(), c.r.long()], [3, 3], 'czxid and mzxid are the txn\'s zxid')
  assert.deepEqual(tree.events, ['/n', EventType.NodeCreated, '/', EventType.NodeChildrenChanged])
  tree.events = []
  // Two setData prepared back to back: each reply shows its own version.
  const s1 = prep.write(SID, 6, Op.setData, req(w => w.ustring('/n').latin1('1').int(-1)), who)
  const r1 = apply(s1, Op.setData, 6)
  const s2 = prep.write(SID, 7, Op.setData, req(w => w.ustring('/n').latin1('2').int(-1)), who)
  const r2 = apply(s2, Op.setData, 7)
  r1.r.pos += 32
  r2.r.pos += 32
  assert.deepEqual([r1.r.int(), r2.r.int()], [1, 2])
  // An error txn answers its code with no body; a multi answers per op.
  const e = apply(prep.write(SID, 8, Op.delete, req(w => w.ustring('/nope').int(-1)), who), Op.delete, 8)
  assert.deepEqual([e.err, e.code, e.r.remaining()], [Err.NoNode, Err.NoNode, 0])
  const m = apply(prep.write(SID, 9, Op.multi, req(w => {
    w.int(Op.create).bool(false).int(-1).ustring('/mm').latin1(''); openAcl(w); w.int(0)
    w.int(Op.setData).bool(false).int(-1).ustring('/mm').latin1('v').int(0)
    w.int(-1).bool(true).int(-1)
  }), who), Op.multi, 9)
  assert.deepEqual([m.r.int(), m.r.bool(), m.r.int(), m.r.ustring()], [Op.create, false, 0, '/mm'])
  assert.deepEqual([m.r.int(), m.r.bool(), m.r.int()], [Op.setData, false, 0])
  m.r.pos += 32
  assert.equal(m.r.int(), 1, 'the setData result shows version 1')
  assert.equal(tree.get('/mm')!.data, 'v')
  // Without a local client (a follower applying another server's txn) nothing is written.
  const p = prep.write(SID, 10, Op.delete, req(w => w.ustring('/mm').int(-1)), who)
  p.hdr.zxid = ++zxid.n
  const w = new JuteWriter()
  fin.apply(p.hdr, p.txn, NO_REPLY, 10, w)
  assert.equal(w.pos, 0)
  assert.equal(tree.get('/mm'), undefined)
})

test('commit: zxids in order, committed only once the log has synced them, log replays the same txns', async () => {
  const dir = tempDir('kafkit-zk-commit-')
  try {
    const committed: number[] = []
    const log: TxnLog = new TxnLog(dir, true, z => stage.durable(z), e => { throw e }, 0)
    const stage: LogCommit = new LogCommit(log, 0x500000000, z => committed.push(z))
    const {prep} = seeded()
    const txns = [prep.createSession(SID, 6000), prep.write(SID, 1, Op.create, create('/x', 'y'), who), prep.closeSession(SID, 2)]
    const zxids = txns.map(p => stage.submit(p.hdr, p.txn))
    assert.deepEqual(zxids, [0x500000001, 0x500000002, 0x500000003])
    assert.equal(stage.lastZxid, 0x500000003)
    assert.equal(stage.committedZxid, 0x500000000, 'nothing is committed before the fsync')
    await waitFor(() => stage.committedZxid === 0x500000003, 5000, 'the group commit')
    assert.equal(committed.at(-1), 0x500000003)
    await log.close()
    const replayed: number[] = []
    replayLogs(dir, 0, h => replayed.push(h.zxid))
    assert.deepEqual(replayed, zxids)
  } finally {
    removeDir(dir)
  }
})
