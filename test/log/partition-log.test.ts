import {test} from 'node:test'
import assert from 'node:assert/strict'
import * as fs from 'node:fs'
import * as path from 'node:path'
import {tempDir, removeDir, waitFor} from '../helpers/util.js'
import {buildBatch, decodeRecords, readBatchHeader, validateBatches} from '../../src/core/protocol/record-batch.js'
import {PartitionLog, defaultLogConfig, type LogConfig} from '../../src/core/log/partition-log.js'
import {ErrorCode, KafkaError} from '../../src/core/protocol/errors.js'

const T0 = Math.floor(Date.now() / 1000) * 1000 - 3_600_000

function cfg(over: Partial<LogConfig> = {}): LogConfig {
  return {...defaultLogConfig, ...over}
}

/** A batch of `n` records whose values are "<tag>-<i>" padded to `pad` bytes. */
function batch(tag: string, n = 1, ts = T0, pad = 0): Buffer {
  return buildBatch({
    baseTimestamp: ts,
    records: Array.from({length: n}, (_, i) => ({key: Buffer.from(`${tag}`), value: Buffer.from(`${tag}-${i}`.padEnd(pad, '.')), timestampDelta: i})),
  })
}

async function readAll(log: PartitionLog, from = log.logStartOffset): Promise<Array<{offset: number; value: string}>> {
  const out: Array<{offset: number; value: string}> = []
  let pos = from
  while (pos < log.logEndOffset) {
    const res = await log.read(pos, 4096, log.logEndOffset, true)
    assert.ok(res.bytes > 0, `read at ${pos} returned nothing`)
    let next = pos
    for (const buf of res.records) {
      validateBatches(buf)
      let at = 0
      while (at < buf.length) {
        const h = readBatchHeader(buf, at)
        const one = buf.subarray(at, at + h.batchLength + 12)
        for (const r of decodeRecords(one)) if (r.offset >= pos) out.push({offset: r.offset, value: r.value!.toString().replace(/\.+$/, '')})
        next = h.baseOffset + h.lastOffsetDelta + 1
        at += h.batchLength + 12
      }
    }
    assert.ok(next > pos)
    pos = next
  }
  return out
}

async function withLog(fn: (dir: string) => Promise<void>): Promise<void> {
  const root = tempDir('kafkit-log-')
  try {
    await fn(path.join(root, 't-0'))
  } finally {
    removeDir(root)
  }
}

test('append and read back across segment rolls; files are 20-digit names', () =>
  withLog(async dir => {
    const log = await PartitionLog.open(dir, 't', 0, cfg({segmentBytes: 2000, indexIntervalBytes: 300}))
    const expect: string[] = []
    for (let i = 0; i < 60; i++) {
      const info = log.append(batch(`b${i}`, 2, T0 + i, 60), 0, T0 + i)
      assert.equal(info.baseOffset, i * 2)
      assert.equal(info.lastOffset, i * 2 + 1)
      assert.equal(info.logAppendTime, -1)
      expect.push(`b${i}-0`, `b${i}-1`)
    }
    assert.equal(log.logEndOffset, 120)
    assert.ok(log.segmentCount > 5, `segments: ${log.segmentCount}`)
    const names = fs.readdirSync(dir).filter(n => n.endsWith('.log')).sort()
    assert.equal(names.length, log.segmentCount)
    for (const n of names) assert.match(n, /^\d{20}\.log$/)
    assert.equal(names[0], '00000000000000000000.log')
    for (const b of log.segmentBaseOffsets()) {
      assert.ok(fs.existsSync(path.join(dir, String(b).padStart(20, '0') + '.index')))
      assert.ok(fs.existsSync(path.join(dir, String(b).padStart(20, '0') + '.timeindex')))
    }
    const got = await readAll(log)
    assert.deepEqual(got.map(r => r.value), expect)
    assert.deepEqual(got.map(r => r.offset), expect.map((_, i) => i))
    // Random-access reads land on the batch containing the offset.
    for (const off of [0, 1, 37, 64, 119]) {
      const res = await log.read(off, 1, log.logEndOffset, true)
      const h = readBatchHeader(res.records[0], 0)
      assert.ok(h.baseOffset <= off && off <= h.baseOffset + h.lastOffsetDelta, `offset ${off} in batch ${h.baseOffset}`)
    }
    await log.close()
  }))

