// One client connection (Apache ZooKeeper's ServerCnxn): the bytes read from its socket,
// cut into frames (each checked against jute.maxbuffer before anything is allocated for it)
// and handed to the server one at a time; the four-letter word a connection may open with;
// and its ordered reply queue, in which every reply and notification waits until the zxid it
// depends on is committed. Reply bytes are gathered into one socket write per turn of the
// event loop; a connection whose client does not read its replies stops being read (it costs
// its own connection, never the server).
import type {Socket} from 'node:net'
import {JuteWriter, JuteError} from './jute.js'
import {Xid, KeeperState} from './records.js'
import {WatchIndex, type Watcher} from './watches.js'
import type {AuthId} from './datatree.js'
import type {Session} from './sessions.js'
import type {DigestMd5Server} from './auth/digest-md5.js'
import {fourLetterWordOfInt} from './fourletter.js'
import type {ZkServer} from './server.js'

export interface Pending {
  buf: Buffer
  zxid: number
  close: boolean
  /** When the request this replies to arrived (-1 for notifications). */
  t0: number
  /** Whether that request was a write (updatelatency rather than readlatency). */
  write: boolean
}

/**
 * Unsent reply bytes (waiting for their zxid to be durable, gathered for the next write, or
 * queued in the socket) above which a connection's requests wait: its socket is not read and
 * the requests already read are not processed until the client has read enough replies. A
 * client that does not read its replies costs its own connection, never the server.
 */
export const MAX_UNSENT_BYTES = 1 << 20
/**
 * Only watch notifications (other sessions' writes) can push a throttled connection past its
 * bound; a connection that lets them pile up past this is closed (the client reconnects and
 * restores its watches with setWatches).
 */
export const MAX_UNSENT_NOTIFICATION_BYTES = 16 << 20
/** Replies at least this big are written on their own rather than gathered with others. */
const DIRECT_WRITE_BYTES = 64 * 1024
const EMPTY = Buffer.alloc(0)
/** How long a connection being closed may take to hand its last replies to the client. */
const CLOSE_GRACE_MS = 5000

export class Connection implements Watcher {
  watchIndex = new WatchIndex()
  session: Session | null = null
  authIds: AuthId[]
  /** A SASL authentication under way. */
  sasl: DigestMd5Server | null = null
  handshaken = false
  closed = false
  sentReadOnly = false
  /** Bytes received and not yet processed: whole chunks as they arrived, from inOff in the first. */
  private inBufs: Buffer[] = []
  private inOff = 0
  private inBytes = 0
  /** Requests wait: too many reply bytes are unsent (see MAX_UNSENT_BYTES). */
  throttled = false
  private processing = false
  private out = new JuteWriter(4096)
  private flushScheduled = false
  queue: Pending[] = []
  /** Bytes of the frames in queue. */
  private queuedBytes = 0
  recved = 0
  sent = 0
  lastOp = 'NA'
  lastCxid = 0
  lastZxid = 0
  lastResp = 0
  minLat = Infinity
  maxLat = 0
  totLat = 0
  lastLat = 0
  latCount = 0
  /** Arrival time of the request being processed; its reply's emit records the latency. */
  reqStart = -1
  reqWrite = false
  established = Date.now()
  readonly remote: string
  readonly remotePort: number

  constructor(readonly server: ZkServer, readonly socket: Socket) {
    this.remote = (socket.remoteAddress ?? '').replace(/^::ffff:/, '')
    this.remotePort = socket.remotePort ?? 0
    this.authIds = [{scheme: 'ip', id: this.remote}]
    socket.on('drain', () => this.maybeResume())
  }

  get describe(): string {
    return `/${this.remote}:${this.remotePort}`
  }

  /** Reply bytes produced for this connection that the client has not taken yet. */
  unsentBytes(): number {
    return this.queuedBytes + this.out.pos + this.socket.writableLength
  }

  onData(chunk: Buffer): void {
    this.server.metrics.bytesReceived += chunk.length
    this.inBufs.push(chunk)
    this.inBytes += chunk.length
    this.processInput()
  }

  /** The int32 at the start of the unprocessed input (inBytes >= 4). */
  private peekInt(): number {
    const b = this.inBufs[0]
    if (b.length - this.inOff >= 4) return b.readInt32BE(this.inOff)
    let v = 0
    let i = 0
    let off = this.inOff
    for (let k = 0; k < 4; k++) {
      while (off >= this.inBufs[i].length) { i++; off = 0 }
      v = (v << 8) | this.inBufs[i][off++]
    }
    return v
  }

