// The transaction log in Apache ZooKeeper's layout: dataLogDir/version-2/log.<hex zxid of
// the first txn>, a FileHeader {magic "ZKLG", version 2, dbid 0}, then per txn: Adler-32
// checksum (long), the txn bytes as a jute buffer (TxnHeader + record), and the byte 'B'.
// Writes are group-committed: everything appended while a write+fsync is in flight goes
// out in the next single write+fsync; onDurable(zxid) fires after the sync returns.
// Like Apache's, a log file grows in preAllocSize steps (zeros past the last entry mark the
// end): appends then do not change the file's size, so each fdatasync has no size update
// to journal (about 40% more syncs per second on ext4).
import {ensureDir} from '../util/fs.js'
import {openSync, closeSync, writeSync, fsyncSync, readdirSync, readSync, write, fdatasync, ftruncateSync, unlinkSync} from 'node:fs'
import {join} from 'node:path'
import {JuteReader, JuteWriter, adler32} from './jute.js'
import {readTxnBody, readTxnHeader, writeTxnBody, writeTxnHeader, type Txn, type TxnHeader} from './records.js'

export const LOG_MAGIC = 0x5a4b4c47
export const SNAP_MAGIC = 0x5a4b534e

export function zxidHex(zxid: number): string {
  return zxid.toString(16)
}

/** Files named <prefix>.<hex zxid> in dir, sorted by zxid. */
export function listZxidFiles(dir: string, prefix: string): Array<{name: string; zxid: number}> {
  let names: string[] = []
  try { names = readdirSync(dir) } catch { return [] }
  const out: Array<{name: string; zxid: number}> = []
  for (const name of names) {
    if (!name.startsWith(prefix + '.')) continue
    const hex = name.slice(prefix.length + 1)
    if (!/^[0-9a-fA-F]+$/.test(hex)) continue
    out.push({name, zxid: parseInt(hex, 16)})
  }
  return out.sort((a, b) => a.zxid - b.zxid)
}

interface Chunk {
  roll: boolean
  bufs: Buffer[]
  first: number
  last: number
}

export class TxnLog {
  private fd: number | null = null
  private queue: Chunk[] = []
  private cur: JuteWriter = new JuteWriter(64 * 1024)
  private curFirst = -1
  private curLast = -1
  private flushing = false
  private scratch = new JuteWriter(1024)
  private scheduled = false
  private failed: Error | null = null
  private idleWaiters: Array<() => void> = []
  /** Txns appended since the last roll (snapshot trigger). */
  txnsSinceRoll = 0
  bytesWritten = 0
  syncs = 0
  /** Called after each group commit: how long the sync took (ms) and how many txns it covered. */
  onFlush: ((syncMs: number, txns: number) => void) | null = null
  /** End of the data in the open file, and the file's (padded) size. */
  private pos = 0
  private size = 0

  constructor(readonly dir: string, readonly forceSync: boolean, readonly onDurable: (zxid: number) => void, readonly onError: (e: Error) => void, readonly preAllocBytes = 64 * 1024 * 1024) {
    ensureDir(dir)
  }

  /** Serialises one txn into the pending batch. */
  append(h: TxnHeader, t: Txn): void {
    const s = this.scratch.reset()
    writeTxnHeader(s, h)
    writeTxnBody(s, t)
    const crc = adler32(s.buf, 0, s.pos)
    const w = this.cur
    w.long(crc).int(s.pos)
    w.ensure(s.pos)
    s.buf.copy(w.buf, w.pos, 0, s.pos)
    w.pos += s.pos
    w.byte(0x42)
    if (this.curFirst < 0) this.curFirst = h.zxid
    this.curLast = h.zxid
    this.txnsSinceRoll++
    this.schedule()
  }

  /** The next txn goes into a new log file (after a snapshot). */
  roll(): void {
    this.seal()
    this.queue.push({roll: true, bufs: [], first: -1, last: -1})
    this.txnsSinceRoll = 0
  }

  private seal(): void {
    if (this.cur.pos === 0) return
    this.queue.push({roll: false, bufs: [this.cur.toBuffer()], first: this.curFirst, last: this.curLast})
    this.cur.reset()
    this.curFirst = this.curLast = -1
  }

  private schedule(): void {
    if (this.scheduled || this.flushing) return
    this.scheduled = true
    setImmediate(() => {
      this.scheduled = false
      this.flush()
    })
  }

