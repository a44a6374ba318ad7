// ListOffsets (2): -1 latest (high watermark; the last stable offset for read_committed,
// isolation level 1), -2 earliest (log start), -3 the offset with the largest timestamp,
// -4 earliest local; otherwise the first offset at or after a time.
import {ErrorCode} from '../../protocol/errors.js'
import {defineHandler} from '../handler.js'
import {Apis} from '../../protocol/messages.js'
import {checkLeaderEpoch} from '../replica-manager.js'

export const listOffsets = defineHandler(Apis.ListOffsets, {
  minVersion: 0,
  maxVersion: 8,
  async handle(ctx, req, version) {
    const broker = ctx.broker
    const topics = await Promise.all(req.topics.map(async (t: any) => ({
      name: t.name,
      partitions: await Promise.all(t.partitions.map(async (rp: any) => {
        const r = {partitionIndex: rp.partitionIndex, errorCode: 0, oldStyleOffsets: [] as number[], timestamp: -1, offset: -1, leaderEpoch: -1}
        const p = broker.replicas.partition(t.name, rp.partitionIndex)
        if (p === undefined) {
          r.errorCode = broker.cluster.topic(t.name)?.partitions[rp.partitionIndex] ? ErrorCode.NOT_LEADER_OR_FOLLOWER : ErrorCode.UNKNOWN_TOPIC_OR_PARTITION
          return r
        }
        const epochError = version >= 4 ? checkLeaderEpoch(p, rp.currentLeaderEpoch) : 0
        if (epochError !== 0) {
          r.errorCode = epochError
          return r
        }
        if (!p.isLeader() && req.replicaId < 0) {
          r.errorCode = ErrorCode.NOT_LEADER_OR_FOLLOWER
          return r
        }
        const ts: number = rp.timestamp
        // What a consumer of this isolation level may see.
        const visibleEnd = version >= 2 && req.isolationLevel === 1 ? p.lastStableOffset : p.highWatermark
        try {
          if (ts === -1) {
            // A follower (replica id >= 0) asks for the log end; consumers get the high watermark.
            r.offset = req.replicaId >= 0 ? p.logEndOffset : visibleEnd
            r.leaderEpoch = p.leaderEpoch
          } else if (ts === -2 || ts === -4) {
            r.offset = p.logStartOffset
            r.leaderEpoch = p.leaderEpoch
          } else if (ts === -3) {
            let best = -1
            let bestOffset = -1
            for (const h of p.log.batchHeaders()) {
              if (h.baseOffset >= visibleEnd) break
              if (h.maxTimestamp > best) {
                best = h.maxTimestamp
                bestOffset = h.baseOffset + h.lastOffsetDelta
              }
            }
            r.timestamp = best
            r.offset = bestOffset
            r.leaderEpoch = p.leaderEpoch
          } else {
            const found = await p.log.offsetForTimestamp(ts)
            if (found && found.offset < visibleEnd) {
              r.offset = found.offset
              r.timestamp = found.timestamp
              r.leaderEpoch = p.leaderEpoch
            }
          }
        } catch (error) {
          r.errorCode = (error as {code?: number}).code ?? ErrorCode.UNKNOWN_SERVER_ERROR
        }
        if (version === 0) r.oldStyleOffsets = r.offset >= 0 ? [r.offset] : []
        return r
      })),
    })))
    return {throttleTimeMs: 0, topics}
  },
})
