// Record batches (magic 2), the protocol's unit of data, over Buffers that hold one or more
// batches back to back: the header layout, validation, the fields the broker patches in place
// (base offset, leader epoch, log-append time, CRC), varints, and buildBatch/decodeRecords for
// uncompressed batches (internal topics, control records, tests). Everything on the hot path
// works on headers in place: no copies, no per-record decoding. The log stores these bytes;
// the client core's producer builds its batches with the same layout (client/records.ts).
import {crc32c} from '../util/crc32c.js'
import {ErrorCode, KafkaError} from './errors.js'

// Header field offsets, relative to the start of a batch.
export const BASE_OFFSET_OFFSET = 0
export const LENGTH_OFFSET = 8
export const PARTITION_LEADER_EPOCH_OFFSET = 12
export const MAGIC_OFFSET = 16
export const CRC_OFFSET = 17
export const ATTRIBUTES_OFFSET = 21
export const LAST_OFFSET_DELTA_OFFSET = 23
export const BASE_TIMESTAMP_OFFSET = 27
export const MAX_TIMESTAMP_OFFSET = 35
export const PRODUCER_ID_OFFSET = 43
export const PRODUCER_EPOCH_OFFSET = 51
export const BASE_SEQUENCE_OFFSET = 53
export const RECORDS_COUNT_OFFSET = 57
export const RECORDS_OFFSET = 61
/** baseOffset + batchLength: the bytes before those counted by batchLength. */
export const LOG_OVERHEAD = 12
/** Size of a batch header (a batch with no records). */
export const BATCH_HEADER_SIZE = 61
/** Smallest legal batchLength value. */
export const MIN_BATCH_LENGTH = BATCH_HEADER_SIZE - LOG_OVERHEAD

export const COMPRESSION_MASK = 0x07
export const TIMESTAMP_TYPE_MASK = 0x08
export const TRANSACTIONAL_MASK = 0x10
export const CONTROL_MASK = 0x20

export interface BatchHeader {
  baseOffset: number
  batchLength: number
  partitionLeaderEpoch: number
  magic: number
  crc: number
  attributes: number
  lastOffsetDelta: number
  baseTimestamp: number
  maxTimestamp: number
  producerId: number
  producerEpoch: number
  baseSequence: number
  recordCount: number
  compression: number
  isTransactional: boolean
  isControl: boolean
  /** 0 CreateTime, 1 LogAppendTime */
  timestampType: number
}

/** A batch the broker must refuse, with the Kafka error code to answer. */
export class InvalidBatchError extends KafkaError {
  constructor(code: number, message: string) {
    super(code, message)
  }
}

export function readInt64(buf: Buffer, pos: number): number {
  return buf.readInt32BE(pos) * 4294967296 + buf.readUInt32BE(pos + 4)
}

export function writeInt64(buf: Buffer, pos: number, v: number): void {
  const hi = Math.floor(v / 4294967296)
  buf.writeInt32BE(hi, pos)
  buf.writeUInt32BE(v - hi * 4294967296, pos + 4)
}

/**
 * One batch of a buffer of batches, parsed once (validateBatches, viewBatches) and then read by
 * the partition's checks, the log's append and index, and the producer state: nobody walks the
 * bytes again. `pos` is where the batch starts in its buffer, `size` its LOG_OVERHEAD +
 * batchLength. The log writes the assigned baseOffset (and, with LogAppendTime, maxTimestamp)
 * back into the view as it patches the bytes.
 */
export interface BatchView extends BatchHeader {
  pos: number
  size: number
}

export function readBatchHeader(buf: Buffer, pos: number): BatchHeader {
  return readBatchView(buf, pos)
}

