// One log segment: <base>.log with its sparse <base>.index (relative offset int32, position
// int32) and <base>.timeindex (timestamp int64, relative offset int32), in Apache Kafka's
// layout. Indexes live in memory (Buffers); the active segment's index files are written
// whole at roll, flush and close (like Kafka's mmapped indexes, they are rebuilt by recovery
// after a crash), so appends cost no index syscalls and no index file handles stay open. Log reads are positional on the segment's fd; a reference count keeps the fd
// open until in-flight reads finish, so deletion never pulls a handle from under a reader.
import * as fs from 'node:fs'
import * as path from 'node:path'
import type {AbortedTxn} from './txn-index.js'
import {crc32c} from '../util/crc32c.js'
import {
  ATTRIBUTES_OFFSET, BATCH_HEADER_SIZE, CRC_OFFSET, LAST_OFFSET_DELTA_OFFSET, LENGTH_OFFSET, LOG_OVERHEAD,
  MAGIC_OFFSET, MAX_TIMESTAMP_OFFSET, MIN_BATCH_LENGTH, firstRecordAtOrAfter, readInt64, writeInt64,
} from '../protocol/record-batch.js'

export const OFFSET_ENTRY_SIZE = 8
export const TIME_ENTRY_SIZE = 12
/** Header bytes needed to learn a batch's base offset, length and last offset delta. */
export const SCAN_HEADER = LAST_OFFSET_DELTA_OFFSET + 4

export function segmentFileName(baseOffset: number, suffix: string): string {
  return String(baseOffset).padStart(20, '0') + suffix
}

export function writeAll(fd: number, buf: Buffer, off: number, len: number, position: number): void {
  while (len > 0) {
    const n = fs.writeSync(fd, buf, off, len, position)
    off += n
    len -= n
    position += n
  }
}

export function readFully(fd: number, buf: Buffer, off: number, len: number, position: number): number {
  let total = 0
  while (total < len) {
    const n = fs.readSync(fd, buf, off + total, len - total, position + total)
    if (n === 0) break
    total += n
  }
  return total
}

export function readAsync(fd: number, buf: Buffer, off: number, len: number, position: number): Promise<number> {
  return new Promise((resolve, reject) => {
    let total = 0
    const step = (): void => {
      fs.read(fd, buf, off + total, len - total, position + total, (err, n) => {
        if (err) return reject(err)
        total += n
        if (n === 0 || total >= len) resolve(total)
        else step()
      })
    }
    step()
  })
}

/** A growable byte array for index entries. */
class Entries {
  buf: Buffer
  count = 0
  constructor(readonly entrySize: number, initial?: Buffer) {
    if (initial) {
      this.buf = initial
      this.count = Math.floor(initial.length / entrySize)
    } else this.buf = Buffer.alloc(entrySize * 64)
  }
  get bytes(): number {
    return this.count * this.entrySize
  }
  slot(): number {
    const at = this.count * this.entrySize
    if (at + this.entrySize > this.buf.length) {
      const bigger = Buffer.alloc(Math.max(this.buf.length * 2, this.entrySize * 64))
      this.buf.copy(bigger, 0, 0, at)
      this.buf = bigger
    }
    this.count++
    return at
  }
}

export interface ScanResult {
  /** Bytes of whole valid batches from the scan start. */
  validEnd: number
  /** True if the scan stopped at bytes that are not a whole valid batch. */
  corrupt: boolean
  reason: string
}

