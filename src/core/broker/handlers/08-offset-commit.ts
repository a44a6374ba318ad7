// OffsetCommit (8): offsets kept in memory and appended to __consumer_offsets; the answer
// waits until the offsets partition's in-sync replicas have them.
import {ErrorCode} from '../../protocol/errors.js'
import {defineHandler} from '../handler.js'
import {Apis} from '../../protocol/messages.js'
import type {OffsetCommitPartition} from '../../group/coordinator.js'

export const offsetCommit = defineHandler(Apis.OffsetCommit, {
  minVersion: 0,
  maxVersion: 9,
  async handle(ctx, req, version) {
    const broker = ctx.broker
    const entries: OffsetCommitPartition[] = []
    const pre: number[] = []
    for (const t of req.topics) {
      const meta = broker.cluster.topic(t.name)
      for (const p of t.partitions) {
        pre.push(!meta || p.partitionIndex < 0 || p.partitionIndex >= meta.partitions.length ? ErrorCode.UNKNOWN_TOPIC_OR_PARTITION : 0)
        entries.push({topic: t.name, partition: p.partitionIndex, offset: p.committedOffset, leaderEpoch: version >= 6 ? p.committedLeaderEpoch : -1, metadata: p.committedMetadata})
      }
    }
    const ok = entries.filter((_, i) => pre[i] === 0)
    const codes = await broker.groups.commitOffsetsReplicated(req.groupId, version >= 1 ? req.generationIdOrMemberEpoch : -1, version >= 1 ? req.memberId : '', ok)
    let k = 0
    let i = 0
    return {
      throttleTimeMs: 0,
      topics: req.topics.map((t: any) => ({
        name: t.name,
        partitions: t.partitions.map((p: any) => {
          const code = pre[i] !== 0 ? pre[i] : codes[k++]
          i++
          return {partitionIndex: p.partitionIndex, errorCode: code}
        }),
      })),
    }
  },
})