  /** Drops n processed bytes from the front of the input. */
  private consume(n: number): void {
    this.inBytes -= n
    while (n > 0) {
      const left = this.inBufs[0].length - this.inOff
      if (n < left) {
        this.inOff += n
        return
      }
      n -= left
      this.inBufs.shift()
      this.inOff = 0
    }
  }

  /**
   * The next frame's body (len bytes after its 4-byte length), which has fully arrived: in
   * place when it lies in one received chunk, else gathered into a buffer of exactly its size.
   */
  private frame(len: number): [Buffer, number] {
    const b = this.inBufs[0]
    if (b.length - this.inOff >= 4 + len) {
      const start = this.inOff + 4
      this.consume(4 + len)
      return [b, start]
    }
    this.consume(4)
    const f = Buffer.allocUnsafe(len)
    let got = 0
    while (got < len) {
      const c = this.inBufs[0]
      const n = Math.min(len - got, c.length - this.inOff)
      c.copy(f, got, this.inOff, this.inOff + n)
      got += n
      this.consume(n)
    }
    return [f, 0]
  }

  /**
   * Handles every complete frame received, one at a time, as long as the client keeps up
   * with its replies; a partial frame waits for the rest of its bytes (nothing is allocated
   * for a frame before all of it has arrived, and its declared length is checked against
   * jute.maxbuffer first).
   */
  private processInput(): void {
    if (this.processing) return
    this.processing = true
    try {
      const max = this.server.config.juteMaxBuffer
      while (!this.closed && this.inBytes >= 4) {
        if (this.server.held) {
          this.server.heldConnections.add(this)
          this.throttle()
          return
        }
        if (this.unsentBytes() > MAX_UNSENT_BYTES) {
          this.throttle()
          return
        }
        if (!this.handshaken && this.recved === 0) {
          const word = fourLetterWordOfInt(this.peekInt())
          if (word !== null) {
            this.inBufs = []
            this.inBytes = 0
            this.server.listener.fourLetter(this, word)
            return
          }
        }
        const len = this.peekInt()
        if (len < 0 || len > max) {
          this.server.log.warn(`Closing connection to ${this.describe}: packet length ${len} is out of range (jute.maxbuffer is ${max})`)
          this.destroy()
          return
        }
        if (this.inBytes - 4 < len) break
        const [buf, start] = this.frame(len)
        this.recved++
        try {
          this.server.handleFrame(this, buf, start, start + len)
        } catch (e) {
          const what = e instanceof JuteError ? `malformed request (${e.message})` : `error (${(e as Error).message})`
          this.server.log.warn(`Closing connection to ${this.describe} after a ${what}`)
          this.destroy()
          return
        }
      }
      if (this.throttled && !this.closed) {
        this.throttled = false
        this.socket.resume()
      }
    } finally {
      this.processing = false
    }
  }

  /** Stops reading the socket until the client has taken enough of its replies. */
  private throttle(): void {
    if (this.throttled) return
    this.throttled = true
    this.socket.pause()
  }

  /** The server stopped holding requests: go on with this connection's. */
  resumeInput(): void {
    if (this.closed) return
    if (this.unsentBytes() > MAX_UNSENT_BYTES) return
    this.processInput()
  }

  /** Called when replies leave: a throttled connection whose backlog is small again goes on. */
  private maybeResume(): void {
    if (!this.throttled || this.closed || this.server.held || this.unsentBytes() > MAX_UNSENT_BYTES) return
    this.processInput()
  }

  /** While set, new frames are queued before this slot (notifications before a forwarded write's reply). */
  insertBefore: Pending | null = null

  /**
   * Keeps the place, in this connection's reply order, of a reply that comes later (a request
   * forwarded to the leader): everything after it waits until fill() gives it its bytes.
   */
  reserve(): Pending {
    const p: Pending = {buf: EMPTY, zxid: Infinity, close: false, t0: this.reqStart, write: this.reqWrite}
    this.reqStart = -1
    this.queue.push(p)
    this.server.gated.add(this)
    return p
  }

  /** The reply for a reserved slot, just written into w; it goes out once zxid is committed. */
  fill(p: Pending, w: JuteWriter, from: number, zxid: number, close = false): void {
    if (this.closed) return
    p.buf = Buffer.from(w.buf.subarray(from, w.pos))
    p.zxid = zxid
    p.close = close
    this.queuedBytes += p.buf.length
    if (p.buf.length > 0) {
      this.sent++
      this.server.packetsSent++
      this.server.metrics.response(p.buf.length)
      if (p.t0 >= 0) this.lastZxid = zxid
    }
    if (this.release(this.server.committedZxid)) this.server.gated.delete(this)
  }

