// The asynchronous write path of a partition log (the broker's logs; a PartitionLog opened
// alone writes synchronously). An append assigns offsets, patches the batches and updates the
// in-memory segment state at once, as before, then queues its bytes here instead of calling
// writeSync: one writer per log takes every queued append of one segment (up to MAX_IOVECS /
// MAX_RUN_BYTES) and writes them with a single fs.writev, in order, at their positions. So a
// slow disk delays the appends of that log, never the event loop; and appends that arrive while
// a write is under way go out together in the next one.
//
// What stays as it was:
//  - the bytes and their order on disk (one log, one queue, positions assigned at append);
//  - a produce is answered (acks=1), a follower fetches again, and a coordinator's write counts
//    only once its bytes are written (`whenDone` / `whenWritten`), so acknowledged data is in the
//    page cache as with writeSync;
//  - reads never see bytes not yet written: `Segment.written` is the readable end, and a read
//    from an offset whose batch is still queued waits for it (`whenWritten`);
//  - flush.interval.messages / flush.ms: a flush asked for while writes are queued becomes a
//    mark on the queue: the writer fsyncs after the marked write (group commit: one fsync for the
//    appends written together) and only then moves the recovery point and answers those appends;
//  - truncation and compaction drain the queue first (`drain`); a segment removed meanwhile keeps
//    its handle until its queued writes are done (the entries hold a reference).
// A write error fails the queued appends with KAFKA_STORAGE_ERROR and takes the log offline.
import * as fs from 'node:fs'
import {ErrorCode, KafkaError} from '../protocol/errors.js'
import type {Segment} from './segment.js'

const MAX_IOVECS = 256
const MAX_RUN_BYTES = 8 * 1024 * 1024

type Waiter = [resolve: () => void, reject: (error: Error) => void]

interface Entry {
  seg: Segment
  /** null: a flush mark queued behind an entry already being written. */
  buf: Buffer | null
  position: number
  /** Log offset after this entry's batches (a flush mark: the log end when it was asked for). */
  endOffset: number
  /** fsync after this entry, then move the recovery point to flushTo. */
  flush: boolean
  flushTo: number
  waiters: Waiter[] | null
}

export interface WriteQueueHooks {
  /** fsyncs the log's segments holding unflushed data (async), then moves the recovery point to `to`. */
  flush(to: number, done: (error: Error | null) => void): void
  /** A segment's reference was let go (the log deletes a segment removed meanwhile). */
  released(seg: Segment): void
  /** A write failed: the log goes offline. */
  failed(error: KafkaError): void
}

export class WriteQueue {
  private queue: Entry[] = []
  private head = 0
  /** Entries [head, head + inFlight) are being written. */
  private inFlight = 0
  private error: KafkaError | null = null
  /** Offset after the last batch whose bytes are written. */
  writtenEndOffset: number

  constructor(startOffset: number, private readonly hooks: WriteQueueHooks) {
    this.writtenEndOffset = startOffset
  }

  /** Entries queued or being written. */
  get pending(): number {
    return this.queue.length - this.head
  }

  get failed(): KafkaError | null {
    return this.error
  }

  /** Restarts the written end (after a truncation with nothing queued). */
  reset(offset: number): void {
    if (this.pending > 0) throw new Error('WriteQueue.reset with writes queued')
    this.writtenEndOffset = offset
  }

  /** Queues `buf` for `seg` at `position`; endOffset is the log end after it. */
  enqueue(seg: Segment, buf: Buffer, position: number, endOffset: number): void {
    seg.acquire()
    const e: Entry = {seg, buf, position, endOffset, flush: false, flushTo: -1, waiters: null}
    // A flush asked for on the queued entry before moves to this one: one fsync for both.
    const last = this.queue.length - 1
    if (last >= this.head + this.inFlight) {
      const prev = this.queue[last]
      if (prev.flush && prev.seg === seg) {
        e.flush = true
        e.flushTo = prev.flushTo
        prev.flush = false
      }
    }
    this.queue.push(e)
    this.kick()
  }

  /**
   * Asks for an fsync once everything queued so far is written; the recovery point then moves
   * to `to`. False when nothing is queued (the caller flushes at once).
   */
  requestFlush(to: number): boolean {
    if (this.pending === 0) return false
    const last = this.queue[this.queue.length - 1]
    if (this.queue.length - 1 >= this.head + this.inFlight) {
      last.flush = true
      last.flushTo = Math.max(last.flushTo, to)
    } else {
      // The last entry is being written: a mark behind it.
      last.seg.acquire()
      this.queue.push({seg: last.seg, buf: null, position: last.position, endOffset: last.endOffset, flush: true, flushTo: to, waiters: null})
    }
    return true
  }

  /** Resolves once everything queued now is done (written, and fsynced when asked); null when nothing is queued. */
  whenDone(): Promise<void> | null {
    if (this.error !== null) return Promise.reject(this.error)
    if (this.pending === 0) return null
    return this.wait(this.queue[this.queue.length - 1])
  }