test('read semantics: containing batch, maxBytes, minOneBatch, maxOffset, out of range', () =>
  withLog(async dir => {
    const log = await PartitionLog.open(dir, 't', 0, cfg())
    const sizes: number[] = []
    for (let i = 0; i < 4; i++) {
      const b = batch(`x${i}`, 3)
      sizes.push(b.length)
      log.append(b, 0)
    }
    // Offsets: [0-2] [3-5] [6-8] [9-11]
    let r = await log.read(4, 1 << 20, 12, true)
    assert.equal(readBatchHeader(r.records[0], 0).baseOffset, 3, 'batch containing fetchOffset')
    assert.equal(r.bytes, sizes[1] + sizes[2] + sizes[3])
    r = await log.read(0, sizes[0] + sizes[1] + 5, 12, false)
    assert.equal(r.bytes, sizes[0] + sizes[1], 'maxBytes keeps whole batches only')
    r = await log.read(0, 10, 12, false)
    assert.equal(r.bytes, 0, 'no partial batch without minOneBatch')
    r = await log.read(0, 10, 12, true)
    assert.equal(r.bytes, sizes[0], 'minOneBatch returns one whole batch larger than maxBytes')
    r = await log.read(0, 1 << 20, 6, true)
    assert.equal(r.bytes, sizes[0] + sizes[1], 'never beyond maxOffset')
    r = await log.read(6, 1 << 20, 6, true)
    assert.equal(r.bytes, 0)
    r = await log.read(12, 1 << 20, 12, true)
    assert.equal(r.bytes, 0, 'at the log end: empty')
    await assert.rejects(log.read(13, 100, 20, true), (e: unknown) => e instanceof KafkaError && e.code === ErrorCode.OFFSET_OUT_OF_RANGE)
    log.deleteRecordsBefore(5)
    assert.equal(log.logStartOffset, 5)
    await assert.rejects(log.read(4, 100, 12, true), (e: unknown) => e instanceof KafkaError && e.code === ErrorCode.OFFSET_OUT_OF_RANGE)
    r = await log.read(5, 1 << 20, 12, true)
    assert.equal(readBatchHeader(r.records[0], 0).baseOffset, 3)
    await log.close()
  }))

test('restart keeps everything and appends continue', () =>
  withLog(async dir => {
    let log = await PartitionLog.open(dir, 't', 0, cfg({segmentBytes: 1500, indexIntervalBytes: 200}))
    for (let i = 0; i < 30; i++) log.append(batch(`r${i}`, 2, T0 + i, 40), 3)
    const before = await readAll(log)
    const segs = log.segmentBaseOffsets()
    await log.close()
    log = await PartitionLog.open(dir, 't', 0, cfg({segmentBytes: 1500, indexIntervalBytes: 200}), {clean: true})
    assert.equal(log.logEndOffset, 60)
    assert.deepEqual(log.segmentBaseOffsets(), segs)
    assert.deepEqual(await readAll(log), before)
    assert.equal(log.append(batch('after'), 4).baseOffset, 60)
    assert.deepEqual(log.leaderEpochs, [{epoch: 3, startOffset: 0}, {epoch: 4, startOffset: 60}])
    assert.equal(fs.readFileSync(path.join(dir, 'leader-epoch-checkpoint'), 'utf8'), '0\n2\n3 0\n4 60\n')
    await log.close()
  }))

test('recovery: a torn or corrupt tail is dropped, earlier batches stay, offsets continue', () =>
  withLog(async dir => {
    const c = cfg({segmentBytes: 1 << 20})
    let log = await PartitionLog.open(dir, 't', 0, c)
    for (let i = 0; i < 5; i++) log.append(batch(`a${i}`, 2), 0)
    await log.close()
    const file = path.join(dir, '00000000000000000000.log')
    // Torn write: the last 7 bytes never reached the disk.
    fs.truncateSync(file, fs.statSync(file).size - 7)
    log = await PartitionLog.open(dir, 't', 0, c, {clean: false})
    assert.equal(log.logEndOffset, 8)
    assert.deepEqual((await readAll(log)).map(r => r.value), ['a0-0', 'a0-1', 'a1-0', 'a1-1', 'a2-0', 'a2-1', 'a3-0', 'a3-1'])
    assert.equal(log.append(batch('new'), 0).baseOffset, 8)
    await log.close()
    // Corrupt bytes inside the last batch (CRC mismatch).
    const size = fs.statSync(file).size
    const fd = fs.openSync(file, 'r+')
    fs.writeSync(fd, Buffer.from([0xde, 0xad]), 0, 2, size - 4)
    fs.closeSync(fd)
    log = await PartitionLog.open(dir, 't', 0, c, {clean: false, recoveryPoint: 0})
    assert.equal(log.logEndOffset, 8)
    assert.equal(fs.statSync(file).size, size - batch('new').length)
    assert.equal(log.append(batch('again'), 0).baseOffset, 8)
    await log.close()
  }))

