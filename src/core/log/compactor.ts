// cleanup.policy=compact, as Apache Kafka's log cleaner does it, over one partition log: keeps
// the latest record of each key in the inactive segments below `upperBound` (the high watermark
// or the last stable offset); compressed batches are filtered and compressed again with their
// codec; the data of aborted transactions is removed (and never counts as a key's latest
// record). Tombstones and COMMIT/ABORT markers go in two passes (KIP-534): the pass that first
// keeps a tombstone, or a marker whose transaction has no data left, writes its batch again with
// the delete horizon (now + delete.retention.ms) as base timestamp and attribute bit 0x40; a pass
// after the horizon removes them. A batch that holds the last sequence of an active producer (or
// a marker with its last epoch) stays, emptied if need be, so the producer's next write is not
// answered OUT_OF_ORDER_SEQUENCE_NUMBER / UNKNOWN_PRODUCER_ID. A segment's .txnindex keeps the
// aborted transactions that still have data. Runs when the dirty share of those segments reaches
// min.cleanable.dirty.ratio (always with force). Each segment is rewritten to <base>.log.cleaned,
// renamed to .log.swap, then over the .log once no read holds it, and its indexes are rebuilt.
import * as fs from 'node:fs'
import type {Logger} from '../util/log.js'
import {renameSyncWithRetry} from '../util/fs.js'
import {
  ATTRIBUTES_OFFSET, BASE_TIMESTAMP_OFFSET, BATCH_HEADER_SIZE, CONTROL_MASK, LAST_OFFSET_DELTA_OFFSET, PRODUCER_EPOCH_OFFSET,
  PRODUCER_ID_OFFSET, RECORDS_COUNT_OFFSET, TRANSACTIONAL_MASK, readInt64,
} from '../protocol/record-batch.js'
import {Segment, writeAll} from './segment.js'
import {DELETE_HORIZON_MASK, emptyBatch, forEachRecord, keptRecords, recompressBatch, retainRecords, uncompressedView} from './cleaner.js'
import {ControlType, readControlRecord, writeTxnIndex, type AbortedTxn} from './txn-index.js'
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
  /** The producers the partition still tracks, with their last data offset (-1: none) and epoch. */
  activeProducers?: (() => ReadonlyMap<number, ProducerLastRecord>) | null
}

/** What the cleaner must keep of an active producer (Kafka's LastRecord). */
export interface ProducerLastRecord {
  /** Last offset of its last data batch, -1 when its last entry is a marker. */
  lastDataOffset: number
  epoch: number
}

/**
 * The transactions met while walking the log in offset order (Kafka's
 * CleanedTransactionMetadata): says which data batches are aborted and which markers no longer
 * have data of their transaction, and collects the aborted transactions that keep data.
 */
class TxnWalk {
  private next = 0
  private readonly ongoingAborted = new Map<number, {txn: AbortedTxn; observed: boolean}>()
  private readonly ongoingCommitted = new Set<number>()
  /** The aborted transactions whose ABORT marker was met since the last take() and still have data. */
  private kept: AbortedTxn[] = []

  constructor(private readonly aborted: AbortedTxn[]) {
    aborted.sort((a, b) => a.firstOffset - b.firstOffset)
  }

  private consumeUpTo(offset: number): void {
    while (this.next < this.aborted.length && this.aborted[this.next].firstOffset <= offset) {
      const t = this.aborted[this.next++]
      if (!this.ongoingAborted.has(t.producerId)) this.ongoingAborted.set(t.producerId, {txn: t, observed: false})
    }
  }

  /** A data batch: true when it belongs to an aborted transaction (it may go). */
  onData(producerId: number, transactional: boolean, lastOffset: number): boolean {
    this.consumeUpTo(lastOffset)
    if (!transactional) return false
    const a = this.ongoingAborted.get(producerId)
    if (a !== undefined) {
      a.observed = true
      return true
    }
    this.ongoingCommitted.add(producerId)
    return false
  }

  /** A control batch (type null: it has no record left): true when no data of its transaction was met. */
  onControl(producerId: number, lastOffset: number, type: number | null): boolean {
    this.consumeUpTo(lastOffset)
    if (type === null) return true
    if (type === ControlType.ABORT) {
      const a = this.ongoingAborted.get(producerId)
      this.ongoingAborted.delete(producerId)
      if (a === undefined || !a.observed) return true
      this.kept.push(a.txn)
      return false
    }
    if (type === ControlType.COMMIT) return !this.ongoingCommitted.delete(producerId)
    return false
  }

  take(): AbortedTxn[] {
    const out = this.kept
    this.kept = []
    return out
  }
}