export class Segment {
  readonly logPath: string
  readonly indexPath: string
  readonly timeIndexPath: string
  /** `<base>.txnindex`: the aborted transactions whose markers are in this segment. */
  readonly txnIndexPath: string
  /** The entries of the .txnindex file, in marker order. */
  aborted: AbortedTxn[] = []
  fd: number
  /** Bytes of the file as the log sees it (appends included as soon as they are made). */
  size = 0
  /** Bytes written to the file: the end readers may read up to (size, once the log's write queue is empty). */
  written = 0
  /** Offset after this segment's last batch (== baseOffset when empty). */
  nextOffset: number
  maxTimestamp = -1
  offsetOfMaxTimestamp = -1
  /** Max timestamp of the first batch appended: the base for time-based rolling. */
  rollingBaseTs = -1
  readonly created = Date.now()
  rollJitterMs = 0
  offsetIndex = new Entries(OFFSET_ENTRY_SIZE)
  timeIndex = new Entries(TIME_ENTRY_SIZE)
  /** In-memory index entries not yet written to the index files. */
  indexDirty = false
  /** The index files on disk hold the in-memory entries (read at load or written since). */
  indexesOnDisk = false
  bytesSinceIndex = 0
  /** Last known batch boundaries: (offset of a batch, its position), lower bounds for scans. */
  hintOffset = -1
  hintPos = 0
  refs = 0
  deleted = false
  private idleWaiters: Array<() => void> = []

  constructor(readonly dir: string, readonly baseOffset: number, create: boolean) {
    this.logPath = path.join(dir, segmentFileName(baseOffset, '.log'))
    this.indexPath = path.join(dir, segmentFileName(baseOffset, '.index'))
    this.timeIndexPath = path.join(dir, segmentFileName(baseOffset, '.timeindex'))
    this.txnIndexPath = path.join(dir, segmentFileName(baseOffset, '.txnindex'))
    this.fd = fs.openSync(this.logPath, create ? 'w+' : 'r+')
    this.size = create ? 0 : fs.fstatSync(this.fd).size
    this.written = this.size
    this.nextOffset = baseOffset
  }

  acquire(): void {
    this.refs++
  }

  release(): void {
    if (--this.refs === 0 && this.idleWaiters.length > 0) {
      const w = this.idleWaiters
      this.idleWaiters = []
      for (const f of w) f()
    }
  }

  idle(): Promise<void> {
    if (this.refs === 0) return Promise.resolve()
    return new Promise(resolve => this.idleWaiters.push(resolve))
  }

  // ---- indexes ----

  /** Loads index files; false if missing or inconsistent (then rebuild). */
  loadIndexes(): boolean {
    let idx: Buffer
    let tix: Buffer
    try {
      idx = fs.readFileSync(this.indexPath)
      tix = fs.readFileSync(this.timeIndexPath)
    } catch {
      return false
    }
    if (idx.length % OFFSET_ENTRY_SIZE !== 0 || tix.length % TIME_ENTRY_SIZE !== 0) return false
    let lastRel = -1
    let lastPos = -1
    for (let at = 0; at < idx.length; at += OFFSET_ENTRY_SIZE) {
      const rel = idx.readInt32BE(at)
      const pos = idx.readInt32BE(at + 4)
      if (rel <= lastRel || pos <= lastPos || pos >= this.size) return false
      lastRel = rel
      lastPos = pos
    }
    let lastTs = -Infinity
    for (let at = 0; at < tix.length; at += TIME_ENTRY_SIZE) {
      const ts = readInt64(tix, at)
      const rel = tix.readInt32BE(at + 8)
      // Strictly increasing, as written; a zero-filled (preallocated, untrimmed) file fails here.
      if (ts <= lastTs || rel < 0) return false
      lastTs = ts
    }
    this.offsetIndex = new Entries(OFFSET_ENTRY_SIZE, Buffer.from(idx))
    this.timeIndex = new Entries(TIME_ENTRY_SIZE, Buffer.from(tix))
    if (this.timeIndex.count > 0) {
      const at = (this.timeIndex.count - 1) * TIME_ENTRY_SIZE
      this.maxTimestamp = readInt64(this.timeIndex.buf, at)
      this.offsetOfMaxTimestamp = this.baseOffset + this.timeIndex.buf.readInt32BE(at + 8)
    }
    this.indexesOnDisk = true
    return true
  }

  /** Writes the index files now (a new active segment gets its files at once). */
  openIndexFiles(): void {
    if (!this.indexesOnDisk || this.indexDirty) this.writeIndexFiles()
  }

  /** Persists the index files if entries were added since the last write. */
  closeIndexFiles(): void {
    if (this.indexDirty && this.fd >= 0) this.writeIndexFiles()
  }