/** The header of the batch at pos as a view (pos, size and every header field). */
export function readBatchView(buf: Buffer, pos: number): BatchView {
  const attributes = buf.readInt16BE(pos + ATTRIBUTES_OFFSET)
  const batchLength = buf.readInt32BE(pos + LENGTH_OFFSET)
  return {
    pos,
    size: batchLength + LOG_OVERHEAD,
    baseOffset: readInt64(buf, pos),
    batchLength,
    partitionLeaderEpoch: buf.readInt32BE(pos + PARTITION_LEADER_EPOCH_OFFSET),
    magic: buf.readInt8(pos + MAGIC_OFFSET),
    crc: buf.readUInt32BE(pos + CRC_OFFSET),
    attributes,
    lastOffsetDelta: buf.readInt32BE(pos + LAST_OFFSET_DELTA_OFFSET),
    baseTimestamp: readInt64(buf, pos + BASE_TIMESTAMP_OFFSET),
    maxTimestamp: readInt64(buf, pos + MAX_TIMESTAMP_OFFSET),
    producerId: readInt64(buf, pos + PRODUCER_ID_OFFSET),
    producerEpoch: buf.readInt16BE(pos + PRODUCER_EPOCH_OFFSET),
    baseSequence: buf.readInt32BE(pos + BASE_SEQUENCE_OFFSET),
    recordCount: buf.readInt32BE(pos + RECORDS_COUNT_OFFSET),
    compression: attributes & COMPRESSION_MASK,
    isTransactional: (attributes & TRANSACTIONAL_MASK) !== 0,
    isControl: (attributes & CONTROL_MASK) !== 0,
    timestampType: (attributes & TIMESTAMP_TYPE_MASK) !== 0 ? 1 : 0,
  }
}

/** Total size (LOG_OVERHEAD + batchLength) of the batch at pos. */
export function batchSize(buf: Buffer, pos: number): number {
  return buf.readInt32BE(pos + LENGTH_OFFSET) + LOG_OVERHEAD
}

export interface ValidationResult {
  batches: number
  records: number
  bytes: number
  /** Sum over batches of lastOffsetDelta + 1: the offsets the append will take. */
  offsetCount: number
  first: BatchView
  maxTimestamp: number
  /** Every batch, parsed once: what the partition, the log and the producer state read. */
  views: BatchView[]
}

/** Reads a zigzag varint at pos; returns the value and sets varintEnd (-1 if it runs past end or over 5 bytes). */
let varintEnd = 0
export function readVarint(buf: Buffer, pos: number, end: number): number {
  let value = 0
  let shift = 0
  while (pos < end && shift <= 28) {
    const b = buf[pos++]
    value |= (b & 0x7f) << shift
    if ((b & 0x80) === 0) {
      varintEnd = pos
      return (value >>> 1) ^ -(value & 1)
    }
    shift += 7
  }
  varintEnd = -1
  return 0
}

/** Where the last readVarint call ended (-1 when it failed): for callers off the hot path. */
export function lastVarintEnd(): number {
  return varintEnd
}

function invalid(code: number, msg: string): never {
  throw new InvalidBatchError(code, msg)
}

/**
 * Checks that buf holds whole, well-formed magic-2 batches (sizes, CRC, offset range vs
 * record count; record framing of uncompressed batches). Throws InvalidBatchError with
 * CORRUPT_MESSAGE (truncation, bad size, CRC) or INVALID_RECORD (magic, counts, framing).
 */
