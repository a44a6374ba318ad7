// One partition replica on this broker: its log, leadership, the high watermark (an
// explicit field moved only by advanceHighWatermark), idempotent-producer state and the
// fetches waiting for new data. Produce appends are synchronous up to the log write (or, with
// KAFKIT_ASYNC_APPENDS=1, up to the log's write queue: the answer then waits for the write,
// AppendOutcome.written), so requests on a connection append in the order they arrived.
import {ErrorCode, KafkaError} from '../protocol/errors.js'
import type {PartitionLog} from '../log/partition-log.js'
import * as fs from 'node:fs'
import * as path from 'node:path'
import {LOG_OVERHEAD, type BatchView, validateBatches, viewBatches} from '../protocol/record-batch.js'
import {buildMarkerBatch, decodeSnapshot, deleteSnapshot, listSnapshots, readControlRecord, snapshotFileName, writeSnapshotFile, writeSnapshotFileAsync} from '../log/txn-index.js'
import {ProducerStateTable, type CompletedTxn} from './producer-state.js'
import {keylessRecords, recompressTo} from '../log/cleaner.js'
import type {PartitionState} from '../cluster/cluster.js'
import type {AppendOutcome, ReplicatedLog} from '../log/replicated-log.js'

/** cleanup.policy values that make a topic compacted (compact, or compact,delete). */
const COMPACT = /(^|,)\s*compact\s*(,|$)/

export interface PartitionWaiter {
  onData(partition: Partition, bytes: number): void
}

export type {AppendOutcome} from '../log/replicated-log.js'

export class Partition implements ReplicatedLog {
  leader = -1
  leaderEpoch = 0
  isr: number[] = []
  replicas: number[] = []
  highWatermark = 0
  /** min.insync.replicas and max.message.bytes of the topic (set by the replica manager). */
  minInsyncReplicas = 1
  maxMessageBytes = 1048588
  /** The topic's compression.type as a codec id; -1 for 'producer' (keep the client's). */
  compressionTarget = -1
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

  /** Called with every transaction marker appended here (leader or follower): the group coordinator's txn offsets. */
  onTxnCompleted: ((p: Partition, t: CompletedTxn) => void) | null = null

  constructor(readonly topic: string, readonly index: number, public topicId: string, readonly log: PartitionLog, readonly brokerId: number, checkpointedHighWatermark?: number) {
    this.highWatermark = Math.max(log.logStartOffset, Math.min(checkpointedHighWatermark ?? log.logEndOffset, log.logEndOffset))
    log.onRoll = base => this.takeSnapshot(base)
    // KAFKIT_ASYNC_APPENDS=1: appends queue their writes (log/write-queue.ts) instead of writeSync.
    // Opt-in: measured slower than writeSync in the broker (docs/ARCHITECTURE.md, Storage).
    if (process.env.KAFKIT_ASYNC_APPENDS === '1') log.enableAsyncWrites()
    log.cleanableUpperBound = () => this.lastStableOffset
    log.activeProducers = () => this.producers.lastRecords()
  }

  /** The last stable offset: below it every transaction is decided (and replicated). */
  get lastStableOffset(): number {
    const f = this.producers.firstUnstableOffset()
    return f < this.highWatermark ? f : this.highWatermark
  }

  private setHighWatermark(hw: number): void {
    this.highWatermark = hw
    this.producers.onHighWatermark(hw)
  }

  // ---------------------------------------------------------------- producer state (load, snapshots)

  /** Writes the producer state as `<offset>.snapshot` (at a roll: the new segment's base) and keeps the two newest. */
  /** Offset of the producer state snapshot on disk that matches the state (-1: none known). */
  private snapshotAt = -1

  takeSnapshot(offset = this.log.logEndOffset, sync = false): void {
    if (!this.producers.loaded) return
    // At shutdown, a log that did not move since its snapshot was read or written keeps that
    // snapshot (as Kafka, which snapshots only past the last one): no write, fsync and rename
    // per partition. (A truncation reloads the state, and with it snapshotAt.)
    if (sync && offset === this.snapshotAt) return
    try {
      writeSnapshotFile(this.log.dir, offset, this.producers.snapshotEntries(), sync)
      this.snapshotWritten(offset)
    } catch (error) {
      // The state is rebuilt from the log when a snapshot is missing.
      void error
    }
  }

