// A minimal raw ZooKeeper wire client for tests that need control below what real client
// libraries allow: silent sessions (expiry), garbage bytes, oversized frames, odd opcodes.
import {createConnection, type Socket} from 'node:net'
import {connect as tlsConnect, type ConnectionOptions} from 'node:tls'
import {JuteWriter, JuteReader} from '../../src/core/zookeeper/jute.js'

export class RawClient {
  private buf = Buffer.alloc(0)
  private waiters: Array<(f: Buffer) => void> = []
  frames: Buffer[] = []
  /** Watch notifications received: [type, state, path]. */
  events: Array<[number, number, string]> = []
  closed = false
  sessionId = 0n
  passwd = Buffer.alloc(16)
  timeout = 0
  private constructor(readonly socket: Socket) {
    socket.on('data', d => {
      this.buf = Buffer.concat([this.buf, d])
      while (this.buf.length >= 4) {
        const n = this.buf.readInt32BE(0)
        if (this.buf.length < 4 + n) break
        const f = this.buf.subarray(4, 4 + n)
        this.buf = this.buf.subarray(4 + n)
        const w = this.waiters.shift()
        if (w) w(f)
        else this.frames.push(f)
      }
    })
    socket.on('close', () => {
      this.closed = true
      for (const w of this.waiters.splice(0)) w(Buffer.alloc(0))
    })
    socket.on('error', () => {})
  }

  static open(port: number): Promise<RawClient> {
    return new Promise((resolve, reject) => {
      const s = createConnection({host: '127.0.0.1', port}, () => resolve(new RawClient(s)))
      s.once('error', reject)
    })
  }

  /** Over TLS (a secureClientPort). */
  static openTls(port: number, opts: ConnectionOptions): Promise<RawClient> {
    return new Promise((resolve, reject) => {
      const s = tlsConnect({host: '127.0.0.1', port, ...opts}, () => resolve(new RawClient(s)))
      s.once('error', reject)
    })
  }

  next(timeoutMs = 5000): Promise<Buffer> {
    const f = this.frames.shift()
    if (f) return Promise.resolve(f)
    if (this.closed) return Promise.resolve(Buffer.alloc(0))
    return new Promise((resolve, reject) => {
      const t = setTimeout(() => reject(new Error('no reply frame in time')), timeoutMs)
      this.waiters.push(b => { clearTimeout(t); resolve(b) })
    })
  }

  send(w: JuteWriter): void {
    const frame = Buffer.alloc(4 + w.pos)
    frame.writeInt32BE(w.pos, 0)
    w.buf.copy(frame, 4, 0, w.pos)
    this.socket.write(frame)
  }

  async handshake(timeout = 1000, sessionId = 0n, passwd = Buffer.alloc(16)): Promise<void> {
    this.send(new JuteWriter().int(0).long(0).int(timeout).bigLong(sessionId).buffer(passwd).bool(false))
    const f = await this.next()
    const r = new JuteReader(f)
    r.int()
    this.timeout = r.int()
    this.sessionId = r.bigLong()
    this.passwd = Buffer.from(r.buffer())
  }

  /** Sends a request (xid, type, body) and returns the reply's (xid, zxid, err, reader). */
  async request(xid: number, type: number, body: (w: JuteWriter) => void): Promise<{xid: number; zxid: number; err: number; r: JuteReader}> {
    const w = new JuteWriter().int(xid).int(type)
    body(w)
    this.send(w)
    for (;;) {
      const f = await this.next()
      if (f.length === 0) throw new Error('connection closed')
      const r = new JuteReader(f)
      const h = {xid: r.int(), zxid: r.long(), err: r.int(), r}
      if (h.xid === -1) {
        this.events.push([r.int(), r.int(), r.ustring()])
        continue
      }
      return h
    }
  }

  close(): void {
    this.socket.destroy()
  }
}

export const OPEN_ACL = (w: JuteWriter) => w.int(1).int(31).ustring('world').ustring('anyone')
