// TxnOffsetCommit (28): offsets committed inside a transaction. The group coordinator writes
// them to __consumer_offsets as transactional records; they become visible when the
// transaction's COMMIT marker reaches that partition, and are dropped on ABORT.
import {ErrorCode} from '../../protocol/errors.js'
import {defineHandler} from '../handler.js'
import {Apis} from '../../protocol/messages.js'
import type {OffsetCommitPartition} from '../../group/coordinator.js'

export const txnOffsetCommit = defineHandler(Apis.TxnOffsetCommit, {
  minVersion: 0,
  maxVersion: 4,
  async handle(ctx, req, version) {
    const broker = ctx.broker
    const entries: OffsetCommitPartition[] = []
    const pre: number[] = []
    for (const t of req.topics) {
      const meta = broker.cluster.topic(t.name)
      for (const p of t.partitions) {
        pre.push(!meta || p.partitionIndex < 0 || p.partitionIndex >= meta.partitions.length ? ErrorCode.UNKNOWN_TOPIC_OR_PARTITION : 0)
        entries.push({topic: t.name, partition: p.partitionIndex, offset: p.committedOffset, leaderEpoch: version >= 2 ? p.committedLeaderEpoch : -1, metadata: p.committedMetadata})
      }
    }
    const ok = entries.filter((_, i) => pre[i] === 0)
    let codes = await broker.groups.txnCommitOffsets(req.groupId, req.producerId, req.producerEpoch, version >= 3 ? req.generationId : -1, version >= 3 ? req.memberId : '', version >= 3 ? req.groupInstanceId : null, ok)
    if (version < 2) codes = codes.map(c => (c === ErrorCode.PRODUCER_FENCED ? ErrorCode.INVALID_PRODUCER_EPOCH : c))
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
