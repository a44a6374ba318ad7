// One partition replica on this broker: its log, leadership, the high watermark (an
// explicit field moved only by advanceHighWatermark), idempotent-producer state and the
// fetches waiting for new data. Produce appends are synchronous up to the log write, so
// requests on a connection append in the order they arrived.
import {ErrorCode, KafkaError} from '../protocol/errors.js'
import type {PartitionLog} from '../log/partition-log.js'
import {readBatchHeader, validateBatches} from '../log/batch.js'
import {ProducerStateTable} from './producer-state.js'
import type {PartitionState} from '../cluster/cluster.js'

export interface PartitionWaiter {
  onData(partition: Partition, bytes: number): void
}

export interface AppendOutcome {
  errorCode: number
  errorMessage: string | null
  baseOffset: number
  lastOffset: number
  logAppendTime: number
  logStartOffset: number
}

const BATCH_OVERHEAD = 12 // baseOffset int64 + batchLength int32 before the counted bytes

export class Partition {
  leader = -1
  leaderEpoch = 0
  isr: number[] = []
  replicas: number[] = []
  highWatermark = 0
  /** min.insync.replicas and max.message.bytes of the topic (set by the replica manager). */
  minInsyncReplicas = 1
  maxMessageBytes = 1048588
  readonly producers = new ProducerStateTable()
  readonly waiters = new Set<PartitionWaiter>()
  /** Log end offsets of followers, from their fetch offsets (leader only). */
  readonly followerEnds = new Map<number, number>()
  /** When each follower last fetched from at least the log end (leader only; ISR shrink). */
  readonly followerCaughtUp = new Map<number, number>()
  /** The cluster's state object of this partition (zkVersion for ISR updates). */
  state: PartitionState | null = null
  /** An ISR change written to ZooKeeper and not yet seen back. */
  isrUpdatePending = false

  constructor(readonly topic: string, readonly index: number, public topicId: string, readonly log: PartitionLog, readonly brokerId: number, checkpointedHighWatermark?: number) {
    this.highWatermark = Math.max(log.logStartOffset, Math.min(checkpointedHighWatermark ?? log.logEndOffset, log.logEndOffset))
  }

  isLeader(): boolean {
    return this.leader === this.brokerId
  }

  get logStartOffset(): number {
    return this.log.logStartOffset
  }

  get logEndOffset(): number {
    return this.log.logEndOffset
  }

  /**
   * Leader: moves the high watermark forward to the smallest log end offset among the
   * in-sync replicas (a follower whose position is not known yet holds it where it is).
   * Wakes waiting fetches and produces when it moves.
   */
  advanceHighWatermark(): void {
    if (!this.isLeader()) return
    let hw = this.log.logEndOffset
    for (const id of this.isr) {
      if (id === this.brokerId) continue
      const end = this.followerEnds.get(id)
      if (end === undefined) hw = Math.min(hw, this.highWatermark)
      else if (end < hw) hw = end
    }
    if (hw <= this.highWatermark) return
    this.highWatermark = hw
    this.wake(1)
  }

  /** Follower: the leader's high watermark, bounded by what this replica has. */
  setFollowerHighWatermark(leaderHw: number): void {
    const hw = Math.min(leaderHw, this.log.logEndOffset)
    if (hw !== this.highWatermark) {
      this.highWatermark = hw
      this.wake(1)
    }
  }

  wake(bytes: number): void {
    if (this.waiters.size === 0) return
    for (const w of [...this.waiters]) w.onData(this, bytes)
  }

  /** Leader: a follower fetched from `offset` (its log end); returns whether it has caught up. */
  recordFollowerFetch(replicaId: number, offset: number, now: number): boolean {
    this.followerEnds.set(replicaId, offset)
    if (offset >= this.log.logEndOffset) this.followerCaughtUp.set(replicaId, now)
    this.advanceHighWatermark()
    return offset >= this.highWatermark
  }

  /** Leader, acks=-1: resolves true once the high watermark covers `offset`, false on timeout or lost leadership. */
  waitForHighWatermark(offset: number, timeoutMs: number): Promise<boolean> {
    if (this.highWatermark > offset) return Promise.resolve(true)
    return new Promise(resolve => {
      const finish = (ok: boolean) => {
        clearTimeout(timer)
        this.waiters.delete(waiter)
        resolve(ok)
      }
      const waiter: PartitionWaiter = {
        onData: () => {
          if (this.highWatermark > offset) finish(true)
          else if (!this.isLeader()) finish(false)
        },
      }
      const timer = setTimeout(() => finish(this.highWatermark > offset), Math.max(timeoutMs, 0))
      this.waiters.add(waiter)
    })
  }

