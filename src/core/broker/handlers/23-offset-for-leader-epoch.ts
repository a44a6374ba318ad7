// OffsetForLeaderEpoch (23): the end offset of a leader epoch, from the log's leader-epoch
// cache (the current epoch ends at the log end).
import {ErrorCode} from '../../protocol/errors.js'
import {defineHandler} from '../handler.js'
import {Apis} from '../../protocol/messages.js'
import {checkLeaderEpoch} from '../replica-manager.js'

export const offsetForLeaderEpoch = defineHandler(Apis.OffsetForLeaderEpoch, {
  minVersion: 0,
  maxVersion: 4,
  handle(ctx, req, version) {
    const broker = ctx.broker
    return {
      throttleTimeMs: 0,
      topics: req.topics.map((t: any) => ({
        topic: t.topic,
        partitions: t.partitions.map((rp: any) => {
          const out = {errorCode: 0, partition: rp.partition, leaderEpoch: -1, endOffset: -1}
          const p = broker.replicas.partition(t.topic, rp.partition)
          if (!p) {
            out.errorCode = broker.cluster.topic(t.topic)?.partitions[rp.partition] ? ErrorCode.NOT_LEADER_OR_FOLLOWER : ErrorCode.UNKNOWN_TOPIC_OR_PARTITION
            return out
          }
          const epochError = version >= 2 ? checkLeaderEpoch(p, rp.currentLeaderEpoch) : 0
          if (epochError !== 0) {
            out.errorCode = epochError
            return out
          }
          if (!p.isLeader()) {
            out.errorCode = ErrorCode.NOT_LEADER_OR_FOLLOWER
            return out
          }
          if (rp.leaderEpoch > p.leaderEpoch) return out
          if (rp.leaderEpoch < p.leaderEpoch) {
            const e = p.log.endOffsetForEpoch(rp.leaderEpoch)
            if (e.epoch >= 0) {
              out.leaderEpoch = e.epoch
              out.endOffset = e.endOffset
              return out
            }
          }
          out.leaderEpoch = p.leaderEpoch
          out.endOffset = p.logEndOffset
          return out
        }),
      })),
    }
  },
})
