// Record batches (magic 2) for the client core: a builder that appends records in place into
// one buffer per batch (the producer's hot path: no per-record objects), the producer fields
// (id, epoch, base sequence) written into a sealed batch without touching its records (a
// retried or re-sequenced batch is never re-encoded), and readers for fetched data: one that
// hands out records (console consumer) and one that only counts them (perf consumer). Both
// skip control batches and, under read_committed, the batches of aborted transactions.
import {crc32c} from '../util/crc32c.js'
import {compress, decompress} from './compression.js'
import {KafkaClientError} from './kafka-errors.js'
import {
  BATCH_HEADER_SIZE, LENGTH_OFFSET, PARTITION_LEADER_EPOCH_OFFSET, MAGIC_OFFSET, CRC_OFFSET, ATTRIBUTES_OFFSET, LAST_OFFSET_DELTA_OFFSET,
  BASE_TIMESTAMP_OFFSET, MAX_TIMESTAMP_OFFSET, PRODUCER_ID_OFFSET, PRODUCER_EPOCH_OFFSET, BASE_SEQUENCE_OFFSET, RECORDS_COUNT_OFFSET,
  TRANSACTIONAL_MASK, CONTROL_MASK, TIMESTAMP_TYPE_MASK, varintSize, writeVarint, readInt64, writeInt64, readVarlong as readVar, lastVarintEnd, type RecordHeader,
} from '../protocol/record-batch.js'

export {BATCH_HEADER_SIZE, varintSize}

export type {RecordHeader}


// ---- building ---------------------------------------------------------------------------

function headersSize(headers: readonly RecordHeader[] | null | undefined): number {
  if (!headers || headers.length === 0) return 1
  let n = varintSize(headers.length)
  for (const h of headers) {
    const k = Buffer.byteLength(h.key)
    n += varintSize(k) + k + (h.value === null ? 1 : varintSize(h.value.length) + h.value.length)
  }
  return n
}

/** Bytes of one record's body (without its length prefix). */
function recordBodySize(timestampDelta: number, offsetDelta: number, key: Buffer | null, value: Buffer | null, headers?: readonly RecordHeader[] | null): number {
  return 1 + varintSize(timestampDelta) + varintSize(offsetDelta)
    + (key === null ? 1 : varintSize(key.length) + key.length)
    + (value === null ? 1 : varintSize(value.length) + value.length)
    + headersSize(headers)
}

/** Bytes one record takes in a batch (length prefix included). */
export function recordSize(timestampDelta: number, offsetDelta: number, key: Buffer | null, value: Buffer | null, headers?: readonly RecordHeader[] | null): number {
  const body = recordBodySize(timestampDelta, offsetDelta, key, value, headers)
  return varintSize(body) + body
}

/** An open batch: records appended in place; sealed once into Kafka's batch format. */
export class BatchBuilder {
  buf: Buffer
  pos = BATCH_HEADER_SIZE
  count = 0
  baseTimestamp = 0
  maxTimestamp = -1

  /** `buf`: a buffer to build in (from the producer's pool), else one of capacity bytes is allocated. */
  constructor(capacity: number, buf?: Buffer) {
    this.buf = buf ?? Buffer.allocUnsafe(Math.max(capacity, BATCH_HEADER_SIZE + 16))
  }

  /** Bytes written so far (header included, uncompressed). */
  get size(): number {
    return this.pos
  }

