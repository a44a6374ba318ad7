// DescribeTransactions (65): the coordinator's view of transactional ids it owns.
import type {Handler} from '../handler.js'

export const describeTransactions: Handler = {
  apiKey: 65,
  minVersion: 0,
  maxVersion: 0,
  handle(ctx, req) {
    return {throttleTimeMs: 0, transactionStates: req.transactionalIds.map((id: string) => ctx.broker.txns.describe(id))}
  },
}
