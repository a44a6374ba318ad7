// Producer state per partition replica, as Kafka keeps it (ProducerStateManager): for each
// producer id the current epoch, the last five batches' sequence ranges with the offsets they
// got, the coordinator epoch of its last transaction marker and the first offset of its
// ongoing transaction. A duplicate batch is answered with its original offsets and not written
// again; a gap in the sequence is OUT_OF_ORDER_SEQUENCE_NUMBER; an older epoch is
// INVALID_PRODUCER_EPOCH. Transactions give the partition its last stable offset: the first
// offset of the oldest transaction that is still open, or whose marker the high watermark has
// not passed yet. Leaders and followers apply the same batches (applyBatch), so a new leader
// has the state at once; a log's state is saved in Kafka's `.snapshot` files and loaded back.
import {ErrorCode} from '../protocol/errors.js'
import type {SnapshotEntry} from '../log/txn-index.js'

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
  /** Epoch of the coordinator that wrote this producer's last marker (-1: none). */
  coordinatorEpoch: number
  /** First offset of the producer's open transaction here, -1 when none. */
  currentTxnFirstOffset: number
  lastTimestamp: number
}

export interface CompletedTxn {
  producerId: number
  firstOffset: number
  /** Offset of the marker. */
  lastOffset: number
  aborted: boolean
}

/** What applyBatch needs from a batch header. */
export interface BatchInfo {
  producerId: number
  producerEpoch: number
  baseSequence: number
  baseOffset: number
  lastOffsetDelta: number
  maxTimestamp: number
  isTransactional: boolean
  isControl: boolean
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
  /** Open transactions: producer id -> first offset. */
  readonly ongoing = new Map<number, number>()
  /** Completed transactions whose markers are not below the high watermark yet, in marker order. */
  unreplicated: CompletedTxn[] = []
  /** Set once the table holds the state of the whole log (loaded at open). */
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

  /** Checks a transaction marker before it is appended (WriteTxnMarkers). */
  checkMarker(producerId: number, epoch: number, coordinatorEpoch: number): {code: number; message: string} | null {
    const entry = this.producers.get(producerId)
    if (entry === undefined) return null
    if (epoch < entry.epoch) return {code: ErrorCode.INVALID_PRODUCER_EPOCH, message: `Invalid producer epoch in transaction marker: ${epoch} (zombie): ${entry.epoch} (current)`}
    if (coordinatorEpoch < entry.coordinatorEpoch) return {code: ErrorCode.TRANSACTION_COORDINATOR_FENCED, message: `Invalid coordinator epoch for producer ${producerId}: ${coordinatorEpoch} (zombie), ${entry.coordinatorEpoch} (current)`}
    return null
  }

  private entry(producerId: number, epoch: number): ProducerEntry {
    let entry = this.producers.get(producerId)
    if (entry === undefined) {
      entry = {epoch, batches: [], coordinatorEpoch: -1, currentTxnFirstOffset: -1, lastTimestamp: -1}
      this.producers.set(producerId, entry)
    } else if (epoch !== entry.epoch) {
      entry.epoch = epoch
      entry.batches.length = 0
    }
    return entry
  }

  /** Records an appended idempotent batch. */
  record(producerId: number, epoch: number, firstSeq: number, lastSeq: number, firstOffset: number, lastOffset: number, timestamp: number): void {
    const entry = this.entry(producerId, epoch)
    entry.batches.push({firstSeq, lastSeq, firstOffset, lastOffset, timestamp})
    if (entry.batches.length > MAX_CACHED_BATCHES) entry.batches.shift()
    entry.lastTimestamp = timestamp
  }

  /**
   * Applies one appended batch (data or control). For a COMMIT/ABORT marker (`control` given)
   * returns the transaction it completes.
   */
  applyBatch(h: BatchInfo, control?: {type: number; coordinatorEpoch: number} | null): CompletedTxn | null {
    if (h.producerId < 0) return null
    const lastOffset = h.baseOffset + h.lastOffsetDelta
    if (h.isControl) {
      const entry = this.entry(h.producerId, h.producerEpoch)
      entry.lastTimestamp = h.maxTimestamp
      if (!control || (control.type !== 0 && control.type !== 1)) return null
      if (control.coordinatorEpoch > entry.coordinatorEpoch) entry.coordinatorEpoch = control.coordinatorEpoch
      const first = entry.currentTxnFirstOffset >= 0 ? entry.currentTxnFirstOffset : lastOffset
      entry.currentTxnFirstOffset = -1
      this.ongoing.delete(h.producerId)
      return {producerId: h.producerId, firstOffset: first, lastOffset, aborted: control.type === 0}
    }
    if (h.baseSequence >= 0) {
      const lastSeq = (h.baseSequence + h.lastOffsetDelta) % 0x80000000
      this.record(h.producerId, h.producerEpoch, h.baseSequence, lastSeq, h.baseOffset, lastOffset, h.maxTimestamp)
    }
    const entry = this.entry(h.producerId, h.producerEpoch)
    entry.lastTimestamp = h.maxTimestamp
    if (h.isTransactional && entry.currentTxnFirstOffset < 0) {
      entry.currentTxnFirstOffset = h.baseOffset
      this.ongoing.set(h.producerId, h.baseOffset)
    }
    return null
  }