  /**
   * Appends a record when it fits within limit bytes (an empty batch takes any record,
   * growing its buffer). Returns the bytes appended, or 0 when the batch is full.
   */
  tryAppend(timestamp: number, key: Buffer | null, value: Buffer | null, headers: readonly RecordHeader[] | null | undefined, limit: number): number {
    if (this.count === 0) this.baseTimestamp = timestamp
    const tsDelta = timestamp - this.baseTimestamp
    const body = recordBodySize(tsDelta, this.count, key, value, headers)
    const size = varintSize(body) + body
    if (this.count > 0 && this.pos + size > limit) return 0
    if (this.pos + size > this.buf.length) {
      const bigger = Buffer.allocUnsafe(Math.max(this.pos + size, this.buf.length * 2))
      this.buf.copy(bigger, 0, 0, this.pos)
      this.buf = bigger
    }
    const buf = this.buf
    let p = writeVarint(buf, this.pos, body)
    buf[p++] = 0
    p = writeVarint(buf, p, tsDelta)
    p = writeVarint(buf, p, this.count)
    if (key === null) buf[p++] = 1
    else { p = writeVarint(buf, p, key.length); p += key.copy(buf, p) }
    if (value === null) buf[p++] = 1
    else { p = writeVarint(buf, p, value.length); p += value.copy(buf, p) }
    if (!headers || headers.length === 0) buf[p++] = 0
    else {
      p = writeVarint(buf, p, headers.length)
      for (const h of headers) {
        const k = Buffer.byteLength(h.key)
        p = writeVarint(buf, p, k)
        p += buf.write(h.key, p, 'utf8')
        if (h.value === null) buf[p++] = 1
        else { p = writeVarint(buf, p, h.value.length); p += h.value.copy(buf, p) }
      }
    }
    this.pos = p
    this.count++
    if (timestamp > this.maxTimestamp) this.maxTimestamp = timestamp
    return size
  }

  /**
   * The finished batch (records compressed with codec), producer fields unset (-1), CRC not
   * yet computed: call setProducerFields() before sending.
   */
  seal(codec: number): Buffer {
    let out: Buffer
    if (codec !== 0) {
      const body = compress(codec, this.buf.subarray(BATCH_HEADER_SIZE, this.pos))
      out = Buffer.allocUnsafe(BATCH_HEADER_SIZE + body.length)
      body.copy(out, BATCH_HEADER_SIZE)
    } else {
      out = this.buf.subarray(0, this.pos)
    }
    writeInt64(out, 0, 0)
    out.writeInt32BE(out.length - 12, LENGTH_OFFSET)
    out.writeInt32BE(-1, PARTITION_LEADER_EPOCH_OFFSET)
    out[MAGIC_OFFSET] = 2
    out.writeInt16BE(codec & 7, ATTRIBUTES_OFFSET)
    out.writeInt32BE(this.count - 1, LAST_OFFSET_DELTA_OFFSET)
    writeInt64(out, BASE_TIMESTAMP_OFFSET, this.baseTimestamp)
    writeInt64(out, MAX_TIMESTAMP_OFFSET, this.maxTimestamp)
    writeInt64(out, PRODUCER_ID_OFFSET, -1)
    out.writeInt16BE(-1, PRODUCER_EPOCH_OFFSET)
    out.writeInt32BE(-1, BASE_SEQUENCE_OFFSET)
    out.writeInt32BE(this.count, RECORDS_COUNT_OFFSET)
    return out
  }
}

/** Writes producer id, epoch, base sequence and the transactional flag, then the CRC. */
export function setProducerFields(batch: Buffer, producerId: number, epoch: number, baseSequence: number, transactional = false): void {
  writeInt64(batch, PRODUCER_ID_OFFSET, producerId)
  batch.writeInt16BE(epoch, PRODUCER_EPOCH_OFFSET)
  batch.writeInt32BE(baseSequence, BASE_SEQUENCE_OFFSET)
  const attributes = batch.readInt16BE(ATTRIBUTES_OFFSET)
  batch.writeInt16BE(transactional ? attributes | TRANSACTIONAL_MASK : attributes & ~TRANSACTIONAL_MASK, ATTRIBUTES_OFFSET)
  batch.writeUInt32BE(crc32c(batch, ATTRIBUTES_OFFSET, batch.length), CRC_OFFSET)
}

// ---- reading ----------------------------------------------------------------------------

export interface AbortedTransaction {
  producerId: number
  firstOffset: number
}

/**
 * read_committed filtering (Java's Fetcher logic): the aborted transactions of a fetch
 * response, sorted by first offset; a transactional batch of a producer whose transaction
 * was aborted (and whose first offset is at or before the batch) is skipped until that
 * producer's abort marker.
 */
export class AbortFilter {
  private readonly pending: AbortedTransaction[]
  private readonly aborted = new Set<number>()

