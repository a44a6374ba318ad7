// The narrow view of one replicated partition that the coordinators need (the group
// coordinator on __consumer_offsets, the transaction coordinator on __transaction_state, the
// transaction-marker writer on any partition): leadership, the high watermark, appends as
// leader and a read of the log back from its start. The broker's Partition provides it; the
// coordinators depend on this interface, never on the broker layer above them.
import type {ReadResult} from './partition-log.js'
import {readBatchView, decodeRecords, type BatchHeader, type DecodedRecord} from '../protocol/record-batch.js'
import {uncompressedView} from './cleaner.js'

export interface AppendOutcome {
  errorCode: number
  errorMessage: string | null
  baseOffset: number
  lastOffset: number
  logAppendTime: number
  logStartOffset: number
  /** Per-record refusals (Produce's record_errors: the record's index in its batch and why). */
  recordErrors?: Array<{batchIndex: number; batchIndexErrorMessage: string | null}>
  /** The write of the appended batches when still under way (async log writes): answer after it. Rejects on a failed write. */
  written?: Promise<void> | null
}

export interface ReplicatedLog {
  readonly topic: string
  readonly index: number
  readonly leaderEpoch: number
  readonly logStartOffset: number
  readonly logEndOffset: number
  readonly highWatermark: number
  readonly minInsyncReplicas: number
  readonly log: {read(fetchOffset: number, maxBytes: number, maxOffset: number, minOneBatch: boolean): Promise<ReadResult>}
  isLeader(): boolean
  appendAsLeader(records: Buffer, acks: number, minInsyncReplicas: number, maxMessageBytes: number): AppendOutcome
  appendMarker(producerId: number, producerEpoch: number, coordinatorEpoch: number, commit: boolean): AppendOutcome
  /** Resolves true once the high watermark passes offset, false after timeoutMs or on losing leadership. */
  waitForHighWatermark(offset: number, timeoutMs: number): Promise<boolean>
}

const BATCH_HEADER_MIN = 61

/**
 * Reads a partition's log from its start up to `end`, one batch at a time, in 1 MiB reads:
 * how a coordinator loads its state on becoming leader. `visit` gets each batch's header and
 * bytes (compressed or not).
 */
export async function scanBatches(part: ReplicatedLog, end: number, visit: (h: BatchHeader, batch: Buffer) => void): Promise<void> {
  let pos = part.logStartOffset
  while (pos < end) {
    const res = await part.log.read(pos, 1 << 20, end, true)
    if (res.bytes === 0) return
    let next = pos
    for (const buf of res.records) {
      let at = 0
      while (at + BATCH_HEADER_MIN <= buf.length) {
        const h = readBatchView(buf, at)
        const size = h.size
        if (at + size > buf.length) break
        visit(h, buf.subarray(at, at + size))
        at += size
        next = h.baseOffset + h.lastOffsetDelta + 1
      }
    }
    if (next <= pos) return
    pos = next
  }
}

/**
 * The records of a data batch, decompressed when a codec is set (a coordinator's topic may
 * have been written compressed, as offsets.topic.compression.codec allows); null when the
 * batch's records cannot be decompressed.
 */
export function batchRecords(batch: Buffer): DecodedRecord[] | null {
  const view = uncompressedView(batch, 0)
  if (view === null) return null
  return decodeRecords(view.buf, view.at)
}