  /**
   * The clean shutdown's snapshot at the log end, fsynced, without blocking the event loop (the
   * replica manager writes many at once); none when the log did not move since the last one.
   */
  async takeShutdownSnapshot(): Promise<void> {
    const offset = this.log.logEndOffset
    if (!this.producers.loaded || this.log.isClosed || offset === this.snapshotAt) return
    try {
      await writeSnapshotFileAsync(this.log.dir, offset, this.producers.snapshotEntries())
      this.snapshotWritten(offset)
    } catch {
      // As above: a missing snapshot only costs a longer load.
    }
  }

  /** Keeps the two newest snapshots. */
  private snapshotWritten(offset: number): void {
    this.snapshotAt = offset
    const all = listSnapshots(this.log.dir)
    for (const o of all.slice(0, Math.max(0, all.length - 2))) deleteSnapshot(this.log.dir, o)
  }

  /**
   * Loads the producer state (idempotence, open transactions) at open or after a truncation:
   * the newest .snapshot at or below the log end, then the batches after it. Without a snapshot
   * the last two segments are read, as Kafka does.
   */
  async loadProducerState(): Promise<void> {
    const table = this.producers
    table.clear()
    table.loaded = false
    this.snapshotAt = -1
    const dir = this.log.dir
    const end = this.log.logEndOffset
    let from = -1
    for (const o of listSnapshots(dir).reverse()) {
      if (o > end) {
        deleteSnapshot(dir, o)
        continue
      }
      if (from >= 0) continue
      try {
        table.loadSnapshot(decodeSnapshot(fs.readFileSync(path.join(dir, snapshotFileName(o)))))
        from = o
        this.snapshotAt = o
      } catch {
        deleteSnapshot(dir, o)
      }
    }
    if (from < 0) {
      const bases = this.log.segmentBaseOffsets()
      from = bases.length >= 2 ? bases[bases.length - 2] : bases[0] ?? 0
    }
    from = Math.max(from, this.log.logStartOffset)
    // Batch headers only (large batches are skipped unread), as Kafka loads producer state; a
    // marker's control record is read on its own (a few dozen bytes).
    for await (const h of this.log.batchHeadersAsync(from)) {
      if (this.log.isClosed || h.baseOffset >= end) break
      if (h.producerId < 0) continue
      let control: {type: number; coordinatorEpoch: number} | null = null
      if (h.isControl) {
        const res = await this.log.read(h.baseOffset, 256, h.baseOffset + h.lastOffsetDelta + 1, true)
        const buf = res.records[0]
        if (buf !== undefined && buf.length >= 61) control = readControlRecord(buf, 0, Math.min(buf.length, h.batchLength + LOG_OVERHEAD))
      }
      const done = table.applyBatch(h, control)
      if (done) this.txnCompleted(done, false)
    }
    table.loaded = true
  }

  /**
   * Applies appended batches (their views, offsets assigned) to the producer state; markers
   * complete transactions (aborted ones go to the .txnindex when `index`).
   */
  private applyBatches(records: Buffer, views: readonly BatchView[], index: boolean): void {
    for (let i = 0; i < views.length; i++) {
      const v = views[i]
      if (v.producerId < 0) continue
      const control = v.isControl ? readControlRecord(records, v.pos, v.pos + v.size) : null
      const done = this.producers.applyBatch(v, control)
      if (done) this.txnCompleted(done, index)
    }
  }

  private txnCompleted(t: CompletedTxn, index: boolean): void {
    if (t.aborted && index) this.log.appendAbortedTxn({producerId: t.producerId, firstOffset: t.firstOffset, lastOffset: t.lastOffset, lastStableOffset: this.producers.lastStableOffsetAfter(t)})
    if (t.lastOffset >= this.highWatermark) this.producers.unreplicated.push(t)
    if (index && this.isLeader()) this.onTxnCompleted?.(this, t)
  }

