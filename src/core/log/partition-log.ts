// The log of one partition replica: <log.dir>/<topic>-<partition>/ holding segments in
// Apache Kafka's on-disk layout, plus leader-epoch-checkpoint. Appends are synchronous
// writes of the batches exactly as received (only baseOffset/leader epoch patched in place,
// both outside the CRC); reads are async positional reads returning whole batches.
import * as fs from 'node:fs'
import * as path from 'node:path'
import {ensureDir} from '../util/fs.js'
import {acquireReadBuffer, releaseReadBuffer} from './read-pool.js'
import {randomUUID} from 'node:crypto'
import {ErrorCode, KafkaError} from '../protocol/errors.js'
import type {Logger} from '../util/log.js'
import {
  type BatchHeader, BATCH_HEADER_SIZE, LAST_OFFSET_DELTA_OFFSET, MIN_BATCH_LENGTH, LENGTH_OFFSET, LOG_OVERHEAD, MAX_TIMESTAMP_OFFSET,
  PARTITION_LEADER_EPOCH_OFFSET, ATTRIBUTES_OFFSET, CONTROL_MASK, TRANSACTIONAL_MASK, PRODUCER_ID_OFFSET, firstRecordAtOrAfter, patchBaseOffset, patchLeaderEpoch, readBatchHeader, readInt64,
  setLogAppendTime,
} from '../protocol/record-batch.js'
import {SCAN_HEADER, Segment, readAsync, writeAll} from './segment.js'
import {filterBatch, forEachRecord, uncompressedView, recompressBatch} from './cleaner.js'
import {type AbortedTxn, encodeAbortedTxn, readTxnIndex, writeTxnIndex} from './txn-index.js'

export interface LogConfig {
  segmentBytes: number
  segmentMs: number
  segmentJitterMs?: number
  retentionMs: number
  retentionBytes: number
  indexIntervalBytes: number
  /** segment.index.bytes (10485760) */
  maxIndexSizeBytes: number
  flushIntervalMessages: number
  flushIntervalMs: number
  fileDeleteDelayMs: number
  messageTimestampType: 'CreateTime' | 'LogAppendTime'
  maxMessageBytes: number
  cleanupPolicy: string
  /** delete.retention.ms (compacted topics keep tombstones this long); default 86400000 */
  deleteRetentionMs?: number
  /** min.compaction.lag.ms; default 0 */
  minCompactionLagMs?: number
  /** min.cleanable.dirty.ratio; default 0.5 */
  minCleanableDirtyRatio?: number
}

export const defaultLogConfig: LogConfig = {
  segmentBytes: 1073741824,
  segmentMs: 604800000,
  segmentJitterMs: 0,
  retentionMs: 604800000,
  retentionBytes: -1,
  indexIntervalBytes: 4096,
  maxIndexSizeBytes: 10485760,
  flushIntervalMessages: Number.MAX_SAFE_INTEGER,
  flushIntervalMs: Number.MAX_SAFE_INTEGER,
  fileDeleteDelayMs: 60000,
  messageTimestampType: 'CreateTime',
  maxMessageBytes: 1048588,
  cleanupPolicy: 'delete',
}

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

export const LEADER_EPOCH_CHECKPOINT = 'leader-epoch-checkpoint'
const MAX_REL_OFFSET = 0x7fffffff

interface EpochEntry {
  epoch: number
  startOffset: number
}

/** Parses "<topic>-<partition>" directory names (topic names may contain '-'). */
export function parseLogDirName(name: string): {topic: string; partition: number} | null {
  const m = /^(.+)-(\d+)$/.exec(name)
  if (!m) return null
  return {topic: m[1], partition: Number(m[2])}
}

/**
 * Renames, retrying briefly on EPERM/EACCES/EBUSY: on Windows a virus scanner or indexer may
 * hold a just-closed file for a moment. A missing source is not an error.
 */
export async function renameWithRetry(from: string, to: string): Promise<void> {
  for (let attempt = 0; ; attempt++) {
    try {
      fs.renameSync(from, to)
      return
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code
      if (code === 'ENOENT') return
      if (attempt >= 10 || (code !== 'EPERM' && code !== 'EACCES' && code !== 'EBUSY')) throw error
      await new Promise(r => setTimeout(r, 20 * (attempt + 1)))
    }
  }
}

