// DescribeProducers (61): the active producers of partitions this broker leads (producer id,
// epoch, last sequence and timestamp, coordinator epoch, open transaction's first offset), for
// kafka-transactions describe-producers and find-hanging.
import {ErrorCode} from '../../protocol/errors.js'
import {defineHandler} from '../handler.js'
import {Apis} from '../../protocol/messages.js'

export const describeProducers = defineHandler(Apis.DescribeProducers, {
  minVersion: 0,
  maxVersion: 0,
  handle(ctx, req) {
    const broker = ctx.broker
    return {
      throttleTimeMs: 0,
      topics: req.topics.map((t: any) => ({
        name: t.name,
        partitions: t.partitionIndexes.map((partitionIndex: number) => {
          const out = {partitionIndex, errorCode: 0, errorMessage: null as string | null, activeProducers: [] as object[]}
          const p = broker.replicas.partition(t.name, partitionIndex)
          if (p === undefined) {
            out.errorCode = broker.cluster.topic(t.name)?.partitions[partitionIndex] ? ErrorCode.NOT_LEADER_OR_FOLLOWER : ErrorCode.UNKNOWN_TOPIC_OR_PARTITION
            return out
          }
          if (!p.isLeader()) {
            out.errorCode = ErrorCode.NOT_LEADER_OR_FOLLOWER
            return out
          }
          for (const [producerId, e] of p.producers.producers) {
            const last = e.batches[e.batches.length - 1]
            out.activeProducers.push({producerId, producerEpoch: e.epoch, lastSequence: last ? last.lastSeq : -1, lastTimestamp: e.lastTimestamp, coordinatorEpoch: e.coordinatorEpoch, currentTxnStartOffset: e.currentTxnFirstOffset})
          }
          return out
        }),
      })),
    }
  },
})
