// Pure codec and data-tree tests (bytes in, bytes out; no sockets): jute primitives,
// Adler-32, txn records, path validation, ACL matching, Stat as Apache reports it.
import {test} from 'node:test'
import assert from 'node:assert/strict'
import {JuteReader, JuteWriter, JuteError, adler32} from '../../src/core/zookeeper/jute.js'
import {Op, readTxnBody, readTxnHeader, writeTxnBody, writeTxnHeader, pathError, OPEN_ACL_UNSAFE, type Txn} from '../../src/core/zookeeper/records.js'
import {DataTree, digestId, writeStat} from '../../src/core/zookeeper/datatree.js'

test('jute primitives: big-endian ints and longs, -1 for null strings, truncation is a JuteError', () => {
  const w = new JuteWriter(4).int(-2).long(0x123456789).bigLong(-5n).bool(true).ustring('zk').ustring(null).buffer(Buffer.from([7]))
  assert.equal(w.toBuffer().toString('hex'), 'fffffffe' + '0000000123456789' + 'fffffffffffffffb' + '01' + '000000027a6b' + 'ffffffff' + '0000000107')
  const r = new JuteReader(w.toBuffer())
  assert.deepEqual([r.int(), r.long(), r.bigLong(), r.bool(), r.ustring(), r.ustringOrNull(), [...r.buffer()]], [-2, 0x123456789, -5n, true, 'zk', null, [7]])
  assert.throws(() => new JuteReader(Buffer.from([0, 0, 0, 9, 1])).ustring(), JuteError)
  assert.throws(() => new JuteReader(Buffer.from([0x7f, 0, 0, 0])).stringVector(), JuteError)
})

test('Adler-32 matches the reference value', () => {
  assert.equal(adler32(Buffer.from('Wikipedia')), 0x11e60398)
  assert.equal(adler32(Buffer.alloc(0)), 1)
  const big = Buffer.alloc(100000, 0xff)
  assert.equal(adler32(big), adler32(big, 0, big.length))
})

test('txn records round-trip, including multi', () => {
  const txns: Txn[] = [
    {type: Op.create, path: '/a', data: 'x', acl: OPEN_ACL_UNSAFE, ephemeral: true, parentCVersion: 3},
    {type: Op.setData, path: '/a', data: 'y', version: 2},
    {type: Op.closeSession, paths: ['/e1', '/e2']},
    {type: Op.multi, txns: [{type: Op.check, path: '/a', version: 1}, {type: Op.delete, path: '/a'}]},
    {type: Op.createTTL, path: '/t', data: '', acl: OPEN_ACL_UNSAFE, parentCVersion: 1, ttl: 5000},
  ]
  for (const t of txns) {
    const w = new JuteWriter()
    writeTxnHeader(w, {clientId: 0x1234n, cxid: 7, zxid: 42, time: 1700000000000, type: t.type})
    writeTxnBody(w, t)
    const r = new JuteReader(w.toBuffer())
    const h = readTxnHeader(r)
    assert.deepEqual(h, {clientId: 0x1234n, cxid: 7, zxid: 42, time: 1700000000000, type: t.type})
    assert.deepEqual(JSON.parse(JSON.stringify(readTxnBody(r, h.type))), JSON.parse(JSON.stringify(t)))
  }
})

test('path validation follows Apache ZooKeeper\'s PathUtils', () => {
  for (const ok of ['/', '/a', '/a/b', '/a.b', '/..a', '/a/...']) assert.equal(pathError(ok), null, ok)
  for (const bad of ['', 'a', '/a/', '//a', '/a//b', '/a/./b', '/a/../b', '/.', '/a\u0000b', '/a\u0001']) assert.notEqual(pathError(bad), null, bad)
})

test('ACLs: digest ids as Apache computes them, ip masks, NoAuth otherwise', () => {
  assert.equal(digestId('super:test'), 'super:D/InIHSb7yEEbrWz8b9l71RjZJU=')
  const t = new DataTree()
  const acl = [{perms: 1, scheme: 'ip', id: '10.1.0.0/16'}, {perms: 31, scheme: 'digest', id: digestId('u:p')}]
  assert.doesNotThrow(() => t.checkAcl(acl, 1, [{scheme: 'ip', id: '10.1.2.3'}], '10.1.2.3'))
  assert.throws(() => t.checkAcl(acl, 2, [{scheme: 'ip', id: '10.1.2.3'}], '10.1.2.3'), /KeeperErrorCode -102/)
  assert.throws(() => t.checkAcl(acl, 1, [{scheme: 'ip', id: '10.2.0.1'}], '10.2.0.1'))
  assert.doesNotThrow(() => t.checkAcl(acl, 8, [{scheme: 'digest', id: digestId('u:p')}], '1.2.3.4'))
})

test('Stat: cversion counts creations and deletions, containers report owner 0', () => {
  const t = new DataTree()
  const h = (zxid: number) => ({clientId: 5n, cxid: 0, zxid, time: 1, type: Op.create})
  t.applyTxn(h(1), {type: Op.createContainer, path: '/c', data: '', acl: OPEN_ACL_UNSAFE, parentCVersion: -1})
  t.applyTxn(h(2), {type: Op.create, path: '/c/a', data: '', acl: OPEN_ACL_UNSAFE, ephemeral: false, parentCVersion: -1})
  t.applyTxn(h(3), {type: Op.create, path: '/c/b', data: '', acl: OPEN_ACL_UNSAFE, ephemeral: true, parentCVersion: -1})
  t.applyTxn(h(4), {type: Op.delete, path: '/c/a'})
  const w = new JuteWriter()
  writeStat(w, t.get('/c')!)
  const r = new JuteReader(w.toBuffer())
  const s = {czxid: r.long(), mzxid: r.long(), ctime: r.long(), mtime: r.long(), version: r.int(), cversion: r.int(), aversion: r.int(), owner: r.bigLong(), dataLength: r.int(), numChildren: r.int(), pzxid: r.long()}
  assert.equal(s.cversion, 3)
  assert.equal(s.owner, 0n)
  assert.equal(s.numChildren, 1)
  assert.equal(s.pzxid, 4)
  assert.deepEqual(t.ephemeralsOf(5n), ['/c/b'])
  t.applyTxn({...h(5), type: Op.closeSession}, {type: Op.closeSession, paths: []})
  assert.deepEqual(t.ephemeralsOf(5n), [])
  assert.equal(t.get('/c')!.numChildren, 0)
})

test('znode data held as latin1 strings round-trips every byte value', () => {
  const bytes = Buffer.alloc(512)
  for (let i = 0; i < bytes.length; i++) bytes[i] = (i * 7) & 0xff
  const w = new JuteWriter(16)
  w.buffer(bytes).buffer(null).buffer(Buffer.alloc(0))
  const r = new JuteReader(w.toBuffer())
  const s = r.latin1()
  assert.equal(s?.length, bytes.length)
  assert.equal(r.latin1(), null, 'null data stays null')
  assert.equal(r.latin1(), '')
  const w2 = new JuteWriter(16)
  w2.latin1(s).latin1(null).latin1('')
  assert.deepEqual(w2.toBuffer(), Buffer.concat([Buffer.from([0, 0, 2, 0]), bytes, Buffer.from([0xff, 0xff, 0xff, 0xff, 0, 0, 0, 0])]))
})