  /** Queues the frame just written into w; it goes out once zxid is durable, in order. */
  emit(w: JuteWriter, from: number, zxid: number, close = false): void {
    if (this.closed) return
    this.sent++
    this.server.packetsSent++
    const t0 = this.reqStart
    this.reqStart = -1
    if (t0 >= 0) this.lastZxid = this.server.zxid
    this.server.metrics.response(w.pos - from)
    if (this.queue.length === 0 && zxid <= this.server.committedZxid) {
      if (t0 >= 0) this.server.recordLatency(this, t0, this.reqWrite)
      this.put(w.buf, from, w.pos, false)
      if (close) this.endAfterFlush()
    } else {
      const buf = Buffer.from(w.buf.subarray(from, w.pos))
      const p: Pending = {buf, zxid, close, t0, write: this.reqWrite}
      const at = this.insertBefore === null ? -1 : this.queue.indexOf(this.insertBefore)
      if (at >= 0) this.queue.splice(at, 0, p)
      else this.queue.push(p)
      this.queuedBytes += buf.length
      this.server.gated.add(this)
    }
    if (t0 < 0 && this.unsentBytes() > MAX_UNSENT_NOTIFICATION_BYTES) {
      this.server.log.warn(`Closing connection to ${this.describe}: ${this.unsentBytes()} bytes of replies and notifications unsent (the client is not reading them)`)
      this.destroy()
    }
  }

  /** Releases queued frames whose zxid is durable; true when the queue is empty. */
  release(durable: number): boolean {
    const q = this.queue
    let i = 0
    while (i < q.length && q[i].zxid <= durable) {
      const p = q[i]
      this.queuedBytes -= p.buf.length
      this.put(p.buf, 0, p.buf.length, true)
      if (p.t0 >= 0) this.server.recordLatency(this, p.t0, p.write)
      if (p.close) {
        this.queue = []
        this.queuedBytes = 0
        this.endAfterFlush()
        return true
      }
      i++
    }
    if (i > 0) q.splice(0, i)
    // The released replies may all have gone straight into the socket (no 'drain' follows).
    if (this.throttled) this.maybeResume()
    return q.length === 0
  }

  /**
   * Hands a reply to the socket, in order: small ones are gathered for one write per turn
   * of the event loop; a big one (a large getData) goes out as one buffer of its own size.
   */
  private put(src: Buffer, from: number, to: number, owned: boolean): void {
    const n = to - from
    if (n >= DIRECT_WRITE_BYTES) {
      if (this.out.pos > 0) this.flush()
      if (this.socket.destroyed) return
      this.socket.write(owned ? src.subarray(from, to) : Buffer.from(src.subarray(from, to)))
      return
    }
    this.out.ensure(n)
    src.copy(this.out.buf, this.out.pos, from, to)
    this.out.pos += n
    this.scheduleFlush()
  }

  private endAfterFlush(): void {
    this.flush()
    this.closed = true
    this.socket.end()
    // A client that does not read its last replies does not hold them here for ever.
    if (this.socket.writableLength > 0) setTimeout(() => this.socket.destroy(), CLOSE_GRACE_MS).unref()
    this.inBufs = []
    this.inBytes = 0
    this.server.connectionClosed(this)
  }

  private scheduleFlush(): void {
    if (this.flushScheduled) return
    this.flushScheduled = true
    queueMicrotask(() => this.flush())
  }

  flush(): void {
    this.flushScheduled = false
    if (this.out.pos === 0 || this.socket.destroyed) return
    this.socket.write(this.out.toBuffer())
    this.out.reset()
    if (this.out.buf.length > 256 * 1024) this.out = new JuteWriter(4096)
    if (this.throttled) this.maybeResume()
  }

  notify(path: string, type: number): void {
    const w = this.server.nw.reset()
    const m = w.startFrame()
    w.int(Xid.notification).long(-1).int(0).int(type).int(KeeperState.SyncConnected).ustring(path)
    w.finishFrame(m)
    const pending = this.reqStart
    this.reqStart = -1
    this.emit(w, 0, this.server.zxid)
    this.reqStart = pending
  }

  destroy(): void {
    if (this.closed) return
    this.closed = true
    this.socket.destroy()
    this.inBufs = []
    this.inBytes = 0
    this.queue = []
    this.queuedBytes = 0
    this.server.connectionClosed(this)
  }
}

/** Starts a reply frame (ReplyHeader xid, zxid, err) in w, emptied first; returns the frame's mark. */
export function replyHeader(w: JuteWriter, xid: number, zxid: number, err: number): number {
  w.reset()
  const m = w.startFrame()
  w.int(xid).long(zxid).int(err)
  return m
}
