// JoinGroup (11): classic group membership (MEMBER_ID_REQUIRED from v4).
import {defineHandler} from '../handler.js'
import {Apis} from '../../protocol/messages.js'

export const joinGroup = defineHandler(Apis.JoinGroup, {
  minVersion: 0,
  maxVersion: 9,
  async handle(ctx, req, version) {
    const r = await ctx.broker.groups.joinGroup({
      groupId: req.groupId,
      memberId: req.memberId,
      groupInstanceId: version >= 5 ? req.groupInstanceId : null,
      clientId: ctx.clientId,
      clientHost: '/' + ctx.conn.remoteHost,
      sessionTimeoutMs: req.sessionTimeoutMs,
      rebalanceTimeoutMs: version >= 1 ? req.rebalanceTimeoutMs : req.sessionTimeoutMs,
      protocolType: req.protocolType,
      protocols: req.protocols,
      requireKnownMemberId: version >= 4,
    })
    return {throttleTimeMs: 0, ...r, protocolName: r.protocolName ?? (version >= 7 ? null : '')}
  },
})
