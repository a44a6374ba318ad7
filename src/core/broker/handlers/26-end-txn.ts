// EndTxn (26): commit or abort the producer's transaction. Answered once the decision
// (PrepareCommit / PrepareAbort) is written; the markers follow from the coordinator.
import {ErrorCode} from '../../protocol/errors.js'
import {defineHandler} from '../handler.js'
import {Apis} from '../../protocol/messages.js'

export const endTxn = defineHandler(Apis.EndTxn, {
  minVersion: 0,
  maxVersion: 4,
  async handle(ctx, req, version) {
    let errorCode = await ctx.broker.txns.endTxn(req.transactionalId, req.producerId, req.producerEpoch, req.committed)
    if (errorCode === ErrorCode.PRODUCER_FENCED && version < 2) errorCode = ErrorCode.INVALID_PRODUCER_EPOCH
    return {throttleTimeMs: 0, errorCode}
  },
})