export function validateBatches(buf: Buffer, opts: {counts?: boolean} = {}): ValidationResult {
  // counts=false (replicated or compacted data): sizes, magic and CRC only; a compacted batch
  // legitimately holds fewer records than its offset range.
  const counts = opts.counts ?? true
  if (buf.length === 0) invalid(ErrorCode.INVALID_RECORD, 'Produce requests must have at least one record batch per partition')
  let pos = 0
  let batches = 0
  let records = 0
  let offsetCount = 0
  let maxTimestamp = -1
  const views: BatchView[] = []
  while (pos < buf.length) {
    const remaining = buf.length - pos
    if (remaining < LOG_OVERHEAD + 5) invalid(ErrorCode.CORRUPT_MESSAGE, `Record batch at byte ${pos} is truncated: ${remaining} bytes left`)
    const magic = buf.readInt8(pos + MAGIC_OFFSET)
    if (magic !== 2) invalid(ErrorCode.INVALID_RECORD, `Record batches must use magic version 2 (found magic ${magic})`)
    const length = buf.readInt32BE(pos + LENGTH_OFFSET)
    if (length < MIN_BATCH_LENGTH) invalid(ErrorCode.CORRUPT_MESSAGE, `Record batch size ${length + LOG_OVERHEAD} is smaller than the minimum batch header size ${BATCH_HEADER_SIZE}`)
    const size = length + LOG_OVERHEAD
    if (size > remaining) invalid(ErrorCode.CORRUPT_MESSAGE, `Record batch at byte ${pos} is truncated: size ${size} but only ${remaining} bytes left`)
    const end = pos + size
    const view = readBatchView(buf, pos)
    const stored = view.crc
    const computed = crc32c(buf, pos + ATTRIBUTES_OFFSET, end)
    if (stored !== computed) invalid(ErrorCode.CORRUPT_MESSAGE, `Record batch is corrupt (stored crc = ${stored}, computed crc = ${computed})`)
    const count = view.recordCount
    const lastOffsetDelta = view.lastOffsetDelta
    if (lastOffsetDelta < 0) invalid(ErrorCode.INVALID_RECORD, `Batch has an invalid offset range: lastOffsetDelta ${lastOffsetDelta}`)
    if (counts && count <= 0) invalid(ErrorCode.INVALID_RECORD, `Invalid reported count for record batch: ${count}`)
    if (counts && lastOffsetDelta + 1 !== count) invalid(ErrorCode.INVALID_RECORD, `Inconsistent batch offset range (${lastOffsetDelta + 1}) and record count (${count})`)
    const compression = view.compression
    if (compression > 4) invalid(ErrorCode.CORRUPT_MESSAGE, `Unknown compression type id ${compression}`)
    if (compression === 0 && counts) {
      // Walk the record lengths only: framing must match the declared count exactly.
      let p = pos + RECORDS_OFFSET
      let n = 0
      while (p < end) {
        const len = readVarint(buf, p, end)
        if (varintEnd < 0 || len <= 0 || varintEnd + len > end) invalid(ErrorCode.CORRUPT_MESSAGE, `Record ${n} of the batch at byte ${pos} has an invalid length`)
        p = varintEnd + len
        n++
      }
      if (n !== count) invalid(ErrorCode.INVALID_RECORD, `Record count mismatch: the batch declares ${count} records but holds ${n}`)
    }
    views.push(view)
    if (view.maxTimestamp > maxTimestamp) maxTimestamp = view.maxTimestamp
    batches++
    records += count
    offsetCount += lastOffsetDelta + 1
    pos = end
  }
  return {batches, records, bytes: buf.length, offsetCount, first: views[0], maxTimestamp, views}
}

/**
 * Views of the batches in buf, checking the framing only (whole batches, sane sizes; no CRC):
 * for data already validated once (the leader's, replicated to a follower; batches built here).
 * Throws KafkaError(CORRUPT_MESSAGE) on trailing bytes or a bad size.
 */
export function viewBatches(buf: Buffer): BatchView[] {
  const views: BatchView[] = []
  let pos = 0
  while (pos < buf.length) {
    if (buf.length - pos < BATCH_HEADER_SIZE) throw new KafkaError(ErrorCode.CORRUPT_MESSAGE, `Trailing ${buf.length - pos} bytes are not a whole record batch`)
    const view = readBatchView(buf, pos)
    if (view.size < BATCH_HEADER_SIZE || pos + view.size > buf.length) throw new KafkaError(ErrorCode.CORRUPT_MESSAGE, `Record batch at byte ${pos} has an invalid size ${view.size}`)
    views.push(view)
    pos += view.size
  }
  return views
}

