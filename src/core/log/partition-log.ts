// The log of one partition replica: <log.dir>/<topic>-<partition>/ holding segments in
// Apache Kafka's on-disk layout. Appends write the batches exactly as received (only baseOffset/
// leader epoch patched in place, both outside the CRC): synchronously, or queued for async
// writev (write-queue.ts, the broker's logs); reads are async positional reads of whole written
// batches. Beside it: log-loader.ts (open, recovery), leader-epoch-cache.ts, compactor.ts
// (cleanup.policy=compact), header-scan.ts, txn-index.ts.
import * as fs from 'node:fs'
import * as path from 'node:path'
import {renameWithRetry} from '../util/fs.js'
import {acquireReadBuffer, releaseReadBuffer} from './read-pool.js'
import {randomUUID} from 'node:crypto'
import {ErrorCode, KafkaError} from '../protocol/errors.js'
import type {Logger} from '../util/log.js'
import {type BatchHeader, type BatchView, BATCH_HEADER_SIZE, LAST_OFFSET_DELTA_OFFSET, LENGTH_OFFSET, LOG_OVERHEAD,
  TIMESTAMP_TYPE_MASK, patchBaseOffset, patchLeaderEpoch, readInt64, setLogAppendTime, viewBatches} from '../protocol/record-batch.js'
import {SCAN_HEADER, Segment, readAsync, segmentIndexFor, expiredByTime, expiredBySize} from './segment.js'
import {compactSegments, type CompactionStats, type ProducerLastRecord} from './compactor.js'
import {loadSegments} from './log-loader.js'
import {type AbortedTxn, appendTxnIndex, collectAborted, rewriteTxnIndex} from './txn-index.js'
import {LeaderEpochCache, type EpochEntry} from './leader-epoch-cache.js'
import type {LogConfig} from './log-config.js'
import {scanHeaders, scanHeadersAsync} from './header-scan.js'
import {WriteQueue, fsyncSegments} from './write-queue.js'

export {type LogConfig, defaultLogConfig} from './log-config.js'

export interface AppendInfo {
  baseOffset: number
  lastOffset: number
  /** -1 with CreateTime */
  logAppendTime: number
  maxTimestamp: number
  offsetOfMaxTimestamp: number
}

export interface ReadResult {
  records: Buffer[]
  bytes: number
}

export interface OpenOptions {
  logStartOffset?: number
  recoveryPoint?: number
  /** true after a clean shutdown: only missing/corrupt indexes are rebuilt. Default false (recover from recoveryPoint). */
  clean?: boolean
  /** From cleaner-offset-checkpoint: offsets below were already compacted. */
  cleanedUpTo?: number
  logger?: Logger
}

export {LEADER_EPOCH_CHECKPOINT} from './leader-epoch-cache.js'
const MAX_REL_OFFSET = 0x7fffffff

export class PartitionLog {
  logStartOffset = 0
  logEndOffset = 0
  /** Offsets below this are known flushed to disk. */
  recoveryPoint = 0
  lastFlushMs = Date.now()
  private unflushedMessages = 0
  private segments: Segment[] = []
  private readonly epochs: LeaderEpochCache
  private closed = false
  /** Segments removed from the log whose files wait for in-flight reads/flushes to finish. */
  private readonly zombies = new Set<Segment>()
  private readonly logger?: Logger
  /** The async write path (enableAsyncWrites); null: appends write synchronously. */
  private writer: WriteQueue | null = null

  private constructor(readonly dir: string, readonly topic: string, readonly partition: number, private config: LogConfig, logger?: Logger) {
    this.logger = logger
    this.epochs = new LeaderEpochCache(dir, logger)
  }

  static async open(dir: string, topic: string, partition: number, config: LogConfig, opts: OpenOptions = {}): Promise<PartitionLog> {
    const log = new PartitionLog(dir, topic, partition, config, opts.logger)
    try {
      await log.load(opts)
    } catch (error) {
      for (const seg of log.segments) if (seg.fd >= 0) seg.closeHandles()
      throw error
    }
    log.cleanedUpTo = Math.min(opts.cleanedUpTo ?? 0, log.logEndOffset)
    return log
  }

  get name(): string { return `${this.topic}-${this.partition}` }
  get size(): number { return this.segments.reduce((n, s) => n + s.size, 0) }
  get segmentCount(): number { return this.segments.length }
  /** Base offsets of the segments, oldest first (tests, tools). */
  segmentBaseOffsets(): number[] { return this.segments.map(s => s.baseOffset) }
  get leaderEpochs(): ReadonlyArray<Readonly<EpochEntry>> { return this.epochs.all }
  updateConfig(config: LogConfig): void { this.config = config }
  get logConfig(): LogConfig { return this.config }

