// The transaction log in Apache ZooKeeper's layout: dataLogDir/version-2/log.<hex zxid of
// the first txn>, a FileHeader {magic "ZKLG", version 2, dbid 0}, then per txn: Adler-32
// checksum (long), the txn bytes as a jute buffer (TxnHeader + record), and the byte 'B'.
// Writes are group-committed: everything appended while a write+fsync is in flight goes
// out in the next single write+fsync; onDurable(zxid) fires after the sync returns.
import {openSync, closeSync, writeSync, fsyncSync, readdirSync, readFileSync, write, fdatasync, mkdirSync} from 'node:fs'
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

  constructor(readonly dir: string, readonly forceSync: boolean, readonly onDurable: (zxid: number) => void, readonly onError: (e: Error) => void) {
    mkdirSync(dir, {recursive: true})
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

  private openFor(zxid: number): number {
    const fd = openSync(join(this.dir, `log.${zxidHex(zxid)}`), 'a')
    const h = new JuteWriter(16).int(LOG_MAGIC).int(2).long(0)
    writeSync(fd, h.buf, 0, h.pos)
    return fd
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
    const bufs: Buffer[] = []
    try {
      for (const c of items) {
        if (c.roll) {
          if (bufs.length > 0) {
            writeSync(this.fd!, Buffer.concat(bufs))
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
      }
    } catch (e) {
      this.fail(e as Error)
      return
    }
    const done = (err: Error | null) => {
      if (err) return this.fail(err)
      this.flushing = false
      this.syncs++
      if (last >= 0) this.onDurable(last)
      this.flush()
    }
    if (bufs.length === 0) return done(null)
    const data = bufs.length === 1 ? bufs[0] : Buffer.concat(bufs)
    this.bytesWritten += data.length
    const fd = this.fd!
    if (!this.forceSync) {
      writeAll(fd, data, done)
      return
    }
    // The batch goes to the page cache at once (one small write per batch, not per request);
    // only the fsync runs off the event loop: one thread-pool round trip per group commit.
    try {
      let off = 0
      while (off < data.length) off += writeSync(fd, data, off, data.length - off)
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

function writeAll(fd: number, data: Buffer, cb: (err: Error | null) => void): void {
  write(fd, data, 0, data.length, null, (err, n) => {
    if (err) return cb(err)
    if (n < data.length) return writeAll(fd, data.subarray(n), cb)
    cb(null)
  })
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
    const buf = readFileSync(join(dir, files[i].name))
    stats.files++
    if (buf.length < 16 || buf.readInt32BE(0) !== LOG_MAGIC) {
      stats.torn.push(`${files[i].name}: bad header`)
      continue
    }
    let pos = 16
    while (pos + 12 <= buf.length) {
      const crc = buf.readUInt32BE(pos + 4)
      const crcHi = buf.readInt32BE(pos)
      const len = buf.readInt32BE(pos + 8)
      if (len === 0 && crc === 0 && crcHi === 0) break // preallocated zeros: end of log
      const bodyStart = pos + 12
      if (len < 0 || bodyStart + len + 1 > buf.length) { stats.torn.push(`${files[i].name}: torn entry at ${pos}`); break }
      if (crcHi !== 0 || adler32(buf, bodyStart, bodyStart + len) !== crc || buf[bodyStart + len] !== 0x42) {
        stats.torn.push(`${files[i].name}: bad checksum at ${pos}`)
        break
      }
      const r = new JuteReader(buf, bodyStart, bodyStart + len)
      const h = readTxnHeader(r)
      if (h.zxid > stats.lastZxid || (h.zxid > fromZxid && h.zxid > stats.lastZxid)) {
        const t = readTxnBody(r, h.type)
        apply(h, t)
        stats.txns++
        stats.lastZxid = h.zxid
      }
      pos = bodyStart + len + 1
    }
  }
  return stats
}
