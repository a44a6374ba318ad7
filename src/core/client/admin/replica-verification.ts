// kafka-replica-verification's core: fetch the same partitions from every broker holding a
// replica (Fetch as Kafka's debugging consumer, replica id -2), then compare the replicas batch
// by batch up to each one's high watermark (last offset and CRC), as Apache Kafka 3.9's
// ReplicaVerificationTool does; report the largest lag between verified offset and high
// watermark. Round after round: all fetches, then one verification.
import {Fetch, ListOffsets, type MetadataResponse} from '../../protocol/messages.js'
import {AdminClient} from '../admin-client.js'
import {javaStringHashCode} from '../../group/records.js'
import {readInt64} from '../../protocol/record-batch.js'
import {timestamp as timestampNow} from '../../util/log.js'

export const DEBUGGING_CONSUMER_ID = -2

export interface TopicPartitionReplicas {
  topic: string
  partition: number
  replicas: number[]
}

/** TopicPartition.hashCode() of Java. */
function tpHash(topic: string, partition: number): number {
  return (Math.imul(31, 31 + partition) + javaStringHashCode(topic)) | 0
}

/** Keys in java.util.HashMap iteration order (bucket, then insertion), for tp keys. */
export function hashMapOrder<T extends {topic: string; partition: number}>(items: T[]): T[] {
  let cap = 16
  while (items.length > cap * 0.75) cap *= 2
  return items
    .map((t, i) => {
      const h = tpHash(t.topic, t.partition)
      return {t, i, b: (h ^ (h >>> 16)) & (cap - 1)}
    })
    .sort((a, b) => a.b - b.b || a.i - b.i)
    .map(x => x.t)
}

interface Batch {
  lastOffset: number
  crc: number
}

/** The complete batches of a records field: last offset and CRC of each. */
function batchesOf(records: Buffer | null): Batch[] {
  const out: Batch[] = []
  if (!records) return out
  let pos = 0
  while (pos + 12 <= records.length) {
    const size = records.readInt32BE(pos + 8)
    if (size < 14 || pos + 12 + size > records.length) break
    const magic = records.readInt8(pos + 16)
    if (magic >= 2) out.push({lastOffset: readInt64(records, pos) + records.readInt32BE(pos + 23), crc: records.readUInt32BE(pos + 17)})
    else out.push({lastOffset: readInt64(records, pos), crc: records.readUInt32BE(pos + 12)})
    pos += 12 + size
  }
  return out
}

export class ReplicaVerifier {
  private readonly offsets = new Map<string, number>()
  private readonly byBroker = new Map<number, TopicPartitionReplicas[]>()
  private readonly ordered: TopicPartitionReplicas[]
  private lastReport = Date.now()

  constructor(private readonly admin: AdminClient, readonly partitions: TopicPartitionReplicas[], private readonly opts: {fetchSize: number; maxWaitMs: number; reportIntervalMs: number}) {
    for (const p of partitions) for (const r of p.replicas) {
      const list = this.byBroker.get(r) ?? []
      list.push(p)
      this.byBroker.set(r, list)
    }
    this.ordered = hashMapOrder(partitions)
  }

  /** The partitions of the matching topics with their replicas, from Metadata. */
  static async partitionsOf(admin: AdminClient, allowed: (topic: string) => boolean): Promise<{partitions: TopicPartitionReplicas[]; md: MetadataResponse}> {
    const md = await admin.metadata(null, undefined, 'listTopics')
    const partitions: TopicPartitionReplicas[] = []
    for (const t of md.topics) {
      if (t.errorCode !== 0 || !t.name || !allowed(t.name)) continue
      for (const p of [...t.partitions].sort((a, b) => a.partitionIndex - b.partitionIndex)) partitions.push({topic: t.name, partition: p.partitionIndex, replicas: p.replicaNodes})
    }
    return {partitions, md}
  }

  /** Starting offsets: ListOffsets at each leader for time (-1 latest, -2 earliest, or a timestamp). */
  async initialOffsets(time: number): Promise<void> {
    for (const p of this.partitions) {
      const offset = await this.admin.call('listOffsets', {kind: 'leader', topic: p.topic, partition: p.partition}, ListOffsets, {
        replicaId: -1, isolationLevel: 0,
        topics: [{name: p.topic, partitions: [{partitionIndex: p.partition, timestamp: time, currentLeaderEpoch: -1, maxNumOffsets: 1}]}],
      }, {
        handle: r => {
          const x = r.topics[0]?.partitions[0]
          if (!x) return -1
          this.admin.check(x.errorCode)
          return x.offset
        },
      })
      this.offsets.set(`${p.topic}-${p.partition}`, offset)
    }
  }

