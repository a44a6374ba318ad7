// Opening a partition log's directory: finishes an interrupted compaction swap, removes
// leftovers (.deleted, .cleaned, .swap, .tmp, indexes without a log), then opens the segments
// oldest first. After an unclean shutdown the segments past the recovery point are re-read
// batch by batch (CRC and framing) and their indexes rebuilt; a corrupt tail is truncated and
// every later segment deleted, as Kafka's log recovery does. After a clean shutdown only
// missing or corrupt indexes are rebuilt and the active segment's end is found from its last
// index entry.
import * as fs from 'node:fs'
import * as path from 'node:path'
import type {Logger} from '../util/log.js'
import {ensureDir, renameSyncWithRetry} from '../util/fs.js'
import {LAST_OFFSET_DELTA_OFFSET, MAX_TIMESTAMP_OFFSET, readInt64} from '../protocol/record-batch.js'
import {SCAN_HEADER, Segment} from './segment.js'
import {readTxnIndex} from './txn-index.js'
import type {OpenOptions} from './partition-log.js'

/** The log's segments, oldest first (never empty: a new log gets one at logStartOffset). */
export async function loadSegments(dir: string, name: string, indexIntervalBytes: number, opts: OpenOptions, logger?: Logger): Promise<Segment[]> {
  ensureDir(dir)
  let names = fs.readdirSync(dir)
  let swapped = false
  for (const file of names) {
    const m = /^(\d{20}\.log)\.swap$/.exec(file)
    if (m) { renameSyncWithRetry(path.join(dir, file), path.join(dir, m[1])); swapped = true }
  }
  if (swapped) names = fs.readdirSync(dir)
  const present = new Set(names)
  const bases: number[] = []
  for (const file of names) {
    if (/\.(deleted|cleaned|swap)$/.test(file) || file.endsWith('.tmp')) {
      fs.rmSync(path.join(dir, file), {force: true})
      continue
    }
    const m = /^(\d{20})\.log$/.exec(file)
    if (m) bases.push(Number(m[1]))
  }
  for (const file of names) {
    const m = /^(\d{20})\.(index|timeindex|txnindex)$/.exec(file)
    if (m && !bases.includes(Number(m[1]))) fs.rmSync(path.join(dir, file), {force: true})
  }
  bases.sort((a, b) => a - b)
  const clean = opts.clean ?? false
  const recoveryPoint = opts.recoveryPoint ?? 0
  const segments: Segment[] = []
  let truncatedAt = -1
  for (let i = 0; i < bases.length; i++) {
    const seg = new Segment(dir, bases[i], false)
    if (truncatedAt >= 0) {
      logger?.warn(`Deleting segment ${seg.logPath} after a corrupt tail in ${name}`)
      seg.deleteFiles()
      continue
    }
    segments.push(seg)
    // (most segments have no aborted transaction, hence no .txnindex: no failed open for them)
    seg.aborted = present.has(path.basename(seg.txnIndexPath)) ? readTxnIndex(seg.txnIndexPath) : []
    const nextBase = i + 1 < bases.length ? bases[i + 1] : Infinity
    const needsRecovery = !clean && nextBase > recoveryPoint
    if (needsRecovery || !seg.loadIndexes()) {
      const res = await seg.rebuildAsync(indexIntervalBytes, needsRecovery)
      if (res.corrupt) {
        logger?.warn(`Found invalid bytes at position ${res.validEnd} in ${seg.logPath} (${res.reason}); truncating the log ${name} to offset ${seg.nextOffset}`)
        truncatedAt = seg.nextOffset
      } else if (needsRecovery) {
        logger?.debug(`Recovered segment ${seg.logPath} of ${name}: ${seg.nextOffset - seg.baseOffset} offsets`)
      }
      seg.writeIndexFiles()
    } else {
      seg.nextOffset = i + 1 < bases.length ? bases[i + 1] : seg.baseOffset
      if (i === bases.length - 1) scanTail(seg)
    }
  }
  if (segments.length === 0) {
    segments.push(new Segment(dir, opts.logStartOffset ?? 0, true))
  } else {
    // The active segment's first batch drives time-based rolling.
    const a = segments[segments.length - 1]
    if (a.rollingBaseTs < 0 && a.size >= SCAN_HEADER) {
      a.scan(0, false, (buf, at) => {
        a.rollingBaseTs = readInt64(buf, at + MAX_TIMESTAMP_OFFSET)
        return false
      })
    }
  }
  return segments
}

/** Clean open of the last segment: scan headers from the last index entry to find the end. */
function scanTail(seg: Segment): void {
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
