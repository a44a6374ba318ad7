// Kafka's __transaction_state record format, so Apache Kafka's tools (kafka-dump-log
// --transaction-log-decoder, kafka-console-consumer with TransactionLogMessageFormatter) read
// what kafkit writes: key = version int16 (0) + TransactionLogKey v0 (transactional id);
// value = version int16 + TransactionLogValue (v0 plain, v1 flexible; kafkit writes v1 as
// Kafka 3.9 does); a null value (tombstone) removes an expired transactional id. Pure codecs.
import {Reader, Writer} from '../protocol/io.js'

/** TransactionState ids as Kafka stores them. */
export const TxnState = {
  Empty: 0,
  Ongoing: 1,
  PrepareCommit: 2,
  PrepareAbort: 3,
  CompleteCommit: 4,
  CompleteAbort: 5,
  Dead: 6,
  PrepareEpochFence: 7,
} as const
export type TxnStateId = (typeof TxnState)[keyof typeof TxnState]

/** The names DescribeTransactions / ListTransactions use. */
export const TXN_STATE_NAMES: Record<number, string> = {
  0: 'Empty', 1: 'Ongoing', 2: 'PrepareCommit', 3: 'PrepareAbort', 4: 'CompleteCommit', 5: 'CompleteAbort', 6: 'Dead', 7: 'PrepareEpochFence',
}

export interface TxnLogValue {
  producerId: number
  /** The id before an epoch overflow made a new one (v1 tag 0), -1 when none. */
  previousProducerId?: number
  producerEpoch: number
  transactionTimeoutMs: number
  state: TxnStateId
  /** topic -> partitions; empty in Empty state (written as null). */
  partitions: Map<string, Set<number>>
  lastUpdateTimestampMs: number
  startTimestampMs: number
}

export function encodeTxnKey(transactionalId: string): Buffer {
  return new Writer(32).int16(0).string(transactionalId).toBuffer()
}

/** The transactional id of a key, or null for a key of another version. */
export function decodeTxnKey(buf: Buffer): string | null {
  const r = new Reader(buf)
  if (r.int16() !== 0) return null
  return r.string()
}

export function encodeTxnValue(v: TxnLogValue): Buffer {
  const w = new Writer(128)
  w.int16(1).int64(v.producerId).int16(v.producerEpoch).int32(v.transactionTimeoutMs).int8(v.state)
  if (v.state === TxnState.Empty) {
    w.compactArrayLength(-1)
  } else {
    const topics = [...v.partitions].filter(([, ps]) => ps.size > 0)
    w.compactArrayLength(topics.length)
    for (const [topic, ps] of topics) {
      w.compactString(topic)
      w.compactArrayLength(ps.size)
      for (const p of ps) w.int32(p)
      w.unsignedVarint(0)
    }
  }
  w.int64(v.lastUpdateTimestampMs).int64(v.startTimestampMs)
  const prev = v.previousProducerId ?? -1
  if (prev >= 0) {
    // tagged field 0: PreviousProducerId
    w.unsignedVarint(1).unsignedVarint(0).unsignedVarint(8).int64(prev)
  } else {
    w.unsignedVarint(0)
  }
  return w.toBuffer()
}

export function decodeTxnValue(buf: Buffer): TxnLogValue {
  const r = new Reader(buf)
  const version = r.int16()
  if (version < 0 || version > 1) throw new Error(`unknown TransactionLogValue version ${version}`)
  const flexible = version >= 1
  const producerId = r.int64()
  const producerEpoch = r.int16()
  const transactionTimeoutMs = r.int32()
  const state = r.int8() as TxnStateId
  const partitions = new Map<string, Set<number>>()
  const n = flexible ? r.compactArrayLength(true) : r.arrayLength(true)
  for (let i = 0; i < n; i++) {
    const topic = flexible ? r.compactString() : r.string()
    const m = flexible ? r.compactArrayLength() : r.arrayLength()
    const ps = new Set<number>()
    for (let j = 0; j < m; j++) ps.add(r.int32())
    if (flexible) r.skipTaggedFields()
    partitions.set(topic, ps)
  }
  const lastUpdateTimestampMs = r.int64()
  const startTimestampMs = r.int64()
  let previousProducerId = -1
  if (flexible) {
    let tags = r.unsignedVarint()
    while (tags-- > 0) {
      const tag = r.unsignedVarint()
      const size = r.unsignedVarint()
      if (tag === 0 && size === 8) previousProducerId = r.int64()
      else r.skip(size)
    }
  }
  return {producerId, previousProducerId, producerEpoch, transactionTimeoutMs, state, partitions, lastUpdateTimestampMs, startTimestampMs}
}

/** Java's String.hashCode, then Kafka's Utils.abs(h) % partitions: the __transaction_state partition of an id. */
export function txnPartitionFor(transactionalId: string, numPartitions: number): number {
  let h = 0
  for (let i = 0; i < transactionalId.length; i++) h = (Math.imul(h, 31) + transactionalId.charCodeAt(i)) | 0
  const abs = h === -2147483648 ? 0 : Math.abs(h)
  return abs % numPartitions
}