  /** One round: every broker's fetch, then the verification; returns the report line when one is due. */
  async round(): Promise<string[]> {
    const fetched = new Map<string, Map<number, {hw: number; batches: Batch[]}>>()
    await Promise.all([...this.byBroker].map(async ([broker, parts]) => {
      let res
      try {
        res = await this.admin.call('fetch', {kind: 'node', id: broker}, Fetch, {
          replicaId: DEBUGGING_CONSUMER_ID, maxWaitMs: this.opts.maxWaitMs, minBytes: 1, maxBytes: 2147483647, isolationLevel: 0, sessionId: 0, sessionEpoch: -1,
          topics: groupByTopic(parts).map(([topic, ps]) => ({topic, partitions: ps.map(p => ({partition: p.partition, currentLeaderEpoch: -1, fetchOffset: this.offsets.get(`${p.topic}-${p.partition}`) ?? 0, lastFetchedEpoch: -1, logStartOffset: -1, partitionMaxBytes: this.opts.fetchSize}))})),
          forgottenTopicsData: [], rackId: '',
        }, {maxVersion: 12, timeoutMs: this.opts.maxWaitMs + 30000})
      } catch {
        res = undefined
      }
      for (const p of parts) {
        const key = `${p.topic}-${p.partition}`
        const r = res?.responses.find(t => t.topic === p.topic)?.partitions.find(x => x.partitionIndex === p.partition)
        const m = fetched.get(key) ?? new Map()
        m.set(broker, {hw: r && r.errorCode === 0 ? r.highWatermark : -1, batches: r && r.errorCode === 0 ? batchesOf(r.records) : []})
        fetched.set(key, m)
      }
    }))
    return this.verify(fetched)
  }

  private verify(fetched: Map<string, Map<number, {hw: number; batches: Batch[]}>>): string[] {
    const lines: string[] = []
    let maxLag = -1
    let offsetWithMaxLag = -1
    let maxLagPartition: string | null = null
    for (const p of this.ordered) {
      const key = `${p.topic}-${p.partition}`
      const replicas = fetched.get(key) ?? new Map()
      const order = [...replicas.keys()].sort((a, b) => a - b) // HashMap<Integer> order for small ids
      const cursors = new Map(order.map(id => [id, 0]))
      let maxHw = -1
      for (const r of replicas.values()) maxHw = Math.max(maxHw, r.hw)
      let inAll = true
      while (inAll) {
        let first: {replica: number; offset: number; next: number; crc: number} | undefined
        for (const id of order) {
          const r = replicas.get(id)!
          const i = cursors.get(id)!
          if (i >= r.batches.length) { inAll = false; continue }
          const b = r.batches[i]
          cursors.set(id, i + 1)
          if (b.lastOffset >= r.hw) { inAll = false; continue }
          if (!first) first = {replica: id, offset: b.lastOffset, next: b.lastOffset + 1, crc: b.crc}
          else {
            if (first.offset !== b.lastOffset) throw new OffsetMismatch(`${timestampNow()}: partition ${key}: replica ${first.replica}'s offset ${first.offset} doesn't match replica ${id}'s offset ${b.lastOffset}`)
            if (first.crc !== b.crc) lines.push(`${timestampNow()}: partition ${key} has unmatched checksum at offset ${b.lastOffset}; replica ${first.replica}'s checksum ${first.crc}; replica ${id}'s checksum ${b.crc}`)
          }
        }
        if (inAll) this.offsets.set(key, first ? first.next : -1)
      }
      const at = this.offsets.get(key) ?? 0
      if (maxHw - at > maxLag) {
        offsetWithMaxLag = at
        maxLag = maxHw - at
        maxLagPartition = key
      }
    }
    const now = Date.now()
    if (now - this.lastReport > this.opts.reportIntervalMs) {
      lines.push(`${timestampNow(new Date(now))}: max lag is ${maxLag} for partition ${maxLagPartition} at offset ${offsetWithMaxLag} among ${this.ordered.length} partitions`)
      this.lastReport = now
    }
    return lines
  }
}

/** Replicas disagree on a batch's offset: Kafka's tool prints the line and exits 1. */
export class OffsetMismatch extends Error {}

function groupByTopic(parts: TopicPartitionReplicas[]): [string, TopicPartitionReplicas[]][] {
  const m = new Map<string, TopicPartitionReplicas[]>()
  for (const p of parts) m.set(p.topic, [...(m.get(p.topic) ?? []), p])
  return [...m]
}
