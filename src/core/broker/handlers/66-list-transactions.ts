// ListTransactions (66): the transactional ids this broker coordinates, filtered by state,
// producer id and (v1) how long they have been open.
import {defineHandler} from '../handler.js'
import {Apis} from '../../protocol/messages.js'

export const listTransactions = defineHandler(Apis.ListTransactions, {
  minVersion: 0,
  maxVersion: 1,
  handle(ctx, req, version) {
    return {throttleTimeMs: 0, ...ctx.broker.txns.list(req.stateFilters, req.producerIdFilters, version >= 1 ? req.durationFilter : -1)}
  },
})
