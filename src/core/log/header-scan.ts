// Walking a log's batch headers without reading the records: ListOffsets by timestamp over
// old formats, rebuilding producer state at start-up. Large batches are skipped by reading
// only their headers.
import {BATCH_HEADER_SIZE, LOG_OVERHEAD, MIN_BATCH_LENGTH, readBatchHeader, type BatchHeader} from '../protocol/record-batch.js'
import {readAsync, type Segment} from './segment.js'

/**
 * Headers from the batch containing fromOffset to the end of `segs`, with async positional
 * reads in 256 KiB windows. `open()` false stops the walk; `released(seg)` runs after each read
 * lets go of its segment (the log deletes a segment removed meanwhile).
 */
export async function* scanHeadersAsync(segs: readonly Segment[], fromOffset: number, open: () => boolean, released: (seg: Segment) => void): AsyncIterable<BatchHeader> {
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
    while (open() && !seg.deleted && seg.fd >= 0) {
      const limit = seg.written
      if (pos + BATCH_HEADER_SIZE > limit) break
      if (pos < winStart || pos + BATCH_HEADER_SIZE > winStart + winLen) {
        seg.acquire()
        try {
          winStart = pos
          // After a large batch, read just the next header; small batches come in windows.
          winLen = await readAsync(seg.fd, win, 0, Math.min(lastSize > 16384 ? BATCH_HEADER_SIZE : WINDOW, limit - pos), pos)
        } finally {
          seg.release()
          released(seg)
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

/** The same walk with synchronous reads, in chunks of 4,096 headers (start-up use). */
export function* scanHeaders(segs: readonly Segment[], fromOffset: number): Iterable<BatchHeader> {
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
