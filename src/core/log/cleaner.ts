// Log compaction helpers (cleanup.policy=compact): walk record keys of a batch and rebuild it
// keeping only some of its records. Records are copied as raw bytes (each carries its own
// offset/timestamp deltas), so only the batch header and CRC are new; the batch keeps its base
// offset, lastOffsetDelta, timestamps and producer fields, as Apache Kafka's cleaner does.
// Compressed batches are decompressed into an uncompressed view (same header), filtered, and
// compressed again with their own codec. Control batches (transaction markers) are never
// rewritten: the cleaner keeps or drops them whole (partition-log.ts).
import {compress, decompress} from '../protocol/compression.js'
import {
  ATTRIBUTES_OFFSET, BATCH_HEADER_SIZE, COMPRESSION_MASK, CONTROL_MASK, LOG_OVERHEAD, LENGTH_OFFSET, RECORDS_COUNT_OFFSET,
  RECORDS_OFFSET, TRANSACTIONAL_MASK, readInt64, updateCrc, readVarint, lastVarintEnd,
} from '../protocol/record-batch.js'

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

function skipVarlong(buf: Buffer, pos: number, end: number): number {
  for (let i = 0; i < 10 && pos < end; i++) if ((buf[pos++] & 0x80) === 0) return pos
  return -1
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
    const recEnd = lastVarintEnd() + len
    let q = skipVarlong(buf, lastVarintEnd() + 1, recEnd) // attributes byte, timestamp delta
    if (q < 0) return
    const offDelta = readVarint(buf, q, recEnd)
    if (lastVarintEnd() < 0) return
    const keyLen = readVarint(buf, lastVarintEnd(), recEnd)
    if (lastVarintEnd() < 0) return
    q = lastVarintEnd()
    let key: string | null = null
    if (keyLen >= 0) {
      if (q + keyLen > recEnd) return
      key = buf.toString('latin1', q, q + keyLen)
      q += keyLen
    }
    const valueLen = readVarint(buf, q, recEnd)
    if (lastVarintEnd() < 0) return
    visit({offset: base + offDelta, key, tombstone: valueLen < 0, start, end: recEnd})
    p = recEnd
  }
}

/**
 * The batch at pos with only the records `keep` accepts: 'all' (keep the batch as is),
 * null (drop it), or a new batch Buffer (same header fields, new count/length/CRC).
 */
export function filterBatch(buf: Buffer, pos: number, keep: (r: RecordRef) => boolean): 'all' | null | Buffer {
  const kept: RecordRef[] = []
  let total = 0
  forEachRecord(buf, pos, r => {
    total++
    if (keep(r)) kept.push(r)
  })
  const declared = buf.readInt32BE(pos + RECORDS_COUNT_OFFSET)
  if (total !== declared) return 'all' // unreadable framing: never rewrite what we cannot parse
  if (kept.length === total) return 'all'
  if (kept.length === 0) return null
  let size = BATCH_HEADER_SIZE
  for (const r of kept) size += r.end - r.start
  const out = Buffer.allocUnsafe(size)
  buf.copy(out, 0, pos, pos + BATCH_HEADER_SIZE)
  let w = BATCH_HEADER_SIZE
  for (const r of kept) w += buf.copy(out, w, r.start, r.end)
  out.writeInt32BE(size - LOG_OVERHEAD, LENGTH_OFFSET)
  out.writeInt32BE(kept.length, RECORDS_COUNT_OFFSET)
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
