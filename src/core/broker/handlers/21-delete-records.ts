// DeleteRecords (21): raises log start offsets (offset -1 = up to the high watermark).
import {ErrorCode} from '../../protocol/errors.js'
import {defineHandler} from '../handler.js'
import {Apis} from '../../protocol/messages.js'

export const deleteRecords = defineHandler(Apis.DeleteRecords, {
  minVersion: 0,
  maxVersion: 2,
  handle(ctx, req) {
    const broker = ctx.broker
    return {
      throttleTimeMs: 0,
      topics: req.topics.map((t: any) => ({
        name: t.name,
        partitions: t.partitions.map((rp: any) => {
          const p = broker.replicas.partition(t.name, rp.partitionIndex)
          if (!p) return {partitionIndex: rp.partitionIndex, lowWatermark: -1, errorCode: broker.cluster.topic(t.name)?.partitions[rp.partitionIndex] ? ErrorCode.NOT_LEADER_OR_FOLLOWER : ErrorCode.UNKNOWN_TOPIC_OR_PARTITION}
          if (!p.isLeader()) return {partitionIndex: rp.partitionIndex, lowWatermark: -1, errorCode: ErrorCode.NOT_LEADER_OR_FOLLOWER}
          try {
            return {partitionIndex: rp.partitionIndex, lowWatermark: p.deleteRecordsBefore(rp.offset), errorCode: 0}
          } catch (error) {
            return {partitionIndex: rp.partitionIndex, lowWatermark: -1, errorCode: (error as {code?: number}).code ?? ErrorCode.UNKNOWN_SERVER_ERROR}
          }
        }),
      })),
    }
  },
})