/** Writes the base offset of the batch at pos (not covered by the CRC). */
export function patchBaseOffset(buf: Buffer, pos: number, offset: number): void {
  writeInt64(buf, pos + BASE_OFFSET_OFFSET, offset)
}

/** Writes the partition leader epoch of the batch at pos (not covered by the CRC). */
export function patchLeaderEpoch(buf: Buffer, pos: number, epoch: number): void {
  buf.writeInt32BE(epoch, pos + PARTITION_LEADER_EPOCH_OFFSET)
}

/** message.timestamp.type=LogAppendTime: sets maxTimestamp and the timestamp-type bit, then the CRC. */
export function setLogAppendTime(buf: Buffer, pos: number, ts: number): void {
  const attributes = buf.readInt16BE(pos + ATTRIBUTES_OFFSET)
  buf.writeInt16BE(attributes | TIMESTAMP_TYPE_MASK, pos + ATTRIBUTES_OFFSET)
  writeInt64(buf, pos + MAX_TIMESTAMP_OFFSET, ts)
  const end = pos + batchSize(buf, pos)
  buf.writeUInt32BE(crc32c(buf, pos + ATTRIBUTES_OFFSET, end), pos + CRC_OFFSET)
}

/** Recomputes and stores the CRC of the batch at pos (after editing covered fields). */
export function updateCrc(buf: Buffer, pos: number): void {
  buf.writeUInt32BE(crc32c(buf, pos + ATTRIBUTES_OFFSET, pos + batchSize(buf, pos)), pos + CRC_OFFSET)
}

// ---------------------------------------------------------------------------------------
// Building and decoding uncompressed batches (internal topics, tests; not the hot path).

export interface RecordHeader {
  key: string
  value: Buffer | null
}

export interface RecordInput {
  key: Buffer | null
  value: Buffer | null
  headers?: RecordHeader[]
  timestampDelta?: number
}

export interface BuildBatchOptions {
  baseOffset?: number
  baseTimestamp?: number
  records: RecordInput[]
  producerId?: number
  producerEpoch?: number
  baseSequence?: number
  partitionLeaderEpoch?: number
  isTransactional?: boolean
  isControl?: boolean
  /** 0 CreateTime (default), 1 LogAppendTime */
  timestampType?: number
}

function zigzag(v: number): number {
  return v >= 0 ? v * 2 : -v * 2 - 1
}

export function varintSize(v: number): number {
  let z = zigzag(v)
  let n = 1
  while (z >= 128) {
    z = Math.floor(z / 128)
    n++
  }
  return n
}

export function writeVarint(buf: Buffer, pos: number, v: number): number {
  let z = zigzag(v)
  while (z >= 128) {
    buf[pos++] = (z % 128) | 0x80
    z = Math.floor(z / 128)
  }
  buf[pos++] = z
  return pos
}

function recordBodySize(r: RecordInput, offsetDelta: number, headerKeys: Buffer[]): number {
  let n = 1 + varintSize(r.timestampDelta ?? 0) + varintSize(offsetDelta)
  n += r.key === null ? varintSize(-1) : varintSize(r.key.length) + r.key.length
  n += r.value === null ? varintSize(-1) : varintSize(r.value.length) + r.value.length
  const headers = r.headers ?? []
  n += varintSize(headers.length)
  for (let i = 0; i < headers.length; i++) {
    const k = headerKeys[i]
    const v = headers[i].value
    n += varintSize(k.length) + k.length + (v === null ? varintSize(-1) : varintSize(v.length) + v.length)
  }
  return n
}

