// LeaveGroup (13): one member (v0-2) or a batch of members (v3+).
import {defineHandler} from '../handler.js'
import {Apis} from '../../protocol/messages.js'

export const leaveGroup = defineHandler(Apis.LeaveGroup, {
  minVersion: 0,
  maxVersion: 5,
  handle(ctx, req, version) {
    const members = version >= 3 ? req.members.map((m: any) => ({memberId: m.memberId, groupInstanceId: m.groupInstanceId ?? null})) : [{memberId: req.memberId, groupInstanceId: null}]
    const r = ctx.broker.groups.leaveGroup(req.groupId, members)
    if (version < 3) return {throttleTimeMs: 0, errorCode: r.errorCode !== 0 ? r.errorCode : r.members[0]?.errorCode ?? 0}
    return {throttleTimeMs: 0, errorCode: r.errorCode, members: r.members}
  },
})
