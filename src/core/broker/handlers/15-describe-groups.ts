// DescribeGroups (15): state, protocol and members (metadata/assignment only when Stable-ish).
import {AUTHORIZED_OPERATIONS_OMITTED, defineHandler} from '../handler.js'
import {Apis} from '../../protocol/messages.js'

const EMPTY = Buffer.alloc(0)
// READ, DESCRIBE, DELETE
const GROUP_OPERATIONS = (1 << 3) | (1 << 6) | (1 << 8)

export const describeGroups = defineHandler(Apis.DescribeGroups, {
  minVersion: 0,
  maxVersion: 5,
  handle(ctx, req, version) {
    const groups = ctx.broker.groups
    return {
      throttleTimeMs: 0,
      groups: req.groups.map((groupId: string) => {
        const ops = version >= 3 && req.includeAuthorizedOperations ? GROUP_OPERATIONS : AUTHORIZED_OPERATIONS_OMITTED
        const coord = groups.checkCoordinator(groupId)
        if (coord !== 0) return {errorCode: coord, groupId, groupState: '', protocolType: '', protocolData: '', members: [], authorizedOperations: ops}
        const g = groups.getGroup(groupId)
        if (!g) return {errorCode: 0, groupId, groupState: 'Dead', protocolType: '', protocolData: '', members: [], authorizedOperations: ops}
        const showMetadata = g.state === 'Stable' || g.state === 'CompletingRebalance'
        return {
          errorCode: 0,
          groupId,
          groupState: g.state,
          protocolType: g.protocolType ?? '',
          protocolData: showMetadata ? g.protocolName ?? '' : '',
          members: [...g.members.values()].map(m => ({
            memberId: m.memberId,
            groupInstanceId: m.groupInstanceId,
            clientId: m.clientId,
            clientHost: m.clientHost,
            memberMetadata: showMetadata ? m.protocols.find(p => p.name === g.protocolName)?.metadata ?? EMPTY : EMPTY,
            memberAssignment: g.state === 'Stable' ? m.assignment : EMPTY,
          })),
          authorizedOperations: ops,
        }
      }),
    }
  },
})