/** Encodes an uncompressed magic-2 batch with a valid CRC. */
export function buildBatch(opts: BuildBatchOptions): Buffer {
  const records = opts.records
  if (records.length === 0) throw new Error('buildBatch needs at least one record')
  const baseTimestamp = opts.baseTimestamp ?? Date.now()
  const keys = records.map(r => (r.headers ?? []).map(h => Buffer.from(h.key, 'utf8')))
  const bodies = records.map((r, i) => recordBodySize(r, i, keys[i]))
  let size = BATCH_HEADER_SIZE
  for (const b of bodies) size += varintSize(b) + b
  const buf = Buffer.alloc(size)
  let maxDelta = 0
  for (const r of records) if ((r.timestampDelta ?? 0) > maxDelta) maxDelta = r.timestampDelta ?? 0
  writeInt64(buf, BASE_OFFSET_OFFSET, opts.baseOffset ?? 0)
  buf.writeInt32BE(size - LOG_OVERHEAD, LENGTH_OFFSET)
  buf.writeInt32BE(opts.partitionLeaderEpoch ?? -1, PARTITION_LEADER_EPOCH_OFFSET)
  buf.writeInt8(2, MAGIC_OFFSET)
  let attributes = 0
  if (opts.timestampType === 1) attributes |= TIMESTAMP_TYPE_MASK
  if (opts.isTransactional) attributes |= TRANSACTIONAL_MASK
  if (opts.isControl) attributes |= CONTROL_MASK
  buf.writeInt16BE(attributes, ATTRIBUTES_OFFSET)
  buf.writeInt32BE(records.length - 1, LAST_OFFSET_DELTA_OFFSET)
  writeInt64(buf, BASE_TIMESTAMP_OFFSET, baseTimestamp)
  writeInt64(buf, MAX_TIMESTAMP_OFFSET, baseTimestamp + maxDelta)
  writeInt64(buf, PRODUCER_ID_OFFSET, opts.producerId ?? -1)
  buf.writeInt16BE(opts.producerEpoch ?? -1, PRODUCER_EPOCH_OFFSET)
  buf.writeInt32BE(opts.baseSequence ?? -1, BASE_SEQUENCE_OFFSET)
  buf.writeInt32BE(records.length, RECORDS_COUNT_OFFSET)
  let p = RECORDS_OFFSET
  for (let i = 0; i < records.length; i++) {
    const r = records[i]
    p = writeVarint(buf, p, bodies[i])
    buf[p++] = 0
    p = writeVarint(buf, p, r.timestampDelta ?? 0)
    p = writeVarint(buf, p, i)
    if (r.key === null) p = writeVarint(buf, p, -1)
    else {
      p = writeVarint(buf, p, r.key.length)
      p += r.key.copy(buf, p)
    }
    if (r.value === null) p = writeVarint(buf, p, -1)
    else {
      p = writeVarint(buf, p, r.value.length)
      p += r.value.copy(buf, p)
    }
    const headers = r.headers ?? []
    p = writeVarint(buf, p, headers.length)
    for (let h = 0; h < headers.length; h++) {
      const k = keys[i][h]
      p = writeVarint(buf, p, k.length)
      p += k.copy(buf, p)
      const v = headers[h].value
      if (v === null) p = writeVarint(buf, p, -1)
      else {
        p = writeVarint(buf, p, v.length)
        p += v.copy(buf, p)
      }
    }
  }
  updateCrc(buf, 0)
  return buf
}

export interface DecodedRecord {
  offset: number
  timestamp: number
  attributes: number
  key: Buffer | null
  value: Buffer | null
  headers: RecordHeader[]
}

/** Reads a zigzag varlong (up to 2^53) at pos; where it ended is lastVarintEnd() (-1 when malformed). */
export function readVarlong(buf: Buffer, pos: number, end: number): number {
  let z = 0
  let mul = 1
  for (let i = 0; i < 10 && pos < end; i++) {
    const b = buf[pos++]
    z += (b & 0x7f) * mul
    if ((b & 0x80) === 0) {
      varintEnd = pos
      return z % 2 === 0 ? z / 2 : -(z + 1) / 2
    }
    mul *= 128
  }
  varintEnd = -1
  return 0
}

/**
 * Decodes the records of one uncompressed batch (the first batch in `batch`). Keys, values
 * and header values are views into `batch`. Throws KafkaError(CORRUPT_MESSAGE) on bad framing
 * and for compressed batches (no decompression here).
 */
