// The log's transaction support, in Apache Kafka's formats: control batches, .txnindex,
// producer state snapshots, aborted-transaction lookup for read_committed fetches, and
// compaction that removes aborted data, keeps compressed batches compressed, drops markers only
// once their transaction has no data left and their KIP-534 delete horizon has passed, and keeps
// (emptied) the batches that hold an active producer's last sequence or epoch.
import {test} from 'node:test'
import assert from 'node:assert/strict'
import * as fs from 'node:fs'
import * as path from 'node:path'
import * as zlib from 'node:zlib'
import {tempDir, removeDir} from '../helpers/util.js'
import {buildBatch, decodeRecords, readBatchHeader, updateCrc, RECORDS_OFFSET, ATTRIBUTES_OFFSET, LENGTH_OFFSET} from '../../src/core/protocol/record-batch.js'
import {uncompressedView} from '../../src/core/log/cleaner.js'
import {PartitionLog, defaultLogConfig} from '../../src/core/log/partition-log.js'
import {buildMarkerBatch, decodeSnapshot, encodeSnapshot, readControlRecord, readTxnIndex, encodeAbortedTxn} from '../../src/core/log/txn-index.js'

const DAY = 86400000
const OLD = Date.now() - 10 * DAY

function txnBatch(pid: number, pairs: Array<[string, string | null]>, seq: number, ts = OLD): Buffer {
  return buildBatch({baseTimestamp: ts, producerId: pid, producerEpoch: 0, baseSequence: seq, isTransactional: true, records: pairs.map(([k, v]) => ({key: Buffer.from(k), value: v === null ? null : Buffer.from(v)}))})
}

/** An uncompressed batch turned into a gzip one (what a client with compression.type=gzip sends). */
function gzipBatch(pairs: Array<[string, string]>, ts = OLD): Buffer {
  const plain = buildBatch({baseTimestamp: ts, records: pairs.map(([k, v]) => ({key: Buffer.from(k), value: Buffer.from(v)}))})
  const data = zlib.gzipSync(plain.subarray(RECORDS_OFFSET))
  const out = Buffer.concat([plain.subarray(0, RECORDS_OFFSET), data])
  out.writeInt16BE(plain.readInt16BE(ATTRIBUTES_OFFSET) | 1, ATTRIBUTES_OFFSET)
  out.writeInt32BE(out.length - 12, LENGTH_OFFSET)
  updateCrc(out, 0)
  return out
}

interface Seen {offset: number; control: boolean; compression: number; records: string[]; horizon: number; timestamp: number}

async function batches(log: PartitionLog): Promise<Seen[]> {
  const out: Seen[] = []
  let pos = log.logStartOffset
  while (pos < log.logEndOffset) {
    const r = await log.read(pos, 1 << 20, log.logEndOffset, true)
    if (r.bytes === 0) break
    for (const buf of r.records) {
      let at = 0
      while (at < buf.length) {
        const h = readBatchHeader(buf, at)
        const v = uncompressedView(buf, at)!
        const decoded = h.recordCount > 0 ? decodeRecords(v.buf, v.at) : []
        const recs = h.isControl ? [] : decoded.map(x => `${x.key}=${x.value}@${x.offset}`)
        out.push({offset: h.baseOffset, control: h.isControl, compression: h.compression, records: recs, horizon: (h.attributes & 0x40) !== 0 ? h.baseTimestamp : -1, timestamp: decoded[0]?.timestamp ?? -1})
        pos = h.baseOffset + h.lastOffsetDelta + 1
        at += h.batchLength + 12
      }
    }
  }
  return out
}

test('control batches, .txnindex entries and producer snapshots use Kafka\'s layouts', () => {
  const m = buildMarkerBatch(7, 3, 5, true)
  const h = readBatchHeader(m, 0)
  assert.deepEqual([h.isControl, h.isTransactional, h.producerId, h.producerEpoch, h.baseSequence, h.recordCount], [true, true, 7, 3, -1, 1])
  assert.deepEqual(readControlRecord(m, 0, m.length), {type: 1, coordinatorEpoch: 5})
  assert.deepEqual(readControlRecord(buildMarkerBatch(7, 3, 9, false), 0, m.length), {type: 0, coordinatorEpoch: 9})
  assert.equal(encodeAbortedTxn({producerId: 1, firstOffset: 2, lastOffset: 3, lastStableOffset: 4}).toString('hex'), '0000' + '0000000000000001' + '0000000000000002' + '0000000000000003' + '0000000000000004')
  const entries = [{producerId: 9, epoch: 2, lastSequence: 41, lastOffset: 100, offsetDelta: 4, timestamp: 1700000000000, coordinatorEpoch: 3, currentTxnFirstOffset: 90}]
  const snap = encodeSnapshot(entries)
  assert.equal(snap.readInt16BE(0), 1)
  assert.deepEqual(decodeSnapshot(snap), entries)
  snap[snap.length - 1] ^= 1
  assert.throws(() => decodeSnapshot(snap), /CRC is no longer valid/)
})

