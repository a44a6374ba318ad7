// Produce (0): validates and appends record batches as sent (no re-encoding), with
// idempotent-producer checks in the partition. acks=0 gets no response at all; acks=-1
// waits until the in-sync followers have the records (the high watermark passes them).
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
    // acks=-1 on a partition with followers: the answer waits for the high watermark.
    let waits: Promise<void>[] | null = null
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
        if (o.errorCode === 0 && acks === -1 && p.highWatermark <= o.lastOffset) {
          (waits ??= []).push(p.waitForHighWatermark(o.lastOffset, req.timeoutMs).then(ok => {
            if (!ok) r.errorCode = p.isLeader() ? ErrorCode.REQUEST_TIMED_OUT : ErrorCode.NOT_LEADER_OR_FOLLOWER
          }))
        }
        if (o.errorCode === ErrorCode.NOT_LEADER_OR_FOLLOWER && version >= 10) r.currentLeader = {leaderId: p.leader, leaderEpoch: p.leaderEpoch}
        if (o.errorCode !== 0 && o.errorCode !== ErrorCode.NOT_LEADER_OR_FOLLOWER) {
          broker.logger.debug(`Error processing append operation on partition ${t.name}-${pd.index}: ${o.errorMessage ?? o.errorCode}`)
        }
      }
      responses[i] = {name: t.name, partitionResponses: out}
    }
    if (acks === 0) return NO_RESPONSE
    if (waits !== null) return Promise.all(waits).then(() => ({responses, throttleTimeMs: 0}))
    return {responses, throttleTimeMs: 0}
  },
}