  constructor(aborted: readonly AbortedTransaction[]) {
    this.pending = [...aborted].sort((a, b) => a.firstOffset - b.firstOffset)
  }

  /** True when the (non-control) batch must be skipped. */
  skip(producerId: number, lastOffset: number, transactional: boolean): boolean {
    while (this.pending.length > 0 && this.pending[0].firstOffset <= lastOffset) this.aborted.add(this.pending.shift()!.producerId)
    return transactional && this.aborted.has(producerId)
  }

  /** A control batch: an abort marker ends that producer's aborted transaction. */
  control(producerId: number, lastOffset: number, isAbort: boolean): void {
    while (this.pending.length > 0 && this.pending[0].firstOffset <= lastOffset) this.aborted.add(this.pending.shift()!.producerId)
    if (isAbort) this.aborted.delete(producerId)
  }
}

export interface FetchedRecord {
  offset: number
  timestamp: number
  /** 0 CreateTime, 1 LogAppendTime. */
  timestampType: number
  key: Buffer | null
  value: Buffer | null
  headers: RecordHeader[]
  leaderEpoch: number
}

export interface ReadResult {
  /** The fetch position after what was read. */
  next: number
  /** Records read (handed out or counted). */
  count: number
  /** Key + value bytes of those records (counting reader). */
  bytes: number
}

function corrupt(where: string, why: string): KafkaClientError {
  return new KafkaClientError('CorruptRecordException', `Record batch for partition ${where} is invalid, cause: ${why}`, 2)
}

/**
 * Walks the batches of a fetched record set from position `from`, calling onRecord for each
 * record at or after it (at most limit records); countOnly skips building record objects and
 * sums key and value sizes instead. A batch cut off at the end of buf is left for the next
 * fetch. Returns the next fetch position.
 */
