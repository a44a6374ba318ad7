// WriteTxnMarkers (27): inter-broker, from a transaction coordinator to the leaders of the
// transaction's partitions: one COMMIT/ABORT control batch per partition (src/core/txn).
import {defineHandler} from '../handler.js'
import {Apis} from '../../protocol/messages.js'
import {writeMarkers} from '../../txn/write-markers.js'

export const writeTxnMarkers = defineHandler(Apis.WriteTxnMarkers, {
  minVersion: 0,
  maxVersion: 1,
  async handle(ctx, req) {
    const broker = ctx.broker
    const markers = await Promise.all(req.markers.map(async (m: any) => {
      const targets = m.topics.flatMap((t: any) => t.partitionIndexes.map((partition: number) => ({topic: t.name, partition})))
      const codes = await writeMarkers(broker.markerPartitions(), {producerId: m.producerId, producerEpoch: m.producerEpoch, coordinatorEpoch: m.coordinatorEpoch, commit: m.transactionResult, partitions: new Map()}, targets, 30000)
      let i = 0
      return {
        producerId: m.producerId,
        topics: m.topics.map((t: any) => ({name: t.name, partitions: t.partitionIndexes.map((partitionIndex: number) => ({partitionIndex, errorCode: codes[i++]}))})),
      }
    }))
    return {markers}
  },
})
