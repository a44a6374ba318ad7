// Log compaction helpers (cleanup.policy=compact): walk record keys of a batch and rebuild it
// keeping only some of its records, as Apache Kafka's cleaner does (MemoryRecords.filterTo):
// the batch keeps its base offset, lastOffsetDelta and producer fields; its base timestamp
// becomes the first kept record's timestamp, or the KIP-534 delete horizon (attribute bit 0x40)
// when one is set, with each record's timestamp delta written again against it; its max
// timestamp is that of the kept records. Compressed batches are decompressed into an
// uncompressed view (same header), filtered, and compressed again with their own codec. A batch
// left with no records that must stay (the last one of an active producer) is an empty batch
// header. The decisions (which records, which horizon) are the compactor's (compactor.ts).
import {compress, decompress} from '../protocol/compression.js'
import {
  ATTRIBUTES_OFFSET, BASE_TIMESTAMP_OFFSET, BATCH_HEADER_SIZE, COMPRESSION_MASK, CONTROL_MASK, LOG_OVERHEAD, LENGTH_OFFSET,
  MAX_TIMESTAMP_OFFSET, RECORDS_COUNT_OFFSET, RECORDS_OFFSET, TIMESTAMP_TYPE_MASK, TRANSACTIONAL_MASK, readInt64, writeInt64,
  updateCrc, readVarint, readVarlong, lastVarintEnd, varintSize, writeVarint,
} from '../protocol/record-batch.js'

/** Batch attribute bit 0x40 (KIP-534): the base timestamp is the delete horizon of its tombstones or marker. */
export const DELETE_HORIZON_MASK = 0x40

export {compress, decompress}

/**
 * The batch at pos as an uncompressed batch (the same header with the compression bits
 * cleared, records decompressed): the batch itself when it is not compressed, null when its
 * records cannot be decompressed. CRC of a view is not valid; it is only walked and filtered.
 */
export function uncompressedView(buf: Buffer, pos: number): {buf: Buffer; at: number; codec: number} | null {
  const attributes = buf.readInt16BE(pos + ATTRIBUTES_OFFSET)
  const codec = attributes & COMPRESSION_MASK
  if (codec === 0) return {buf, at: pos, codec}
  const end = pos + buf.readInt32BE(pos + LENGTH_OFFSET) + LOG_OVERHEAD
  let records: Buffer
  try {
    records = decompress(codec, buf.subarray(pos + RECORDS_OFFSET, end))
  } catch {
    return null
  }
  const view = Buffer.allocUnsafe(BATCH_HEADER_SIZE + records.length)
  buf.copy(view, 0, pos, pos + BATCH_HEADER_SIZE)
  records.copy(view, BATCH_HEADER_SIZE)
  view.writeInt16BE(attributes & ~COMPRESSION_MASK, ATTRIBUTES_OFFSET)
  view.writeInt32BE(view.length - LOG_OVERHEAD, LENGTH_OFFSET)
  return {buf: view, at: 0, codec}
}

/** A filtered uncompressed batch compressed again with `codec` (new length and CRC). */
export function recompressBatch(filtered: Buffer, codec: number): Buffer {
  if (codec === 0) {
    updateCrc(filtered, 0)
    return filtered
  }
  const data = compress(codec, filtered.subarray(RECORDS_OFFSET))
  const out = Buffer.allocUnsafe(BATCH_HEADER_SIZE + data.length)
  filtered.copy(out, 0, 0, BATCH_HEADER_SIZE)
  data.copy(out, BATCH_HEADER_SIZE)
  out.writeInt16BE(filtered.readInt16BE(ATTRIBUTES_OFFSET) | codec, ATTRIBUTES_OFFSET)
  out.writeInt32BE(out.length - LOG_OVERHEAD, LENGTH_OFFSET)
  updateCrc(out, 0)
  return out
}

/** True when the batch at pos may be compacted record by record (uncompressed data batch). */
export function isCompactable(buf: Buffer, pos: number): boolean {
  const attributes = buf.readInt16BE(pos + ATTRIBUTES_OFFSET)
  return (attributes & (COMPRESSION_MASK | CONTROL_MASK | TRANSACTIONAL_MASK)) === 0
}

export interface RecordRef {
  /** Absolute offset of the record. */
  offset: number
  /** Key as a binary string (null key: null). */
  key: string | null
  tombstone: boolean
  /** Byte range of the whole record (length varint included) within the buffer. */
  start: number
  end: number
  /** Where the record's attributes byte is (after the length varint). */
  bodyStart: number
  /** The record's timestamp delta, and where it ends (the offset delta follows). */
  timestampDelta: number
  tsEnd: number
}