  /** Called after a new active segment starts at `baseOffset` (producer state snapshots). */
  onRoll: ((baseOffset: number) => void) | null = null

  // ---------------------------------------------------------------- aborted transactions (.txnindex)

  /** Records an aborted transaction whose ABORT marker was just appended (active segment's .txnindex). */
  appendAbortedTxn(t: AbortedTxn): void {
    this.active.aborted.push(t)
    appendTxnIndex(this.active.txnIndexPath, t, this.logger)
  }

  /**
   * The aborted transactions a read_committed fetch from `fetchOffset` must know about when it
   * returns data below `upperBound`: those whose marker is at or after fetchOffset and that began
   * below upperBound (Kafka's collectAbortedTransactions).
   */
  collectAbortedTxns(fetchOffset: number, upperBound: number): AbortedTxn[] {
    return collectAborted(this.segments, segmentIndexFor(this.segments, fetchOffset), fetchOffset, upperBound)
  }

  /** Every aborted transaction still in the log (DescribeProducers, tests). */
  allAbortedTxns(): AbortedTxn[] {
    return this.segments.flatMap(s => s.aborted)
  }

  /** Drops .txnindex entries whose markers are at or after `end` (truncation). */
  private trimAborted(end: number): void {
    for (const seg of this.segments) {
      const kept = seg.aborted.filter(t => t.lastOffset < end)
      if (kept.length === seg.aborted.length) continue
      seg.aborted = kept
      rewriteTxnIndex(seg.txnIndexPath, kept, this.logger)
    }
  }

  private get active(): Segment {
    return this.segments[this.segments.length - 1]
  }

  // ---------------------------------------------------------------- loading / recovery

  private async load(opts: OpenOptions): Promise<void> {
    this.segments = await loadSegments(this.dir, this.name, this.config.indexIntervalBytes, opts, this.logger)
    this.logEndOffset = this.active.nextOffset
    this.trimAborted(this.logEndOffset)
    this.logStartOffset = Math.max(opts.logStartOffset ?? 0, this.segments[0].baseOffset)
    if (this.logStartOffset > this.logEndOffset) this.logStartOffset = this.logEndOffset
    this.recoveryPoint = this.logEndOffset
    this.active.openIndexFiles()
    this.active.rollJitterMs = this.jitter()
    this.epochs.load(this.logEndOffset)
  }

  private jitter(): number {
    const j = this.config.segmentJitterMs ?? 0
    return j > 0 ? Math.floor(Math.random() * Math.min(j, this.config.segmentMs)) : 0
  }

  /** The end offset of `epoch` (OffsetForLeaderEpoch): start of the next epoch, or the log end. */
  endOffsetForEpoch(epoch: number): {epoch: number; endOffset: number} {
    return this.epochs.endOffsetFor(epoch, this.logEndOffset)
  }

  // ---------------------------------------------------------------- append

  private checkOpen(): void {
    if (this.closed) throw new KafkaError(ErrorCode.KAFKA_STORAGE_ERROR, `The log of ${this.name} is closed`)
    const failed = this.writer?.failed
    if (failed) throw new KafkaError(ErrorCode.KAFKA_STORAGE_ERROR, `The log of ${this.name} is offline after a write error: ${failed.message}`)
  }

  /** From now on appends queue their bytes for async writev (write-queue.ts; the broker's logs): same offsets, state and files. */
  enableAsyncWrites(): void {
    if (this.writer !== null) return
    this.writer = new WriteQueue(this.logEndOffset, {
      flush: (to, done) => this.flushAsync(to, done),
      released: seg => void (seg.deleted && seg.refs === 0 && this.destroy(seg)),
      failed: error => this.logger?.error(`The log of ${this.name} is offline: ${error.message}`),
    })
  }

  /** Offset after the last batch written to disk (== logEndOffset with sync writes or nothing queued). */
  get writtenEndOffset(): number {
    return this.writer === null || this.writer.pending === 0 ? this.logEndOffset : this.writer.writtenEndOffset
  }

  /** Resolves when everything appended so far is written (and fsynced, if a flush was due); null when it is. */
  whenAppendsDone(): Promise<void> | null {
    return this.writer?.whenDone() ?? null
  }