  /**
   * Follower: appends the leader's batches and applies them to the producer state. Returns the
   * promise of their write when it is still under way (the fetcher waits for it before it
   * fetches again, so the leader counts only written data as replicated), else null.
   */
  appendAsFollower(records: Buffer): Promise<void> | null {
    const views = viewBatches(records)
    this.log.appendAsFollower(records, Date.now(), views)
    this.applyBatches(records, views, true)
    return this.log.whenAppendsDone()
  }

  /** Follower: truncates the log (after its queued writes) and reloads the producer state for what is left. */
  async truncateTo(offset: number): Promise<void> {
    await this.log.drainWrites()
    this.log.truncateTo(offset)
    await this.loadProducerState()
  }

  /** Follower: restarts the log empty at `offset` (after its queued writes). */
  async truncateFullyAndStartAt(offset: number): Promise<void> {
    await this.log.drainWrites()
    this.log.truncateFullyAndStartAt(offset)
    this.snapshotAt = -1
    for (const o of listSnapshots(this.log.dir)) deleteSnapshot(this.log.dir, o)
    this.producers.clear()
    this.producers.loaded = true
  }

  /**
   * Leader: appends a COMMIT or ABORT marker for a producer (WriteTxnMarkers from the
   * transaction coordinator). A marker of an older producer epoch or coordinator epoch is refused.
   */
  appendMarker(producerId: number, producerEpoch: number, coordinatorEpoch: number, commit: boolean): AppendOutcome {
    const out: AppendOutcome = {errorCode: 0, errorMessage: null, baseOffset: -1, lastOffset: -1, logAppendTime: -1, logStartOffset: -1}
    if (!this.isLeader()) {
      out.errorCode = ErrorCode.NOT_LEADER_OR_FOLLOWER
      return out
    }
    const bad = this.producers.checkMarker(producerId, producerEpoch, coordinatorEpoch)
    if (bad) {
      out.errorCode = bad.code
      out.errorMessage = bad.message
      return out
    }
    const batch = buildMarkerBatch(producerId, producerEpoch, coordinatorEpoch, commit)
    const views = viewBatches(batch)
    let info
    try {
      info = this.log.append(batch, this.leaderEpoch, Date.now(), views)
    } catch (error) {
      out.errorCode = error instanceof KafkaError ? error.code : ErrorCode.KAFKA_STORAGE_ERROR
      out.errorMessage = (error as Error).message
      return out
    }
    this.applyBatches(batch, views, true)
    out.written = this.log.whenAppendsDone()
    out.baseOffset = info.baseOffset
    out.lastOffset = info.lastOffset
    out.logStartOffset = this.log.logStartOffset
    const before = this.highWatermark
    this.advanceHighWatermark()
    if (this.highWatermark === before && this.isr.length > 1) this.wake(0)
    return out
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
    this.setHighWatermark(hw)
    this.wake(1)
  }

