// OffsetFetch (9): committed offsets of one group (v0-7) or several (v8+); null topics = all.
import {ErrorCode} from '../../protocol/errors.js'
import {defineHandler} from '../handler.js'
import {Apis} from '../../protocol/messages.js'
import type {KafkaBroker} from '../broker.js'

function fetchGroup(broker: KafkaBroker, groupId: string, topics: {name: string; partitionIndexes: number[]}[] | null, requireStable = false) {
  const coord = broker.groups.checkCoordinator(groupId)
  if (coord !== 0) return {errorCode: coord, topics: []}
  const g = broker.groups.getGroup(groupId)
  const wanted = topics ?? (g ? [...g.offsets].map(([name, parts]) => ({name, partitionIndexes: [...parts.keys()].sort((a, b) => a - b)})).filter(t => t.partitionIndexes.length > 0) : [])
  return {
    errorCode: 0,
    topics: wanted.map(t => ({
      name: t.name,
      partitions: t.partitionIndexes.map(p => {
        const o = g?.offset(t.name, p)
        // requireStable (v7+, read_committed consumers): an offset an open transaction holds is not answered yet.
        const unstable = requireStable && g !== undefined && g.pendingTxnOffsets.size > 0 && g.hasPendingTxnOffset(t.name, p)
        return {partitionIndex: p, committedOffset: o && !unstable ? o.offset : -1, committedLeaderEpoch: o && !unstable ? o.leaderEpoch : -1, metadata: o && !unstable ? o.metadata : '', errorCode: unstable ? ErrorCode.UNSTABLE_OFFSET_COMMIT : 0}
      }),
    })),
  }
}

export const offsetFetch = defineHandler(Apis.OffsetFetch, {
  minVersion: 0,
  maxVersion: 9,
  handle(ctx, req, version) {
    const broker = ctx.broker
    if (version >= 8) {
      return {
        throttleTimeMs: 0,
        groups: req.groups.map((g: any) => {
          const r = fetchGroup(broker, g.groupId, g.topics, req.requireStable)
          return {groupId: g.groupId, topics: r.topics, errorCode: r.errorCode}
        }),
        topics: [],
        errorCode: 0,
      }
    }
    const r = fetchGroup(broker, req.groupId, version >= 2 ? req.topics : req.topics ?? [], version >= 7 && req.requireStable)
    if (r.errorCode !== 0 && version < 2) {
      // v0/v1 carry no top-level error: report it per partition.
      return {throttleTimeMs: 0, topics: (req.topics ?? []).map((t: any) => ({name: t.name, partitions: t.partitionIndexes.map((p: number) => ({partitionIndex: p, committedOffset: -1, committedLeaderEpoch: -1, metadata: '', errorCode: r.errorCode}))})), errorCode: 0, groups: []}
    }
    return {throttleTimeMs: 0, topics: r.topics, errorCode: r.errorCode === ErrorCode.NONE ? 0 : r.errorCode, groups: []}
  },
})
