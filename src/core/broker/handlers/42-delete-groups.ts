// DeleteGroups (42): empty groups only (NON_EMPTY_GROUP otherwise).
import type {Handler} from '../handler.js'

export const deleteGroups: Handler = {
  apiKey: 42,
  minVersion: 0,
  maxVersion: 2,
  handle(ctx, req) {
    return {throttleTimeMs: 0, results: req.groupsNames.map((groupId: string) => ({groupId, errorCode: ctx.broker.groups.deleteGroup(groupId)}))}
  },
}