  /** Writes both index files in full. */
  writeIndexFiles(): void {
    fs.writeFileSync(this.indexPath, this.offsetIndex.buf.subarray(0, this.offsetIndex.bytes))
    fs.writeFileSync(this.timeIndexPath, this.timeIndex.buf.subarray(0, this.timeIndex.bytes))
    this.indexDirty = false
    this.indexesOnDisk = true
  }

  appendOffsetEntry(offset: number, position: number): void {
    const rel = offset - this.baseOffset
    const e = this.offsetIndex
    if (e.count > 0 && e.buf.readInt32BE((e.count - 1) * OFFSET_ENTRY_SIZE) >= rel) return
    const at = e.slot()
    e.buf.writeInt32BE(rel, at)
    e.buf.writeInt32BE(position, at + 4)
    this.indexDirty = true
  }

  maybeAppendTimeEntry(ts: number, offset: number): void {
    if (ts < 0) return
    const e = this.timeIndex
    if (e.count > 0 && readInt64(e.buf, (e.count - 1) * TIME_ENTRY_SIZE) >= ts) return
    const at = e.slot()
    writeInt64(e.buf, at, ts)
    e.buf.writeInt32BE(offset - this.baseOffset, at + 8)
    this.indexDirty = true
  }

  /** Position to start scanning for `offset`: the largest entry <= offset, or a better hint. */
  lookupPosition(offset: number): number {
    const e = this.offsetIndex
    const rel = offset - this.baseOffset
    let lo = 0
    let hi = e.count - 1
    let pos = 0
    while (lo <= hi) {
      const mid = (lo + hi) >>> 1
      if (e.buf.readInt32BE(mid * OFFSET_ENTRY_SIZE) <= rel) {
        pos = e.buf.readInt32BE(mid * OFFSET_ENTRY_SIZE + 4)
        lo = mid + 1
      } else hi = mid - 1
    }
    if (this.hintOffset >= 0 && this.hintOffset <= offset && this.hintPos > pos && this.hintPos <= this.size) pos = this.hintPos
    return pos
  }

  /** Offset from which to scan for the first timestamp >= ts: the last entry with timestamp < ts. */
  lookupTimestamp(ts: number): number {
    const e = this.timeIndex
    let lo = 0
    let hi = e.count - 1
    let off = this.baseOffset
    while (lo <= hi) {
      const mid = (lo + hi) >>> 1
      if (readInt64(e.buf, mid * TIME_ENTRY_SIZE) < ts) {
        off = this.baseOffset + e.buf.readInt32BE(mid * TIME_ENTRY_SIZE + 8)
        lo = mid + 1
      } else hi = mid - 1
    }
    return off
  }

  indexFull(maxIndexBytes: number): boolean {
    return this.offsetIndex.bytes + OFFSET_ENTRY_SIZE > maxIndexBytes || this.timeIndex.bytes + TIME_ENTRY_SIZE > maxIndexBytes
  }

  // ---- reads ----