  /** Resolves once the batch holding `offset` is written; null when it already is (or was never queued). */
  whenWritten(offset: number): Promise<void> | null {
    if (this.error !== null) return Promise.reject(this.error)
    if (offset < this.writtenEndOffset) return null
    for (let i = this.head; i < this.queue.length; i++) {
      const e = this.queue[i]
      if (e.buf !== null && e.endOffset > offset) return this.wait(e)
    }
    return null
  }

  /** Waits until nothing is queued (appends made while waiting included). */
  async drain(): Promise<void> {
    for (;;) {
      const p = this.whenDone()
      if (p === null) return
      try {
        await p
      } catch {
        return
      }
    }
  }

  private wait(e: Entry): Promise<void> {
    return new Promise((resolve, reject) => (e.waiters ??= []).push([resolve, reject]))
  }

  private kick(): void {
    if (this.inFlight > 0 || this.pending === 0) return
    // One run: the entries of one segment at consecutive positions, as one writev.
    const first = this.queue[this.head]
    const bufs: Buffer[] = []
    let bytes = 0
    let n = 0
    let next = first.position
    while (this.head + n < this.queue.length) {
      const e = this.queue[this.head + n]
      if (e.seg !== first.seg) break
      if (e.buf !== null) {
        if (e.position !== next || bufs.length >= MAX_IOVECS || (bytes > 0 && bytes + e.buf.length > MAX_RUN_BYTES)) break
        bufs.push(e.buf)
        bytes += e.buf.length
        next += e.buf.length
      }
      n++
      if (e.flush) break
    }
    this.inFlight = n
    if (bytes === 0) this.afterWrite(n, null)
    else this.write(first.seg, bufs, first.position, 0, bytes, n)
  }

  /** writev until every byte of the run is written (a short write continues where it stopped). */
  private write(seg: Segment, bufs: Buffer[], position: number, done: number, total: number, n: number): void {
    fs.writev(seg.fd, bufs, position + done, (err, wrote) => {
      if (err) return this.afterWrite(n, err)
      done += wrote
      if (done >= total) return this.afterWrite(n, null)
      // Drop what was written from the front of the vector.
      let skip = wrote
      while (skip > 0 && skip >= bufs[0].length) skip -= bufs.shift()!.length
      if (skip > 0) bufs[0] = bufs[0].subarray(skip)
      this.write(seg, bufs, position, done, total, n)
    })
  }

  private afterWrite(n: number, err: Error | null): void {
    if (err !== null) return this.fail(err, n)
    let flushTo = -1
    for (let i = this.head; i < this.head + n; i++) {
      const e = this.queue[i]
      if (e.buf !== null) {
        e.seg.written = e.position + e.buf.length
        if (e.endOffset > this.writtenEndOffset) this.writtenEndOffset = e.endOffset
      }
      if (e.flush && e.flushTo > flushTo) flushTo = e.flushTo
    }
    if (flushTo < 0) return this.complete(n)
    this.hooks.flush(flushTo, error => {
      if (error !== null) this.fail(error, n)
      else this.complete(n)
    })
  }

  private complete(n: number): void {
    const done = this.queue.slice(this.head, this.head + n)
    this.head += n
    this.inFlight = 0
    this.compact()
    for (const e of done) {
      e.seg.release()
      this.hooks.released(e.seg)
      if (e.waiters !== null) for (const [resolve] of e.waiters) resolve()
    }
    this.kick()
  }

  /** Keeps the queue array from growing: drops the done prefix once it is large. */
  private compact(): void {
    if (this.head === this.queue.length) {
      this.queue = []
      this.head = 0
    } else if (this.head > 1024) {
      this.queue = this.queue.slice(this.head)
      this.head = 0
    }
  }

  /** A failed write: the bytes after the last good write are cut off, every queued append fails. */
  private fail(err: Error, n: number): void {
    const first = this.queue[this.head]
    const error = new KafkaError(ErrorCode.KAFKA_STORAGE_ERROR, `Error while appending to ${first.seg.logPath}: ${err.message}`)
    this.error = error
    try {
      if (first.seg.fd >= 0) fs.ftruncateSync(first.seg.fd, first.seg.written)
    } catch {}
    const all = this.queue.slice(this.head)
    void n
    this.queue = []
    this.head = 0
    this.inFlight = 0
    this.hooks.failed(error)
    for (const e of all) {
      e.seg.release()
      this.hooks.released(e.seg)
      if (e.waiters !== null) for (const [, reject] of e.waiters) reject(error)
    }
  }
}

/** fsyncs the segments one after the other (async), holding a reference on each meanwhile. */
export function fsyncSegments(segs: readonly Segment[], released: (seg: Segment) => void, done: (error: Error | null) => void): void {
  for (const seg of segs) seg.acquire()
  let i = 0
  const next = (err: Error | null): void => {
    if (err === null && i < segs.length) {
      fs.fsync(segs[i++].fd, e => next(e ?? null))
      return
    }
    for (const seg of segs) {
      seg.release()
      released(seg)
    }
    done(err)
  }
  next(null)
}