  /** Resolves when the batch holding `offset` is written; null when it is. */
  whenWritten(offset: number): Promise<void> | null {
    return this.writer?.whenWritten(offset) ?? null
  }

  /** Waits until no write is queued (before truncation; close). */
  drainWrites(): Promise<void> {
    return this.writer?.drain() ?? Promise.resolve()
  }

  private assertDrained(what: string): void {
    if ((this.writer?.pending ?? 0) > 0) throw new KafkaError(ErrorCode.KAFKA_STORAGE_ERROR, `${what} of ${this.name} with writes still queued (drainWrites first)`)
  }

  /**
   * Kafka's roll rules: size, index full, relative offset overflow, and time: the incoming
   * batches' max timestamp minus the segment's first batch max timestamp (or, without
   * timestamps, the segment's age) beyond segment.ms minus this segment's jitter.
   */
  private maybeRoll(bytes: number, firstOffset: number, lastOffset: number, maxTimestamp: number, now: number): void {
    const seg = this.active
    if (seg.size === 0) return
    const c = this.config
    const waited = seg.rollingBaseTs >= 0 ? maxTimestamp - seg.rollingBaseTs : now - seg.created
    if (
      seg.size + bytes > c.segmentBytes ||
      waited > c.segmentMs - seg.rollJitterMs ||
      seg.indexFull(c.maxIndexSizeBytes) ||
      lastOffset - seg.baseOffset > MAX_REL_OFFSET
    ) this.roll(firstOffset)
  }

  /** Starts a new active segment at `baseOffset` (default: the log end). */
  roll(baseOffset = this.logEndOffset): void {
    const old = this.active
    if (old.size === 0 && old.baseOffset === baseOffset) return
    old.maybeAppendTimeEntry(old.maxTimestamp, old.offsetOfMaxTimestamp)
    old.closeIndexFiles()
    if (old.size === 0) {
      // An empty active segment is replaced, not kept.
      this.segments.pop()
      old.deleted = true
      if (old.refs === 0) this.destroy(old)
      else this.zombies.add(old)
    }
    const seg = new Segment(this.dir, baseOffset, true)
    seg.openIndexFiles()
    seg.rollJitterMs = this.jitter()
    this.segments.push(seg)
    this.onRoll?.(baseOffset)
    // Flush the finished segment in the background, then advance the recovery point.
    if (old.size > 0 && old.fd >= 0) {
      old.acquire()
      const sync = (): void => {
        fs.fsync(old.fd, err => {
          old.release()
          if (!err && baseOffset > this.recoveryPoint) this.recoveryPoint = baseOffset
          if (old.deleted && old.refs === 0) this.destroy(old)
        })
      }
      // Queued writes to the old segment first (they hold their own references).
      const queued = this.writer?.whenWritten(old.nextOffset - 1) ?? null
      if (queued === null) sync()
      else queued.then(sync, () => {
        old.release()
        if (old.deleted && old.refs === 0) this.destroy(old)
      })
    }
  }

  /** Writes the batches to the active segment, then updates its indexes per batch as Kafka does. */
  private writeToActive(records: Buffer, views: readonly BatchView[], firstOffset: number, lastOffset: number): void {
    const seg = this.active
    const position = seg.size
    if (this.writer !== null) this.writer.enqueue(seg, records, position, lastOffset + 1)
    else {
      this.writeBytes(seg, records, position)
      seg.written = position + records.length
    }
    if (position === 0) seg.rollingBaseTs = views[0].maxTimestamp
    // Sparse index entries (batch last offset -> batch position) every index.interval.bytes.
    const interval = this.config.indexIntervalBytes
    for (let i = 0; i < views.length; i++) {
      const v = views[i]
      const batchLast = v.baseOffset + v.lastOffsetDelta
      if (v.maxTimestamp > seg.maxTimestamp) {
        seg.maxTimestamp = v.maxTimestamp
        seg.offsetOfMaxTimestamp = batchLast
      }
      if (seg.bytesSinceIndex > interval) {
        seg.appendOffsetEntry(batchLast, position + v.pos)
        seg.maybeAppendTimeEntry(seg.maxTimestamp, seg.offsetOfMaxTimestamp)
        seg.bytesSinceIndex = 0
      }
      seg.bytesSinceIndex += v.size
    }
    seg.size += records.length
    seg.nextOffset = lastOffset + 1
    seg.hintOffset = firstOffset
    seg.hintPos = position
    this.logEndOffset = lastOffset + 1
  }