/** Walks the records of the uncompressed batch at pos; stops quietly at malformed bytes. */
export function forEachRecord(buf: Buffer, pos: number, visit: (r: RecordRef) => void): void {
  const end = pos + buf.readInt32BE(pos + LENGTH_OFFSET) + LOG_OVERHEAD
  const base = readInt64(buf, pos)
  let p = pos + RECORDS_OFFSET
  while (p < end) {
    const start = p
    const len = readVarint(buf, p, end)
    if (lastVarintEnd() < 0 || len <= 0 || lastVarintEnd() + len > end) return
    const bodyStart = lastVarintEnd()
    const recEnd = bodyStart + len
    const timestampDelta = readVarlong(buf, bodyStart + 1, recEnd) // after the attributes byte
    const tsEnd = lastVarintEnd()
    if (tsEnd < 0) return
    const offDelta = readVarint(buf, tsEnd, recEnd)
    if (lastVarintEnd() < 0) return
    const keyLen = readVarint(buf, lastVarintEnd(), recEnd)
    if (lastVarintEnd() < 0) return
    let q = lastVarintEnd()
    let key: string | null = null
    if (keyLen >= 0) {
      if (q + keyLen > recEnd) return
      key = buf.toString('latin1', q, q + keyLen)
      q += keyLen
    }
    const valueLen = readVarint(buf, q, recEnd)
    if (lastVarintEnd() < 0) return
    visit({offset: base + offDelta, key, tombstone: valueLen < 0, start, end: recEnd, bodyStart, timestampDelta, tsEnd})
    p = recEnd
  }
}

/**
 * The indexes (within the batch) of the records without a key in the batch at pos, compressed
 * or not; empty when every record has one. For compacted topics, which refuse keyless records
 * as Kafka's LogValidator does; reads the key lengths only (no key is copied).
 */
export function keylessRecords(buf: Buffer, pos: number): number[] {
  const u = uncompressedView(buf, pos)
  if (u === null) return []
  const b = u.buf
  const end = u.at + b.readInt32BE(u.at + LENGTH_OFFSET) + LOG_OVERHEAD
  const out: number[] = []
  let p = u.at + RECORDS_OFFSET
  for (let i = 0; p < end; i++) {
    const len = readVarint(b, p, end)
    const body = lastVarintEnd()
    if (body < 0 || len <= 0 || body + len > end) break
    const recEnd = body + len
    readVarlong(b, body + 1, recEnd) // timestamp delta, after the attributes byte
    if (lastVarintEnd() < 0) break
    readVarint(b, lastVarintEnd(), recEnd) // offset delta
    if (lastVarintEnd() < 0) break
    if (readVarint(b, lastVarintEnd(), recEnd) < 0) out.push(i)
    p = recEnd
  }
  return out
}

/**
 * The records of the uncompressed batch at pos that `keep` accepts, in order, or null when the
 * batch's framing does not match its declared count (never rewrite what we cannot parse).
 */
export function keptRecords(buf: Buffer, pos: number, keep: (r: RecordRef) => boolean): {kept: RecordRef[]; total: number} | null {
  const kept: RecordRef[] = []
  let total = 0
  forEachRecord(buf, pos, r => {
    total++
    if (keep(r)) kept.push(r)
  })
  return total === buf.readInt32BE(pos + RECORDS_COUNT_OFFSET) ? {kept, total} : null
}

/**
 * The batch at pos with only the records `keep` accepts: 'all' (keep the batch as is),
 * null (drop it), or a new batch Buffer (see retainRecords).
 */
export function filterBatch(buf: Buffer, pos: number, keep: (r: RecordRef) => boolean): 'all' | null | Buffer {
  const sel = keptRecords(buf, pos, keep)
  if (sel === null || sel.kept.length === sel.total) return 'all'
  if (sel.kept.length === 0) return null
  return retainRecords(buf, pos, sel.kept, -1)
}

/**
 * A new uncompressed batch holding `kept` (records of the uncompressed batch at pos, in order,
 * at least one), as Kafka's cleaner writes it: the same base offset, lastOffsetDelta, producer
 * fields and partition leader epoch; base timestamp `deleteHorizon` with the 0x40 attribute bit
 * when it is >= 0, otherwise the first kept record's timestamp; every record's timestamp delta
 * written again against that base (its timestamp is unchanged); the max timestamp of the kept
 * records (LogAppendTime: the batch's); new count, length and CRC.
 */
