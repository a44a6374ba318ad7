// Produce (0): validates and appends record batches as sent (no re-encoding), with
// idempotent-producer checks in the partition. acks=0 gets no response at all.
import {ErrorCode} from '../../protocol/errors.js'
import {NO_RESPONSE, type Handler} from '../handler.js'

export const produce: Handler = {
  apiKey: 0,
  minVersion: 0,
  maxVersion: 11,
  handle(ctx, req, version) {
    const broker = ctx.broker
    const acks: number = req.acks
    const badAcks = acks !== 0 && acks !== 1 && acks !== -1
    const responses = new Array(req.topicData.length)
    for (let i = 0; i < req.topicData.length; i++) {
      const t = req.topicData[i]
      const parts = broker.replicas.partitionsOf(t.name)
      const meta = parts === undefined ? broker.cluster.topic(t.name) : undefined
      if (parts === undefined && meta === undefined && broker.settings.autoCreateTopics && !badAcks) broker.autoCreateTopic(t.name).catch(() => {})
      const out = new Array(t.partitionData.length)
      for (let j = 0; j < t.partitionData.length; j++) {
        const pd = t.partitionData[j]
        const r = {index: pd.index, errorCode: 0, baseOffset: -1, logAppendTimeMs: -1, logStartOffset: -1, recordErrors: [] as object[], errorMessage: null as string | null, currentLeader: undefined as object | undefined}
        out[j] = r
        if (badAcks) {
          r.errorCode = ErrorCode.INVALID_REQUIRED_ACKS
          continue
        }
        const p = parts?.[pd.index]
        if (p === undefined) {
          const m = meta ?? broker.cluster.topic(t.name)
          r.errorCode = m !== undefined && pd.index >= 0 && pd.index < m.partitions.length ? ErrorCode.NOT_LEADER_OR_FOLLOWER : ErrorCode.UNKNOWN_TOPIC_OR_PARTITION
          continue
        }
        if (pd.records === null || pd.records.length === 0) {
          r.errorCode = ErrorCode.CORRUPT_MESSAGE
          continue
        }
        const o = p.appendAsLeader(pd.records, acks, p.minInsyncReplicas, p.maxMessageBytes)
        r.errorCode = o.errorCode
        r.errorMessage = o.errorMessage
        r.baseOffset = o.baseOffset
        r.logAppendTimeMs = o.logAppendTime
        r.logStartOffset = o.logStartOffset
        if (o.errorCode === ErrorCode.NOT_LEADER_OR_FOLLOWER && version >= 10) r.currentLeader = {leaderId: p.leader, leaderEpoch: p.leaderEpoch}
        if (o.errorCode !== 0 && o.errorCode !== ErrorCode.NOT_LEADER_OR_FOLLOWER) {
          broker.logger.debug(`Error processing append operation on partition ${t.name}-${pd.index}: ${o.errorMessage ?? o.errorCode}`)
        }
      }
      responses[i] = {name: t.name, partitionResponses: out}
    }
    if (acks === 0) return NO_RESPONSE
    return {responses, throttleTimeMs: 0}
  },
}