  /** Writes records at position of seg synchronously (logs without enableAsyncWrites). */
  private writeBytes(seg: Segment, records: Buffer, position: number): void {
    let written = 0
    try {
      while (written < records.length) written += fs.writeSync(seg.fd, records, written, records.length - written, position + written)
    } catch (error) {
      // Never leave a torn batch behind in the page cache view of the file.
      try {
        fs.ftruncateSync(seg.fd, position)
      } catch {}
      throw new KafkaError(ErrorCode.KAFKA_STORAGE_ERROR, `Error while appending to ${seg.logPath}: ${(error as Error).message}`)
    }
  }

  private afterAppend(count: number): void {
    this.unflushedMessages += count
    if (this.unflushedMessages >= this.config.flushIntervalMessages) this.flush()
  }

  /**
   * Appends batches already checked by validateBatches: assigns offsets from the log end by
   * patching each batch's baseOffset in place (and in its view), stamps the leader epoch (and
   * LogAppendTime when configured). `views` are the batches as validateBatches parsed them;
   * without them the framing is parsed here. Rolls segments by size/time/index/offset range.
   */
  append(records: Buffer, leaderEpoch: number, now = Date.now(), views: readonly BatchView[] = viewBatches(records)): AppendInfo {
    this.checkOpen()
    if (views.length === 0) throw new KafkaError(ErrorCode.CORRUPT_MESSAGE, 'No record batch to append')
    const firstOffset = this.logEndOffset
    const logAppend = this.config.messageTimestampType === 'LogAppendTime'
    let next = firstOffset
    let maxTs = -1
    let offsetOfMaxTs = firstOffset
    for (let i = 0; i < views.length; i++) {
      const v = views[i]
      patchBaseOffset(records, v.pos, next)
      patchLeaderEpoch(records, v.pos, leaderEpoch)
      v.baseOffset = next
      v.partitionLeaderEpoch = leaderEpoch
      if (logAppend) {
        setLogAppendTime(records, v.pos, now)
        v.maxTimestamp = now
        v.attributes |= TIMESTAMP_TYPE_MASK
        v.timestampType = 1
      }
      if (v.maxTimestamp > maxTs) {
        maxTs = v.maxTimestamp
        offsetOfMaxTs = next + v.lastOffsetDelta
      }
      next += v.lastOffsetDelta + 1
    }
    const lastOffset = next - 1
    this.maybeRoll(records.length, firstOffset, lastOffset, maxTs, now)
    this.epochs.assign(leaderEpoch, firstOffset)
    this.writeToActive(records, views, firstOffset, lastOffset)
    this.afterAppend(lastOffset - firstOffset + 1)
    return {baseOffset: firstOffset, lastOffset, logAppendTime: logAppend ? now : -1, maxTimestamp: logAppend ? now : maxTs, offsetOfMaxTimestamp: logAppend ? firstOffset : offsetOfMaxTs}
  }

  /**
   * Appends batches whose offsets were assigned by the leader (replication): they must continue
   * the log. `views` as viewBatches parses them (parsed here when not given).
   */
  appendAsFollower(records: Buffer, now = Date.now(), views: readonly BatchView[] = viewBatches(records)): AppendInfo {
    this.checkOpen()
    if (views.length === 0) throw new KafkaError(ErrorCode.CORRUPT_MESSAGE, 'No record batch to append')
    let expected = this.logEndOffset
    const firstOffset = views[0].baseOffset
    let maxTs = -1
    let offsetOfMaxTs = -1
    let lastEpoch = -1
    for (let i = 0; i < views.length; i++) {
      const v = views[i]
      const base = v.baseOffset
      const last = base + v.lastOffsetDelta
      if (base < expected) throw new KafkaError(ErrorCode.OFFSET_OUT_OF_RANGE, `Out of order offsets in an append to ${this.name}: batch at ${base} but the log end is ${expected}`)
      if (v.maxTimestamp > maxTs) {
        maxTs = v.maxTimestamp
        offsetOfMaxTs = last
      }
      if (v.partitionLeaderEpoch > lastEpoch) {
        this.assignEpochLater(v.partitionLeaderEpoch, base)
        lastEpoch = v.partitionLeaderEpoch
      }
      expected = last + 1
    }
    const lastOffset = expected - 1
    this.maybeRoll(records.length, firstOffset, lastOffset, maxTs, now)
    if (this.active.size === 0 && this.active.baseOffset !== firstOffset) this.roll(firstOffset)
    for (const e of this.pendingEpochs) this.epochs.assign(e.epoch, e.startOffset)
    this.pendingEpochs = []
    this.writeToActive(records, views, firstOffset, lastOffset)
    this.afterAppend(lastOffset - firstOffset + 1)
    return {baseOffset: firstOffset, lastOffset, logAppendTime: -1, maxTimestamp: maxTs, offsetOfMaxTimestamp: offsetOfMaxTs}
  }