  /**
   * Position of the first batch here whose last offset >= offset (below `limit`), or -1,
   * with the bytes already read from that position (`ahead`, possibly empty) so a read that
   * lands on the hinted batch needs a single positional read.
   */
  async locate(offset: number, limit: number, firstWindow: number): Promise<{pos: number; ahead: Buffer}> {
    let pos = this.lookupPosition(offset)
    let win = Buffer.allocUnsafe(Math.min(Math.max(firstWindow, SCAN_HEADER), Math.max(limit - pos, SCAN_HEADER)))
    let winStart = 0
    let winLen = 0
    const none = {pos: -1, ahead: win.subarray(0, 0)}
    while (pos + SCAN_HEADER <= limit) {
      if (pos < winStart || pos + SCAN_HEADER > winStart + winLen) {
        if (winLen > 0 && win.length < 64 * 1024) win = Buffer.allocUnsafe(Math.min(64 * 1024, limit - pos))
        winStart = pos
        winLen = await readAsync(this.fd, win, 0, Math.min(win.length, limit - pos), pos)
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

  /** Records the boundary after the returned data as a scan hint for the next sequential read. */
  rememberRead(buf: Buffer, cut: number, nextPos: number): {records: Buffer[]; bytes: number} {
    // Find the last batch header in buf[0, cut) to learn the next offset.
    let at = 0
    let nextOffset = -1
    while (at < cut) {
      const size = buf.readInt32BE(at + LENGTH_OFFSET) + LOG_OVERHEAD
      nextOffset = readInt64(buf, at) + buf.readInt32BE(at + LAST_OFFSET_DELTA_OFFSET) + 1
      at += size
    }
    if (nextPos < this.size && nextOffset > this.hintOffset && nextPos > this.hintPos) {
      this.hintOffset = nextOffset
      this.hintPos = nextPos
    }
    return {records: [cut === buf.length ? buf : buf.subarray(0, cut)], bytes: cut}
  }

  /** ListOffsets by time within this segment: the first record at or after `fromOffset` with timestamp >= ts. */
  async firstAtOrAfterTimestamp(ts: number, fromOffset: number): Promise<{offset: number; timestamp: number} | null> {
    const limit = this.written
    let pos = (await this.locate(fromOffset, limit, 8192)).pos
    if (pos < 0) return null
    const header = Buffer.allocUnsafe(SCAN_HEADER + 8 + 8)
    while (pos + SCAN_HEADER <= limit) {
      const n = await readAsync(this.fd, header, 0, MAX_TIMESTAMP_OFFSET + 8, pos)
      if (n < MAX_TIMESTAMP_OFFSET + 8) break
      const size = header.readInt32BE(LENGTH_OFFSET) + LOG_OVERHEAD
      if (readInt64(header, MAX_TIMESTAMP_OFFSET) >= ts) {
        const batch = Buffer.allocUnsafe(size)
        if ((await readAsync(this.fd, batch, 0, size, pos)) < size) break
        const found = firstRecordAtOrAfter(batch, 0, ts)
        if (found) return found
      }
      pos += size
    }
    return null
  }

  // ---- scanning (sync; startup, recovery, truncation, batchHeaders) ----

  /**
   * Visits batches from `from` to the end of the file, reading windows synchronously.
   * With `validate`, checks sizes, magic and CRC, and stops at the first bad batch.
   * visit(buf, at, filePos) sees a buffer holding the batch header at `at` (the whole batch
   * when validating); return false to stop.
   */
  scan(from: number, validate: boolean, visit: (buf: Buffer, at: number, filePos: number, size: number) => boolean | void): ScanResult {
    const WINDOW = 1 << 20
    // No larger than what there is to read: an empty or short segment (most of them, when a
    // broker with thousands of partitions starts) costs no 1 MiB window.
    let win = Buffer.allocUnsafe(Math.min(WINDOW, Math.max(this.size - from, SCAN_HEADER)))
    let winStart = 0
    let winLen = 0
    let pos = from
    const end = this.size
    let lastSize = 0
    const fill = (at: number, need: number): boolean => {
      if (at >= winStart && at + need <= winStart + winLen) return true
      if (need > win.length) win = Buffer.allocUnsafe(need)
      winStart = at
      // Header-only scans skip large batches by reading just the next header.
      const len = !validate && lastSize > 16384 ? Math.max(need, BATCH_HEADER_SIZE) : win.length
      winLen = readFully(this.fd, win, 0, Math.min(len, end - at), at)
      return need <= winLen
    }
    while (pos < end) {
      if (end - pos < SCAN_HEADER || !fill(pos, SCAN_HEADER)) return {validEnd: pos, corrupt: true, reason: `${end - pos} trailing bytes are not a whole batch header`}
      let at = pos - winStart
      const length = win.readInt32BE(at + LENGTH_OFFSET)
      const size = length + LOG_OVERHEAD
      if (validate) {
        if (length < MIN_BATCH_LENGTH) return {validEnd: pos, corrupt: true, reason: `batch size ${size} is below the minimum`}
        if (pos + size > end) return {validEnd: pos, corrupt: true, reason: `the last batch is truncated (${end - pos} of ${size} bytes)`}
        if (!fill(pos, size)) return {validEnd: pos, corrupt: true, reason: 'short read'}
        at = pos - winStart
        if (win.readInt8(at + MAGIC_OFFSET) !== 2) return {validEnd: pos, corrupt: true, reason: `batch magic ${win.readInt8(at + MAGIC_OFFSET)} is not 2`}
        const stored = win.readUInt32BE(at + CRC_OFFSET)
        if (stored !== crc32c(win, at + ATTRIBUTES_OFFSET, at + size)) return {validEnd: pos, corrupt: true, reason: 'batch CRC mismatch'}
      } else {
        if (length < MIN_BATCH_LENGTH || pos + size > end) return {validEnd: pos, corrupt: true, reason: 'bad batch size'}
        if (!fill(pos, Math.min(size, BATCH_HEADER_SIZE))) return {validEnd: pos, corrupt: true, reason: 'short read'}
        at = pos - winStart
      }
      if (visit(win, at, pos, size) === false) return {validEnd: pos + size, corrupt: false, reason: ''}
      lastSize = size
      pos += size
    }
    return {validEnd: pos, corrupt: false, reason: ''}
  }

  /** Async twin of scan (recovery at open without stalling the event loop for long). */
  async scanAsync(from: number, validate: boolean, visit: (buf: Buffer, at: number, filePos: number, size: number) => boolean | void): Promise<ScanResult> {
    const WINDOW = 1 << 20
    // No larger than what there is to read: an empty or short segment (most of them, when a
    // broker with thousands of partitions starts) costs no 1 MiB window.
    let win = Buffer.allocUnsafe(Math.min(WINDOW, Math.max(this.size - from, SCAN_HEADER)))
    let winStart = 0
    let winLen = 0
    let pos = from
    const end = this.size
    let lastSize = 0
    const fill = async (at: number, need: number): Promise<boolean> => {
      if (at >= winStart && at + need <= winStart + winLen) return true
      if (need > win.length) win = Buffer.allocUnsafe(need)
      winStart = at
      const len = !validate && lastSize > 16384 ? Math.max(need, BATCH_HEADER_SIZE) : win.length
      winLen = await readAsync(this.fd, win, 0, Math.min(len, end - at), at)
      return need <= winLen
    }
    while (pos < end) {
      if (end - pos < SCAN_HEADER || !(await fill(pos, SCAN_HEADER))) return {validEnd: pos, corrupt: true, reason: `${end - pos} trailing bytes are not a whole batch header`}
      let at = pos - winStart
      const length = win.readInt32BE(at + LENGTH_OFFSET)
      const size = length + LOG_OVERHEAD
      if (validate) {
        if (length < MIN_BATCH_LENGTH) return {validEnd: pos, corrupt: true, reason: `batch size ${size} is below the minimum`}
        if (pos + size > end) return {validEnd: pos, corrupt: true, reason: `the last batch is truncated (${end - pos} of ${size} bytes)`}
        if (!(await fill(pos, size))) return {validEnd: pos, corrupt: true, reason: 'short read'}
        at = pos - winStart
        if (win.readInt8(at + MAGIC_OFFSET) !== 2) return {validEnd: pos, corrupt: true, reason: `batch magic ${win.readInt8(at + MAGIC_OFFSET)} is not 2`}
        const stored = win.readUInt32BE(at + CRC_OFFSET)
        if (stored !== crc32c(win, at + ATTRIBUTES_OFFSET, at + size)) return {validEnd: pos, corrupt: true, reason: 'batch CRC mismatch'}
      } else {
        if (length < MIN_BATCH_LENGTH || pos + size > end) return {validEnd: pos, corrupt: true, reason: 'bad batch size'}
        if (!(await fill(pos, Math.min(size, BATCH_HEADER_SIZE)))) return {validEnd: pos, corrupt: true, reason: 'short read'}
        at = pos - winStart
      }
      if (visit(win, at, pos, size) === false) return {validEnd: pos + size, corrupt: false, reason: ''}
      lastSize = size
      pos += size
    }
    return {validEnd: pos, corrupt: false, reason: ''}
  }

  /** Resets indexes and metadata; returns the visitor that rebuilds them batch by batch. */
  private startRebuild(indexIntervalBytes: number): (buf: Buffer, at: number, filePos: number, size: number) => void {
    this.offsetIndex = new Entries(OFFSET_ENTRY_SIZE)
    this.timeIndex = new Entries(TIME_ENTRY_SIZE)
    this.indexesOnDisk = false
    this.maxTimestamp = -1
    this.offsetOfMaxTimestamp = -1
    this.rollingBaseTs = -1
    this.nextOffset = this.baseOffset
    this.bytesSinceIndex = 0
    this.hintOffset = -1
    this.hintPos = 0
    return (buf, at, filePos, size) => {
      const base = readInt64(buf, at)
      const last = base + buf.readInt32BE(at + LAST_OFFSET_DELTA_OFFSET)
      const maxTs = readInt64(buf, at + MAX_TIMESTAMP_OFFSET)
      if (this.rollingBaseTs < 0 && filePos === 0) this.rollingBaseTs = maxTs
      if (maxTs > this.maxTimestamp) {
        this.maxTimestamp = maxTs
        this.offsetOfMaxTimestamp = last
      }
      if (this.bytesSinceIndex > indexIntervalBytes) {
        this.appendOffsetEntry(last, filePos)
        this.maybeAppendTimeEntry(this.maxTimestamp, this.offsetOfMaxTimestamp)
        this.bytesSinceIndex = 0
      }
      this.bytesSinceIndex += size
      this.nextOffset = last + 1
    }
  }

  private finishRebuild(res: ScanResult): ScanResult {
    if (res.corrupt) this.truncateFile(res.validEnd)
    this.maybeAppendTimeEntry(this.maxTimestamp, this.offsetOfMaxTimestamp)
    return res
  }

  /** Resets indexes and metadata, then rebuilds them from the file. Returns the scan result (truncates a bad tail when `validate`). */
  rebuild(indexIntervalBytes: number, validate: boolean): ScanResult {
    return this.finishRebuild(this.scan(0, validate, this.startRebuild(indexIntervalBytes)))
  }

  /** rebuild with async reads. */
  async rebuildAsync(indexIntervalBytes: number, validate: boolean): Promise<ScanResult> {
    const visit = this.startRebuild(indexIntervalBytes)
    return this.finishRebuild(await this.scanAsync(0, validate, visit))
  }

  truncateFile(size: number): void {
    fs.ftruncateSync(this.fd, size)
    this.size = size
    this.written = size
  }

  /** Closes every handle (waits for in-flight reads first when called through idle()). */
  closeHandles(): void {
    if (this.fd >= 0) fs.closeSync(this.fd)
    this.fd = -1
  }

  deleteFiles(): void {
    this.closeHandles()
    for (const p of [this.logPath, this.indexPath, this.timeIndexPath, this.txnIndexPath]) fs.rmSync(p, {force: true})
  }
}

/** Index in `segs` (sorted by base offset) of the segment holding `offset` (0 when below all). */
export function segmentIndexFor(segs: readonly Segment[], offset: number): number {
  let lo = 0
  let hi = segs.length - 1
  let found = 0
  while (lo <= hi) {
    const mid = (lo + hi) >>> 1
    if (segs[mid].baseOffset <= offset) {
      found = mid
      lo = mid + 1
    } else hi = mid - 1
  }
  return found
}

/** retention.ms: how many of the oldest segments are past it (wholly below upperBound; not an empty active one). */
export function expiredByTime(segs: readonly Segment[], endOf: (i: number) => number, upperBound: number, now: number, retentionMs: number): number {
  let n = 0
  for (const seg of segs) {
    if ((seg.size === 0 && seg === segs[segs.length - 1]) || endOf(n) > upperBound) break
    const largest = seg.maxTimestamp >= 0 ? seg.maxTimestamp : fs.fstatSync(seg.fd).mtimeMs
    if (now - largest > retentionMs) n++
    else break
  }
  return n
}

/** retention.bytes: how many of the oldest segments go to bring the log `excess` bytes down (same eligibility). */
export function expiredBySize(segs: readonly Segment[], endOf: (i: number) => number, upperBound: number, excess: number): number {
  let n = 0
  for (const seg of segs) {
    if ((seg.size === 0 && seg === segs[segs.length - 1]) || excess - seg.size < 0 || endOf(n) > upperBound) break
    excess -= seg.size
    n++
  }
  return n
}
