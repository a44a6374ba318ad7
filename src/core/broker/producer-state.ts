// Idempotent-producer state per partition, as Kafka keeps it: for each producer id the
// current epoch and the last five batches' sequence ranges with the offsets they got.
// A duplicate batch is answered with its original offsets and not written again; a gap in
// the sequence is OUT_OF_ORDER_SEQUENCE_NUMBER; an older epoch is INVALID_PRODUCER_EPOCH.
import {ErrorCode} from '../protocol/errors.js'

export const MAX_CACHED_BATCHES = 5

export interface CachedBatch {
  firstSeq: number
  lastSeq: number
  firstOffset: number
  lastOffset: number
  timestamp: number
}

export interface ProducerEntry {
  epoch: number
  batches: CachedBatch[]
}

export type SequenceCheck =
  | {kind: 'append'}
  | {kind: 'duplicate'; batch: CachedBatch}
  | {kind: 'error'; code: number; message: string}

function nextSeq(seq: number): number {
  return seq === 0x7fffffff ? 0 : seq + 1
}

export class ProducerStateTable {
  readonly producers = new Map<number, ProducerEntry>()
  /** Set once the table was rebuilt from the log's batch headers. */
  loaded = false

  /** Checks one batch of an idempotent producer before it is appended. */
  check(producerId: number, epoch: number, firstSeq: number, lastSeq: number): SequenceCheck {
    const entry = this.producers.get(producerId)
    if (entry === undefined) return {kind: 'append'}
    if (epoch < entry.epoch) {
      return {kind: 'error', code: ErrorCode.INVALID_PRODUCER_EPOCH, message: `Epoch of producer ${producerId} at offset is ${epoch}, which is smaller than the last seen epoch ${entry.epoch}`}
    }
    if (epoch === entry.epoch) {
      for (const b of entry.batches) {
        if (b.firstSeq === firstSeq && b.lastSeq === lastSeq) return {kind: 'duplicate', batch: b}
      }
      const last = entry.batches.length > 0 ? entry.batches[entry.batches.length - 1].lastSeq : -1
      if (entry.batches.length > 0 && firstSeq !== nextSeq(last)) {
        return {kind: 'error', code: ErrorCode.OUT_OF_ORDER_SEQUENCE_NUMBER, message: `Out of order sequence number for producer ${producerId}: ${firstSeq} (incoming seq. number), ${last} (current end sequence number)`}
      }
      return {kind: 'append'}
    }
    // A newer epoch starts again from sequence 0.
    if (firstSeq !== 0) {
      return {kind: 'error', code: ErrorCode.OUT_OF_ORDER_SEQUENCE_NUMBER, message: `Invalid sequence number for new epoch of producer ${producerId}: ${epoch} (request epoch), ${firstSeq} (seq. number), ${entry.epoch} (current producer epoch)`}
    }
    return {kind: 'append'}
  }

  /** Records an appended batch (also used when rebuilding from the log). */
  record(producerId: number, epoch: number, firstSeq: number, lastSeq: number, firstOffset: number, lastOffset: number, timestamp: number): void {
    let entry = this.producers.get(producerId)
    if (entry === undefined) {
      entry = {epoch, batches: []}
      this.producers.set(producerId, entry)
    } else if (epoch !== entry.epoch) {
      entry.epoch = epoch
      entry.batches.length = 0
    }
    entry.batches.push({firstSeq, lastSeq, firstOffset, lastOffset, timestamp})
    if (entry.batches.length > MAX_CACHED_BATCHES) entry.batches.shift()
  }

  /** Drops every entry (DeleteRecords / truncation). */
  clear(): void {
    this.producers.clear()
  }
}
