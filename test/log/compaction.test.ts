import {test} from 'node:test'
import assert from 'node:assert/strict'
import * as fs from 'node:fs'
import * as path from 'node:path'
import {createRequire} from 'node:module'
import {tempDir, removeDir, waitFor} from '../helpers/util.js'
import {InvalidBatchError, buildBatch, decodeRecords, readBatchHeader, validateBatches} from '../../src/core/protocol/record-batch.js'
import {filterBatch} from '../../src/core/log/cleaner.js'
import {PartitionLog, defaultLogConfig, type LogConfig} from '../../src/core/log/partition-log.js'
import {LogManager, readOffsetCheckpoint} from '../../src/core/log/log-manager.js'

const require = createRequire(import.meta.url)
const T0 = Date.now() - 3_600_000

function cfg(over: Partial<LogConfig> = {}): LogConfig {
  return {...defaultLogConfig, cleanupPolicy: 'compact', segmentBytes: 400, ...over}
}

function kv(pairs: Array<[string, string | null]>, ts = T0): Buffer {
  return buildBatch({baseTimestamp: ts, records: pairs.map(([k, v]) => ({key: Buffer.from(k), value: v === null ? null : Buffer.from(v)}))})
}

async function contents(log: PartitionLog): Promise<Array<[number, string, string | null]>> {
  const out: Array<[number, string, string | null]> = []
  let pos = log.logStartOffset
  while (pos < log.logEndOffset) {
    const r = await log.read(pos, 1 << 20, log.logEndOffset, true)
    if (r.bytes === 0) break
    let next = pos
    for (const buf of r.records) {
      let at = 0
      while (at < buf.length) {
        const h = readBatchHeader(buf, at)
        for (const rec of decodeRecords(buf.subarray(at, at + h.batchLength + 12))) if (rec.offset >= pos) out.push([rec.offset, rec.key!.toString(), rec.value?.toString() ?? null])
        next = h.baseOffset + h.lastOffsetDelta + 1
        at += h.batchLength + 12
      }
    }
    pos = next
  }
  return out
}

/** The header and record of the batch holding `offset` (uncompressed). */
async function tombstoneBatch(log: PartitionLog, offset: number): Promise<{attributes: number; baseTimestamp: number; maxTimestamp: number; record: {timestamp: number; value: Buffer | null}}> {
  const r = await log.read(offset, 1 << 20, log.logEndOffset, true)
  for (const buf of r.records) {
    for (let at = 0; at < buf.length;) {
      const h = readBatchHeader(buf, at)
      const size = h.batchLength + 12
      const rec = decodeRecords(buf.subarray(at, at + size)).find(x => x.offset === offset)
      if (rec) return {attributes: h.attributes, baseTimestamp: h.baseTimestamp, maxTimestamp: h.maxTimestamp, record: rec}
      at += size
    }
  }
  throw new Error(`offset ${offset} not found`)
}

async function withLog(fn: (dir: string) => Promise<void>): Promise<void> {
  const root = tempDir('kafkit-compact-')
  try {
    await fn(path.join(root, 'c-0'))
  } finally {
    removeDir(root)
  }
}

test('filterBatch keeps raw records, the base offset and lastOffsetDelta; kafkajs reads the result', async () => {
  const b = kv([['a', '1'], ['b', '2'], ['a', '3'], ['c', '4']])
  b.writeInt32BE(0, 0)
  b.writeInt32BE(100, 4)
  const out = filterBatch(b, 0, r => r.key !== 'a' || r.offset === 102)
  assert.ok(Buffer.isBuffer(out))
  const h = readBatchHeader(out, 0)
  assert.equal(h.baseOffset, 100)
  assert.equal(h.lastOffsetDelta, 3)
  assert.equal(h.recordCount, 3)
  assert.deepEqual(decodeRecords(out).map(r => [r.offset, r.key!.toString()]), [[101, 'b'], [102, 'a'], [103, 'c']])
  const Decoder = require('kafkajs/src/protocol/decoder.js')
  const decodeBatch = require('kafkajs/src/protocol/recordBatch/v0/decoder.js')
  const theirs = await decodeBatch(new Decoder(out))
  assert.deepEqual(theirs.records.map((r: {offset: string; key: Buffer}) => [r.offset, r.key.toString()]), [['101', 'b'], ['102', 'a'], ['103', 'c']])
  assert.throws(() => validateBatches(out), InvalidBatchError, 'a produce request may not carry such a batch')
  assert.equal(validateBatches(out, {counts: false}).batches, 1, 'replicated/compacted data: CRC and sizes only')
  assert.equal(filterBatch(b, 0, () => true), 'all')
  assert.equal(filterBatch(b, 0, () => false), null)
})