  /**
   * A new log file. One of the same name can only be left from a crash before its first
   * entry was complete (recovery stopped inside it), so it is overwritten.
   */
  private openFor(zxid: number): number {
    const fd = openSync(join(this.dir, `log.${zxidHex(zxid)}`), 'w')
    const h = new JuteWriter(16).int(LOG_MAGIC).int(2).long(0)
    writeSync(fd, h.buf, 0, h.pos, 0)
    this.pos = h.pos
    this.size = h.pos
    return fd
  }

  /** Grows the file ahead of n more bytes, as Apache's FilePadding does. */
  private pad(fd: number, n: number): void {
    const p = this.preAllocBytes
    if (p <= 0 || this.pos + n + 4096 < this.size) return
    let size = this.size
    if (this.pos + n > size) size = this.pos + n + p - ((this.pos + n + p) % p)
    while (this.pos + n + 4096 >= size) size += p
    ftruncateSync(fd, size)
    this.size = size
  }

  /** Writes data at the end of the log's data (blocking; the batch is already in memory). */
  private put(fd: number, data: Buffer): void {
    this.pad(fd, data.length)
    let off = 0
    while (off < data.length) off += writeSync(fd, data, off, data.length - off, this.pos + off)
    this.pos += data.length
  }

  private flush(): void {
    if (this.flushing) return
    this.seal()
    if (this.queue.length === 0) {
      const w = this.idleWaiters
      this.idleWaiters = []
      for (const f of w) f()
      return
    }
    if (this.failed) return
    this.flushing = true
    const items = this.queue
    this.queue = []
    let last = -1
    let txns = 0
    const bufs: Buffer[] = []
    try {
      for (const c of items) {
        if (c.roll) {
          if (bufs.length > 0) {
            this.put(this.fd!, Buffer.concat(bufs))
            bufs.length = 0
          }
          if (this.fd !== null) {
            if (this.forceSync) fsyncSync(this.fd)
            closeSync(this.fd)
            this.fd = null
          }
          continue
        }
        if (this.fd === null) this.fd = this.openFor(c.first)
        bufs.push(...c.bufs)
        last = c.last
        txns += c.last - c.first + 1
      }
    } catch (e) {
      this.fail(e as Error)
      return
    }
    const t0 = Date.now()
    const done = (err: Error | null) => {
      if (err) return this.fail(err)
      this.flushing = false
      this.syncs++
      if (txns > 0 && this.onFlush !== null) this.onFlush(Date.now() - t0, txns)
      if (last >= 0) this.onDurable(last)
      this.flush()
    }
    if (bufs.length === 0) return done(null)
    const data = bufs.length === 1 ? bufs[0] : Buffer.concat(bufs)
    this.bytesWritten += data.length
    const fd = this.fd!
    if (!this.forceSync) {
      try {
        this.pad(fd, data.length)
      } catch (e) {
        return done(e as Error)
      }
      const at = this.pos
      this.pos += data.length
      writeAll(fd, data, at, done)
      return
    }
    // The batch goes to the page cache at once (one small write per batch, not per request);
    // only the fsync runs off the event loop: one thread-pool round trip per group commit.
    try {
      this.put(fd, data)
    } catch (e) {
      return done(e as Error)
    }
    fdatasync(fd, done)
  }

  private fail(e: Error): void {
    this.failed = e
    this.flushing = false
    this.onError(e)
  }

  /** Resolves when everything appended so far is on disk. */
  drain(): Promise<void> {
    return new Promise(resolve => {
      this.idleWaiters.push(resolve)
      if (!this.flushing) this.flush()
    })
  }

  async close(): Promise<void> {
    await this.drain()
    if (this.fd !== null) {
      try { closeSync(this.fd) } catch { /* already closed */ }
      this.fd = null
    }
  }
}

function writeAll(fd: number, data: Buffer, position: number, cb: (err: Error | null) => void): void {
  write(fd, data, 0, data.length, position, (err, n) => {
    if (err) return cb(err)
    if (n < data.length) return writeAll(fd, data.subarray(n), position + n, cb)
    cb(null)
  })
}

/**
 * Reads a file forward through a window (a padded log file is mostly zeros: there is no
 * need to hold it all in memory). at(pos, n) makes bytes [pos, pos + n) available in buf at
 * offset pos - base, or returns false at the end of the file.
 */
class FileWindow {
  buf = Buffer.allocUnsafe(1 << 20)
  base = 0
  len = 0
  private eof = false

  constructor(private readonly fd: number) {}

