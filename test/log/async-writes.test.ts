// The log's async write path (log/write-queue.ts): appends queue their bytes and one writev per
// run writes them. Reads never see unwritten bytes (they wait for the batch they start at), the
// files are byte for byte those of synchronous appends, flushes follow the queued writes,
// truncation refuses to run under queued writes, a torn tail is recovered at open, and a failed
// write fails its appends and takes the log offline.
import {test} from 'node:test'
import assert from 'node:assert/strict'
import * as fs from 'node:fs'
import * as path from 'node:path'
import {tempDir, removeDir} from '../helpers/util.js'
import {buildBatch, decodeRecords, validateBatches, viewBatches} from '../../src/core/protocol/record-batch.js'
import {PartitionLog, defaultLogConfig, type LogConfig} from '../../src/core/log/partition-log.js'
import {segmentFileName} from '../../src/core/log/segment.js'
import {ErrorCode, KafkaError} from '../../src/core/protocol/errors.js'

const T0 = Math.floor(Date.now() / 1000) * 1000 - 3_600_000

function cfg(over: Partial<LogConfig> = {}): LogConfig {
  return {...defaultLogConfig, ...over}
}

function batch(tag: string, n = 3, pad = 200): Buffer {
  return buildBatch({
    baseTimestamp: T0,
    records: Array.from({length: n}, (_, i) => ({key: Buffer.from(tag), value: Buffer.from(`${tag}-${i}`.padEnd(pad, '.')), timestampDelta: i})),
  })
}

async function withDir(fn: (root: string) => Promise<void>): Promise<void> {
  const root = tempDir('kafkit-alog-')
  try {
    await fn(root)
  } finally {
    removeDir(root)
  }
}

/** Every record value from `from` to the log end, reading as a consumer does. */
async function values(log: PartitionLog, from = 0): Promise<string[]> {
  const out: string[] = []
  let pos = from
  while (pos < log.logEndOffset) {
    const res = await log.read(pos, 8192, log.logEndOffset, true)
    assert.ok(res.bytes > 0, `read at ${pos} returned nothing (log end ${log.logEndOffset}, written end ${log.writtenEndOffset})`)
    for (const buf of res.records) {
      validateBatches(buf, {counts: false}) // whole batches with good CRCs: nothing unwritten was read
      for (const v of viewBatches(buf)) {
        for (const r of decodeRecords(buf.subarray(v.pos, v.pos + v.size))) if (r.offset >= pos) out.push(r.value!.toString().replace(/\.+$/, ''))
        pos = v.baseOffset + v.lastOffsetDelta + 1
      }
    }
  }
  return out
}

test('async appends: reads started before the write wait for it and never return unwritten bytes', () =>
  withDir(async root => {
    const log = await PartitionLog.open(path.join(root, 't-0'), 't', 0, cfg({segmentBytes: 4000, indexIntervalBytes: 500}))
    log.enableAsyncWrites()
    const expect: string[] = []
    const reads: Promise<string[]>[] = []
    for (let i = 0; i < 40; i++) {
      log.append(batch(`b${i}`), 0)
      for (let j = 0; j < 3; j++) expect.push(`b${i}-${j}`)
      // Nothing has been written yet in this tick: the readable end stays behind the log end.
      assert.ok(log.writtenEndOffset < log.logEndOffset, 'the write is queued, not done')
      reads.push(values(log, i * 3).then(v => v.slice(0, 3)))
    }
    assert.ok(log.segmentCount > 1, 'segments rolled with writes queued')
    const got = await Promise.all(reads)
    for (let i = 0; i < 40; i++) assert.deepEqual(got[i], expect.slice(i * 3, i * 3 + 3))
    await log.whenAppendsDone()
    assert.equal(log.writtenEndOffset, log.logEndOffset)
    assert.deepEqual(await values(log), expect)
    await log.close()
    const again = await PartitionLog.open(path.join(root, 't-0'), 't', 0, cfg({segmentBytes: 4000, indexIntervalBytes: 500}), {clean: false})
    assert.equal(again.logEndOffset, 120)
    assert.deepEqual(await values(again), expect)
    await again.close()
  }))

test('async appends write the same files as synchronous ones', () =>
  withDir(async root => {
    const now = T0 + 1000
    const logs: PartitionLog[] = []
    for (const name of ['sync-0', 'async-0']) {
      const log = await PartitionLog.open(path.join(root, name), name.split('-')[0], 0, cfg({segmentBytes: 3000, indexIntervalBytes: 400}))
      if (name.startsWith('async')) log.enableAsyncWrites()
      for (let i = 0; i < 30; i++) log.append(batch(`x${i}`, 1 + (i % 4)), 3, now)
      logs.push(log)
    }
    for (const log of logs) await log.close()
    const files = fs.readdirSync(path.join(root, 'sync-0')).filter(f => f.endsWith('.log') || f.endsWith('.index') || f.endsWith('.timeindex')).sort()
    assert.ok(files.filter(f => f.endsWith('.log')).length > 1)
    assert.deepEqual(fs.readdirSync(path.join(root, 'async-0')).filter(f => files.includes(f)).sort(), files)
    for (const f of files) assert.ok(fs.readFileSync(path.join(root, 'sync-0', f)).equals(fs.readFileSync(path.join(root, 'async-0', f))), `${f} differs`)
  }))