export function retainRecords(buf: Buffer, pos: number, kept: readonly RecordRef[], deleteHorizon: number): Buffer {
  const attributes = buf.readInt16BE(pos + ATTRIBUTES_OFFSET)
  const logAppendTime = (attributes & TIMESTAMP_TYPE_MASK) !== 0
  const oldBase = readInt64(buf, pos + BASE_TIMESTAMP_OFFSET)
  const oldMax = readInt64(buf, pos + MAX_TIMESTAMP_OFFSET)
  const timestampOf = (r: RecordRef): number => (logAppendTime ? oldMax : oldBase + r.timestampDelta)
  const base = deleteHorizon >= 0 ? deleteHorizon : timestampOf(kept[0])
  let size = BATCH_HEADER_SIZE
  let max = -1
  for (const r of kept) {
    const ts = timestampOf(r)
    if (ts > max) max = ts
    const body = 1 + varintSize(ts - base) + (r.end - r.tsEnd)
    size += varintSize(body) + body
  }
  const out = Buffer.allocUnsafe(size)
  buf.copy(out, 0, pos, pos + BATCH_HEADER_SIZE)
  let w = BATCH_HEADER_SIZE
  for (const r of kept) {
    const delta = timestampOf(r) - base
    w = writeVarint(out, w, 1 + varintSize(delta) + (r.end - r.tsEnd))
    out[w++] = buf[r.bodyStart]
    w = writeVarint(out, w, delta)
    w += buf.copy(out, w, r.tsEnd, r.end)
  }
  out.writeInt32BE(size - LOG_OVERHEAD, LENGTH_OFFSET)
  out.writeInt16BE(deleteHorizon >= 0 ? attributes | DELETE_HORIZON_MASK : attributes & ~DELETE_HORIZON_MASK, ATTRIBUTES_OFFSET)
  writeInt64(out, BASE_TIMESTAMP_OFFSET, base)
  writeInt64(out, MAX_TIMESTAMP_OFFSET, logAppendTime ? oldMax : max)
  out.writeInt32BE(kept.length, RECORDS_COUNT_OFFSET)
  updateCrc(out, 0)
  return out
}

/**
 * The batch at pos as Kafka's cleaner keeps a batch whose records are all gone but which holds
 * its producer's last sequence or epoch: the header alone (no compression, no records, base
 * timestamp -1, no delete horizon), with its offsets, producer fields and max timestamp.
 */
export function emptyBatch(buf: Buffer, pos: number): Buffer {
  const out = Buffer.allocUnsafe(BATCH_HEADER_SIZE)
  buf.copy(out, 0, pos, pos + BATCH_HEADER_SIZE)
  out.writeInt32BE(BATCH_HEADER_SIZE - LOG_OVERHEAD, LENGTH_OFFSET)
  out.writeInt16BE(buf.readInt16BE(pos + ATTRIBUTES_OFFSET) & (TIMESTAMP_TYPE_MASK | TRANSACTIONAL_MASK | CONTROL_MASK), ATTRIBUTES_OFFSET)
  writeInt64(out, BASE_TIMESTAMP_OFFSET, -1)
  out.writeInt32BE(0, RECORDS_COUNT_OFFSET)
  updateCrc(out, 0)
  return out
}

/**
 * The batches of a produce request with every data batch in `codec` (a topic's compression.type):
 * the same buffer when all already are, otherwise a new one with the others decompressed and
 * compressed again (header fields kept, new length and CRC). Control batches stay as they are.
 */
export function recompressTo(records: Buffer, codec: number): Buffer {
  let pos = 0
  let parts: Buffer[] | null = null
  let copied = 0
  while (pos + BATCH_HEADER_SIZE <= records.length) {
    const size = records.readInt32BE(pos + LENGTH_OFFSET) + LOG_OVERHEAD
    if (size < BATCH_HEADER_SIZE || pos + size > records.length) break // validation reports it
    const attributes = records.readInt16BE(pos + ATTRIBUTES_OFFSET)
    if ((attributes & CONTROL_MASK) === 0 && (attributes & COMPRESSION_MASK) !== codec) {
      const view = uncompressedView(records, pos)
      if (view === null) throw new Error(`records of the batch at byte ${pos} cannot be decompressed`)
      const plain = view.codec === 0 ? Buffer.from(records.subarray(pos, pos + size)) : view.buf
      parts ??= []
      if (pos > copied) parts.push(records.subarray(copied, pos))
      parts.push(recompressBatch(plain, codec))
      copied = pos + size
    }
    pos += size
  }
  if (parts === null) return records
  if (copied < records.length) parts.push(records.subarray(copied))
  return Buffer.concat(parts)
}
