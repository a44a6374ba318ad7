// AddOffsetsToTxn (25): adds the group's __consumer_offsets partition to the transaction, so
// the group coordinator's TxnOffsetCommit records get the transaction's marker.
import {ErrorCode} from '../../protocol/errors.js'
import {defineHandler} from '../handler.js'
import {Apis} from '../../protocol/messages.js'
import {OFFSETS_TOPIC} from '../../group/coordinator.js'

export const addOffsetsToTxn = defineHandler(Apis.AddOffsetsToTxn, {
  minVersion: 0,
  maxVersion: 4,
  async handle(ctx, req, version) {
    const broker = ctx.broker
    try {
      await broker.ensureOffsetsTopic()
    } catch {
      return {throttleTimeMs: 0, errorCode: ErrorCode.COORDINATOR_NOT_AVAILABLE}
    }
    let errorCode = await broker.txns.addPartitions(req.transactionalId, req.producerId, req.producerEpoch, [{topic: OFFSETS_TOPIC, partition: broker.groups.partitionFor(req.groupId)}])
    if (errorCode === ErrorCode.PRODUCER_FENCED && version < 2) errorCode = ErrorCode.INVALID_PRODUCER_EPOCH
    return {throttleTimeMs: 0, errorCode}
  },
})
