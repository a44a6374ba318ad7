// DeleteGroups (42): empty groups only (NON_EMPTY_GROUP otherwise).
import {defineHandler} from '../handler.js'
import {Apis} from '../../protocol/messages.js'

export const deleteGroups = defineHandler(Apis.DeleteGroups, {
  minVersion: 0,
  maxVersion: 2,
  handle(ctx, req) {
    return {throttleTimeMs: 0, results: req.groupsNames.map((groupId: string) => ({groupId, errorCode: ctx.broker.groups.deleteGroup(groupId)}))}
  },
})