  private pendingEpochs: EpochEntry[] = []
  private assignEpochLater(epoch: number, startOffset: number): void {
    this.pendingEpochs.push({epoch, startOffset})
  }

  // ---------------------------------------------------------------- reads

  private outOfRange(offset: number): KafkaError {
    return new KafkaError(ErrorCode.OFFSET_OUT_OF_RANGE, `Received request for offset ${offset} for partition ${this.name}, but we only have log segments in the range ${this.logStartOffset} to ${this.logEndOffset}.`)
  }

  /**
   * Whole batches from the one containing fetchOffset, within one segment, never reaching
   * maxOffset (exclusive), up to maxBytes unless minOneBatch lets a first, larger batch through.
   */
  async read(fetchOffset: number, maxBytes: number, maxOffset: number, minOneBatch: boolean): Promise<ReadResult> {
    this.checkOpen()
    if (fetchOffset < this.logStartOffset || fetchOffset > this.logEndOffset) throw this.outOfRange(fetchOffset)
    const empty: ReadResult = {records: [], bytes: 0}
    if (fetchOffset >= maxOffset || fetchOffset >= this.logEndOffset || (maxBytes <= 0 && !minOneBatch)) return empty
    // A batch still queued for writing: wait for its bytes (never read what is not written).
    const queued = this.writer?.whenWritten(fetchOffset) ?? null
    if (queued !== null) {
      await queued
      this.checkOpen()
    }
    for (let i = segmentIndexFor(this.segments, fetchOffset); i < this.segments.length; i++) {
      const seg = this.segments[i]
      if (seg.fd < 0) continue
      seg.acquire()
      try {
        const limit = seg.written
        let start: number
        let ahead: Buffer | null = null
        if (seg.hintOffset === fetchOffset && seg.hintPos < limit) {
          // A sequential reader continues where its last read ended: no need to look it up.
          start = seg.hintPos
        } else {
          const firstWindow = Math.min(maxBytes, 64 * 1024)
          const found = await this.locateSafe(seg, fetchOffset, limit, firstWindow)
          if (found.pos < 0) continue
          start = found.pos
          ahead = found.ahead
        }
        const want = Math.min(Math.max(maxBytes, SCAN_HEADER), limit - start)
        let buf: Buffer
        let got: number
        if (ahead !== null && ahead.length >= want) {
          buf = ahead.subarray(0, want)
          got = want
        } else {
          // From the pool: the socket layer gives it back once written.
          buf = acquireReadBuffer(want)
          got = await readAsync(seg.fd, buf, 0, want, start)
        }
        let cut = 0
        while (cut + SCAN_HEADER <= got) {
          const size = buf.readInt32BE(cut + LENGTH_OFFSET) + LOG_OVERHEAD
          if (size < BATCH_HEADER_SIZE) break
          const last = readInt64(buf, cut) + buf.readInt32BE(cut + LAST_OFFSET_DELTA_OFFSET)
          if (last >= maxOffset) break
          if (cut + size > got || cut + size > maxBytes) {
            if (cut === 0 && minOneBatch && start + size <= limit) {
              // The first batch alone is larger than maxBytes (or than what was read).
              releaseReadBuffer(buf)
              buf = acquireReadBuffer(size)
              got = await readAsync(seg.fd, buf, 0, size, start)
              if (got === size) cut = size
            }
            break
          }
          cut += size
        }
        if (cut === 0) {
          releaseReadBuffer(buf)
          return empty
        }
        return seg.rememberRead(buf, cut, start + cut)
      } finally {
        seg.release()
        if (seg.deleted && seg.refs === 0) this.destroy(seg)
      }
    }
    return empty
  }

  private async locateSafe(seg: Segment, offset: number, limit: number, firstWindow = 8192): Promise<{pos: number; ahead: Buffer}> {
    try {
      return await seg.locate(offset, limit, firstWindow)
    } catch (error) {
      if (seg.deleted || this.closed) return {pos: -1, ahead: Buffer.alloc(0)}
      throw new KafkaError(ErrorCode.KAFKA_STORAGE_ERROR, `Error reading ${seg.logPath}: ${(error as Error).message}`)
    }
  }