export function readRecords(buf: Buffer, from: number, limit: number, filter: AbortFilter | undefined, where: string, checkCrcs: boolean, onRecord: ((r: FetchedRecord) => void) | undefined): ReadResult {
  let pos = 0
  let next = from
  let count = 0
  let bytes = 0
  while (pos + BATCH_HEADER_SIZE <= buf.length && count < limit) {
    const baseOffset = readInt64(buf, pos)
    const batchLength = buf.readInt32BE(pos + LENGTH_OFFSET)
    const end = pos + 12 + batchLength
    if (end > buf.length) break
    const magic = buf[pos + MAGIC_OFFSET]
    if (magic !== 2) throw corrupt(where, `kafkit's client reads record batches of magic 2 only (found magic ${magic} at offset ${baseOffset})`)
    if (batchLength < BATCH_HEADER_SIZE - 12) throw corrupt(where, `Record batch size ${batchLength + 12} is smaller than the minimum batch header size`)
    const lastOffset = baseOffset + buf.readInt32BE(pos + LAST_OFFSET_DELTA_OFFSET)
    if (lastOffset < from) { pos = end; continue }
    if (checkCrcs) {
      const stored = buf.readUInt32BE(pos + CRC_OFFSET)
      const computed = crc32c(buf, pos + ATTRIBUTES_OFFSET, end)
      if (stored !== computed) throw corrupt(where, `Record is corrupt (stored crc = ${stored}, computed crc = ${computed})`)
    }
    const attributes = buf.readInt16BE(pos + ATTRIBUTES_OFFSET)
    const producerId = readInt64(buf, pos + PRODUCER_ID_OFFSET)
    const n = buf.readInt32BE(pos + RECORDS_COUNT_OFFSET)
    if ((attributes & CONTROL_MASK) !== 0) {
      if (filter) {
        // The control record's key: version int16, type int16 (0 abort, 1 commit).
        let isAbort = false
        try {
          const data = (attributes & 7) === 0 ? buf.subarray(pos + BATCH_HEADER_SIZE, end) : decompress(attributes & 7, buf.subarray(pos + BATCH_HEADER_SIZE, end))
          let p = 0
          readVar(data, p, data.length); p = lastVarintEnd()
          p += 1
          readVar(data, p, data.length); p = lastVarintEnd()
          readVar(data, p, data.length); p = lastVarintEnd()
          const keyLen = readVar(data, p, data.length); p = lastVarintEnd()
          if (keyLen >= 4 && p >= 0) isAbort = data.readInt16BE(p + 2) === 0
        } catch {
          // an unreadable marker: treat it as a commit
        }
        filter.control(producerId, lastOffset, isAbort)
      }
      next = lastOffset + 1
      pos = end
      continue
    }
    if (filter && filter.skip(producerId, lastOffset, (attributes & TRANSACTIONAL_MASK) !== 0)) {
      next = lastOffset + 1
      pos = end
      continue
    }
    const codec = attributes & 7
    const logAppend = (attributes & TIMESTAMP_TYPE_MASK) !== 0
    const baseTimestamp = readInt64(buf, pos + BASE_TIMESTAMP_OFFSET)
    const maxTimestamp = readInt64(buf, pos + MAX_TIMESTAMP_OFFSET)
    const leaderEpoch = buf.readInt32BE(pos + PARTITION_LEADER_EPOCH_OFFSET)
    let data = buf
    let p = pos + BATCH_HEADER_SIZE
    let dataEnd = end
    if (codec !== 0) {
      try {
        data = decompress(codec, buf.subarray(p, end))
      } catch (error) {
        throw corrupt(where, `cannot decompress the batch at offset ${baseOffset}: ${(error as Error).message}`)
      }
      p = 0
      dataEnd = data.length
    }
    let stopped = false
    for (let i = 0; i < n; i++) {
      const len = readVar(data, p, dataEnd)
      if (lastVarintEnd() < 0 || len <= 0 || lastVarintEnd() + len > dataEnd) throw corrupt(where, `malformed record in the batch at offset ${baseOffset}`)
      p = lastVarintEnd()
      const recEnd = p + len
      p++ // attributes
      const tsDelta = readVar(data, p, recEnd); p = lastVarintEnd()
      const offsetDelta = readVar(data, p, recEnd); p = lastVarintEnd()
      const keyLen = readVar(data, p, recEnd); p = lastVarintEnd()
      if (p < 0) throw corrupt(where, `malformed record in the batch at offset ${baseOffset}`)
      const offset = baseOffset + offsetDelta
      if (offset < from) { p = recEnd; continue }
      if (onRecord === undefined) {
        if (keyLen > 0) p += keyLen
        const valueLen = readVar(data, p, recEnd)
        if (lastVarintEnd() < 0) throw corrupt(where, `malformed record in the batch at offset ${baseOffset}`)
        bytes += (keyLen > 0 ? keyLen : 0) + (valueLen > 0 ? valueLen : 0)
      } else {
        const key = keyLen < 0 ? null : data.subarray(p, p + keyLen)
        if (keyLen > 0) p += keyLen
        const valueLen = readVar(data, p, recEnd); p = lastVarintEnd()
        if (p < 0) throw corrupt(where, `malformed record in the batch at offset ${baseOffset}`)
        const value = valueLen < 0 ? null : data.subarray(p, p + valueLen)
        if (valueLen > 0) p += valueLen
        const nh = readVar(data, p, recEnd); p = lastVarintEnd()
        const headers: RecordHeader[] = []
        for (let h = 0; h < nh && p >= 0; h++) {
          const kl = readVar(data, p, recEnd); p = lastVarintEnd()
          const hk = data.toString('utf8', p, p + kl); p += kl
          const vl = readVar(data, p, recEnd); p = lastVarintEnd()
          const hv = vl < 0 ? null : data.subarray(p, p + vl)
          if (vl > 0) p += vl
          headers.push({key: hk, value: hv})
        }
        if (p < 0 || p > recEnd) throw corrupt(where, `malformed record in the batch at offset ${baseOffset}`)
        onRecord({offset, timestamp: logAppend ? maxTimestamp : baseTimestamp + tsDelta, timestampType: logAppend ? 1 : 0, key, value, headers, leaderEpoch})
      }
      p = recEnd
      count++
      next = offset + 1
      if (count >= limit) { stopped = i < n - 1; break }
    }
    if (!stopped && lastOffset + 1 > next) next = lastOffset + 1
    pos = end
  }
  return {next, count, bytes}
}
