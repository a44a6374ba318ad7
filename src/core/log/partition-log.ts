// The log of one partition replica: <log.dir>/<topic>-<partition>/ holding segments in
// Apache Kafka's on-disk layout. Appends are synchronous writes of the batches exactly as
// received (only baseOffset/leader epoch patched in place, both outside the CRC); reads are
// async positional reads returning whole batches. Beside it: log-loader.ts (open, recovery),
// leader-epoch-cache.ts, compactor.ts (cleanup.policy=compact), header-scan.ts, txn-index.ts.
import * as fs from 'node:fs'
import * as path from 'node:path'
import {renameWithRetry} from '../util/fs.js'
import {acquireReadBuffer, releaseReadBuffer} from './read-pool.js'
import {randomUUID} from 'node:crypto'
import {ErrorCode, KafkaError} from '../protocol/errors.js'
import type {Logger} from '../util/log.js'
import {type BatchHeader, BATCH_HEADER_SIZE, LAST_OFFSET_DELTA_OFFSET, MIN_BATCH_LENGTH, LENGTH_OFFSET, LOG_OVERHEAD, MAX_TIMESTAMP_OFFSET,
  PARTITION_LEADER_EPOCH_OFFSET, firstRecordAtOrAfter, patchBaseOffset, patchLeaderEpoch, readInt64, setLogAppendTime} from '../protocol/record-batch.js'
