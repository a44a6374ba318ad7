// Produce (0): validates and appends record batches as sent (no re-encoding), with
// idempotent-producer checks in the partition; answers once the log's queued write is done. acks=0 gets no response at all; acks=-1
// waits until the in-sync followers have the records (the high watermark passes them).
// A producer's first transactional batch on a partition is checked with the transaction
// coordinator first (KIP-890, transaction.partition.verification.enable); appends to that
// partition queue behind the check so they stay in arrival order.
import {ErrorCode} from '../../protocol/errors.js'
import {NO_RESPONSE, defineHandler} from '../handler.js'
import {Apis} from '../../protocol/messages.js'
import type {Partition} from '../partition.js'
import type {KafkaBroker} from '../broker.js'
import {ATTRIBUTES_OFFSET, PRODUCER_ID_OFFSET, PRODUCER_EPOCH_OFFSET, TRANSACTIONAL_MASK, readInt64} from '../../protocol/record-batch.js'

interface PartitionResult {
  index: number
  errorCode: number
  baseOffset: number
  logAppendTimeMs: number
  logStartOffset: number
  recordErrors: object[]
  errorMessage: string | null
  currentLeader: object | undefined
}

/** Appends and fills r; returns a promise when acks=-1 must wait for the followers. */
function append(broker: KafkaBroker, p: Partition, records: Buffer, acks: number, timeoutMs: number, r: PartitionResult, topic: string, version: number): Promise<void> | null {
  const o = p.appendAsLeader(records, acks, p.minInsyncReplicas, p.maxMessageBytes)
  r.errorCode = o.errorCode
  r.errorMessage = o.errorMessage
  if (o.recordErrors !== undefined) r.recordErrors = o.recordErrors
  r.baseOffset = o.baseOffset
  r.logAppendTimeMs = o.logAppendTime
  r.logStartOffset = o.logStartOffset
  if (o.errorCode === ErrorCode.NOT_LEADER_OR_FOLLOWER && version >= 10) r.currentLeader = {leaderId: p.leader, leaderEpoch: p.leaderEpoch}
  if (o.errorCode !== 0 && o.errorCode !== ErrorCode.NOT_LEADER_OR_FOLLOWER) {
    broker.logger.debug(`Error processing append operation on partition ${topic}-${r.index}: ${o.errorMessage ?? o.errorCode}`)
  }
  // The log queued the write: the answer (and acks=-1's wait) follows it, so an acknowledged
  // record is written as it was with synchronous writes.
  const written = o.written ?? null
  const wrote = written === null ? null : written.then(() => true, (error: Error) => {
    r.errorCode = ErrorCode.KAFKA_STORAGE_ERROR
    r.errorMessage = error.message
    return false
  })
  if (o.errorCode === 0 && acks === -1 && (p.highWatermark <= o.lastOffset || wrote !== null)) {
    const waitHw = (): Promise<void> => p.waitForHighWatermark(o.lastOffset, timeoutMs).then(ok => {
      if (!ok) r.errorCode = p.isLeader() ? ErrorCode.REQUEST_TIMED_OUT : ErrorCode.NOT_LEADER_OR_FOLLOWER
    })
    return wrote === null ? waitHw() : wrote.then(ok => (ok ? waitHw() : undefined))
  }
  return wrote === null ? null : wrote.then(() => undefined)
}

function hasTransactionalRecords(req: any): boolean {
  for (const t of req.topicData) {
    for (const pd of t.partitionData) {
      const r: Buffer | null = pd.records
      if (r !== null && r.length >= 61 && (r.readInt16BE(ATTRIBUTES_OFFSET) & TRANSACTIONAL_MASK) !== 0) return true
    }
  }
  return false
}

/** Appends that wait (verification in flight) per partition: later appends chain behind them. */
const queues = new WeakMap<Partition, Promise<void>>()