  /** ListOffsets by time: the first offset whose timestamp >= ts, or null if none. */
  async offsetForTimestamp(ts: number): Promise<{offset: number; timestamp: number} | null> {
    this.checkOpen()
    const segs = this.segments.slice()
    for (const seg of segs) {
      if (seg.maxTimestamp < ts || seg.fd < 0) continue
      seg.acquire()
      try {
        const fromOffset = Math.max(seg.lookupTimestamp(ts), this.logStartOffset)
        const found = await seg.firstAtOrAfterTimestamp(ts, fromOffset).catch(error => {
          if (seg.deleted || this.closed) return null
          throw new KafkaError(ErrorCode.KAFKA_STORAGE_ERROR, `Error reading ${seg.logPath}: ${(error as Error).message}`)
        })
        if (found) {
          if (found.offset < this.logStartOffset) found.offset = this.logStartOffset
          return found
        }
      } finally {
        seg.release()
        if (seg.deleted && seg.refs === 0) this.destroy(seg)
      }
    }
    return null
  }

  /**
   * ListOffsets MAX_TIMESTAMP from per-segment metadata (no scan): the largest batch max
   * timestamp and the last offset of that batch; {-1, -1} when the log is empty.
   */
  maxTimestampAndOffset(): {timestamp: number; offset: number} {
    const out = {timestamp: -1, offset: -1}
    for (const seg of this.segments) if (seg.size > 0 && seg.maxTimestamp > out.timestamp) Object.assign(out, {timestamp: seg.maxTimestamp, offset: seg.offsetOfMaxTimestamp})
    return out
  }

  /**
   * Batch headers from the batch containing fromOffset to the log end, with async positional
   * reads (no event-loop stall on a large log): `for await (const h of log.batchHeadersAsync(from))`.
   */
  batchHeadersAsync(fromOffset = this.logStartOffset): AsyncIterable<BatchHeader> {
    return scanHeadersAsync(this.segments.slice(), fromOffset, () => !this.closed, seg => {
      if (seg.deleted && seg.refs === 0) this.destroy(seg)
    })
  }

  /** Batch headers from the batch containing fromOffset to the log end (sync file reads; startup use). */
  batchHeaders(fromOffset = this.logStartOffset): Iterable<BatchHeader> {
    return scanHeaders(this.segments.slice(), fromOffset)
  }

  // ---------------------------------------------------------------- deletion, retention, truncation

  private destroy(seg: Segment): void {
    this.zombies.delete(seg)
    if (seg.fd < 0) return
    try {
      // A new segment may have reused the base offset (truncateFullyAndStartAt): keep its files.
      if (this.segments.some(x => x !== seg && x.baseOffset === seg.baseOffset)) seg.closeHandles()
      else seg.deleteFiles()
    } catch (error) {
      this.logger?.warn(`Could not delete ${seg.logPath}: ${(error as Error).message}`)
    }
  }

  /** Removes the oldest `n` segments (rolling first when that would take the active one). */
  private deleteOldest(n: number): number {
    if (n <= 0) return 0
    if (n >= this.segments.length) {
      if (this.active.size === 0) n = this.segments.length - 1
      else this.roll(this.logEndOffset)
    }
    const gone = this.segments.splice(0, n)
    for (const seg of gone) {
      seg.deleted = true
      if (seg.refs === 0) this.destroy(seg)
      else this.zombies.add(seg)
    }
    if (this.segments[0].baseOffset > this.logStartOffset) this.logStartOffset = this.segments[0].baseOffset
    for (const seg of gone) this.logger?.info(`Deleted log segment ${seg.logPath}`)
    return gone.length
  }

  /** DeleteRecords: raises the log start offset and deletes the segments wholly below it. */
  deleteRecordsBefore(offset: number): void {
    this.checkOpen()
    if (offset > this.logEndOffset || offset < 0) throw this.outOfRange(offset)
    if (offset <= this.logStartOffset) return
    this.logStartOffset = offset
    let n = 0
    while (n + 1 < this.segments.length && this.segments[n + 1].baseOffset <= offset) n++
    this.deleteOldest(n)
  }

