// Transactions in the log, in Apache Kafka's formats:
// - `.txnindex` files (one per segment): the aborted transactions whose ABORT marker is in
//   that segment, 34-byte entries: version int16 (0), producer id int64, first offset int64,
//   last offset int64 (the marker), last stable offset int64 (when the marker was written).
// - control batches (COMMIT/ABORT markers): one record, key = version int16 (0) + type int16
//   (0 abort, 1 commit), value = version int16 (0) + coordinator epoch int32.
// - `.snapshot` files (producer state at an offset): version int16 (1), crc uint32 (CRC-32C of
//   what follows), then an int32 count of 46-byte entries: producer id int64, epoch int16,
//   last sequence int32, last offset int64, offset delta int32, timestamp int64,
//   coordinator epoch int32, current transaction first offset int64 (-1: none).
import * as fs from 'node:fs'
import * as path from 'node:path'
import {crc32c} from '../util/crc32c.js'
import {renameSyncWithRetry, renameWithRetry} from '../util/fs.js'
import type {Logger} from '../util/log.js'
import {RECORDS_OFFSET, buildBatch, readInt64, writeInt64, readVarint, lastVarintEnd} from '../protocol/record-batch.js'

export interface AbortedTxn {
  producerId: number
  firstOffset: number
  lastOffset: number
  lastStableOffset: number
}

export const TXN_INDEX_ENTRY_SIZE = 34

export function encodeAbortedTxn(t: AbortedTxn): Buffer {
  const b = Buffer.alloc(TXN_INDEX_ENTRY_SIZE)
  b.writeInt16BE(0, 0)
  writeInt64(b, 2, t.producerId)
  writeInt64(b, 10, t.firstOffset)
  writeInt64(b, 18, t.lastOffset)
  writeInt64(b, 26, t.lastStableOffset)
  return b
}

/** Reads a .txnindex file; a missing file is empty, a torn last entry is ignored. */
export function readTxnIndex(file: string): AbortedTxn[] {
  let buf: Buffer
  try {
    buf = fs.readFileSync(file)
  } catch {
    return []
  }
  const out: AbortedTxn[] = []
  for (let at = 0; at + TXN_INDEX_ENTRY_SIZE <= buf.length; at += TXN_INDEX_ENTRY_SIZE) {
    if (buf.readInt16BE(at) !== 0) break
    out.push({producerId: readInt64(buf, at + 2), firstOffset: readInt64(buf, at + 10), lastOffset: readInt64(buf, at + 18), lastStableOffset: readInt64(buf, at + 26)})
  }
  return out
}

/** Rewrites a .txnindex file with exactly these entries (removes it when there are none). */
export function writeTxnIndex(file: string, entries: AbortedTxn[]): void {
  if (entries.length === 0) {
    fs.rmSync(file, {force: true})
    return
  }
  fs.writeFileSync(file, Buffer.concat(entries.map(encodeAbortedTxn)))
}

/** writeTxnIndex that logs instead of throwing: the entries in memory stay right. */
export function rewriteTxnIndex(file: string, entries: AbortedTxn[], logger?: Logger): void {
  try {
    writeTxnIndex(file, entries)
  } catch (error) {
    logger?.warn(`Could not write ${file}: ${(error as Error).message}`)
  }
}

/** Appends one aborted transaction to a .txnindex file (its ABORT marker was just appended). */
export function appendTxnIndex(file: string, t: AbortedTxn, logger?: Logger): void {
  try {
    fs.appendFileSync(file, encodeAbortedTxn(t))
  } catch (error) {
    logger?.warn(`Could not write ${file}: ${(error as Error).message}`)
  }
}

/**
 * The aborted transactions a read_committed fetch from `fetchOffset` must know about when it
 * returns data below `upperBound` (Kafka's collectAbortedTransactions): those whose marker is at
 * or after fetchOffset and that began below upperBound. `segments` carry their
 * .txnindex entries, oldest first; the walk starts at the segment holding fetchOffset.
 */