  /** The first offset of an open or not yet replicated transaction, or Infinity. */
  firstUnstableOffset(): number {
    let first = Infinity
    for (const o of this.ongoing.values()) if (o < first) first = o
    for (const t of this.unreplicated) if (t.firstOffset < first) first = t.firstOffset
    return first
  }

  /** The last stable offset recorded with an aborted transaction when its marker is written. */
  lastStableOffsetAfter(t: CompletedTxn): number {
    let first = Infinity
    for (const [pid, o] of this.ongoing) if (pid !== t.producerId && o < first) first = o
    return first === Infinity ? t.lastOffset + 1 : first
  }

  /** The high watermark moved: transactions whose markers it passed are stable. */
  onHighWatermark(hw: number): void {
    if (this.unreplicated.length === 0) return
    let n = 0
    while (n < this.unreplicated.length && this.unreplicated[n].lastOffset < hw) n++
    if (n > 0) this.unreplicated = this.unreplicated.slice(n)
  }

  /** For the log cleaner: each producer's last data offset (-1 when it has none since its epoch began) and epoch. */
  lastRecords(): Map<number, {lastDataOffset: number; epoch: number}> {
    const out = new Map<number, {lastDataOffset: number; epoch: number}>()
    for (const [pid, e] of this.producers) out.set(pid, {lastDataOffset: e.batches.length > 0 ? e.batches[e.batches.length - 1].lastOffset : -1, epoch: e.epoch})
    return out
  }

  /** The state as Kafka's snapshot entries (the last batch of each producer). */
  snapshotEntries(): SnapshotEntry[] {
    const out: SnapshotEntry[] = []
    for (const [producerId, e] of this.producers) {
      const last = e.batches[e.batches.length - 1]
      out.push({
        producerId, epoch: e.epoch, lastSequence: last ? last.lastSeq : -1, lastOffset: last ? last.lastOffset : -1,
        offsetDelta: last ? last.lastSeq - last.firstSeq : 0, timestamp: e.lastTimestamp, coordinatorEpoch: e.coordinatorEpoch, currentTxnFirstOffset: e.currentTxnFirstOffset,
      })
    }
    return out
  }

  /** Replaces the state with a snapshot's. */
  loadSnapshot(entries: SnapshotEntry[]): void {
    this.clear()
    for (const s of entries) {
      const batches: CachedBatch[] = s.lastSequence >= 0 && s.lastOffset >= 0
        ? [{firstSeq: s.lastSequence - s.offsetDelta, lastSeq: s.lastSequence, firstOffset: s.lastOffset - s.offsetDelta, lastOffset: s.lastOffset, timestamp: s.timestamp}]
        : []
      this.producers.set(s.producerId, {epoch: s.epoch, batches, coordinatorEpoch: s.coordinatorEpoch, currentTxnFirstOffset: s.currentTxnFirstOffset, lastTimestamp: s.timestamp})
      if (s.currentTxnFirstOffset >= 0) this.ongoing.set(s.producerId, s.currentTxnFirstOffset)
    }
  }

  /**
   * producer.id.expiration.ms: forgets producers without an open transaction whose last write
   * is older than the limit (bounds the table). Returns how many went.
   */
  expire(now: number, expirationMs: number): number {
    let n = 0
    for (const [pid, e] of this.producers) {
      if (e.currentTxnFirstOffset < 0 && e.lastTimestamp >= 0 && now - e.lastTimestamp > expirationMs) {
        this.producers.delete(pid)
        n++
      }
    }
    return n
  }

  /** Drops every entry (DeleteRecords / truncation). */
  clear(): void {
    this.producers.clear()
    this.ongoing.clear()
    this.unreplicated = []
  }
}