  /**
   * Deletes segments by retention.ms / retention.bytes and the log start offset; returns how
   * many. Only segments wholly below `upperBound` (the high watermark) are eligible, as in Kafka.
   */
  enforceRetention(now: number, upperBound = Infinity): number {
    if (this.closed) return 0
    const endOf = (i: number): number => (i + 1 < this.segments.length ? this.segments[i + 1].baseOffset : this.logEndOffset)
    let deleted = 0
    let n = 0
    while (n + 1 < this.segments.length && this.segments[n + 1].baseOffset <= this.logStartOffset) n++
    deleted += this.deleteOldest(n)
    if (!this.config.cleanupPolicy.split(',').map(s => s.trim()).includes('delete')) return deleted
    const c = this.config
    if (c.retentionMs >= 0) {
      n = expiredByTime(this.segments, endOf, upperBound, now, c.retentionMs)
      if (n > 0) this.logger?.info(`Deleting ${n} segment(s) of ${this.name} due to retention time ${c.retentionMs}ms breach`)
      deleted += this.deleteOldest(n)
    }
    if (c.retentionBytes >= 0) {
      n = expiredBySize(this.segments, endOf, upperBound, this.size - c.retentionBytes)
      if (n > 0) this.logger?.info(`Deleting ${n} segment(s) of ${this.name} due to retention size ${c.retentionBytes} breach`)
      deleted += this.deleteOldest(n)
    }
    return deleted
  }

  /** Offsets below this were compacted by the last compact() (in memory only). */
  cleanedUpTo = 0
  private compacting = false

  /** Set by the partition: the first offset compaction must not reach (its last stable offset), and its producers (compactor.ts). */
  cleanableUpperBound: (() => number) | null = null
  activeProducers: (() => ReadonlyMap<number, ProducerLastRecord>) | null = null
  /** cleanup.policy=compact over the inactive segments below `upperBound` (see compactor.ts). */
  async compact(now = Date.now(), upperBound = Infinity, force = false): Promise<CompactionStats> {
    if (this.closed || this.compacting) return {segments: 0, bytesBefore: 0, bytesAfter: 0}
    this.compacting = true
    try {
      // A segment rolled just now may have writes queued (later appends go to the active one only).
      await this.writer?.whenDone()?.catch(() => {})
      const stable = this.cleanableUpperBound?.()
      if (stable !== undefined && stable < upperBound) upperBound = stable
      const r = await compactSegments(this, this.cleanedUpTo, upperBound, now, force, this.logger)
      if (r.cleanedUpTo > this.cleanedUpTo) this.cleanedUpTo = r.cleanedUpTo
      return r.stats
    } finally {
      this.compacting = false
    }
  }

  /** The live segments, oldest first; the last is the active one (for the compactor). */
  liveSegments(): readonly Segment[] {
    return this.segments
  }

  /** Puts a compacted segment in place of `old`; false when `old` is gone or active (for the compactor). */
  swapSegment(old: Segment, fresh: Segment): boolean {
    const idx = this.segments.indexOf(old)
    if (this.closed || idx < 0 || old === this.active) return false
    this.segments[idx] = fresh
    return true
  }

  /** Removes everything at and after `offset` (rounded down to a batch boundary). */
  truncateTo(offset: number): void {
    this.checkOpen()
    if (offset >= this.logEndOffset) return
    this.assertDrained('Truncation')
    if (offset <= this.logStartOffset || offset <= this.segments[0].baseOffset) {
      this.truncateFullyAndStartAt(Math.max(offset, 0))
      return
    }
    // Drop whole segments at or above offset.
    while (this.segments.length > 1 && this.active.baseOffset >= offset) {
      const seg = this.segments.pop()!
      seg.deleted = true
      if (seg.refs === 0) this.destroy(seg)
      else this.zombies.add(seg)
    }
    const seg = this.active
    let cutPos = seg.size
    seg.scan(seg.lookupPosition(offset), false, (buf, at, filePos) => {
      const last = readInt64(buf, at) + buf.readInt32BE(at + LAST_OFFSET_DELTA_OFFSET)
      if (last >= offset) {
        cutPos = filePos
        return false
      }
    })
    seg.closeIndexFiles()
    seg.truncateFile(cutPos)
    seg.rebuild(this.config.indexIntervalBytes, false)
    seg.openIndexFiles()
    this.logEndOffset = seg.nextOffset
    if (this.recoveryPoint > this.logEndOffset) this.recoveryPoint = this.logEndOffset
    this.writer?.reset(this.logEndOffset)
    this.trimAborted(this.logEndOffset)
    this.epochs.truncateFromEnd(this.logEndOffset)
  }