import {SCAN_HEADER, Segment, readAsync} from './segment.js'
import {compactSegments, type CompactionStats} from './compactor.js'
import {loadSegments} from './log-loader.js'
import {type AbortedTxn, appendTxnIndex, collectAborted, rewriteTxnIndex} from './txn-index.js'
import {LeaderEpochCache, type EpochEntry} from './leader-epoch-cache.js'
import type {LogConfig} from './log-config.js'
import {scanHeaders, scanHeadersAsync} from './header-scan.js'

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

  get name(): string {
    return `${this.topic}-${this.partition}`
  }

  get size(): number {
    let n = 0
    for (const s of this.segments) n += s.size
    return n
  }

  get segmentCount(): number {
    return this.segments.length
  }

  /** Base offsets of the segments, oldest first (tests, tools). */
  segmentBaseOffsets(): number[] {
    return this.segments.map(s => s.baseOffset)
  }

  get leaderEpochs(): ReadonlyArray<Readonly<EpochEntry>> {
    return this.epochs.all
  }

  updateConfig(config: LogConfig): void {
    this.config = config
  }

  get logConfig(): LogConfig {
    return this.config
  }

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
    return collectAborted(this.segments, this.segmentIndexFor(fetchOffset), fetchOffset, upperBound)
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
      fs.fsync(old.fd, err => {
        old.release()
        if (!err && baseOffset > this.recoveryPoint) this.recoveryPoint = baseOffset
        if (old.deleted && old.refs === 0) this.destroy(old)
      })
    }
  }

  /** Writes the batches to the active segment, then updates its indexes per batch as Kafka does. */
  private writeToActive(records: Buffer, firstOffset: number, lastOffset: number): void {
    const seg = this.active
    const position = seg.size
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
    if (position === 0) seg.rollingBaseTs = readInt64(records, MAX_TIMESTAMP_OFFSET)
    // Sparse index entries (batch last offset -> batch position) every index.interval.bytes.
    const interval = this.config.indexIntervalBytes
    let pos = 0
    while (pos < records.length) {
      const size = records.readInt32BE(pos + LENGTH_OFFSET) + LOG_OVERHEAD
      const batchLast = readInt64(records, pos) + records.readInt32BE(pos + LAST_OFFSET_DELTA_OFFSET)
      const batchMaxTs = readInt64(records, pos + MAX_TIMESTAMP_OFFSET)
      if (batchMaxTs > seg.maxTimestamp) {
        seg.maxTimestamp = batchMaxTs
        seg.offsetOfMaxTimestamp = batchLast
      }
      if (seg.bytesSinceIndex > interval) {
        seg.appendOffsetEntry(batchLast, position + pos)
        seg.maybeAppendTimeEntry(seg.maxTimestamp, seg.offsetOfMaxTimestamp)
        seg.bytesSinceIndex = 0
      }
      seg.bytesSinceIndex += size
      pos += size
    }
    seg.size += records.length
    seg.nextOffset = lastOffset + 1
    seg.hintOffset = firstOffset
    seg.hintPos = position
    this.logEndOffset = lastOffset + 1
  }

  private afterAppend(count: number): void {
    this.unflushedMessages += count
    if (this.unflushedMessages >= this.config.flushIntervalMessages) this.flush()
  }

  /** Size of the batch at pos; throws CORRUPT_MESSAGE if it is not whole (callers validate first). */
  private checkFraming(records: Buffer, pos: number): number {
    if (records.length - pos < BATCH_HEADER_SIZE) throw new KafkaError(ErrorCode.CORRUPT_MESSAGE, `Trailing ${records.length - pos} bytes are not a whole record batch`)
    const size = records.readInt32BE(pos + LENGTH_OFFSET) + LOG_OVERHEAD
    if (size < BATCH_HEADER_SIZE || pos + size > records.length) throw new KafkaError(ErrorCode.CORRUPT_MESSAGE, `Record batch at byte ${pos} has an invalid size ${size}`)
    return size
  }

  /**
   * Appends batches already checked by validateBatches: assigns offsets from the log end by
   * patching each batch's baseOffset in place, stamps the leader epoch (and LogAppendTime
   * when configured). Synchronous; rolls segments by size/time/index/offset range.
   */
  append(records: Buffer, leaderEpoch: number, now = Date.now()): AppendInfo {
    this.checkOpen()
    const firstOffset = this.logEndOffset
    const logAppend = this.config.messageTimestampType === 'LogAppendTime'
    let next = firstOffset
    let pos = 0
    let maxTs = -1
    let offsetOfMaxTs = firstOffset
    while (pos < records.length) {
      const size = this.checkFraming(records, pos)
      const lastDelta = records.readInt32BE(pos + LAST_OFFSET_DELTA_OFFSET)
      patchBaseOffset(records, pos, next)
      patchLeaderEpoch(records, pos, leaderEpoch)
      if (logAppend) setLogAppendTime(records, pos, now)
      const ts = readInt64(records, pos + MAX_TIMESTAMP_OFFSET)
      if (ts > maxTs) {
        maxTs = ts
        offsetOfMaxTs = next + lastDelta
      }
      next += lastDelta + 1
      pos += size
    }
    if (next === firstOffset) throw new KafkaError(ErrorCode.CORRUPT_MESSAGE, 'No record batch to append')
    const lastOffset = next - 1
    this.maybeRoll(records.length, firstOffset, lastOffset, maxTs, now)
    this.epochs.assign(leaderEpoch, firstOffset)
    this.writeToActive(records, firstOffset, lastOffset)
    this.afterAppend(lastOffset - firstOffset + 1)
    return {baseOffset: firstOffset, lastOffset, logAppendTime: logAppend ? now : -1, maxTimestamp: logAppend ? now : maxTs, offsetOfMaxTimestamp: logAppend ? firstOffset : offsetOfMaxTs}
  }

  /** Appends batches whose offsets were assigned by the leader (replication): they must continue the log. */
  appendAsFollower(records: Buffer, now = Date.now()): AppendInfo {
    this.checkOpen()
    let pos = 0
    let expected = this.logEndOffset
    let firstOffset = -1
    let maxTs = -1
    let offsetOfMaxTs = -1
    let lastEpoch = -1
    while (pos < records.length) {
      const size = this.checkFraming(records, pos)
      const base = readInt64(records, pos)
      const last = base + records.readInt32BE(pos + LAST_OFFSET_DELTA_OFFSET)
      if (base < expected) throw new KafkaError(ErrorCode.OFFSET_OUT_OF_RANGE, `Out of order offsets in an append to ${this.name}: batch at ${base} but the log end is ${expected}`)
      if (firstOffset < 0) firstOffset = base
      const ts = readInt64(records, pos + MAX_TIMESTAMP_OFFSET)
      if (ts > maxTs) {
        maxTs = ts
        offsetOfMaxTs = last
      }
      const epoch = records.readInt32BE(pos + PARTITION_LEADER_EPOCH_OFFSET)
      if (epoch > lastEpoch) {
        this.assignEpochLater(epoch, base)
        lastEpoch = epoch
      }
      expected = last + 1
      pos += size
    }
    if (firstOffset < 0) throw new KafkaError(ErrorCode.CORRUPT_MESSAGE, 'No record batch to append')
    const lastOffset = expected - 1
    this.maybeRoll(records.length, firstOffset, lastOffset, maxTs, now)
    if (this.active.size === 0 && this.active.baseOffset !== firstOffset) this.roll(firstOffset)
    for (const e of this.pendingEpochs) this.epochs.assign(e.epoch, e.startOffset)
    this.pendingEpochs = []
    this.writeToActive(records, firstOffset, lastOffset)
    this.afterAppend(lastOffset - firstOffset + 1)
    return {baseOffset: firstOffset, lastOffset, logAppendTime: -1, maxTimestamp: maxTs, offsetOfMaxTimestamp: offsetOfMaxTs}
  }

  private pendingEpochs: EpochEntry[] = []
  private assignEpochLater(epoch: number, startOffset: number): void {
    this.pendingEpochs.push({epoch, startOffset})
  }

  // ---------------------------------------------------------------- reads

  private segmentIndexFor(offset: number): number {
    const s = this.segments
    let lo = 0
    let hi = s.length - 1
    let found = 0
    while (lo <= hi) {
      const mid = (lo + hi) >>> 1
      if (s[mid].baseOffset <= offset) {
        found = mid
        lo = mid + 1
      } else hi = mid - 1
    }
    return found
  }

  private outOfRange(offset: number): KafkaError {
    return new KafkaError(ErrorCode.OFFSET_OUT_OF_RANGE, `Received request for offset ${offset} for partition ${this.name}, but we only have log segments in the range ${this.logStartOffset} to ${this.logEndOffset}.`)
  }

  /**
   * Position of the first batch in seg whose last offset >= offset (below `limit`), or -1,
   * with the bytes already read from that position (`ahead`, possibly empty) so a read that
   * lands on the hinted batch needs a single positional read.
   */
  private async locate(seg: Segment, offset: number, limit: number, firstWindow: number): Promise<{pos: number; ahead: Buffer}> {
    let pos = seg.lookupPosition(offset)
    let win = Buffer.allocUnsafe(Math.min(Math.max(firstWindow, SCAN_HEADER), Math.max(limit - pos, SCAN_HEADER)))
    let winStart = 0
    let winLen = 0
    const none = {pos: -1, ahead: win.subarray(0, 0)}
    while (pos + SCAN_HEADER <= limit) {
      if (pos < winStart || pos + SCAN_HEADER > winStart + winLen) {
        if (winLen > 0 && win.length < 64 * 1024) win = Buffer.allocUnsafe(Math.min(64 * 1024, limit - pos))
        winStart = pos
        winLen = await readAsync(seg.fd, win, 0, Math.min(win.length, limit - pos), pos)
        if (winLen < SCAN_HEADER) return none
      }
      const at = pos - winStart
      const length = win.readInt32BE(at + LENGTH_OFFSET)
      if (length < MIN_BATCH_LENGTH) return none
      const last = readInt64(win, at) + win.readInt32BE(at + LAST_OFFSET_DELTA_OFFSET)
      if (last >= offset) return {pos, ahead: win.subarray(at, winLen)}
      pos += length + LOG_OVERHEAD
    }
    return none
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
    for (let i = this.segmentIndexFor(fetchOffset); i < this.segments.length; i++) {
      const seg = this.segments[i]
      if (seg.fd < 0) continue
      seg.acquire()
      try {
        const limit = seg.size
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
        return this.remember(seg, buf, cut, start + cut)
      } finally {
        seg.release()
        if (seg.deleted && seg.refs === 0) this.destroy(seg)
      }
    }
    return empty
  }

  private async locateSafe(seg: Segment, offset: number, limit: number, firstWindow = 8192): Promise<{pos: number; ahead: Buffer}> {
    try {
      return await this.locate(seg, offset, limit, firstWindow)
    } catch (error) {
      if (seg.deleted || this.closed) return {pos: -1, ahead: Buffer.alloc(0)}
      throw new KafkaError(ErrorCode.KAFKA_STORAGE_ERROR, `Error reading ${seg.logPath}: ${(error as Error).message}`)
    }
  }

  /** Records the boundary after the returned data as a scan hint for the next sequential read. */
  private remember(seg: Segment, buf: Buffer, cut: number, nextPos: number): ReadResult {
    // Find the last batch header in buf[0, cut) to learn the next offset.
    let at = 0
    let nextOffset = -1
    while (at < cut) {
      const size = buf.readInt32BE(at + LENGTH_OFFSET) + LOG_OVERHEAD
      nextOffset = readInt64(buf, at) + buf.readInt32BE(at + LAST_OFFSET_DELTA_OFFSET) + 1
      at += size
    }
    if (nextPos < seg.size && nextOffset > seg.hintOffset && nextPos > seg.hintPos) {
      seg.hintOffset = nextOffset
      seg.hintPos = nextPos
    }
    return {records: [cut === buf.length ? buf : buf.subarray(0, cut)], bytes: cut}
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
        const limit = seg.size
        let pos = (await this.locateSafe(seg, fromOffset, limit)).pos
        if (pos < 0) continue
        const header = Buffer.allocUnsafe(SCAN_HEADER + 8 + 8)
        while (pos + SCAN_HEADER <= limit) {
          const n = await readAsync(seg.fd, header, 0, MAX_TIMESTAMP_OFFSET + 8, pos)
          if (n < MAX_TIMESTAMP_OFFSET + 8) break
          const size = header.readInt32BE(LENGTH_OFFSET) + LOG_OVERHEAD
          if (readInt64(header, MAX_TIMESTAMP_OFFSET) >= ts) {
            const batch = Buffer.allocUnsafe(size)
            if ((await readAsync(seg.fd, batch, 0, size, pos)) < size) break
            const found = firstRecordAtOrAfter(batch, 0, ts)
            if (found) {
              if (found.offset < this.logStartOffset) found.offset = this.logStartOffset
              return found
            }
          }
          pos += size
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
      n = 0
      for (const seg of this.segments) {
        if ((seg.size === 0 && seg === this.active) || endOf(n) > upperBound) break
        const largest = seg.maxTimestamp >= 0 ? seg.maxTimestamp : fs.fstatSync(seg.fd).mtimeMs
        if (now - largest > c.retentionMs) n++
        else break
      }
      if (n > 0) this.logger?.info(`Deleting ${n} segment(s) of ${this.name} due to retention time ${c.retentionMs}ms breach`)
      deleted += this.deleteOldest(n)
    }
    if (c.retentionBytes >= 0) {
      let diff = this.size - c.retentionBytes
      n = 0
      for (const seg of this.segments) {
        if ((seg.size === 0 && seg === this.active) || diff - seg.size < 0 || endOf(n) > upperBound) break
        diff -= seg.size
        n++
      }
      if (n > 0) this.logger?.info(`Deleting ${n} segment(s) of ${this.name} due to retention size ${c.retentionBytes} breach`)
      deleted += this.deleteOldest(n)
    }
    return deleted
  }

  /** Offsets below this were compacted by the last compact() (in memory only). */
  cleanedUpTo = 0
  private compacting = false

  /** The first offset compaction must not reach (the partition's last stable offset), set by the partition. */
  cleanableUpperBound: (() => number) | null = null

  /** cleanup.policy=compact over the inactive segments below `upperBound` (see compactor.ts). */
  async compact(now = Date.now(), upperBound = Infinity, force = false): Promise<CompactionStats> {
    if (this.closed || this.compacting) return {segments: 0, bytesBefore: 0, bytesAfter: 0}
    this.compacting = true
    try {
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
    this.trimAborted(this.logEndOffset)
    this.epochs.truncateFromEnd(this.logEndOffset)
  }

  /** Drops all data and restarts the log empty at `offset`. */
  truncateFullyAndStartAt(offset: number): void {
    this.checkOpen()
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
    this.epochs.clear()
  }

  // ---------------------------------------------------------------- flush / close / delete

  /** fsyncs the segments holding unflushed data, then advances the recovery point. */
  flush(): void {
    if (this.closed) return
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

  /** Flush when flush.ms has elapsed (called by the LogManager's flusher). */
  maybeFlushByTime(now: number): void {
    if (this.unflushedMessages > 0 && now - this.lastFlushMs >= this.config.flushIntervalMs) this.flush()
  }

  async close(): Promise<void> {
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
