import {test} from 'node:test'
import assert from 'node:assert/strict'
import {createRequire} from 'node:module'
import {randomBytes} from 'node:crypto'
import {crc32c, crc32cBitwise, crc32cJs} from '../../src/core/util/crc32c.js'
import {
  InvalidBatchError, buildBatch, decodeRecords, firstRecordAtOrAfter, patchBaseOffset, patchLeaderEpoch,
  readBatchHeader, setLogAppendTime, validateBatches,
} from '../../src/core/protocol/record-batch.js'
import {ErrorCode} from '../../src/core/protocol/errors.js'

const require = createRequire(import.meta.url)

test('crc32c: known vectors', () => {
  assert.equal(crc32c(Buffer.from('123456789')), 0xe3069283)
  assert.equal(crc32c(Buffer.alloc(0)), 0)
  assert.equal(crc32c(Buffer.alloc(32)), 0x8a9136aa)
  assert.equal(crc32c(Buffer.alloc(32, 0xff)), 0x62a8ab43)
  assert.equal(crc32c(Buffer.from(Array.from({length: 32}, (_, i) => i))), 0x46dd794e)
})

test('crc32c: matches the bitwise reference on random buffers, ranges and seeds', () => {
  for (let i = 0; i < 200; i++) {
    const buf = randomBytes(Math.floor(Math.random() * 300))
    const start = Math.floor(Math.random() * (buf.length + 1))
    const end = start + Math.floor(Math.random() * (buf.length - start + 1))
    assert.equal(crc32c(buf, start, end), crc32cBitwise(buf, start, end), `len ${buf.length} [${start}, ${end})`)
    const mid = start + Math.floor((end - start) / 2)
    assert.equal(crc32c(buf, mid, end, crc32c(buf, start, mid)), crc32c(buf, start, end), 'seeded continuation')
  }
})

test('crc32c: the native and pure-JS implementations agree on large buffers, ranges and seeds', () => {
  for (let i = 0; i < 100; i++) {
    const buf = randomBytes(256 + Math.floor(Math.random() * 5000))
    const start = Math.floor(Math.random() * 100)
    const end = buf.length - Math.floor(Math.random() * 100)
    assert.equal(crc32c(buf, start, end), crc32cJs(buf, start, end))
    const mid = start + Math.floor((end - start) / 2)
    assert.equal(crc32c(buf, mid, end, crc32c(buf, start, mid)), crc32cJs(buf, start, end), 'seeded continuation')
    const u8 = new Uint8Array(buf.buffer, buf.byteOffset, buf.length)
    assert.equal(crc32c(u8, start, end), crc32cJs(buf, start, end), 'Uint8Array input')
  }
})

test('crc32c: matches kafkajs on a large buffer', () => {
  const kcrc = require('kafkajs/src/protocol/recordBatch/crc32C/index.js') as (b: Buffer) => number
  const buf = randomBytes(100_003)
  assert.equal(crc32c(buf), kcrc(buf) >>> 0)
})

function sample(n = 3, baseTimestamp = 1_700_000_000_000) {
  return buildBatch({
    baseOffset: 0,
    baseTimestamp,
    records: Array.from({length: n}, (_, i) => ({
      key: i === 1 ? null : Buffer.from(`k${i}`),
      value: i === 2 ? null : Buffer.from(`value-${i}`.repeat(i + 1)),
      headers: i === 0 ? [{key: 'h1', value: Buffer.from('v1')}, {key: 'h2', value: null}] : [],
      timestampDelta: i * 10,
    })),
  })
}

test('buildBatch / readBatchHeader / decodeRecords round trip', () => {
  const b = sample()
  const h = readBatchHeader(b, 0)
  assert.equal(h.magic, 2)
  assert.equal(h.batchLength + 12, b.length)
  assert.equal(h.recordCount, 3)
  assert.equal(h.lastOffsetDelta, 2)
  assert.equal(h.baseTimestamp, 1_700_000_000_000)
  assert.equal(h.maxTimestamp, 1_700_000_000_020)
  assert.equal(h.producerId, -1)
  assert.equal(h.compression, 0)
  assert.equal(h.timestampType, 0)
  assert.equal(h.crc, crc32c(b, 21, b.length))
  const recs = decodeRecords(b)
  assert.equal(recs.length, 3)
  assert.deepEqual(recs.map(r => r.offset), [0, 1, 2])
  assert.deepEqual(recs.map(r => r.timestamp), [1_700_000_000_000, 1_700_000_000_010, 1_700_000_000_020])
  assert.equal(recs[0].key!.toString(), 'k0')
  assert.equal(recs[1].key, null)
  assert.equal(recs[2].value, null)
  assert.equal(recs[1].value!.toString(), 'value-1value-1')
  assert.deepEqual(recs[0].headers.map(x => [x.key, x.value?.toString() ?? null]), [['h1', 'v1'], ['h2', null]])
  const v = validateBatches(b)
  assert.equal(v.batches, 1)
  assert.equal(v.records, 3)
  assert.equal(v.offsetCount, 3)
})