export function decodeRecords(batch: Buffer, pos = 0): DecodedRecord[] {
  const h = readBatchHeader(batch, pos)
  if (h.compression !== 0) throw new KafkaError(ErrorCode.CORRUPT_MESSAGE, `decodeRecords handles uncompressed batches only (compression ${h.compression})`)
  const end = pos + h.batchLength + LOG_OVERHEAD
  if (end > batch.length) throw new KafkaError(ErrorCode.CORRUPT_MESSAGE, 'Record batch is truncated')
  const out: DecodedRecord[] = []
  let p = pos + RECORDS_OFFSET
  const bad = (): never => {
    throw new KafkaError(ErrorCode.CORRUPT_MESSAGE, `Malformed record ${out.length} in the batch at offset ${h.baseOffset}`)
  }
  const bytesOrNull = (recEnd: number): Buffer | null => {
    const len = readVarint(batch, p, recEnd)
    if (varintEnd < 0) bad()
    p = varintEnd
    if (len < 0) return null
    if (p + len > recEnd) bad()
    const b = batch.subarray(p, p + len)
    p += len
    return b
  }
  for (let i = 0; i < h.recordCount; i++) {
    const len = readVarint(batch, p, end)
    if (varintEnd < 0 || len <= 0 || varintEnd + len > end) bad()
    p = varintEnd
    const recEnd = p + len
    const attributes = batch.readInt8(p++)
    const tsDelta = readVarlong(batch, p, recEnd)
    if (varintEnd < 0) bad()
    p = varintEnd
    const offDelta = readVarint(batch, p, recEnd)
    if (varintEnd < 0) bad()
    p = varintEnd
    const key = bytesOrNull(recEnd)
    const value = bytesOrNull(recEnd)
    const nh = readVarint(batch, p, recEnd)
    if (varintEnd < 0 || nh < 0) bad()
    p = varintEnd
    const headers: RecordHeader[] = []
    for (let j = 0; j < nh; j++) {
      const k = bytesOrNull(recEnd)
      if (k === null) bad()
      headers.push({key: k!.toString('utf8'), value: bytesOrNull(recEnd)})
    }
    p = recEnd
    out.push({offset: h.baseOffset + offDelta, timestamp: h.timestampType === 1 ? h.maxTimestamp : h.baseTimestamp + tsDelta, attributes, key, value, headers})
  }
  return out
}

/**
 * For an uncompressed batch: the offset and timestamp of the first record whose timestamp
 * is >= ts (record walk, no allocation), or null. For compressed batches: the batch's base
 * offset and max timestamp when maxTimestamp >= ts.
 */
export function firstRecordAtOrAfter(buf: Buffer, pos: number, ts: number): {offset: number; timestamp: number} | null {
  const attributes = buf.readInt16BE(pos + ATTRIBUTES_OFFSET)
  const baseOffset = readInt64(buf, pos)
  const maxTs = readInt64(buf, pos + MAX_TIMESTAMP_OFFSET)
  if (maxTs < ts) return null
  if ((attributes & TIMESTAMP_TYPE_MASK) !== 0 || (attributes & COMPRESSION_MASK) !== 0) return {offset: baseOffset, timestamp: maxTs}
  const baseTs = readInt64(buf, pos + BASE_TIMESTAMP_OFFSET)
  const end = pos + batchSize(buf, pos)
  let p = pos + RECORDS_OFFSET
  while (p < end) {
    const len = readVarint(buf, p, end)
    if (varintEnd < 0 || len <= 0) break
    const recEnd = varintEnd + len
    const tsDelta = readVarlong(buf, varintEnd + 1, recEnd)
    if (varintEnd < 0) break
    const offDelta = readVarint(buf, varintEnd, recEnd)
    if (varintEnd < 0) break
    if (baseTs + tsDelta >= ts) return {offset: baseOffset + offDelta, timestamp: baseTs + tsDelta}
    p = recEnd
  }
  return {offset: baseOffset, timestamp: maxTs}
}
