// Admin.removeMembersFromConsumerGroup: LeaveGroup (v3+, member identities) sent to the
// group's coordinator on the members' behalf, as kafka-streams-application-reset --force does.
import {LeaveGroup} from '../../protocol/messages.js'
import {apiError} from '../kafka-errors.js'
import type {AdminClient} from '../admin-client.js'

export async function removeMembersFromGroup(admin: AdminClient, groupId: string, members: {memberId: string; groupInstanceId: string | null}[], timeoutMs?: number): Promise<void> {
  if (members.length === 0) return
  await admin.call('removeMembersFromConsumerGroup', {kind: 'coordinator', key: groupId}, LeaveGroup, {
    groupId, memberId: '',
    members: members.map(m => ({memberId: m.memberId, groupInstanceId: m.groupInstanceId, reason: 'member was removed by an admin'})),
  }, {
    minVersion: 3,
    timeoutMs,
    handle: res => {
      admin.check(res.errorCode, null)
      for (const m of res.members) if (m.errorCode !== 0) throw apiError(m.errorCode)
    },
  })
}