function sameTxns(a: readonly AbortedTxn[], b: readonly AbortedTxn[]): boolean {
  return a.length === b.length && a.every((t, i) => t.producerId === b[i].producerId && t.firstOffset === b[i].firstOffset && t.lastOffset === b[i].lastOffset && t.lastStableOffset === b[i].lastStableOffset)
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
  const allAborted: AbortedTxn[] = []
  for (const seg of all) {
    for (const t of seg.aborted) {
      allAborted.push(t)
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
  const retentionMs = c.deleteRetentionMs ?? 86400000
  const horizonIfSet = Math.min(now + retentionMs, Number.MAX_SAFE_INTEGER)
  const walk = new TxnWalk([...allAborted])
  const active = log.activeProducers?.() ?? null
  // Kafka's RETAIN_EMPTY: the batch holding an active producer's last sequence (or, when its
  // last entry is a marker, that marker with its epoch) stays, even with no record left.
  const holdsProducerState = (pid: number, control: boolean, epoch: number, lastOffset: number): boolean => {
    const last = pid >= 0 ? active?.get(pid) : undefined
    if (last === undefined) return false
    return last.lastDataOffset >= 0 ? lastOffset === last.lastDataOffset : control && epoch === last.epoch
  }
  // The batch with the records that stay (itself when nothing changes), or null when none does.
  const keptPart = (buf: Buffer, at: number, original: Buffer, control: boolean, canDiscard: boolean, horizon: number): Buffer | null => {
    const view = uncompressedView(buf, at)
    if (view === null) return original // undecodable: kept as it is
    let tombstones = false
    const sel = keptRecords(view.buf, view.at, r => {
      if (control) return true
      // A tombstone stays until its batch's delete horizon has passed.
      const keep = r.key === null || (latest.get(r.key) === r.offset && (!r.tombstone || horizon < 0 || now < horizon))
      if (keep && r.tombstone) tombstones = true
      return keep
    })
    if (sel === null) return original // framing we cannot parse: never rewritten
    if (sel.kept.length === 0) return null
    const setHorizon = horizon < 0 && (tombstones || (control && canDiscard))
    if (sel.kept.length === sel.total && !setHorizon) return original
    return recompressBatch(retainRecords(view.buf, view.at, sel.kept, setHorizon ? horizonIfSet : horizon), view.codec)
  }
  const swappable = (seg: Segment): boolean => {
    const live = log.liveSegments()
    return !log.isClosed && live.includes(seg) && seg !== live[live.length - 1]
  }
  for (const seg of segs) {
    if (!swappable(seg) || seg.fd < 0) continue
    const cleanedPath = seg.logPath + '.cleaned'
    const out = fs.openSync(cleanedPath, 'w')
    let written = 0
    let changed = false
    let aborted: AbortedTxn[] = []
    seg.acquire()
    try {
      const res = seg.scan(0, true, (buf, at, _filePos, size) => {
        const attributes = buf.readInt16BE(at + ATTRIBUTES_OFFSET)
        const pid = readInt64(buf, at + PRODUCER_ID_OFFSET)
        const control = (attributes & CONTROL_MASK) !== 0
        const lastOffset = readInt64(buf, at) + buf.readInt32BE(at + LAST_OFFSET_DELTA_OFFSET)
        const count = buf.readInt32BE(at + RECORDS_COUNT_OFFSET)
        const canDiscard = control
          ? walk.onControl(pid, lastOffset, count > 0 ? readControlRecord(buf, at, at + size)?.type ?? -1 : null)
          : walk.onData(pid, (attributes & TRANSACTIONAL_MASK) !== 0, lastOffset)
        const horizon = (attributes & DELETE_HORIZON_MASK) !== 0 ? readInt64(buf, at + BASE_TIMESTAMP_OFFSET) : -1
        // Aborted data goes at once; a marker with no data left once its horizon has passed.
        const discard = control ? canDiscard && horizon >= 0 && horizon <= now : canDiscard
        const keepEmpty = holdsProducerState(pid, control, buf.readInt16BE(at + PRODUCER_EPOCH_OFFSET), lastOffset)
        const original = buf.subarray(at, at + size)
        let part = discard || count === 0 ? null : keptPart(buf, at, original, control, canDiscard, horizon)
        if (part === null && keepEmpty) part = size === BATCH_HEADER_SIZE && count === 0 ? original : emptyBatch(buf, at)
        if (part !== original) changed = true
        if (part === null) return
        writeAll(out, part, 0, part.length, written)
        written += part.length
      })
      aborted = walk.take()
      if (!sameTxns(aborted, seg.aborted)) changed = true
      if (res.corrupt) changed = false // never replace a segment we could not read whole
      if (changed) fs.fsyncSync(out)
    } finally {
      fs.closeSync(out)
      seg.release()
    }
    if (!changed) {
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
    // Before the data: an entry goes only when no data of its transaction is left in the old file either.
    if (!sameTxns(aborted, seg.aborted)) {
      if (aborted.length === 0) fs.rmSync(seg.txnIndexPath, {force: true})
      else {
        writeTxnIndex(seg.txnIndexPath + '.cleaned', aborted)
        renameSyncWithRetry(seg.txnIndexPath + '.cleaned', seg.txnIndexPath)
      }
    }
    fs.rmSync(seg.indexPath, {force: true})
    fs.rmSync(seg.timeIndexPath, {force: true})
    renameSyncWithRetry(swap, seg.logPath)
    const fresh = new Segment(log.dir, seg.baseOffset, false)
    fresh.aborted = aborted
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