test('aborted transactions go to the active segment\'s .txnindex, survive a reopen and answer read_committed lookups', async () => {
  const root = tempDir('kafkit-txnlog-')
  try {
    const dir = path.join(root, 't-0')
    let log = await PartitionLog.open(dir, 't', 0, {...defaultLogConfig, segmentBytes: 300})
    log.append(txnBatch(1, [['a', '1']], 0), 0) // 0
    log.append(buildMarkerBatch(1, 0, 0, false, OLD), 0) // 1
    log.appendAbortedTxn({producerId: 1, firstOffset: 0, lastOffset: 1, lastStableOffset: 2})
    log.roll()
    log.append(txnBatch(2, [['b', '2']], 0), 0) // 2
    log.append(txnBatch(3, [['c', '3']], 0), 0) // 3
    log.append(buildMarkerBatch(2, 0, 0, false, OLD), 0) // 4
    log.appendAbortedTxn({producerId: 2, firstOffset: 2, lastOffset: 4, lastStableOffset: 3})
    assert.deepEqual(readTxnIndex(path.join(dir, '00000000000000000002.txnindex')), [{producerId: 2, firstOffset: 2, lastOffset: 4, lastStableOffset: 3}])
    await log.close()
    log = await PartitionLog.open(dir, 't', 0, {...defaultLogConfig, segmentBytes: 300}, {clean: true})
    assert.deepEqual(log.collectAbortedTxns(0, 1).map(t => t.producerId), [1])
    assert.deepEqual(log.collectAbortedTxns(2, 5).map(t => t.producerId), [2])
    assert.deepEqual(log.collectAbortedTxns(2, 2).map(t => t.producerId), [])
    log.truncateTo(4)
    assert.equal(fs.existsSync(path.join(dir, '00000000000000000002.txnindex')), false, 'the entry of a truncated marker is gone')
    assert.deepEqual(log.allAbortedTxns().map(t => t.producerId), [1])
    await log.close()
  } finally {
    removeDir(root)
  }
})

test('compaction removes aborted data, filters compressed batches keeping their codec, and removes markers of emptied transactions in Kafka\'s passes (KIP-534 delete horizon)', async () => {
  const root = tempDir('kafkit-txnlog-')
  try {
    const dir = path.join(root, 'c-0')
    const log = await PartitionLog.open(dir, 'c', 0, {...defaultLogConfig, cleanupPolicy: 'compact', segmentBytes: 1 << 20, deleteRetentionMs: DAY})
    log.append(txnBatch(1, [['k1', 'aborted'], ['k9', 'aborted']], 0), 0) // 0-1 aborted
    log.append(txnBatch(2, [['k1', 'committed'], ['k2', 'old']], 0), 0) // 2-3 committed
    log.append(buildMarkerBatch(1, 0, 0, false, OLD), 0) // 4
    log.appendAbortedTxn({producerId: 1, firstOffset: 0, lastOffset: 4, lastStableOffset: 5})
    log.append(buildMarkerBatch(2, 0, 0, true, OLD), 0) // 5
    log.append(gzipBatch([['k2', 'gz'], ['k3', 'gz-old']]), 0) // 6-7
    log.append(buildBatch({baseTimestamp: OLD, records: [{key: Buffer.from('k3'), value: Buffer.from('new')}]}), 0) // 8
    log.roll()
    log.append(buildBatch({records: [{key: Buffer.from('active'), value: Buffer.from('x')}]}), 0) // 9
    const txnindex = path.join(dir, '00000000000000000000.txnindex')
    const now = Date.now()
    // Pass 1: the aborted data goes; its marker stays (this pass met data of its transaction).
    await log.compact(now, Infinity, true)
    const after = await batches(log)
    assert.deepEqual(after.map(b => [b.offset, b.control, b.compression, b.records, b.horizon]), [
      [2, false, 0, ['k1=committed@2'], -1],
      [4, true, 0, [], -1],
      [5, true, 0, [], -1],
      [6, false, 1, ['k2=gz@6'], -1],
      [8, false, 0, ['k3=new@8'], -1],
      [9, false, 0, ['active=x@9'], -1],
    ])
    // k9 existed only in the aborted transaction: it is not resurrected anywhere.
    assert.ok(!JSON.stringify(after).includes('k9'))
    assert.equal(readTxnIndex(txnindex).length, 1)
    // Pass 2: the ABORT marker has no data left: its batch gets the delete horizon, and the
    // .txnindex entry goes (a read_committed reader must not skip the producer's later data).
    await log.compact(now + 1, Infinity, true)
    const second = await batches(log)
    assert.deepEqual(second.map(b => [b.offset, b.horizon]), [[2, -1], [4, now + 1 + DAY], [5, -1], [6, -1], [8, -1], [9, -1]])
    assert.deepEqual(readTxnIndex(txnindex), [])
    assert.deepEqual(log.allAbortedTxns(), [])
    assert.equal(second[1].timestamp, OLD, 'the marker record keeps its timestamp')
    // Pass 3, before the horizon: nothing changes; at the horizon the ABORT marker goes. The
    // COMMIT marker stays while its transaction has data (k1=committed).
    await log.compact(now + DAY, Infinity, true)
    assert.deepEqual(await batches(log), second)
    await log.compact(now + 1 + DAY, Infinity, true)
    assert.deepEqual((await batches(log)).map(b => b.offset), [2, 5, 6, 8, 9])
    await log.close()
  } finally {
    removeDir(root)
  }
})