export function collectAborted(segments: readonly {aborted: AbortedTxn[]}[], startSegment: number, fetchOffset: number, upperBound: number): AbortedTxn[] {
  const out: AbortedTxn[] = []
  for (let i = startSegment; i < segments.length; i++) {
    const aborted = segments[i].aborted
    for (const t of aborted) {
      if (t.lastOffset >= fetchOffset && t.firstOffset < upperBound) out.push(t)
    }
    if (aborted.length > 0 && aborted[aborted.length - 1].lastStableOffset >= upperBound) break
  }
  return out
}

// ------------------------------------------------------------------ control records

export const ControlType = {ABORT: 0, COMMIT: 1} as const

/** A COMMIT or ABORT marker batch (offset 0, patched by the log on append). */
export function buildMarkerBatch(producerId: number, producerEpoch: number, coordinatorEpoch: number, commit: boolean, now = Date.now()): Buffer {
  const key = Buffer.alloc(4)
  key.writeInt16BE(0, 0)
  key.writeInt16BE(commit ? ControlType.COMMIT : ControlType.ABORT, 2)
  const value = Buffer.alloc(6)
  value.writeInt16BE(0, 0)
  value.writeInt32BE(coordinatorEpoch, 2)
  return buildBatch({baseTimestamp: now, producerId, producerEpoch, baseSequence: -1, isTransactional: true, isControl: true, records: [{key, value}]})
}

/**
 * The control type (0 abort, 1 commit, other values for other control records) and the
 * coordinator epoch of the control batch at pos, or null when its first record is unreadable.
 */
export function readControlRecord(buf: Buffer, pos: number, end: number): {type: number; coordinatorEpoch: number} | null {
  let p = pos + RECORDS_OFFSET
  const len = readVarint(buf, p, end)
  if (lastVarintEnd() < 0 || len <= 0) return null
  p = lastVarintEnd()
  const recEnd = p + len
  if (recEnd > end) return null
  p += 1 // attributes
  // timestamp delta (varlong) and offset delta (varint)
  for (let i = 0; i < 2; i++) {
    let n = 0
    while (p < recEnd && (buf[p++] & 0x80) !== 0 && ++n < 10);
  }
  const keyLen = readVarint(buf, p, recEnd)
  if (lastVarintEnd() < 0 || keyLen < 4) return null
  p = lastVarintEnd()
  const type = buf.readInt16BE(p + 2)
  p += keyLen
  const valueLen = readVarint(buf, p, recEnd)
  let coordinatorEpoch = -1
  if (lastVarintEnd() >= 0 && valueLen >= 6) coordinatorEpoch = buf.readInt32BE(lastVarintEnd() + 2)
  return {type, coordinatorEpoch}
}

// ------------------------------------------------------------------ producer state snapshots

export interface SnapshotEntry {
  producerId: number
  epoch: number
  lastSequence: number
  lastOffset: number
  offsetDelta: number
  timestamp: number
  coordinatorEpoch: number
  currentTxnFirstOffset: number
}

const SNAPSHOT_ENTRY_SIZE = 46
const SNAPSHOT_SUFFIX = '.snapshot'

export function snapshotFileName(offset: number): string {
  return String(offset).padStart(20, '0') + SNAPSHOT_SUFFIX
}

export function encodeSnapshot(entries: SnapshotEntry[]): Buffer {
  const buf = Buffer.alloc(10 + entries.length * SNAPSHOT_ENTRY_SIZE)
  buf.writeInt16BE(1, 0)
  buf.writeInt32BE(entries.length, 6)
  let at = 10
  for (const e of entries) {
    writeInt64(buf, at, e.producerId)
    buf.writeInt16BE(e.epoch, at + 8)
    buf.writeInt32BE(e.lastSequence, at + 10)
    writeInt64(buf, at + 14, e.lastOffset)
    buf.writeInt32BE(e.offsetDelta, at + 22)
    writeInt64(buf, at + 26, e.timestamp)
    buf.writeInt32BE(e.coordinatorEpoch, at + 34)
    writeInt64(buf, at + 38, e.currentTxnFirstOffset)
    at += SNAPSHOT_ENTRY_SIZE
  }
  buf.writeUInt32BE(crc32c(buf, 6, buf.length), 2)
  return buf
}