test('recovery across segments: corruption in an older unflushed segment drops the later ones', () =>
  withLog(async dir => {
    const c = cfg({segmentBytes: 600})
    let log = await PartitionLog.open(dir, 't', 0, c)
    for (let i = 0; i < 20; i++) log.append(batch(`s${i}`, 1, T0, 100), 0)
    const bases = log.segmentBaseOffsets()
    assert.ok(bases.length >= 4)
    await log.close()
    const victim = path.join(dir, String(bases[1]).padStart(20, '0') + '.log')
    const fd = fs.openSync(victim, 'r+')
    fs.writeSync(fd, Buffer.from('garbage!'), 0, 8, 70)
    fs.closeSync(fd)
    log = await PartitionLog.open(dir, 't', 0, c, {clean: false, recoveryPoint: bases[1]})
    assert.equal(log.segmentCount, 2)
    assert.equal(log.logEndOffset, bases[1])
    assert.equal(fs.readdirSync(dir).filter(n => n.endsWith('.log')).length, 2)
    assert.equal(log.append(batch('next'), 0).baseOffset, bases[1])
    await log.close()
  }))

test('missing or corrupt index files are rebuilt identically', () =>
  withLog(async dir => {
    const c = cfg({indexIntervalBytes: 256})
    let log = await PartitionLog.open(dir, 't', 0, c)
    for (let i = 0; i < 50; i++) log.append(i % 4 === 0 ? Buffer.concat([batch(`i${i}`, 2, T0 + i * 10, 50), batch(`j${i}`, 1, T0 + i * 10, 50)]) : batch(`i${i}`, 2, T0 + i * 10, 50), 0)
    await log.close()
    const idx = path.join(dir, '00000000000000000000.index')
    const tidx = path.join(dir, '00000000000000000000.timeindex')
    const original = fs.readFileSync(idx)
    const originalTime = fs.readFileSync(tidx)
    assert.ok(original.length >= 8 * 10, `index entries: ${original.length / 8}`)
    assert.equal(original.length % 8, 0)
    assert.equal(originalTime.length % 12, 0)
    fs.rmSync(idx)
    fs.writeFileSync(tidx, originalTime.subarray(0, 7))
    log = await PartitionLog.open(dir, 't', 0, c, {clean: true})
    assert.deepEqual(fs.readFileSync(idx), original)
    assert.deepEqual(fs.readFileSync(tidx), originalTime)
    const r = await log.read(77, 100, log.logEndOffset, true)
    const h = readBatchHeader(r.records[0], 0)
    assert.ok(h.baseOffset <= 77 && 77 <= h.baseOffset + h.lastOffsetDelta)
    await log.close()
  }))