test('compaction keeps the batch that holds an active producer\'s last sequence or epoch, emptied, as Kafka does', async () => {
  const root = tempDir('kafkit-txnlog-')
  try {
    const dir = path.join(root, 'e-0')
    const log = await PartitionLog.open(dir, 'e', 0, {...defaultLogConfig, cleanupPolicy: 'compact', segmentBytes: 1 << 20, deleteRetentionMs: DAY})
    // An idempotent producer (7): its last batch's records are all overwritten later.
    log.append(buildBatch({baseTimestamp: OLD, producerId: 7, producerEpoch: 3, baseSequence: 40, records: [{key: Buffer.from('a'), value: Buffer.from('1')}, {key: Buffer.from('b'), value: Buffer.from('1')}]}), 0) // 0-1
    // A transactional producer (8) whose transaction was aborted with a bumped epoch (timeout): its last entry is the marker.
    log.append(txnBatch(8, [['c', 'aborted']], 0), 0) // 2
    log.append(buildMarkerBatch(8, 1, 0, false, OLD), 0) // 3
    log.appendAbortedTxn({producerId: 8, firstOffset: 2, lastOffset: 3, lastStableOffset: 4})
    log.append(buildBatch({baseTimestamp: OLD, records: [{key: Buffer.from('a'), value: Buffer.from('2')}, {key: Buffer.from('b'), value: Buffer.from('2')}]}), 0) // 4-5
    log.roll()
    log.append(buildBatch({records: [{key: Buffer.from('z'), value: Buffer.from('z')}]}), 0) // 6
    let active = new Map([[7, {lastDataOffset: 1, epoch: 3}], [8, {lastDataOffset: -1, epoch: 1}]])
    log.activeProducers = () => active
    const now = Date.now()
    for (let pass = 0; pass < 3; pass++) await log.compact(now + pass * DAY * 2, Infinity, true)
    const raw = fs.readFileSync(path.join(dir, '00000000000000000000.log'))
    const headers: Array<ReturnType<typeof readBatchHeader>> = []
    for (let at = 0; at < raw.length; at += readBatchHeader(raw, at).batchLength + 12) headers.push(readBatchHeader(raw, at))
    assert.deepEqual(headers.map(h => [h.baseOffset, h.lastOffsetDelta, h.recordCount, h.batchLength + 12, h.producerId, h.producerEpoch, h.baseSequence, h.isControl, h.baseTimestamp]), [
      [0, 1, 0, 61, 7, 3, 40, false, -1], // empty: keeps sequences 40-41 for producer 7
      [3, 0, 0, 61, 8, 1, -1, true, -1], // the marker, emptied after its horizon: keeps epoch 1 for producer 8
      [4, 1, 2, 61 + 2 * 9, -1, -1, -1, false, OLD],
    ])
    assert.equal(headers[0].maxTimestamp, OLD)
    assert.deepEqual(log.allAbortedTxns(), [])
    // Once the producers are no longer active, the empty batches go.
    active = new Map()
    await log.compact(now + 7 * DAY, Infinity, true)
    assert.deepEqual((await batches(log)).map(b => b.offset), [4, 6])
    await log.close()
  } finally {
    removeDir(root)
  }
})

test('compaction keeps markers younger than delete.retention.ms and never cleans past the last stable offset', async () => {
  const root = tempDir('kafkit-txnlog-')
  try {
    const log = await PartitionLog.open(path.join(root, 'd-0'), 'd', 0, {...defaultLogConfig, cleanupPolicy: 'compact', segmentBytes: 1 << 20})
    const now = Date.now()
    log.append(txnBatch(1, [['k', 'aborted']], 0, now), 0) // 0
    log.append(buildMarkerBatch(1, 0, 0, false, now), 0) // 1
    log.appendAbortedTxn({producerId: 1, firstOffset: 0, lastOffset: 1, lastStableOffset: 2})
    log.append(txnBatch(2, [['k', 'open']], 0, now), 0) // 2: an open transaction
    log.append(buildBatch({baseTimestamp: now, records: [{key: Buffer.from('k'), value: Buffer.from('later')}]}), 0) // 3
    log.roll()
    log.append(buildBatch({records: [{key: Buffer.from('z'), value: Buffer.from('z')}]}), 0)
    log.cleanableUpperBound = () => 2
    await log.compact(now, Infinity, true)
    // The segment holds the open transaction: below the last stable offset only, nothing is cleanable here.
    assert.equal((await batches(log)).length, 5)
    log.cleanableUpperBound = () => Infinity
    await log.compact(now, Infinity, true)
    const after = await batches(log)
    assert.deepEqual(after.map(b => [b.offset, b.control, b.records]), [[1, true, []], [3, false, ['k=later@3']], [4, false, ['z=z@4']]])
    await log.close()
  } finally {
    removeDir(root)
  }
})
