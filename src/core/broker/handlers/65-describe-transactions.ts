// DescribeTransactions (65): the coordinator's view of transactional ids it owns.
import {defineHandler} from '../handler.js'
import {Apis} from '../../protocol/messages.js'

export const describeTransactions = defineHandler(Apis.DescribeTransactions, {
  minVersion: 0,
  maxVersion: 0,
  handle(ctx, req) {
    return {throttleTimeMs: 0, transactionStates: req.transactionalIds.map((id: string) => ctx.broker.txns.describe(id))}
  },
})