  /**
   * Rebuilds idempotent-producer state from the batch headers of the last two segments (on the
   * first idempotent append after the log was opened). Producers seen only in older segments
   * count as unknown, which Kafka also accepts with any sequence.
   */
  private loadProducerState(): void {
    const table = this.producers
    table.loaded = true
    const bases = this.log.segmentBaseOffsets()
    const from = bases.length >= 2 ? Math.max(bases[bases.length - 2], this.log.logStartOffset) : this.log.logStartOffset
    for (const h of this.log.batchHeaders(from)) {
      if (h.producerId < 0 || h.baseSequence < 0) continue
      const lastSeq = (h.baseSequence + h.lastOffsetDelta) % 0x80000000
      table.record(h.producerId, h.producerEpoch, h.baseSequence, lastSeq, h.baseOffset, h.baseOffset + h.lastOffsetDelta, h.maxTimestamp)
    }
  }

  /** Validates and appends a produce request's records as the leader. */
  appendAsLeader(records: Buffer, acks: number, minInsyncReplicas: number, maxMessageBytes: number): AppendOutcome {
    const out: AppendOutcome = {errorCode: 0, errorMessage: null, baseOffset: -1, lastOffset: -1, logAppendTime: -1, logStartOffset: -1}
    if (!this.isLeader()) {
      out.errorCode = ErrorCode.NOT_LEADER_OR_FOLLOWER
      return out
    }
    if (acks === -1 && this.isr.length < minInsyncReplicas) {
      out.errorCode = ErrorCode.NOT_ENOUGH_REPLICAS
      out.errorMessage = `The size of the current ISR ${this.isr.length} is insufficient to satisfy the min.isr requirement of ${minInsyncReplicas} for partition ${this.topic}-${this.index}`
      return out
    }
    try {
      validateBatches(records)
    } catch (error) {
      out.errorCode = (error as {code?: number}).code ?? ErrorCode.CORRUPT_MESSAGE
      out.errorMessage = (error as Error).message
      return out
    }
    // Per-batch header checks: size limit and idempotent-producer sequences.
    let pos = 0
    let first = true
    while (pos + BATCH_OVERHEAD <= records.length) {
      const h = readBatchHeader(records, pos)
      const size = h.batchLength + BATCH_OVERHEAD
      if (size > maxMessageBytes) {
        out.errorCode = ErrorCode.MESSAGE_TOO_LARGE
        out.errorMessage = `The record batch size in the append to ${this.topic}-${this.index} is ${size} bytes which exceeds the maximum configured value of ${maxMessageBytes}.`
        return out
      }
      if (h.producerId >= 0 && h.baseSequence >= 0) {
        if (!this.producers.loaded) this.loadProducerState()
        const lastSeq = (h.baseSequence + h.lastOffsetDelta) % 0x80000000
        const check = this.producers.check(h.producerId, h.producerEpoch, h.baseSequence, lastSeq)
        if (check.kind === 'duplicate' && first) {
          out.baseOffset = check.batch.firstOffset
          out.lastOffset = check.batch.lastOffset
          out.logStartOffset = this.log.logStartOffset
          return out
        }
        if (check.kind === 'error') {
          out.errorCode = check.code
          out.errorMessage = check.message
          return out
        }
      }
      first = false
      pos += size
    }
    let info
    try {
      info = this.log.append(records, this.leaderEpoch)
    } catch (error) {
      out.errorCode = error instanceof KafkaError ? error.code : ErrorCode.KAFKA_STORAGE_ERROR
      out.errorMessage = (error as Error).message
      return out
    }
    // The log patched the base offsets in place: record producer batches with their offsets.
    if (this.producers.loaded || this.hasProducer(records)) {
      if (!this.producers.loaded) this.producers.loaded = true
      pos = 0
      while (pos + BATCH_OVERHEAD <= records.length) {
        const h = readBatchHeader(records, pos)
        if (h.producerId >= 0 && h.baseSequence >= 0) {
          const lastSeq = (h.baseSequence + h.lastOffsetDelta) % 0x80000000
          this.producers.record(h.producerId, h.producerEpoch, h.baseSequence, lastSeq, h.baseOffset, h.baseOffset + h.lastOffsetDelta, h.maxTimestamp)
        }
        pos += h.batchLength + BATCH_OVERHEAD
      }
    }
    out.baseOffset = info.baseOffset
    out.lastOffset = info.lastOffset
    out.logAppendTime = info.logAppendTime
    out.logStartOffset = this.log.logStartOffset
    const before = this.highWatermark
    this.advanceHighWatermark()
    // Followers long-polling for new data wake on the append itself.
    if (this.highWatermark === before && this.isr.length > 1) this.wake(0)
    return out
  }

  private hasProducer(records: Buffer): boolean {
    return records.length >= 61 && readBatchHeader(records, 0).producerId >= 0
  }

  /** DeleteRecords: raises the log start offset (never above the high watermark). */
  deleteRecordsBefore(offset: number): number {
    const target = offset === -1 ? this.highWatermark : offset
    if (target > this.highWatermark || target < 0) throw new KafkaError(ErrorCode.OFFSET_OUT_OF_RANGE)
    if (target > this.log.logStartOffset) this.log.deleteRecordsBefore(target)
    return this.log.logStartOffset
  }
}