export class PartitionLog {
  logStartOffset = 0
  logEndOffset = 0
  /** Offsets below this are known flushed to disk. */
  recoveryPoint = 0
  lastFlushMs = Date.now()
  private unflushedMessages = 0
  private segments: Segment[] = []
  private epochs: EpochEntry[] = []
  private closed = false
  /** Segments removed from the log whose files wait for in-flight reads/flushes to finish. */
  private readonly zombies = new Set<Segment>()
  private readonly logger?: Logger

  private constructor(readonly dir: string, readonly topic: string, readonly partition: number, private config: LogConfig, logger?: Logger) {
    this.logger = logger
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
    return this.epochs
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
    const seg = this.active
    seg.aborted.push(t)
    try {
      fs.appendFileSync(seg.txnIndexPath, encodeAbortedTxn(t))
    } catch (error) {
      this.logger?.warn(`Could not write ${seg.txnIndexPath}: ${(error as Error).message}`)
    }
  }

  /**
   * The aborted transactions a read_committed fetch from `fetchOffset` must know about when it
   * returns data below `upperBound`: those whose marker is at or after fetchOffset and that began
   * below upperBound (Kafka's collectAbortedTransactions).
   */
  collectAbortedTxns(fetchOffset: number, upperBound: number): AbortedTxn[] {
    const out: AbortedTxn[] = []
    for (let i = this.segmentIndexFor(fetchOffset); i < this.segments.length; i++) {
      const seg = this.segments[i]
      for (const t of seg.aborted) {
        if (t.lastOffset >= fetchOffset && t.firstOffset < upperBound) out.push(t)
      }
      if (seg.aborted.length > 0 && seg.aborted[seg.aborted.length - 1].lastStableOffset >= upperBound) break
    }
    return out
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
      try {
        writeTxnIndex(seg.txnIndexPath, kept)
      } catch (error) {
        this.logger?.warn(`Could not write ${seg.txnIndexPath}: ${(error as Error).message}`)
      }
    }
  }

  private get active(): Segment {
    return this.segments[this.segments.length - 1]
  }

  // ---------------------------------------------------------------- loading / recovery

  private async load(opts: OpenOptions): Promise<void> {
    ensureDir(this.dir)
    // A compaction swap interrupted after its .swap file was complete: finish it.
    for (const name of fs.readdirSync(this.dir)) {
      const m = /^(\d{20}\.log)\.swap$/.exec(name)
      if (m) fs.renameSync(path.join(this.dir, name), path.join(this.dir, m[1]))
    }
    const names = fs.readdirSync(this.dir)
    const bases: number[] = []
    for (const name of names) {
      if (/\.(deleted|cleaned|swap)$/.test(name) || name.endsWith('.tmp')) {
        fs.rmSync(path.join(this.dir, name), {force: true})
        continue
      }
      const m = /^(\d{20})\.log$/.exec(name)
      if (m) bases.push(Number(m[1]))
    }
    // Index files whose log file is gone.
    for (const name of names) {
      const m = /^(\d{20})\.(index|timeindex|txnindex)$/.exec(name)
      if (m && !bases.includes(Number(m[1]))) fs.rmSync(path.join(this.dir, name), {force: true})
    }
    bases.sort((a, b) => a - b)
    const clean = opts.clean ?? false
    const recoveryPoint = opts.recoveryPoint ?? 0
    const interval = this.config.indexIntervalBytes
    let truncatedAt = -1
    for (let i = 0; i < bases.length; i++) {
      const seg = new Segment(this.dir, bases[i], false)
      if (truncatedAt >= 0) {
        // Everything after a corrupt tail is dropped.
        this.logger?.warn(`Deleting segment ${seg.logPath} after a corrupt tail in ${this.name}`)
        seg.deleteFiles()
        continue
      }
      this.segments.push(seg)
      seg.aborted = readTxnIndex(seg.txnIndexPath)
      const nextBase = i + 1 < bases.length ? bases[i + 1] : Infinity
      const needsRecovery = !clean && nextBase > recoveryPoint
      if (needsRecovery || !seg.loadIndexes()) {
        const res = await seg.rebuildAsync(interval, needsRecovery)
        if (res.corrupt) {
          this.logger?.warn(`Found invalid bytes at position ${res.validEnd} in ${seg.logPath} (${res.reason}); truncating the log ${this.name} to offset ${seg.nextOffset}`)
          truncatedAt = seg.nextOffset
        } else if (needsRecovery) {
          this.logger?.debug(`Recovered segment ${seg.logPath} of ${this.name}: ${seg.nextOffset - seg.baseOffset} offsets`)
        }
        seg.writeIndexFiles()
      } else {
        seg.nextOffset = i + 1 < bases.length ? bases[i + 1] : seg.baseOffset
        if (i === bases.length - 1) this.scanTail(seg)
      }
    }
    if (this.segments.length === 0) {
      const start = opts.logStartOffset ?? 0
      this.segments.push(new Segment(this.dir, start, true))
    } else {
      // The active segment's first batch drives time-based rolling.
      const a = this.active
      if (a.rollingBaseTs < 0 && a.size >= SCAN_HEADER) {
        a.scan(0, false, (buf, at) => {
          a.rollingBaseTs = readInt64(buf, at + MAX_TIMESTAMP_OFFSET)
          return false
        })
      }
    }
    this.logEndOffset = this.active.nextOffset
    this.trimAborted(this.logEndOffset)
    this.logStartOffset = Math.max(opts.logStartOffset ?? 0, this.segments[0].baseOffset)
    if (this.logStartOffset > this.logEndOffset) this.logStartOffset = this.logEndOffset
    this.recoveryPoint = this.logEndOffset
    this.active.openIndexFiles()
    this.active.rollJitterMs = this.jitter()
    this.loadEpochs()
  }

  /** Clean open of the last segment: scan headers from the last index entry to find the end. */
  private scanTail(seg: Segment): void {
    const e = seg.offsetIndex
    let from = 0
    if (e.count > 0) {
      const at = (e.count - 1) * 8
      from = e.buf.readInt32BE(at + 4)
      seg.nextOffset = seg.baseOffset + e.buf.readInt32BE(at) + 1
    }
    let sinceIndex = 0
    const res = seg.scan(from, false, (buf, at, _filePos, size) => {
      const last = readInt64(buf, at) + buf.readInt32BE(at + LAST_OFFSET_DELTA_OFFSET)
      const maxTs = readInt64(buf, at + MAX_TIMESTAMP_OFFSET)
      if (maxTs > seg.maxTimestamp) {
        seg.maxTimestamp = maxTs
        seg.offsetOfMaxTimestamp = last
      }
      seg.nextOffset = last + 1
      sinceIndex += size
    })
    if (res.corrupt) seg.truncateFile(res.validEnd)
    seg.bytesSinceIndex = sinceIndex
  }

  private jitter(): number {
    const j = this.config.segmentJitterMs ?? 0
    return j > 0 ? Math.floor(Math.random() * Math.min(j, this.config.segmentMs)) : 0
  }

  private loadEpochs(): void {
    const file = path.join(this.dir, LEADER_EPOCH_CHECKPOINT)
    let text: string
    try {
      text = fs.readFileSync(file, 'utf8')
    } catch {
      return
    }
    const lines = text.split(/\r?\n/).filter(l => l.trim() !== '')
    if (lines[0]?.trim() !== '0') {
      this.logger?.warn(`Ignoring ${file}: unknown version line '${lines[0] ?? ''}'`)
      return
    }
    const count = Number(lines[1])
    const entries: EpochEntry[] = []
    for (let i = 0; i < count && i + 2 < lines.length; i++) {
      const [e, o] = lines[i + 2].trim().split(/\s+/).map(Number)
      if (Number.isInteger(e) && Number.isInteger(o)) entries.push({epoch: e, startOffset: o})
    }
    const kept = entries.filter(x => x.startOffset < this.logEndOffset || (x.startOffset === this.logEndOffset && x === entries[entries.length - 1]))
    this.epochs = kept
    if (kept.length !== entries.length) this.writeEpochs()
  }

  private writeEpochs(): void {
    const file = path.join(this.dir, LEADER_EPOCH_CHECKPOINT)
    const body = `0\n${this.epochs.length}\n` + this.epochs.map(e => `${e.epoch} ${e.startOffset}\n`).join('')
    const tmp = file + '.tmp'
    try {
      fs.writeFileSync(tmp, body)
      fs.renameSync(tmp, file)
    } catch (error) {
      // The in-memory cache stays right; the file is rewritten at the next epoch change or close.
      this.epochsDirty = true
      this.logger?.warn(`Could not write ${file}: ${(error as Error).message}`)
    }
  }

  private epochsDirty = false

  private assignEpoch(epoch: number, startOffset: number): void {
    if (epoch < 0) return
    const last = this.epochs[this.epochs.length - 1]
    if (last && last.epoch >= epoch) return
    this.epochs.push({epoch, startOffset})
    this.writeEpochs()
  }

  /** The end offset of `epoch` (OffsetForLeaderEpoch): start of the next epoch, or the log end. */
  endOffsetForEpoch(epoch: number): {epoch: number; endOffset: number} {
    let found = -1
    for (let i = 0; i < this.epochs.length; i++) if (this.epochs[i].epoch <= epoch) found = i
    if (found < 0) return {epoch: -1, endOffset: -1}
    const next = this.epochs[found + 1]
    return {epoch: this.epochs[found].epoch, endOffset: next ? next.startOffset : this.logEndOffset}
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
    this.assignEpoch(leaderEpoch, firstOffset)
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
    for (const e of this.pendingEpochs) this.assignEpoch(e.epoch, e.startOffset)
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
    let timestamp = -1
    let offset = -1
    for (const seg of this.segments) {
      if (seg.size > 0 && seg.maxTimestamp > timestamp) {
        timestamp = seg.maxTimestamp
        offset = seg.offsetOfMaxTimestamp
      }
    }
    return {timestamp, offset}
  }

  /**
   * Like batchHeaders, with async positional reads (no event-loop stall on a large log):
   * `for await (const h of log.batchHeadersAsync(from))`. Large batches are skipped by
   * reading only their headers.
   */
  async *batchHeadersAsync(fromOffset = this.logStartOffset): AsyncIterable<BatchHeader> {
    const segs = this.segments.slice()
    const WINDOW = 256 * 1024
    const win = Buffer.allocUnsafe(WINDOW)
    for (let i = 0; i < segs.length; i++) {
      const seg = segs[i]
      const next = segs[i + 1]
      if ((next && next.baseOffset <= fromOffset) || seg.fd < 0 || seg.deleted) continue
      let pos = seg.baseOffset <= fromOffset ? seg.lookupPosition(fromOffset) : 0
      let winStart = 0
      let winLen = 0
      let lastSize = 0
      while (!this.closed && !seg.deleted && seg.fd >= 0) {
        const limit = seg.size
        if (pos + BATCH_HEADER_SIZE > limit) break
        if (pos < winStart || pos + BATCH_HEADER_SIZE > winStart + winLen) {
          seg.acquire()
          try {
            winStart = pos
            // After a large batch, read just the next header; small batches come in windows.
            winLen = await readAsync(seg.fd, win, 0, Math.min(lastSize > 16384 ? BATCH_HEADER_SIZE : WINDOW, limit - pos), pos)
          } finally {
            seg.release()
            if (seg.deleted && seg.refs === 0) this.destroy(seg)
          }
          if (winLen < BATCH_HEADER_SIZE) break
        }
        const at = pos - winStart
        const h = readBatchHeader(win, at)
        if (h.batchLength < MIN_BATCH_LENGTH) break
        lastSize = h.batchLength + LOG_OVERHEAD
        pos += lastSize
        if (h.baseOffset + h.lastOffsetDelta >= fromOffset) yield h
      }
    }
  }

  /** Batch headers from the batch containing fromOffset to the log end (sync file reads; startup use). */
  *batchHeaders(fromOffset = this.logStartOffset): Iterable<BatchHeader> {
    const segs = this.segments.slice()
    for (let i = 0; i < segs.length; i++) {
      const seg = segs[i]
      const next = segs[i + 1]
      if (next && next.baseOffset <= fromOffset) continue
      if (seg.fd < 0) continue
      const headers: BatchHeader[] = []
      seg.acquire()
      try {
        const startPos = seg.baseOffset <= fromOffset ? seg.lookupPosition(fromOffset) : 0
        seg.scan(startPos, false, (buf, at) => {
          const h = readBatchHeader(buf, at)
          if (h.baseOffset + h.lastOffsetDelta >= fromOffset) headers.push(h)
          if (headers.length >= 4096) return false
        })
      } finally {
        seg.release()
      }
      // Yield outside the reference (a consumer may stop early); large segments come in chunks.
      let last = -1
      while (headers.length > 0) {
        for (const h of headers) {
          last = h.baseOffset + h.lastOffsetDelta
          yield h
        }
        headers.length = 0
        if (seg.fd < 0 || seg.deleted) break
        seg.acquire()
        try {
          const from = last + 1
          const p = seg.lookupPosition(from)
          seg.scan(p, false, (buf, at) => {
            const h = readBatchHeader(buf, at)
            if (h.baseOffset + h.lastOffsetDelta >= from) headers.push(h)
            if (headers.length >= 4096) return false
          })
        } finally {
          seg.release()
        }
      }
    }
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

  /**
   * cleanup.policy=compact, as Kafka's cleaner does it: keeps the latest record of each key in
   * the inactive segments below `upperBound` (the high watermark) and below the last stable
   * offset; compressed batches are filtered and compressed again with their codec; the data of
   * aborted transactions is removed (and never counts as a key's latest record); a COMMIT/ABORT
   * marker is removed once no data of its transaction is left and its segment is older than
   * delete.retention.ms, as tombstones are. Runs when the dirty share of those segments reaches
   * min.cleanable.dirty.ratio (always with force). Each segment is rewritten to
   * <base>.log.cleaned, renamed to .log.swap, then over the .log once no read holds it.
   */
  async compact(now = Date.now(), upperBound = Infinity, force = false): Promise<{segments: number; bytesBefore: number; bytesAfter: number}> {
    const stats = {segments: 0, bytesBefore: 0, bytesAfter: 0}
    if (this.closed || this.compacting) return stats
    this.compacting = true
    try {
      const c = this.config
      const lag = c.minCompactionLagMs ?? 0
      const stable = this.cleanableUpperBound?.()
      if (stable !== undefined && stable < upperBound) upperBound = stable
      const segs: Segment[] = []
      let dirtyEnd = this.cleanedUpTo
      let dirtyBytes = 0
      let totalBytes = 0
      for (let i = 0; i + 1 < this.segments.length; i++) {
        const seg = this.segments[i]
        const end = this.segments[i + 1].baseOffset
        if (end > upperBound) break
        if (lag > 0 && seg.maxTimestamp > now - lag) break
        segs.push(seg)
        totalBytes += seg.size
        if (end > this.cleanedUpTo) dirtyBytes += seg.size
        dirtyEnd = end
      }
      if (segs.length === 0 || totalBytes === 0) return stats
      if (!force && dirtyBytes / totalBytes < (c.minCleanableDirtyRatio ?? 0.5)) return stats
      // Aborted transactions (from every .txnindex): producer id -> [first, last] offset ranges.
      const abortedRanges = new Map<number, Array<[number, number]>>()
      for (const seg of this.segments) {
        for (const t of seg.aborted) {
          let l = abortedRanges.get(t.producerId)
          if (!l) abortedRanges.set(t.producerId, l = [])
          l.push([t.firstOffset, t.lastOffset])
        }
      }
      const isAborted = (buf: Buffer, at: number): boolean => {
        const l = abortedRanges.get(readInt64(buf, at + PRODUCER_ID_OFFSET))
        if (!l) return false
        const base = readInt64(buf, at)
        return l.some(([first, last]) => base >= first && base <= last)
      }
      // Latest offset of every key in the cleanable range (aborted data does not count).
      const latest = new Map<string, number>()
      for (const seg of segs) {
        if (seg.fd < 0 || seg.deleted) continue
        seg.acquire()
        try {
          seg.scan(0, true, (buf, at) => {
            const attributes = buf.readInt16BE(at + ATTRIBUTES_OFFSET)
            if ((attributes & CONTROL_MASK) !== 0) return
            if ((attributes & TRANSACTIONAL_MASK) !== 0 && isAborted(buf, at)) return
            const view = uncompressedView(buf, at)
            if (view === null) return
            forEachRecord(view.buf, view.at, r => {
              if (r.key !== null) latest.set(r.key, r.offset)
            })
          })
        } finally {
          seg.release()
        }
        await new Promise(r => setImmediate(r))
      }
      const tombstoneHorizon = now - (c.deleteRetentionMs ?? 86400000)
      // Per producer: whether a batch of its current transaction was kept (markers of
      // transactions with nothing left may go).
      const txnKept = new Map<number, boolean>()
      for (const seg of segs) {
        if (this.closed || !this.segments.includes(seg) || seg === this.active || seg.fd < 0) continue
        const cleanedPath = seg.logPath + '.cleaned'
        const dropTombstones = seg.maxTimestamp >= 0 && seg.maxTimestamp < tombstoneHorizon
        const out = fs.openSync(cleanedPath, 'w')
        let written = 0
        seg.acquire()
        try {
          const res = seg.scan(0, true, (buf, at, _filePos, size) => {
            let part: Buffer
            const attributes = buf.readInt16BE(at + ATTRIBUTES_OFFSET)
            const pid = readInt64(buf, at + PRODUCER_ID_OFFSET)
            const txn = (attributes & TRANSACTIONAL_MASK) !== 0
            if ((attributes & CONTROL_MASK) !== 0) {
              const kept = txnKept.get(pid) === true
              txnKept.delete(pid)
              if (!kept && dropTombstones) return
              part = buf.subarray(at, at + size)
            } else if (txn && isAborted(buf, at)) {
              if (!txnKept.has(pid)) txnKept.set(pid, false)
              return
            } else {
              if (txn && !txnKept.has(pid)) txnKept.set(pid, false)
              const view = uncompressedView(buf, at)
              if (view === null) part = buf.subarray(at, at + size) // undecodable: keep as it is
              else {
                const f = filterBatch(view.buf, view.at, r => r.key === null || (latest.get(r.key) === r.offset && !(r.tombstone && dropTombstones)))
                if (f === null) return
                part = f === 'all' ? buf.subarray(at, at + size) : recompressBatch(f, view.codec)
              }
              if (txn) txnKept.set(pid, true)
            }
            writeAll(out, part, 0, part.length, written)
            written += part.length
          })
          if (res.corrupt) written = -1 // never replace a segment we could not read whole
          if (written >= 0 && written < seg.size) fs.fsyncSync(out)
        } finally {
          fs.closeSync(out)
          seg.release()
        }
        if (written < 0 || written >= seg.size) {
          fs.rmSync(cleanedPath, {force: true})
          continue
        }
        while (seg.refs > 0) await seg.idle()
        const idx = this.segments.indexOf(seg)
        if (this.closed || idx < 0 || seg === this.active) {
          fs.rmSync(cleanedPath, {force: true})
          continue
        }
        // No await from here on: reads cannot interleave with the swap.
        const before = seg.size
        seg.closeHandles()
        const swap = seg.logPath + '.swap'
        fs.renameSync(cleanedPath, swap)
        fs.rmSync(seg.indexPath, {force: true})
        fs.rmSync(seg.timeIndexPath, {force: true})
        fs.renameSync(swap, seg.logPath)
        const fresh = new Segment(this.dir, seg.baseOffset, false)
        fresh.aborted = seg.aborted
        fresh.rebuild(c.indexIntervalBytes, false)
        fresh.writeIndexFiles()
        this.segments[idx] = fresh
        stats.segments++
        stats.bytesBefore += before
        stats.bytesAfter += fresh.size
        await new Promise(r => setImmediate(r))
      }
      if (dirtyEnd > this.cleanedUpTo) this.cleanedUpTo = dirtyEnd
      if (stats.segments > 0) this.logger?.info(`Cleaned ${stats.segments} segment(s) of ${this.name}: ${stats.bytesBefore} -> ${stats.bytesAfter} bytes`)
      return stats
    } finally {
      this.compacting = false
    }
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
    this.truncateEpochs()
  }

  private truncateEpochs(): void {
    const before = this.epochs.length
    this.epochs = this.epochs.filter(e => e.startOffset < this.logEndOffset)
    if (this.epochs.length !== before) this.writeEpochs()
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
    this.epochs = []
    this.writeEpochs()
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
    if (this.epochsDirty) {
      this.epochsDirty = false
      this.writeEpochs()
    }
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