/** Decodes a snapshot; throws a one-line Error when it is corrupt. */
export function decodeSnapshot(buf: Buffer): SnapshotEntry[] {
  if (buf.length < 10) throw new Error('snapshot is truncated')
  const version = buf.readInt16BE(0)
  if (version !== 1) throw new Error(`snapshot contained an unknown file version ${version}`)
  const stored = buf.readUInt32BE(2)
  const computed = crc32c(buf, 6, buf.length)
  if (stored !== computed) throw new Error(`snapshot is corrupt (CRC is no longer valid). Stored crc: ${stored}. Computed crc: ${computed}`)
  const n = buf.readInt32BE(6)
  if (n < 0 || 10 + n * SNAPSHOT_ENTRY_SIZE !== buf.length) throw new Error('snapshot failed schema validation')
  const out: SnapshotEntry[] = []
  for (let i = 0, at = 10; i < n; i++, at += SNAPSHOT_ENTRY_SIZE) {
    out.push({
      producerId: readInt64(buf, at), epoch: buf.readInt16BE(at + 8), lastSequence: buf.readInt32BE(at + 10), lastOffset: readInt64(buf, at + 14),
      offsetDelta: buf.readInt32BE(at + 22), timestamp: readInt64(buf, at + 26), coordinatorEpoch: buf.readInt32BE(at + 34), currentTxnFirstOffset: readInt64(buf, at + 38),
    })
  }
  return out
}

/** Offsets of the .snapshot files in a partition directory, ascending. */
export function listSnapshots(dir: string): number[] {
  let names: string[]
  try {
    names = fs.readdirSync(dir)
  } catch {
    return []
  }
  const out: number[] = []
  for (const n of names) {
    const m = /^(\d{20})\.snapshot$/.exec(n)
    if (m) out.push(Number(m[1]))
  }
  return out.sort((a, b) => a - b)
}

/**
 * Writes a snapshot atomically (temp file, rename); with `sync` (clean shutdown) fsynced first.
 * Without it (segment rolls, on the append path) an OS crash may leave a torn snapshot: its CRC
 * fails at load and the state comes from an older snapshot and the log instead.
 */
export function writeSnapshotFile(dir: string, offset: number, entries: SnapshotEntry[], sync = false): void {
  const file = path.join(dir, snapshotFileName(offset))
  const tmp = file + '.tmp'
  const fd = fs.openSync(tmp, 'w')
  try {
    fs.writeSync(fd, encodeSnapshot(entries))
    if (sync) fs.fsyncSync(fd)
  } finally {
    fs.closeSync(fd)
  }
  renameSyncWithRetry(tmp, file) // onto an existing snapshot: Windows may refuse briefly (EPERM/EBUSY)
}

/** writeSnapshotFile with fsync, without blocking the event loop (the clean shutdown writes many at once). */
export async function writeSnapshotFileAsync(dir: string, offset: number, entries: SnapshotEntry[]): Promise<void> {
  const file = path.join(dir, snapshotFileName(offset))
  const tmp = file + '.tmp'
  const fh = await fs.promises.open(tmp, 'w')
  try {
    await fh.write(encodeSnapshot(entries))
    await fh.sync()
  } finally {
    await fh.close()
  }
  await renameWithRetry(tmp, file)
}

export function deleteSnapshot(dir: string, offset: number): void {
  fs.rmSync(path.join(dir, snapshotFileName(offset)), {force: true})
}
