// InitProducerId (22): producer ids for idempotent producers, from blocks the cluster
// reserves in ZooKeeper (/latest_producer_id_block); with a transactional id, the transaction
// coordinator's id and epoch (fencing older incarnations, src/core/txn/coordinator.ts).
import {ErrorCode} from '../../protocol/errors.js'
import {defineHandler} from '../handler.js'
import {Apis} from '../../protocol/messages.js'

export const initProducerId = defineHandler(Apis.InitProducerId, {
  minVersion: 0,
  maxVersion: 5,
  async handle(ctx, req, version) {
    if (req.transactionalId !== null && req.transactionalId !== undefined) {
      const r = await ctx.broker.txns.initProducerId(req.transactionalId, req.transactionTimeoutMs, version >= 3 ? req.producerId : -1, version >= 3 ? req.producerEpoch : -1)
      return {throttleTimeMs: 0, ...r}
    }
    try {
      const producerId = await ctx.broker.nextProducerId()
      return {throttleTimeMs: 0, errorCode: 0, producerId, producerEpoch: 0}
    } catch (error) {
      ctx.broker.logger.warn(`Failed to allocate a producer id: ${(error as Error).message}`)
      return {throttleTimeMs: 0, errorCode: ErrorCode.COORDINATOR_NOT_AVAILABLE, producerId: -1, producerEpoch: -1}
    }
  },
})
