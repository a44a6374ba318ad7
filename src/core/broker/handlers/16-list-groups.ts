// ListGroups (16): the groups this broker coordinates (states filter v4+, types filter v5+).
import {defineHandler} from '../handler.js'
import {Apis} from '../../protocol/messages.js'

export const listGroups = defineHandler(Apis.ListGroups, {
  minVersion: 0,
  maxVersion: 5,
  handle(ctx, req, version) {
    const states: string[] = version >= 4 ? req.statesFilter ?? [] : []
    const types: string[] = version >= 5 ? req.typesFilter ?? [] : []
    const wantStates = new Set(states.map(s => s.toLowerCase()))
    const wantTypes = new Set(types.map(s => s.toLowerCase()))
    const groups = [...ctx.broker.groups.groups.values()]
      .filter(g => g.state !== 'Dead' && ctx.broker.groups.checkCoordinator(g.groupId) === 0)
      .filter(g => wantStates.size === 0 || wantStates.has(g.state.toLowerCase()))
      .filter(g => wantTypes.size === 0 || wantTypes.has('classic'))
      .map(g => ({groupId: g.groupId, protocolType: g.protocolType ?? '', groupState: g.state, groupType: 'classic'}))
    return {throttleTimeMs: 0, errorCode: 0, groups}
  },
})