export const produce = defineHandler(Apis.Produce, {
  minVersion: 0,
  maxVersion: 11,
  handle(ctx, req, version) {
    const broker = ctx.broker
    const acks: number = req.acks
    const badAcks = acks !== 0 && acks !== 1 && acks !== -1
    const responses = new Array(req.topicData.length)
    const transactionalId: string | null = version >= 3 ? req.transactionalId : null
    const verify = transactionalId !== null && transactionalId !== '' && broker.config.transactionPartitionVerificationEnable
    if (transactionalId === null && hasTransactionalRecords(req)) {
      // Kafka refuses transactional records without a transactional id, for every partition.
      if (acks === 0) return NO_RESPONSE
      return {throttleTimeMs: 0, responses: req.topicData.map((t: any) => ({name: t.name, partitionResponses: t.partitionData.map((pd: any) => ({index: pd.index, errorCode: ErrorCode.TRANSACTIONAL_ID_AUTHORIZATION_FAILED, baseOffset: -1, logAppendTimeMs: -1, logStartOffset: -1, recordErrors: [], errorMessage: null}))}))}
    }
    // acks=-1 on a partition with followers, or a verification: the answer waits.
    let waits: Promise<void>[] | null = null
    for (let i = 0; i < req.topicData.length; i++) {
      const t = req.topicData[i]
      const parts = broker.replicas.partitionsOf(t.name)
      const meta = parts === undefined ? broker.cluster.topic(t.name) : undefined
      if (parts === undefined && meta === undefined && broker.settings.autoCreateTopics && !badAcks) broker.autoCreateTopic(t.name).catch(() => {})
      const out = new Array(t.partitionData.length)
      for (let j = 0; j < t.partitionData.length; j++) {
        const pd = t.partitionData[j]
        const r: PartitionResult = {index: pd.index, errorCode: 0, baseOffset: -1, logAppendTimeMs: -1, logStartOffset: -1, recordErrors: [], errorMessage: null, currentLeader: undefined}
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
        const records: Buffer | null = pd.records
        if (records === null || records.length === 0) {
          r.errorCode = ErrorCode.CORRUPT_MESSAGE
          continue
        }
        const pid = records.length >= 61 && (records.readInt16BE(ATTRIBUTES_OFFSET) & TRANSACTIONAL_MASK) !== 0 ? readInt64(records, PRODUCER_ID_OFFSET) : -1
        const needsCheck = verify && pid >= 0 && p.isLeader() && !p.producers.ongoing.has(pid)
        const queued = queues.get(p)
        if (!needsCheck && queued === undefined) {
          const w = append(broker, p, records, acks, req.timeoutMs, r, t.name, version)
          if (w) (waits ??= []).push(w)
          continue
        }
        // The queue holds the appends only; waiting for the followers happens beside it.
        let replicated: Promise<void> | null = null
        const task: Promise<void> = (queued ?? Promise.resolve()).then(async () => {
          if (needsCheck && !p.producers.ongoing.has(pid)) {
            const code = await broker.verifyTxnPartition(transactionalId!, pid, records.readInt16BE(PRODUCER_EPOCH_OFFSET), t.name, pd.index)
            if (code !== 0) {
              r.errorCode = code
              r.errorMessage = code === ErrorCode.INVALID_TXN_STATE ? `Partition ${t.name}-${pd.index} is not in the open transaction of producer ${pid} (transactional id ${transactionalId})` : null
              return
            }
          }
          replicated = append(broker, p, records, acks, req.timeoutMs, r, t.name, version)
        })
        const tail = task.catch(() => {})
        queues.set(p, tail)
        void tail.then(() => {
          if (queues.get(p) === tail) queues.delete(p)
        })
        ;(waits ??= []).push(task.then(() => replicated ?? undefined))
      }
      responses[i] = {name: t.name, partitionResponses: out}
    }
    if (acks === 0) {
      // No answer, but the request counts against the connection's budget until its writes are done.
      if (waits !== null) return Promise.all(waits).then(() => NO_RESPONSE, () => NO_RESPONSE)
      return NO_RESPONSE
    }
    if (waits !== null) return Promise.all(waits).then(() => ({responses, throttleTimeMs: 0}))
    return {responses, throttleTimeMs: 0}
  },
})