test('retention by size and by time with a fake clock; never an empty log dir', () =>
  withLog(async dir => {
    const c = cfg({segmentBytes: 500, retentionMs: 60_000, retentionBytes: -1})
    const log = await PartitionLog.open(dir, 't', 0, c)
    for (let i = 0; i < 12; i++) log.append(batch(`t${i}`, 1, T0 + i * 1000, 100), 0, T0 + i * 1000)
    const n0 = log.segmentCount
    assert.ok(n0 >= 4)
    assert.equal(log.enforceRetention(T0 + 1000), 0, 'nothing old enough')
    // By size: keep at most ~2 segments worth.
    const perSeg = Math.ceil(log.size / n0)
    log.updateConfig({...c, retentionBytes: perSeg * 2})
    const deleted = log.enforceRetention(T0 + 1000)
    assert.ok(deleted >= n0 - 3, `deleted ${deleted} of ${n0}`)
    assert.ok(log.size <= perSeg * 3)
    assert.equal(log.logStartOffset, log.segmentBaseOffsets()[0])
    // By time: everything is older than retention.ms at a far future "now": the active
    // segment is rolled and all data goes, the log keeps its end offset.
    log.updateConfig({...c, retentionBytes: -1})
    log.enforceRetention(T0 + 10_000_000)
    assert.equal(log.segmentCount, 1)
    assert.equal(log.logStartOffset, 12)
    assert.equal(log.logEndOffset, 12)
    // Files of segments still being flushed in the background go when the flush completes.
    await waitFor(() => fs.readdirSync(dir).filter(n => n.endsWith('.log')).join() === '00000000000000000012.log', 5000, 'old segment files to be removed')
    assert.equal(log.append(batch('later'), 0).baseOffset, 12)
    await log.close()
  }))

test('time-based roll compares batch timestamps with the first batch of the segment (segment.ms)', () =>
  withLog(async dir => {
    const log = await PartitionLog.open(dir, 't', 0, cfg({segmentMs: 10_000}))
    // Old timestamps alone never roll, whatever the wall clock says.
    log.append(batch('a', 1, T0), 0, T0 + 1_000_000)
    log.append(batch('b', 1, T0 + 5000), 0, T0 + 2_000_000)
    assert.equal(log.segmentCount, 1)
    log.append(batch('c', 1, T0 + 20_000), 0, T0 + 2_000_000)
    assert.deepEqual(log.segmentBaseOffsets(), [0, 2])
    // LogAppendTime: the append time is the batch timestamp.
    log.updateConfig(cfg({segmentMs: 10_000, messageTimestampType: 'LogAppendTime'}))
    log.append(batch('d', 1, 0), 0, T0 + 25_000)
    assert.equal(log.segmentCount, 2)
    log.append(batch('e', 1, 0), 0, T0 + 40_000)
    assert.deepEqual(log.segmentBaseOffsets(), [0, 2, 4])
    await log.close()
  }))

test('offsetForTimestamp finds the first offset at or after a timestamp', () =>
  withLog(async dir => {
    const log = await PartitionLog.open(dir, 't', 0, cfg({segmentBytes: 700, indexIntervalBytes: 100}))
    // Batch i holds 3 records stamped T0 + 100*i + {0,1,2}.
    for (let i = 0; i < 30; i++) log.append(batch(`o${i}`, 3, T0 + 100 * i, 30), 0)
    assert.ok(log.segmentCount > 3)
    assert.deepEqual(await log.offsetForTimestamp(0), {offset: 0, timestamp: T0})
    assert.deepEqual(await log.offsetForTimestamp(T0 + 1001), {offset: 31, timestamp: T0 + 1001})
    assert.deepEqual(await log.offsetForTimestamp(T0 + 1003), {offset: 33, timestamp: T0 + 1100})
    assert.deepEqual(await log.offsetForTimestamp(T0 + 2902), {offset: 89, timestamp: T0 + 2902})
    assert.equal(await log.offsetForTimestamp(T0 + 2903), null)
    await log.close()
  }))

test('LogAppendTime stamps batches; truncateTo and batchHeaders', () =>
  withLog(async dir => {
    const log = await PartitionLog.open(dir, 't', 0, cfg({messageTimestampType: 'LogAppendTime', segmentBytes: 400}))
    for (let i = 0; i < 10; i++) {
      const info = log.append(batch(`l${i}`, 2, 5), i < 5 ? 1 : 2, T0 + i)
      assert.equal(info.logAppendTime, T0 + i)
    }
    const r = await log.read(0, 1 << 20, 20, true)
    const h = readBatchHeader(r.records[0], 0)
    assert.equal(h.timestampType, 1)
    assert.equal(h.maxTimestamp, T0)
    assert.equal(h.partitionLeaderEpoch, 1)
    validateBatches(r.records[0])
    const headers = [...log.batchHeaders()]
    assert.deepEqual(headers.map(x => x.baseOffset), [0, 2, 4, 6, 8, 10, 12, 14, 16, 18])
    assert.deepEqual([...log.batchHeaders(13)].map(x => x.baseOffset), [12, 14, 16, 18])
    const viaAsync: number[] = []
    for await (const x of log.batchHeadersAsync(3)) viaAsync.push(x.baseOffset)
    assert.deepEqual(viaAsync, [2, 4, 6, 8, 10, 12, 14, 16, 18])
    log.truncateTo(11)
    assert.equal(log.logEndOffset, 10, 'the batch holding offset 11 is removed whole')
    assert.deepEqual(log.leaderEpochs, [{epoch: 1, startOffset: 0}, {epoch: 2, startOffset: 10}].slice(0, 1))
    assert.equal(log.append(batch('z', 1, 5), 3, T0).baseOffset, 10)
    assert.deepEqual([...log.batchHeaders()].map(x => x.baseOffset), [0, 2, 4, 6, 8, 10])
    log.truncateTo(3)
    assert.equal(log.logEndOffset, 2)
    assert.deepEqual((await readAll(log)).map(x => x.offset), [0, 1])
    await log.close()
  }))

