// Heartbeat (12).
import type {Handler} from '../handler.js'

export const heartbeat: Handler = {
  apiKey: 12,
  minVersion: 0,
  maxVersion: 4,
  handle(ctx, req, version) {
    return {throttleTimeMs: 0, errorCode: ctx.broker.groups.heartbeat(req.groupId, req.generationId, req.memberId, version >= 3 ? req.groupInstanceId : null)}
  },
}
