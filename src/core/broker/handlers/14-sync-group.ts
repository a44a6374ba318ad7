// SyncGroup (14): the leader's assignment is handed to every member.
import {defineHandler} from '../handler.js'
import {Apis} from '../../protocol/messages.js'

export const syncGroup = defineHandler(Apis.SyncGroup, {
  minVersion: 0,
  maxVersion: 5,
  async handle(ctx, req, version) {
    const r = await ctx.broker.groups.syncGroup(req.groupId, req.generationId, req.memberId, version >= 5 ? req.protocolType : null, version >= 5 ? req.protocolName : null, req.assignments, version >= 3 ? req.groupInstanceId : null)
    return {throttleTimeMs: 0, ...r}
  },
})