  /** Follower: the leader's high watermark, bounded by what this replica has. */
  setFollowerHighWatermark(leaderHw: number): void {
    const hw = Math.min(leaderHw, this.log.logEndOffset)
    if (hw !== this.highWatermark) {
      this.setHighWatermark(hw)
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

  /**
   * Leader, acks=-1: resolves true once `offset` is written here and the high watermark covers
   * it, false on timeout, a failed write or lost leadership.
   */
  waitForHighWatermark(offset: number, timeoutMs: number): Promise<boolean> {
    const queued = this.log.whenWritten(offset)
    if (queued !== null) {
      const start = Date.now()
      return queued.then(() => this.waitForHighWatermark(offset, timeoutMs - (Date.now() - start)), () => false)
    }
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
    // The one walk over the bytes: validateBatches parses every batch into a view that the
    // checks below, the log's append and the producer state read.
    let views: BatchView[]
    try {
      views = validateBatches(records).views
    } catch (error) {
      out.errorCode = (error as {code?: number}).code ?? ErrorCode.CORRUPT_MESSAGE
      out.errorMessage = (error as Error).message
      return out
    }
    // A topic with its own compression.type: batches in another codec are recompressed (records
    // and producer fields as sent, as Kafka's broker does); then validated as any batch.
    if (this.compressionTarget >= 0) {
      try {
        const before = records
        records = recompressTo(records, this.compressionTarget)
        if (records !== before) views = viewBatches(records)
      } catch (error) {
        out.errorCode = ErrorCode.CORRUPT_MESSAGE
        out.errorMessage = `Cannot recompress the records for ${this.topic}-${this.index}: ${(error as Error).message}`
        return out
      }
    }
    // A compacted topic refuses records without a key (Kafka's LogValidator.validateKey), one
    // record error each, the first three quoted in the message.
    if (COMPACT.test(this.log.logConfig.cleanupPolicy)) {
      const errors: Array<{batchIndex: number; batchIndexErrorMessage: string}> = []
      for (const v of views) {
        if (v.isControl) continue
        for (const i of keylessRecords(records, v.pos)) errors.push({batchIndex: i, batchIndexErrorMessage: `Compacted topic cannot accept message without key in topic partition ${this.topic}-${this.index}`})
      }
      if (errors.length > 0) {
        out.errorCode = ErrorCode.INVALID_RECORD
        out.errorMessage = `One or more records have been rejected due to ${errors.length} record errors in total, and only showing the first three errors at most: [${errors.slice(0, 3).map(e => `RecordError(batchIndex=${e.batchIndex}, message='${e.batchIndexErrorMessage}')`).join(', ')}]`
        out.recordErrors = errors
        return out
      }
    }
    // Per-batch header checks: size limit and idempotent-producer sequences.
    let hasProducer = false
    for (let i = 0; i < views.length; i++) {
      const h = views[i]
      if (h.size > maxMessageBytes) {
        out.errorCode = ErrorCode.MESSAGE_TOO_LARGE
        out.errorMessage = `The record batch size in the append to ${this.topic}-${this.index} is ${h.size} bytes which exceeds the maximum configured value of ${maxMessageBytes}.`
        return out
      }
      if (h.isControl) {
        out.errorCode = ErrorCode.INVALID_RECORD
        out.errorMessage = `Control records may not be appended by clients (partition ${this.topic}-${this.index})`
        return out
      }
      if (h.producerId >= 0) hasProducer = true
      if (h.producerId >= 0 && h.baseSequence < 0 && h.isTransactional) {
        const entry = this.producers.producers.get(h.producerId)
        if (entry !== undefined && h.producerEpoch < entry.epoch) {
          out.errorCode = ErrorCode.INVALID_PRODUCER_EPOCH
          out.errorMessage = `Epoch of producer ${h.producerId} is ${h.producerEpoch}, which is smaller than the last seen epoch ${entry.epoch}`
          return out
        }
      }
      if (h.producerId >= 0 && h.baseSequence >= 0) {
        const lastSeq = (h.baseSequence + h.lastOffsetDelta) % 0x80000000
        const check = this.producers.check(h.producerId, h.producerEpoch, h.baseSequence, lastSeq)
        if (check.kind === 'duplicate' && i === 0) {
          out.baseOffset = check.batch.firstOffset
          out.lastOffset = check.batch.lastOffset
          out.logStartOffset = this.log.logStartOffset
          // A retry of a batch whose write is still queued is answered once it is written.
          out.written = this.log.whenWritten(check.batch.lastOffset)
          return out
        }
        if (check.kind === 'error') {
          out.errorCode = check.code
          out.errorMessage = check.message
          return out
        }
      }
    }
    let info
    try {
      info = this.log.append(records, this.leaderEpoch, Date.now(), views)
    } catch (error) {
      out.errorCode = error instanceof KafkaError ? error.code : ErrorCode.KAFKA_STORAGE_ERROR
      out.errorMessage = (error as Error).message
      return out
    }
    // The log set the assigned base offsets in the views: record producer batches with them.
    if (hasProducer) this.applyBatches(records, views, true)
    out.written = this.log.whenAppendsDone()
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

  /** DeleteRecords: raises the log start offset (never above the high watermark). */
  deleteRecordsBefore(offset: number): number {
    const target = offset === -1 ? this.highWatermark : offset
    if (target > this.highWatermark || target < 0) throw new KafkaError(ErrorCode.OFFSET_OUT_OF_RANGE)
    if (target > this.log.logStartOffset) this.log.deleteRecordsBefore(target)
    return this.log.logStartOffset
  }
}