test('async appends: flush.interval.messages fsyncs after the queued writes, then moves the recovery point', () =>
  withDir(async root => {
    const log = await PartitionLog.open(path.join(root, 't-0'), 't', 0, cfg({flushIntervalMessages: 5}))
    log.enableAsyncWrites()
    for (let i = 0; i < 3; i++) log.append(batch(`f${i}`, 2), 0)
    // 6 messages: a flush was due, but the bytes are not written yet.
    assert.equal(log.recoveryPoint, 0)
    const done = log.whenAppendsDone()
    assert.ok(done !== null)
    await done
    assert.equal(log.recoveryPoint, 6, 'recovery point moved after the fsync that followed the writes')
    await log.close()
  }))

test('async appends: truncation waits for the queued writes (and refuses to run under them)', () =>
  withDir(async root => {
    const log = await PartitionLog.open(path.join(root, 't-0'), 't', 0, cfg())
    log.enableAsyncWrites()
    for (let i = 0; i < 5; i++) log.append(batch(`t${i}`, 2), 0)
    assert.throws(() => log.truncateTo(4), /writes still queued/)
    assert.throws(() => log.truncateFullyAndStartAt(100), /writes still queued/)
    await log.drainWrites()
    log.truncateTo(4)
    assert.equal(log.logEndOffset, 4)
    log.append(batch('after', 2), 1)
    assert.deepEqual(await values(log), ['t0-0', 't0-1', 't1-0', 't1-1', 'after-0', 'after-1'])
    await log.drainWrites()
    log.truncateFullyAndStartAt(100)
    log.append(batch('fresh', 1), 2)
    assert.deepEqual(await values(log, 100), ['fresh-0'])
    await log.close()
  }))

test('a write torn by a crash (half a batch at the end of the file) is cut off at open', () =>
  withDir(async root => {
    const dir = path.join(root, 't-0')
    const log = await PartitionLog.open(dir, 't', 0, cfg())
    log.enableAsyncWrites()
    for (let i = 0; i < 4; i++) log.append(batch(`c${i}`, 2), 0)
    // The process dies with the last write half done: its first half reached the file.
    const torn = batch('torn', 2)
    await log.abort()
    const file = path.join(dir, segmentFileName(0, '.log'))
    const size = fs.statSync(file).size
    fs.appendFileSync(file, torn.subarray(0, Math.floor(torn.length / 2)))
    const again = await PartitionLog.open(dir, 't', 0, cfg(), {clean: false})
    assert.equal(again.logEndOffset, 8)
    assert.equal(fs.statSync(file).size, size, 'the torn tail was truncated')
    assert.deepEqual(await values(again), ['c0-0', 'c0-1', 'c1-0', 'c1-1', 'c2-0', 'c2-1', 'c3-0', 'c3-1'])
    again.enableAsyncWrites()
    again.append(batch('next', 1), 1)
    assert.deepEqual((await values(again, 8)), ['next-0'])
    await again.close()
  }))

test('a failed async write fails the queued appends with KAFKA_STORAGE_ERROR and takes the log offline', () =>
  withDir(async root => {
    const dir = path.join(root, 't-0')
    const log = await PartitionLog.open(dir, 't', 0, cfg())
    log.enableAsyncWrites()
    log.append(batch('ok', 1), 0)
    await log.whenAppendsDone()
    // The segment's handle becomes read-only: the next writev fails (EBADF).
    const seg = log.liveSegments()[0]
    const rw = seg.fd
    seg.fd = fs.openSync(path.join(dir, segmentFileName(0, '.log')), 'r')
    log.append(batch('lost', 1), 0)
    const reading = log.read(1, 4096, 2, true)
    await assert.rejects(log.whenAppendsDone()!, (e: unknown) => e instanceof KafkaError && e.code === ErrorCode.KAFKA_STORAGE_ERROR)
    await assert.rejects(reading, (e: unknown) => e instanceof KafkaError && e.code === ErrorCode.KAFKA_STORAGE_ERROR)
    assert.throws(() => log.append(batch('after', 1), 0), (e: unknown) => e instanceof KafkaError && e.code === ErrorCode.KAFKA_STORAGE_ERROR && /offline/.test(e.message))
    fs.closeSync(seg.fd)
    seg.fd = rw
    await log.abort()
    const again = await PartitionLog.open(dir, 't', 0, cfg(), {clean: false})
    assert.equal(again.logEndOffset, 1, 'only the written batch is in the file')
    await again.close()
  }))
