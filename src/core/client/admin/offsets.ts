// Offsets of partitions at their leaders: ListOffsets by spec (Java's OffsetSpec: earliest,
// latest, max-timestamp, earliest-local, latest-tiered or a timestamp), as Admin.listOffsets
// asks for them, and DeleteRecords (Admin.deleteRecords). Per-partition outcomes, in the order
// asked; the leader routing and retries are perLeader's.
import {AdminClient} from '../admin-client.js'
import {KafkaClientError, errorName, isRetriable} from '../kafka-errors.js'
import {ClientLogger} from '../log.js'
import {DeleteRecords, ListOffsets} from '../../protocol/messages.js'
import {perLeader, tpString, type PartitionAnswer, type PartitionOutcome, type TopicPartition} from './partitions.js'

/** ListOffsets' special timestamps (ListOffsetsRequest.*_TIMESTAMP). */
export const OffsetSpec = {latest: -1, earliest: -2, maxTimestamp: -3, earliestLocal: -4, latestTiered: -5} as const

/** The lowest ListOffsets version a spec needs (as Java's ListOffsetsRequest.Builder). */
function minVersionFor(timestamp: number): number {
  if (timestamp === OffsetSpec.latestTiered) return 9
  if (timestamp === OffsetSpec.earliestLocal) return 8
  if (timestamp === OffsetSpec.maxTimestamp) return 7
  return timestamp >= 0 ? 1 : 0
}

export interface ListedOffset {
  offset: number
  timestamp: number
  leaderEpoch: number
}

export async function listOffsets(admin: AdminClient, partitions: TopicPartition[], timestamp: number, isolationLevel = 0): Promise<PartitionOutcome<ListedOffset>[]> {
  const minVersion = minVersionFor(timestamp)
  const log = new ClientLogger(`[AdminClient clientId=${admin.clientId}]`)
  return perLeader<ListedOffset>(admin, 'listOffsets', partitions, async (leader, tps) => {
    const out = new Map<string, PartitionAnswer<ListedOffset>>()
    const topics = [...new Set(tps.map(tp => tp.topic))].map(name => ({
      name,
      partitions: tps.filter(tp => tp.topic === name).map(tp => ({partitionIndex: tp.partition, currentLeaderEpoch: -1, timestamp, maxNumOffsets: 1})),
    }))
    let res
    try {
      res = await admin.net.send(leader, ListOffsets, {replicaId: -1, isolationLevel, topics}, {minVersion})
    } catch (error) {
      if (error instanceof KafkaClientError && error.code === 35) {
        // Java logs this once per broker (its message says MAX_TIMESTAMP whatever the spec).
        log.warn('org.apache.kafka.clients.admin.internals.ListOffsetsHandler', `Broker ${leader} does not support MAX_TIMESTAMP offset specs`)
        const range = admin.net.brokerVersionRange(leader, ListOffsets.apiKey)
        const max = Math.max(minVersion, ListOffsets.maxStableVersion)
        throw new KafkaClientError('UnsupportedVersionException', `The node does not support LIST_OFFSETS with version in range [${minVersion},${max}]. The supported range is [${range ? range[0] : 0},${range ? range[1] : 0}].`, 35)
      }
      throw error
    }
    for (const t of res.topics) {
      for (const p of t.partitions) {
        const key = tpString({topic: t.name, partition: p.partitionIndex})
        if (p.errorCode !== 0) out.set(key, {code: p.errorCode})
        else out.set(key, {value: {offset: p.oldStyleOffsets.length ? p.oldStyleOffsets[0] : p.offset, timestamp: p.timestamp, leaderEpoch: p.leaderEpoch}})
      }
    }
    return out
  })
}

/** DeleteRecords: each partition's records before `offset` (-1: the high watermark) go; the answer is the new low watermark. */
export async function deleteRecords(admin: AdminClient, requests: {tp: TopicPartition; offset: number}[], timeoutMs = admin.defaultApiTimeoutMs): Promise<PartitionOutcome<number>[]> {
  const log = new ClientLogger(`[AdminClient clientId=${admin.clientId}]`)
  const offsets = new Map(requests.map(r => [tpString(r.tp), r.offset]))
  return perLeader<number>(admin, 'deleteRecords', requests.map(r => r.tp), async (leader, tps) => {
    const topics = [...new Set(tps.map(tp => tp.topic))].map(name => ({
      name,
      partitions: tps.filter(tp => tp.topic === name).map(tp => ({partitionIndex: tp.partition, offset: offsets.get(tpString(tp))!})),
    }))
    const res = await admin.net.send(leader, DeleteRecords, {topics, timeoutMs})
    const out = new Map<string, PartitionAnswer<number>>()
    for (const t of res.topics) {
      for (const p of t.partitions) {
        const tp = tpString({topic: t.name, partition: p.partitionIndex})
        if (p.errorCode !== 0 && !isRetriable(p.errorCode)) {
          // Java's DeleteRecordsHandler logs a failed partition (and reports the error's default message).
          log.error('org.apache.kafka.clients.admin.internals.DeleteRecordsHandler', `DeleteRecords request for topic partition ${tp} failed due to ${p.errorCode === 29 ? 'an error' : 'an unexpected error'} ${errorName(p.errorCode)}`)
        }
        out.set(tp, p.errorCode !== 0 ? {code: p.errorCode} : {value: p.lowWatermark})
      }
    }
    return out
  })
}