test('delete() closes every handle and removes the directory', () =>
  withLog(async dir => {
    const fdDir = '/proc/self/fd'
    const canCount = fs.existsSync(fdDir)
    const before = canCount ? fs.readdirSync(fdDir).length : 0
    const log = await PartitionLog.open(dir, 't', 0, cfg({segmentBytes: 400}))
    for (let i = 0; i < 10; i++) log.append(batch(`d${i}`, 2), 0)
    assert.ok(log.segmentCount >= 3)
    const pending = log.read(0, 1 << 20, 20, true)
    if (canCount) assert.ok(fs.readdirSync(fdDir).length > before)
    const del = log.delete()
    await pending
    await del
    assert.equal(fs.existsSync(dir), false)
    assert.deepEqual(fs.readdirSync(path.dirname(dir)), [])
    if (canCount) assert.equal(fs.readdirSync(fdDir).length, before, 'no file handle left open')
  }))

test('appendAsFollower keeps leader offsets and refuses going backwards', () =>
  withLog(async dir => {
    const log = await PartitionLog.open(dir, 't', 0, cfg())
    const b = batch('f', 3)
    b.writeInt32BE(0, 0)
    b.writeInt32BE(5, 4) // baseOffset 5
    b.writeInt32BE(7, 12) // leader epoch 7
    const info = log.appendAsFollower(b)
    assert.equal(info.baseOffset, 5)
    assert.equal(log.logEndOffset, 8)
    assert.deepEqual(log.segmentBaseOffsets(), [5])
    assert.deepEqual(log.leaderEpochs, [{epoch: 7, startOffset: 5}])
    assert.throws(() => log.appendAsFollower(b), (e: unknown) => e instanceof KafkaError && e.code === ErrorCode.OFFSET_OUT_OF_RANGE)
    await log.close()
  }))

test('a read in flight survives retention deleting its segment; files go once it completes', () =>
  withLog(async dir => {
    const log = await PartitionLog.open(dir, 't', 0, cfg({segmentBytes: 300, retentionBytes: 0}))
    for (let i = 0; i < 8; i++) log.append(batch(`z${i}`, 2, T0, 60), 0)
    const first = path.join(dir, '00000000000000000000.log')
    const pending = log.read(0, 1 << 20, log.logEndOffset, true)
    assert.ok(log.enforceRetention(Date.now()) >= 1)
    assert.ok(log.logStartOffset > 0)
    const r = await pending
    assert.ok(r.bytes > 0)
    const h = readBatchHeader(r.records[0], 0)
    assert.equal(h.baseOffset, 0)
    validateBatches(r.records[0])
    await waitFor(() => !fs.existsSync(first), 5000, 'the deleted segment file to go')
    await log.close()
  }))

test('flush.messages forces fsync per append; rolls advance the recovery point', () =>
  withLog(async dir => {
    const log = await PartitionLog.open(dir, 't', 0, cfg({flushIntervalMessages: 1}))
    log.append(batch('f', 3), 0)
    assert.equal(log.recoveryPoint, 3)
    log.updateConfig(cfg({segmentBytes: 300}))
    for (let i = 0; i < 6; i++) log.append(batch(`g${i}`, 1, T0, 80), 0)
    assert.ok(log.segmentCount > 1)
    const lastRoll = log.segmentBaseOffsets().at(-1)!
    await waitFor(() => log.recoveryPoint >= lastRoll, 5000, 'background flush of rolled segments')
    assert.ok(log.recoveryPoint < log.logEndOffset)
    const m = log.maxTimestampAndOffset()
    assert.deepEqual(m, {timestamp: T0 + 2, offset: 2}, 'the first batch holds the largest timestamp')
    await log.close()
  }))