test('kafkajs decodes our batches and we validate and decode kafkajs batches', async () => {
  const Decoder = require('kafkajs/src/protocol/decoder.js')
  const decodeBatch = require('kafkajs/src/protocol/recordBatch/v0/decoder.js')
  const encodeBatch = require('kafkajs/src/protocol/recordBatch/v0/index.js').RecordBatch
  const Record = require('kafkajs/src/protocol/recordBatch/record/v0/index.js')
  const ours = sample()
  patchBaseOffset(ours, 0, 42)
  const theirsView = await decodeBatch(new Decoder(ours))
  assert.equal(theirsView.records.length, 3)
  assert.equal(theirsView.records[0].offset, '42')
  assert.equal(theirsView.records[0].value.toString(), 'value-0')
  assert.equal(theirsView.records[0].headers.h1.toString(), 'v1')

  const records = [0, 1, 2, 3].map(i => Record({offsetDelta: i, timestampDelta: i, key: Buffer.from(`key${i}`), value: Buffer.from(`val${i}`), headers: {x: Buffer.from('y')}}))
  const enc = await encodeBatch({firstTimestamp: 1000, maxTimestamp: 1003, lastOffsetDelta: 3, records})
  const buf: Buffer = enc.buffer
  const v = validateBatches(buf)
  assert.equal(v.records, 4)
  const decoded = decodeRecords(buf)
  assert.deepEqual(decoded.map(r => r.value!.toString()), ['val0', 'val1', 'val2', 'val3'])
  assert.deepEqual(decoded.map(r => r.timestamp), [1000, 1001, 1002, 1003])
  assert.equal(decoded[3].headers[0].key, 'x')
})

test('patching base offset and leader epoch keeps the CRC valid; LogAppendTime rewrites it', () => {
  const two = Buffer.concat([sample(2), sample(4)])
  patchBaseOffset(two, 0, 2 ** 40 + 5)
  patchLeaderEpoch(two, 0, 7)
  const second = readBatchHeader(two, 0).batchLength + 12
  patchBaseOffset(two, second, 2 ** 40 + 7)
  validateBatches(two)
  const h = readBatchHeader(two, 0)
  assert.equal(h.baseOffset, 2 ** 40 + 5)
  assert.equal(h.partitionLeaderEpoch, 7)
  setLogAppendTime(two, second, 1_800_000_000_123)
  validateBatches(two)
  const h2 = readBatchHeader(two, second)
  assert.equal(h2.timestampType, 1)
  assert.equal(h2.maxTimestamp, 1_800_000_000_123)
  assert.ok(decodeRecords(two, second).every(r => r.timestamp === 1_800_000_000_123))
})

function expectInvalid(buf: Buffer, code: number): void {
  assert.throws(() => validateBatches(buf), (e: unknown) => e instanceof InvalidBatchError && e.code === code && !/\n/.test(e.message))
}

test('validateBatches refuses corrupt input with Kafka error codes', () => {
  expectInvalid(Buffer.alloc(0), ErrorCode.INVALID_RECORD)
  const b = sample()
  const flipped = Buffer.from(b)
  flipped[b.length - 3] ^= 0x40
  expectInvalid(flipped, ErrorCode.CORRUPT_MESSAGE)
  expectInvalid(b.subarray(0, b.length - 1), ErrorCode.CORRUPT_MESSAGE)
  expectInvalid(Buffer.concat([b, b.subarray(0, 30)]), ErrorCode.CORRUPT_MESSAGE)
  const small = Buffer.from(b)
  small.writeInt32BE(20, 8)
  expectInvalid(small, ErrorCode.CORRUPT_MESSAGE)
  const magic1 = Buffer.from(b)
  magic1[16] = 1
  expectInvalid(magic1, ErrorCode.INVALID_RECORD)
  // Declared count disagrees with lastOffsetDelta (CRC recomputed so only the count is wrong).
  const count = Buffer.from(b)
  count.writeInt32BE(5, 57)
  count.writeUInt32BE(crc32c(count, 21, count.length), 17)
  expectInvalid(count, ErrorCode.INVALID_RECORD)
  // Count and delta agree but the records hold fewer.
  const framing = Buffer.from(b)
  framing.writeInt32BE(3, 23)
  framing.writeInt32BE(4, 57)
  framing.writeUInt32BE(crc32c(framing, 21, framing.length), 17)
  expectInvalid(framing, ErrorCode.INVALID_RECORD)
})

test('validateBatches never throws anything but InvalidBatchError on random bytes', () => {
  const good = sample()
  for (let i = 0; i < 2000; i++) {
    const buf = Buffer.from(good)
    const n = 1 + Math.floor(Math.random() * 4)
    for (let k = 0; k < n; k++) buf[Math.floor(Math.random() * buf.length)] = Math.floor(Math.random() * 256)
    const cut = Math.random() < 0.3 ? buf.subarray(0, Math.floor(Math.random() * buf.length)) : buf
    try {
      validateBatches(cut)
    } catch (error) {
      assert.ok(error instanceof InvalidBatchError, String(error))
    }
    try {
      validateBatches(randomBytes(Math.floor(Math.random() * 120)))
    } catch (error) {
      assert.ok(error instanceof InvalidBatchError, String(error))
    }
  }
})

test('firstRecordAtOrAfter walks record timestamps of an uncompressed batch', () => {
  const b = sample(5, 1000)
  patchBaseOffset(b, 0, 100)
  assert.deepEqual(firstRecordAtOrAfter(b, 0, 0), {offset: 100, timestamp: 1000})
  assert.deepEqual(firstRecordAtOrAfter(b, 0, 1015), {offset: 102, timestamp: 1020})
  assert.deepEqual(firstRecordAtOrAfter(b, 0, 1040), {offset: 104, timestamp: 1040})
  assert.equal(firstRecordAtOrAfter(b, 0, 1041), null)
})
