// cleanup.policy=compact, as Kafka's log cleaner does it, over one partition log: keeps the
// latest record of each key in the inactive segments below `upperBound` (the high watermark or
// the last stable offset); compressed batches are filtered and compressed again with their
// codec; the data of aborted transactions is removed (and never counts as a key's latest
// record); a COMMIT/ABORT marker is removed once no data of its transaction is left and its
// segment is older than delete.retention.ms, as tombstones are. Runs when the dirty share of
// those segments reaches min.cleanable.dirty.ratio (always with force). Each segment is
// rewritten to <base>.log.cleaned, renamed to .log.swap, then over the .log once no read holds
// it, and its indexes are rebuilt.
import * as fs from 'node:fs'
import type {Logger} from '../util/log.js'
import {renameSyncWithRetry} from '../util/fs.js'
import {ATTRIBUTES_OFFSET, CONTROL_MASK, TRANSACTIONAL_MASK, PRODUCER_ID_OFFSET, readInt64} from '../protocol/record-batch.js'
import {Segment, writeAll} from './segment.js'
import {filterBatch, forEachRecord, uncompressedView, recompressBatch} from './cleaner.js'
import type {LogConfig} from './partition-log.js'

export interface CompactionStats {
  segments: number
  bytesBefore: number
  bytesAfter: number
}

/** What the compactor needs of a partition log. */
export interface CompactableLog {
  readonly dir: string
  readonly name: string
  readonly isClosed: boolean
  readonly logConfig: LogConfig
  liveSegments(): readonly Segment[]
  swapSegment(old: Segment, fresh: Segment): boolean
}

const yieldToEventLoop = () => new Promise(r => setImmediate(r))

/**
 * Compacts the log's cleanable segments. `cleanedUpTo`: offsets below were compacted before
 * (they do not count as dirty). Returns the stats and the new cleaned-up-to offset.
 */
export async function compactSegments(log: CompactableLog, cleanedUpTo: number, upperBound: number, now: number, force: boolean, logger?: Logger): Promise<{stats: CompactionStats; cleanedUpTo: number}> {
  const stats: CompactionStats = {segments: 0, bytesBefore: 0, bytesAfter: 0}
  const c = log.logConfig
  const lag = c.minCompactionLagMs ?? 0
  const all = log.liveSegments()
  const segs: Segment[] = []
  let dirtyEnd = cleanedUpTo
  let dirtyBytes = 0
  let totalBytes = 0
  for (let i = 0; i + 1 < all.length; i++) {
    const seg = all[i]
    const end = all[i + 1].baseOffset
    if (end > upperBound) break
    if (lag > 0 && seg.maxTimestamp > now - lag) break
    segs.push(seg)
    totalBytes += seg.size
    if (end > cleanedUpTo) dirtyBytes += seg.size
    dirtyEnd = end
  }
  if (segs.length === 0 || totalBytes === 0) return {stats, cleanedUpTo}
  if (!force && dirtyBytes / totalBytes < (c.minCleanableDirtyRatio ?? 0.5)) return {stats, cleanedUpTo}
  // Aborted transactions (from every .txnindex): producer id -> [first, last] offset ranges.
  const abortedRanges = new Map<number, Array<[number, number]>>()
  for (const seg of all) {
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
    await yieldToEventLoop()
  }
  const tombstoneHorizon = now - (c.deleteRetentionMs ?? 86400000)
  // Per producer: whether a batch of its current transaction was kept (markers of
  // transactions with nothing left may go).
  const txnKept = new Map<number, boolean>()
  const swappable = (seg: Segment): boolean => {
    const live = log.liveSegments()
    return !log.isClosed && live.includes(seg) && seg !== live[live.length - 1]
  }
  for (const seg of segs) {
    if (!swappable(seg) || seg.fd < 0) continue
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
    if (!swappable(seg)) {
      fs.rmSync(cleanedPath, {force: true})
      continue
    }
    // No await from here on: reads cannot interleave with the swap.
    const before = seg.size
    seg.closeHandles()
    const swap = seg.logPath + '.swap'
    renameSyncWithRetry(cleanedPath, swap)
    fs.rmSync(seg.indexPath, {force: true})
    fs.rmSync(seg.timeIndexPath, {force: true})
    renameSyncWithRetry(swap, seg.logPath)
    const fresh = new Segment(log.dir, seg.baseOffset, false)
    fresh.aborted = seg.aborted
    fresh.rebuild(c.indexIntervalBytes, false)
    fresh.writeIndexFiles()
    log.swapSegment(seg, fresh)
    stats.segments++
    stats.bytesBefore += before
    stats.bytesAfter += fresh.size
    await yieldToEventLoop()
  }
  if (stats.segments > 0) logger?.info(`Cleaned ${stats.segments} segment(s) of ${log.name}: ${stats.bytesBefore} -> ${stats.bytesAfter} bytes`)
  return {stats, cleanedUpTo: Math.max(cleanedUpTo, dirtyEnd)}
}