test('retention never deletes segments at or above the high watermark bound', () =>
  withLog(async dir => {
    const log = await PartitionLog.open(dir, 't', 0, cfg({segmentBytes: 300, retentionMs: 1000}))
    for (let i = 0; i < 8; i++) log.append(batch(`w${i}`, 1, T0, 100), 0, T0)
    const bases = log.segmentBaseOffsets()
    assert.ok(bases.length >= 3)
    // Only segments that end at or below offset bases[2] may go.
    assert.equal(log.enforceRetention(T0 + 1_000_000, bases[2]), 2)
    assert.equal(log.logStartOffset, bases[2])
    assert.equal(log.enforceRetention(T0 + 1_000_000, bases[2]), 0)
    await log.close()
  }))

test('append refuses buffers that are not whole batches without writing anything', () =>
  withLog(async dir => {
    const log = await PartitionLog.open(dir, 't', 0, cfg())
    const b = batch('ok', 2)
    assert.throws(() => log.append(Buffer.concat([b, b.subarray(0, 20)]), 0), (e: unknown) => e instanceof KafkaError && e.code === ErrorCode.CORRUPT_MESSAGE)
    assert.throws(() => log.append(Buffer.alloc(0), 0), (e: unknown) => e instanceof KafkaError && e.code === ErrorCode.CORRUPT_MESSAGE)
    assert.equal(log.logEndOffset, 0)
    assert.equal(log.size, 0)
    assert.equal(log.append(b, 0).baseOffset, 0)
    await log.close()
  }))

test('zero-filled (preallocated, untrimmed) index files are detected and rebuilt', () =>
  withLog(async dir => {
    const c = cfg({indexIntervalBytes: 128})
    let log = await PartitionLog.open(dir, 't', 0, c)
    for (let i = 0; i < 20; i++) log.append(batch(`p${i}`, 1, T0 + i, 60), 0)
    await log.close()
    const idx = path.join(dir, '00000000000000000000.index')
    const tidx = path.join(dir, '00000000000000000000.timeindex')
    const good = fs.readFileSync(idx)
    const goodTime = fs.readFileSync(tidx)
    fs.writeFileSync(idx, Buffer.concat([good, Buffer.alloc(8 * 100)]))
    fs.writeFileSync(tidx, Buffer.concat([goodTime, Buffer.alloc(12 * 100)]))
    log = await PartitionLog.open(dir, 't', 0, c, {clean: true})
    assert.deepEqual(fs.readFileSync(idx), good)
    assert.deepEqual(fs.readFileSync(tidx), goodTime)
    assert.equal(log.maxTimestampAndOffset().timestamp, T0 + 19)
    await log.close()
  }))

test('header scans over large batches (index rebuild, batchHeaders) stay exact', () =>
  withLog(async dir => {
    const c = cfg({indexIntervalBytes: 4096})
    let log = await PartitionLog.open(dir, 't', 0, c)
    for (let i = 0; i < 20; i++) log.append(batch(`L${i}`, 1 + (i % 3), T0 + i, i % 2 ? 20_000 : 100), 0)
    const end = log.logEndOffset
    const headers = [...log.batchHeaders()].map(h => h.baseOffset)
    await log.close()
    const idx = path.join(dir, '00000000000000000000.index')
    const original = fs.readFileSync(idx)
    fs.rmSync(idx)
    log = await PartitionLog.open(dir, 't', 0, c, {clean: true})
    assert.deepEqual(fs.readFileSync(idx), original)
    assert.equal(log.logEndOffset, end)
    assert.deepEqual([...log.batchHeaders()].map(h => h.baseOffset), headers)
    const viaAsync: number[] = []
    for await (const h of log.batchHeadersAsync()) viaAsync.push(h.baseOffset)
    assert.deepEqual(viaAsync, headers)
    assert.equal(headers.length, 20)
    await log.close()
  }))