  at(pos: number, n: number): boolean {
    if (pos >= this.base && pos + n <= this.base + this.len) return true
    if (this.eof && pos + n > this.base + this.len) return false
    const keep = pos >= this.base && pos < this.base + this.len ? this.base + this.len - pos : 0
    if (n > this.buf.length) {
      const nb = Buffer.allocUnsafe(n + (1 << 20))
      this.buf.copy(nb, 0, pos - this.base, pos - this.base + keep)
      this.buf = nb
    } else if (keep > 0) this.buf.copy(this.buf, 0, pos - this.base, pos - this.base + keep)
    this.base = pos
    this.len = keep
    while (this.len < this.buf.length) {
      const got = readSync(this.fd, this.buf, this.len, this.buf.length - this.len, this.base + this.len)
      if (got === 0) {
        this.eof = true
        break
      }
      this.len += got
    }
    return pos + n <= this.base + this.len
  }
}

export interface ReplayStats {
  txns: number
  files: number
  lastZxid: number
  torn: string[]
}

/**
 * Replays every logged txn with zxid > fromZxid, in order, stopping inside a file at the
 * first torn or corrupt entry (an unacknowledged tail) and going on with the next file.
 */
export function replayLogs(dir: string, fromZxid: number, apply: (h: TxnHeader, t: Txn) => void): ReplayStats {
  const files = listZxidFiles(dir, 'log')
  // The newest file starting at or before fromZxid + 1 may hold the first txns we need.
  let start = 0
  for (let i = 0; i < files.length; i++) if (files[i].zxid <= fromZxid + 1) start = i
  const stats: ReplayStats = {txns: 0, files: 0, lastZxid: fromZxid, torn: []}
  for (let i = start; i < files.length; i++) {
    const fd = openSync(join(dir, files[i].name), 'r')
    try {
      stats.files++
      replayFile(new FileWindow(fd), files[i].name, stats, apply)
    } finally {
      closeSync(fd)
    }
  }
  return stats
}

function replayFile(f: FileWindow, name: string, stats: ReplayStats, apply: (h: TxnHeader, t: Txn) => void): void {
  if (!f.at(0, 16) || f.buf.readInt32BE(0) !== LOG_MAGIC) {
    stats.torn.push(`${name}: bad header`)
    return
  }
  let pos = 16
  while (f.at(pos, 12)) {
    let o = pos - f.base
    const crcHi = f.buf.readInt32BE(o)
    const crc = f.buf.readUInt32BE(o + 4)
    const len = f.buf.readInt32BE(o + 8)
    if (len === 0 && crc === 0 && crcHi === 0) return // padding zeros: the end of the log
    if (len < 0 || !f.at(pos, 12 + len + 1)) { stats.torn.push(`${name}: torn entry at ${pos}`); return }
    o = pos - f.base
    const bodyStart = o + 12
    const buf = f.buf
    if (crcHi !== 0 || adler32(buf, bodyStart, bodyStart + len) !== crc || buf[bodyStart + len] !== 0x42) {
      stats.torn.push(`${name}: bad checksum at ${pos}`)
      return
    }
    const r = new JuteReader(buf, bodyStart, bodyStart + len)
    const h = readTxnHeader(r)
    if (h.zxid > stats.lastZxid) {
      const t = readTxnBody(r, h.type)
      apply(h, t)
      stats.txns++
      stats.lastZxid = h.zxid
    }
    pos += 12 + len + 1
  }
}

/**
 * Removes every logged txn after zxid (Apache's FileTxnLog.truncate, for a learner told to
 * TRUNC by its leader): later log files are deleted, the one holding zxid is cut after it.
 * Returns false when the log does not reach back to zxid.
 */
export function truncateLogs(dir: string, zxid: number): boolean {
  const files = listZxidFiles(dir, 'log')
  let keep = -1
  for (let i = 0; i < files.length; i++) if (files[i].zxid <= zxid) keep = i
  for (let i = keep + 1; i < files.length; i++) unlinkSync(join(dir, files[i].name))
  if (keep < 0) return files.length === 0 || zxid === 0
  const fd = openSync(join(dir, files[keep].name), 'r+')
  try {
    const f = new FileWindow(fd)
    if (!f.at(0, 16) || f.buf.readInt32BE(0) !== LOG_MAGIC) return false
    let pos = 16
    while (f.at(pos, 12)) {
      const o = pos - f.base
      const len = f.buf.readInt32BE(o + 8)
      if (len <= 0 || !f.at(pos, 12 + len + 1)) break
      const r = new JuteReader(f.buf, pos - f.base + 12, pos - f.base + 12 + len)
      const h = readTxnHeader(r)
      if (h.zxid > zxid) break
      pos += 12 + len + 1
    }
    ftruncateSync(fd, pos)
    fsyncSync(fd)
  } finally {
    closeSync(fd)
  }
  return true
}