test('compaction keeps the latest value per key, preserves offsets, honours tombstones', () =>
  withLog(async dir => {
    const log = await PartitionLog.open(dir, 'c', 0, cfg())
    for (let round = 0; round < 6; round++) {
      log.append(kv([['k0', `v${round}`], ['k1', `v${round}`], ['k2', `v${round}`]]), 0, T0)
    }
    log.append(kv([['k1', null]]), 0, T0) // tombstone for k1 at offset 18
    for (let i = 0; i < 4; i++) log.append(kv([['k3', `x${i}`]]), 0, T0) // push the tombstone out of the active segment
    const endBefore = log.logEndOffset
    const sizeBefore = log.size
    const stats = await log.compact(T0 + 1000, Infinity, true)
    assert.ok(stats.segments > 0 && stats.bytesAfter < stats.bytesBefore, JSON.stringify(stats))
    assert.equal(log.logEndOffset, endBefore)
    assert.ok(log.size < sizeBefore)
    const got = await contents(log)
    const activeBase = log.segmentBaseOffsets().at(-1)!
    const compacted = got.filter(([o]) => o < activeBase)
    // Each key at most once in the compacted part, with its latest value there.
    const keys = compacted.map(([, k]) => k)
    assert.equal(new Set(keys).size, keys.length, JSON.stringify(compacted))
    assert.deepEqual(compacted.find(([, k]) => k === 'k0'), [15, 'k0', 'v5'])
    assert.deepEqual(compacted.find(([, k]) => k === 'k1'), [18, 'k1', null], 'a recent tombstone stays')
    // Offsets only ever increase and nothing beyond the log end appeared.
    for (let i = 1; i < got.length; i++) assert.ok(got[i][0] > got[i - 1][0])
    // KIP-534: the pass that kept the tombstone wrote its batch again with the delete horizon
    // (that pass's time + delete.retention.ms) as base timestamp and attribute bit 0x40; the
    // record's own timestamp is unchanged.
    const DAY = 86400000
    const tomb = await tombstoneBatch(log, 18)
    assert.equal(tomb.attributes & 0x40, 0x40, 'delete horizon flag set')
    assert.equal(tomb.baseTimestamp, T0 + 1000 + DAY)
    assert.equal(tomb.record.timestamp, T0)
    assert.ok(tomb.maxTimestamp === T0, 'max timestamp is the records\'')
    // A later pass before the horizon keeps it, even with a shorter delete.retention.ms now (the
    // horizon is the one written); the pass at the horizon removes it.
    log.updateConfig(cfg({deleteRetentionMs: 10}))
    await log.compact(T0 + 1000 + DAY - 1, Infinity, true)
    assert.deepEqual((await contents(log)).find(([, k]) => k === 'k1'), [18, 'k1', null], 'tombstone kept before its horizon')
    await log.compact(T0 + 1000 + DAY, Infinity, true)
    const after = await contents(log)
    assert.equal(after.find(([, k]) => k === 'k1'), undefined, 'old tombstone removed')
    assert.deepEqual(after.find(([, k]) => k === 'k0'), [15, 'k0', 'v5'])
    // The log reopens (indexes rebuilt) with the same content, and appends continue.
    await log.close()
    const again = await PartitionLog.open(dir, 'c', 0, cfg(), {clean: false})
    assert.deepEqual(await contents(again), after)
    assert.equal(again.append(kv([['k9', 'z']]), 0).baseOffset, endBefore)
    await again.close()
  }))

test('an interrupted swap (.log.swap present) is completed at open', () =>
  withLog(async dir => {
    const log = await PartitionLog.open(dir, 'c', 0, cfg({segmentBytes: 1 << 20}))
    log.append(kv([['a', '1'], ['a', '2']]), 0)
    await log.close()
    const file = path.join(dir, '00000000000000000000.log')
    const only = filterBatch(fs.readFileSync(file), 0, r => r.offset === 1) as Buffer
    fs.writeFileSync(file + '.swap', only)
    const reopened = await PartitionLog.open(dir, 'c', 0, cfg(), {clean: true})
    assert.deepEqual(await contents(reopened), [[1, 'a', '2']])
    assert.equal(reopened.logEndOffset, 2)
    assert.equal(fs.existsSync(file + '.swap'), false)
    await reopened.close()
  }))

test('LogManager runs the cleaner for compacted topics only', async () => {
  const root = tempDir('kafkit-compact-lm-')
  try {
    const lm = await LogManager.open({logDirs: [root], brokerId: 0})
    const compacted = await lm.getOrCreateLog('__consumer_offsets', 0, cfg({minCleanableDirtyRatio: 0.1}))
    const plain = await lm.getOrCreateLog('plain', 0, cfg({cleanupPolicy: 'delete'}))
    for (let i = 0; i < 30; i++) {
      compacted.append(kv([['group', `state-${i}`]]), 0)
      plain.append(kv([['group', `state-${i}`]]), 0)
    }
    const plainSize = plain.size
    lm.startCleaner(20)
    const activeBase = compacted.segmentBaseOffsets().at(-1)!
    assert.ok(activeBase > 1)
    await waitFor(async () => (await contents(compacted)).filter(([o]) => o < activeBase).length === 1, 5000, 'the cleaner to compact __consumer_offsets-0')
    assert.equal(plain.size, plainSize)
    await lm.close()
    const co = readOffsetCheckpoint(path.join(root, 'cleaner-offset-checkpoint'))
    assert.ok((co.get('__consumer_offsets 0') ?? 0) >= activeBase, 'cleaner offset checkpointed')
    assert.equal(co.has('plain 0'), false)
    const lm2 = await LogManager.open({logDirs: [root], brokerId: 0})
    const reloaded = await lm2.getOrCreateLog('__consumer_offsets', 0, cfg())
    assert.equal(reloaded.cleanedUpTo, co.get('__consumer_offsets 0'))
    await lm2.close()
  } finally {
    removeDir(root)
  }
})
