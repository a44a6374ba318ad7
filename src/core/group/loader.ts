// Reading one __consumer_offsets partition back (when this broker becomes its leader): the
// committed offsets (last write wins, tombstones delete), the last group-metadata record of
// each group, and the offsets of transactions still open at the end of the log. Records of a
// transaction count only once its COMMIT marker is read; ABORT drops them. Compressed batches
// (offsets.topic.compression.codec) are read too.
import type {Logger} from '../util/log.js'
import {ControlType, readControlRecord} from '../log/txn-index.js'
import {scanBatches, batchRecords, type ReplicatedLog} from '../log/replicated-log.js'
import type {CommittedOffset} from './group.js'
import {decodeGroupValue, decodeKey, decodeOffsetValue, type GroupValue} from './records.js'

export interface PendingTxnOffset {
  group: string
  topic: string
  partition: number
  offset: CommittedOffset
}

export interface LoadedOffsetsPartition {
  /** group -> topic -> partition -> the committed offset. */
  offsets: Map<string, Map<string, Map<number, CommittedOffset>>>
  /** The last group-metadata record of each group; null where it was a tombstone. */
  groups: Map<string, GroupValue | null>
  /** producer id -> offsets of its transaction that has no marker yet. */
  pendingTxn: Map<number, PendingTxnOffset[]>
  offsetCount: number
}

type Entry = {key: Buffer; value: Buffer | null}

export async function loadOffsetsPartition(part: ReplicatedLog, end: number, logger: Logger, topicName: string): Promise<LoadedOffsetsPartition> {
  const out: LoadedOffsetsPartition = {offsets: new Map(), groups: new Map(), pendingTxn: new Map(), offsetCount: 0}
  const txnRecords = new Map<number, Entry[]>()
  const apply = (e: Entry) => {
    try {
      applyEntry(out, e)
    } catch (error) {
      logger.warn(`Skipping an unreadable record in ${topicName}-${part.index}: ${(error as Error).message}`)
    }
  }
  await scanBatches(part, end, (h, batch) => {
    if (h.isControl) {
      const c = readControlRecord(batch, 0, batch.length)
      const pending = txnRecords.get(h.producerId)
      txnRecords.delete(h.producerId)
      if (c && c.type === ControlType.COMMIT && pending) for (const e of pending) apply(e)
      return
    }
    const records = batchRecords(batch)
    if (records === null) {
      logger.warn(`Skipping a batch at offset ${h.baseOffset} of ${topicName}-${part.index} whose records cannot be decompressed`)
      return
    }
    for (const rec of records) {
      if (!rec.key) continue
      const e = {key: rec.key, value: rec.value ?? null}
      if (h.isTransactional) {
        let list = txnRecords.get(h.producerId)
        if (!list) txnRecords.set(h.producerId, list = [])
        list.push(e)
      } else {
        apply(e)
      }
    }
  })
  for (const [pid, entries] of txnRecords) {
    const list: PendingTxnOffset[] = []
    for (const e of entries) {
      try {
        const key = decodeKey(e.key)
        if (key === null || key.kind !== 'offset' || e.value === null) continue
        list.push({group: key.group, topic: key.topic, partition: key.partition, offset: decodeOffsetValue(e.value)})
      } catch (error) {
        logger.warn(`Skipping an unreadable record in ${topicName}-${part.index}: ${(error as Error).message}`)
      }
    }
    if (list.length > 0) out.pendingTxn.set(pid, list)
  }
  return out
}

function applyEntry(out: LoadedOffsetsPartition, e: Entry): void {
  const key = decodeKey(e.key)
  if (key === null) return
  if (key.kind === 'group') {
    out.groups.set(key.group, e.value === null ? null : decodeGroupValue(e.value))
    return
  }
  let topics = out.offsets.get(key.group)
  if (e.value === null) {
    topics?.get(key.topic)?.delete(key.partition)
    return
  }
  if (!topics) out.offsets.set(key.group, topics = new Map())
  let parts = topics.get(key.topic)
  if (!parts) topics.set(key.topic, parts = new Map())
  parts.set(key.partition, decodeOffsetValue(e.value))
  out.offsetCount++
}