  /** Drops all data and restarts the log empty at `offset`. */
  truncateFullyAndStartAt(offset: number): void {
    this.checkOpen()
    this.assertDrained('Truncation')
    const old = this.segments
    this.segments = []
    for (const seg of old) {
      seg.deleted = true
      if (seg.refs === 0) this.destroy(seg)
      else this.zombies.add(seg)
    }
    const seg = new Segment(this.dir, offset, true)
    seg.openIndexFiles()
    this.segments.push(seg)
    this.logStartOffset = offset
    this.logEndOffset = offset
    this.recoveryPoint = offset
    this.writer?.reset(offset)
    this.epochs.clear()
  }

  // ---------------------------------------------------------------- flush / close / delete

  /**
   * fsyncs the segments holding unflushed data, then advances the recovery point. With writes
   * queued, the fsync follows them (write-queue.ts) and the appends waiting on them are answered
   * after it.
   */
  flush(): void {
    if (this.closed) return
    if (this.writer !== null && this.writer.requestFlush(this.logEndOffset)) {
      this.unflushedMessages = 0
      return
    }
    // Nothing appended since the last flush: the data is on disk already (a clean shutdown of
    // thousands of idle partitions must not fsync each one).
    const clean = this.logEndOffset <= this.recoveryPoint && this.unflushedMessages === 0
    for (const seg of this.segments) {
      if (seg.nextOffset <= this.recoveryPoint && seg !== this.active) continue
      if (seg.fd >= 0 && !clean) fs.fsyncSync(seg.fd)
      seg.closeIndexFiles()
    }
    this.recoveryPoint = this.logEndOffset
    this.unflushedMessages = 0
    this.lastFlushMs = Date.now()
  }

  /** The write queue's fsync: the segments with unflushed data, without blocking; then the recovery point. */
  private flushAsync(to: number, done: (error: Error | null) => void): void {
    const segs = this.segments.filter(seg => (seg.nextOffset > this.recoveryPoint || seg === this.active) && seg.fd >= 0)
    fsyncSegments(segs, seg => seg.deleted && seg.refs === 0 && this.destroy(seg), err => {
      if (err === null) {
        for (const seg of segs) if (!seg.deleted && seg.fd >= 0) seg.closeIndexFiles()
        if (to > this.recoveryPoint) this.recoveryPoint = Math.min(to, this.logEndOffset)
        this.lastFlushMs = Date.now()
      }
      done(err)
    })
  }

  /** fsyncs what is unflushed without blocking (a clean shutdown flushes many logs at once); close() then has nothing to fsync. */
  async flushInBackground(): Promise<void> {
    await this.drainWrites()
    const to = this.logEndOffset
    if (this.closed || (to <= this.recoveryPoint && this.unflushedMessages === 0)) return
    await new Promise<void>((resolve, reject) => this.flushAsync(to, err => err === null ? resolve() : reject(err)))
    if (this.logEndOffset === to) this.unflushedMessages = 0
  }

  /** Flush when flush.ms has elapsed (called by the LogManager's flusher). */
  maybeFlushByTime(now: number): void {
    if (this.unflushedMessages > 0 && now - this.lastFlushMs >= this.config.flushIntervalMs) this.flush()
  }

  async close(): Promise<void> {
    if (this.closed) return
    await this.drainWrites()
    if (this.closed) return
    const a = this.active
    a.maybeAppendTimeEntry(a.maxTimestamp, a.offsetOfMaxTimestamp)
    this.epochs.flushIfDirty()
    this.flush()
    this.closed = true
    await this.drain()
  }

  /** Waits for in-flight reads and background flushes, then closes every handle. */
  private async drain(): Promise<void> {
    for (const seg of [...this.segments, ...this.zombies]) await seg.idle()
    for (const seg of this.segments) seg.closeHandles()
    for (const seg of [...this.zombies]) this.destroy(seg)
  }

  /** Closes the handles without flushing or final index entries, as if the process had died. */
  async abort(): Promise<void> {
    if (this.closed) return
    this.closed = true
    await this.drainWrites()
    await this.drain()
  }

  /** Closes every handle, renames the directory to <topic>-<partition>.<uuid>-delete, then removes it. */
  async delete(): Promise<void> {
    this.closed = true
    await this.drain()
    const target = path.join(path.dirname(this.dir), `${path.basename(this.dir)}.${randomUUID().replace(/-/g, '')}-delete`)
    await renameWithRetry(this.dir, target)
    fs.rmSync(target, {recursive: true, force: true, maxRetries: 5})
  }

  get isClosed(): boolean {
    return this.closed
  }
}
