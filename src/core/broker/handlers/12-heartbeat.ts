// Heartbeat (12).
import {defineHandler} from '../handler.js'
import {Apis} from '../../protocol/messages.js'

export const heartbeat = defineHandler(Apis.Heartbeat, {
  minVersion: 0,
  maxVersion: 4,
  handle(ctx, req, version) {
    return {throttleTimeMs: 0, errorCode: ctx.broker.groups.heartbeat(req.groupId, req.generationId, req.memberId, version >= 3 ? req.groupInstanceId : null)}
  },
})
