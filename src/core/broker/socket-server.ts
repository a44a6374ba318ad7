// The broker's network layer: one net.Server per listener, Kafka's size-prefixed framing,
// per-connection in-order responses (handlers may finish out of order), writes through
// cork/uncork of the response's buffer list (record data is never concatenated), and
// backpressure both ways (a slow reader pauses its own socket; too many requests in
// flight pause reading from that client).
import {createServer, type Server, type Socket} from 'node:net'
import {createServer as createTlsServer, type Server as TlsServer, type TLSSocket, type TlsOptions, type SecureContextOptions} from 'node:tls'
import type {Logger} from '../util/log.js'
import {acquireReadBuffer, isReadBuffer, releaseReadBuffer} from '../log/read-pool.js'

export interface ListenerSpec {
  name: string
  host: string // '' = every interface
  port: number // 0 = a random port
  /** PLAINTEXT (default), SSL, SASL_PLAINTEXT or SASL_SSL. */
  securityProtocol?: string
  /** TLS server options for SSL and SASL_SSL listeners. */
  tls?: TlsOptions
  /** A TLS handshake not finished within this is abandoned (one log line). */
  handshakeTimeoutMs?: number
}

/** What the security layer attaches to the socket server: called for every new connection. */
export interface ConnectionHooks {
  /** A connection is open (TLS handshake done for TLS listeners). Throw CloseConnection to refuse it. */
  onConnection?(conn: Connection): void
  /** A TLS client failed its handshake (garbage, an untrusted or expired certificate, a timeout). */
  onTlsError?(listener: string, remote: string, err: Error): void
}

/** Thrown by a frame handler to log one line and close the connection. */
export class CloseConnection extends Error {}

/** What a frame handler returns: the response buffers (size prefix included) or null for none. */
export type FrameResult = Buffer[] | null
export type FrameHandler = (conn: Connection, frame: Buffer) => FrameResult | Promise<FrameResult>

interface Slot {
  done: boolean
  bufs: FrameResult
  /** Bytes of the request frame, released from the connection's in-flight count when done. */
  reqBytes: number
  /** Bytes reserved from the server's large-frame budget for this request (0 for small frames). */
  reserved: number
  fetch: boolean
  /** A pooled frame buffer (a Produce frame received across chunks), given back once the request is answered. */
  pooled: Buffer | null
}

/**
 * Per-connection bounds (Kafka handles one request per connection at a time; kafkit lets a
 * connection pipeline, within these bounds, so an acks=all produce can append while an earlier
 * one waits for its replicas). A connection that reaches any bound is not read from, and the
 * frames already read wait undecoded, until it drops below: a client that does not read its
 * responses, or floods requests, costs its own connection only.
 */
export const CONNECTION_LIMITS = {
  /** Requests handed to handlers whose responses are not yet written out. */
  maxInFlight: 32,
  /** Request bytes those requests hold. A single larger request is still taken alone. */
  maxInFlightBytes: 8 * 1024 * 1024,
  /** Response bytes written but not yet taken by the kernel, plus finished responses waiting for an earlier one. */
  maxUnsentBytes: 1024 * 1024,
  /** Frames above this size are received only within the server's large-frame budget. */
  largeFrame: 1024 * 1024,
  /** Produce frames from this size up that arrive across chunks are received into a reused buffer. */
  pooledFrame: 64 * 1024,
}

const FETCH_API_KEY = 1
const PRODUCE_API_KEY = 0

/**
 * Whether Produce frames may be received into the read pool's reused buffers. Off while appends
 * are queued (KAFKIT_ASYNC_APPENDS=1: an acks=0 append's bytes outlive its answer); on otherwise,
 * since a produce's records are copied to the log before it is answered and nothing keeps a view.
 */
export const POOL_PRODUCE_FRAMES = process.env.KAFKIT_ASYNC_APPENDS !== '1'

export class Connection {
  readonly id: string
  readonly remoteHost: string
  /** Free for the request layer (e.g. the client id seen on the connection). */
  clientId = ''
  closed = false
  /** The authenticated principal (Kafka's "User:name"); ANONYMOUS until TLS or SASL says otherwise. */
  principal = 'User:ANONYMOUS'
  /** The security layer's per-connection state (SASL exchange, session expiry, quotas). */
  security: any = null
  /** Frames above this are refused (sasl.server.max.receive.size before SASL authentication). */
  frameLimit: number
  /** The line logged when frameLimit refuses a frame (null: the socket.request.max.bytes line). */
  frameLimitReason: ((size: number) => string) | null = null
  /** Muted (not read from, nothing dispatched) until this time: a quota's throttle. */
  private mutedUntil = 0
  private muteTimer: NodeJS.Timeout | null = null
  private readonly slots: Slot[] = []
  private head = 0
  private sizeBuf = Buffer.alloc(4)
  private sizeHave = 0
  /** A frame being received: its size, the chunks so far (small frames) or its buffer (large ones). */
  private partSize = -1
  private partChunks: Buffer[] = []
  private partHave = 0
  private partBuf: Buffer | null = null
  private partPooled = false
  private partReserved = 0
  /** Bytes of a large frame's start read before the budget admitted it (at most one chunk). */
  private waitingAdmission = false
  /** Complete frames not yet handed to the handler (views into received chunks: at most one chunk's worth). */
  private readonly ready: {frame: Buffer; reserved: number; pooled: boolean}[] = []
  private readyHead = 0
  /** The rest of a received chunk not parsed yet, because frames are waiting (parsed as they drain). */
  private rest: Buffer | null = null
  private inFlight = 0
  private inFlightBytes = 0
  private fetchesInFlight = 0
  private heldBytes = 0
  private writeBlocked = false
  private readPaused = false

  constructor(readonly socket: Socket, readonly listener: BoundListener, private readonly server: SocketServer, seq: number) {
    // An IPv4 client on a dual-stack listener shows as ::ffff:a.b.c.d; Kafka (and ACL hosts) see a.b.c.d.
    const addr = socket.remoteAddress ?? 'unknown'
    this.remoteHost = addr.startsWith('::ffff:') && addr.includes('.') ? addr.slice(7) : addr
    this.id = `${socket.localAddress}:${socket.localPort}-${socket.remoteAddress}:${socket.remotePort}-${seq}`
    this.frameLimit = server.maxRequestBytes
    socket.setNoDelay(true)
    socket.on('data', chunk => this.onData(chunk))
    socket.on('drain', () => {
      this.writeBlocked = false
      this.pump()
    })
    socket.on('error', err => {
      server.logger.debug(`Connection ${this.id} error: ${err.message}`)
      socket.destroy()
    })
    socket.on('close', () => this.onClose())
  }

  close(reason?: string): void {
    if (reason) this.server.logger.info(`Closing socket connection to ${this.remoteHost} (${this.id}): ${reason}`)
    this.socket.destroy()
    this.onClose()
  }

  /** Logs one line as Kafka's Selector does for a failed authentication, then closes. */
  failAuthentication(why: string, reauthentication = false): void {
    if (this.closed) return
    this.logAuthenticationFailure(why, reauthentication)
    this.close()
  }

  logAuthenticationFailure(why: string, reauthentication = false): void {
    this.server.logger.info(`Failed ${reauthentication ? 're-' : ''}authentication with /${this.remoteHost} (channelId=${this.id}) (${why})`)
  }

  /** Closes after what was written has left (a last response), and for sure within a second. */
  endSoon(): void {
    if (this.closed) return
    this.socket.end()
    setTimeout(() => this.close(), 1000).unref?.()
  }

  /** Stops reading from (and dispatching for) this connection for ms: Kafka's channel muting for quotas. */
  mute(ms: number): void {
    if (ms <= 0 || this.closed) return
    const until = Date.now() + ms
    if (until <= this.mutedUntil) return
    this.mutedUntil = until
    if (this.muteTimer) clearTimeout(this.muteTimer)
    this.muteTimer = setTimeout(() => {
      this.muteTimer = null
      this.mutedUntil = 0
      this.pump()
    }, ms)
    this.updateReading()
  }

  get muted(): boolean {
    return this.mutedUntil > 0
  }

  /** Whether the connection runs over TLS. */
  get tls(): boolean {
    return (this.socket as TLSSocket).encrypted === true
  }

  /** For tests and metrics: what the connection holds now. */
  get stats(): {inFlight: number; inFlightBytes: number; unsentBytes: number; queued: number; readPaused: boolean} {
    return {inFlight: this.inFlight, inFlightBytes: this.inFlightBytes, unsentBytes: this.unsentBytes(), queued: this.ready.length - this.readyHead, readPaused: this.readPaused}
  }

  private onClose(): void {
    if (this.closed) return
    this.closed = true
    this.server.connections.delete(this)
    if (this.muteTimer) { clearTimeout(this.muteTimer); this.muteTimer = null }
    this.server.hooks.onClose?.(this)
    // Give back the budget of frames that will never be handled; drop what was read.
    if (this.partReserved > 0) this.server.budget.release(this.partReserved)
    this.partReserved = 0
    if (this.waitingAdmission) this.server.budget.forget(this)
    for (let i = this.readyHead; i < this.ready.length; i++) if (this.ready[i].reserved > 0) this.server.budget.release(this.ready[i].reserved)
    this.ready.length = 0
    this.readyHead = 0
    this.rest = null
    this.partChunks = []
    this.partBuf = null
    this.partPooled = false
  }

  private onData(chunk: Buffer): void {
    if (this.closed) return
    if (this.rest !== null) this.rest = Buffer.concat([this.rest, chunk]) // only after a resume raced a buffered chunk
    else this.rest = chunk
    this.pump()
  }

  /** Parses frames out of the unparsed bytes while nothing is waiting; false when it must stop. */
  private parse(): void {
    let chunk = this.rest
    if (chunk === null) return
    let pos = 0
    const len = chunk.length
    while (pos < len && !this.closed && this.readyHead === this.ready.length && !this.waitingAdmission) {
      if (this.partSize >= 0) {
        const n = Math.min(this.partSize - this.partHave, len - pos)
        if (this.partBuf !== null) chunk.copy(this.partBuf, this.partHave, pos, pos + n)
        else this.partChunks.push(chunk.subarray(pos, pos + n))
        this.partHave += n
        pos += n
        if (this.partHave === this.partSize) {
          const f = this.partBuf ?? (this.partChunks.length === 1 ? this.partChunks[0] : Buffer.concat(this.partChunks, this.partSize))
          this.ready.push({frame: f, reserved: this.partReserved, pooled: this.partPooled})
          this.partSize = -1
          this.partBuf = null
          this.partPooled = false
          this.partChunks = []
          this.partReserved = 0
        }
        continue
      }
      let size: number
      if (this.sizeHave === 0 && len - pos >= 4) {
        size = chunk.readInt32BE(pos)
        pos += 4
      } else {
        const n = Math.min(4 - this.sizeHave, len - pos)
        chunk.copy(this.sizeBuf, this.sizeHave, pos, pos + n)
        this.sizeHave += n
        pos += n
        if (this.sizeHave < 4) break
        this.sizeHave = 0
        size = this.sizeBuf.readInt32BE(0)
      }
      if (size < 0 || size > this.frameLimit) {
        if (this.frameLimitReason !== null && size > this.frameLimit) this.failAuthentication(this.frameLimitReason(size))
        else this.close(`request of ${size} bytes exceeds socket.request.max.bytes (${this.server.maxRequestBytes}) or is invalid`)
        return
      }
      if (len - pos >= size) {
        // The whole frame is in this chunk: a view, no copy (each 'data' chunk is a fresh buffer).
        // A large one still counts against the budget while it is handled.
        const reserved = size > CONNECTION_LIMITS.largeFrame ? this.server.budget.take(size) : 0
        this.ready.push({frame: chunk.subarray(pos, pos + size), reserved, pooled: false})
        pos += size
        continue
      }
      this.partSize = size
      this.partHave = 0
      this.partPooled = POOL_PRODUCE_FRAMES && len - pos >= 2 && chunk.readInt16BE(pos) === PRODUCE_API_KEY
      if (size > CONNECTION_LIMITS.largeFrame) {
        // A large frame is held whole (its declared size is not allocated before admission),
        // and only while the server's budget for large frames has room.
        if (this.server.budget.acquire(this, size)) this.receiveInto(size)
        else this.waitingAdmission = true
      } else if (this.partPooled && size >= CONNECTION_LIMITS.pooledFrame) {
        // A produce of many records: into a reused buffer, not chunks joined into a fresh one
        // (a fresh megabyte per request is page faults and garbage-collection pressure).
        this.partBuf = acquireReadBuffer(size)
      } else {
        this.partPooled = false
      }
    }
    this.rest = pos < len && !this.closed ? chunk.subarray(pos) : null
  }

  /** The large frame being received goes into one buffer of its size, reserved from the budget. */
  private receiveInto(size: number): void {
    this.waitingAdmission = false
    this.partReserved = size
    this.partBuf = this.partPooled ? acquireReadBuffer(size) : Buffer.allocUnsafe(size)
  }

  /** The budget admitted the large frame this connection waited with (later, from a release). */
  admitted(size: number): void {
    this.receiveInto(size)
    if (!this.closed) this.pump()
  }

  /** Hands waiting frames to the handler while the bounds allow, parses more, and pauses or resumes reading. */
  private pump(): void {
    for (;;) {
      if (this.closed) return
      while (this.readyHead < this.ready.length && this.mayDispatch(this.ready[this.readyHead].frame)) {
        const r = this.ready[this.readyHead]
        this.ready[this.readyHead] = undefined as never
        this.readyHead++
        this.deliver(r.frame, r.reserved, r.pooled)
        if (this.closed) return
      }
      if (this.readyHead === this.ready.length) {
        this.ready.length = 0
        this.readyHead = 0
        if (this.rest !== null && !this.waitingAdmission) {
          this.parse()
          if (this.readyHead < this.ready.length) continue
        }
      }
      break
    }
    this.updateReading()
  }

  private unsentBytes(): number {
    return this.socket.writableLength + this.heldBytes
  }

  private mayDispatch(frame: Buffer): boolean {
    if (this.mutedUntil > 0) return false
    if (this.writeBlocked || this.unsentBytes() >= CONNECTION_LIMITS.maxUnsentBytes) return false
    if (this.inFlight === 0) return true
    if (this.inFlight >= CONNECTION_LIMITS.maxInFlight) return false
    if (this.inFlightBytes + frame.length > CONNECTION_LIMITS.maxInFlightBytes) return false
    // One fetch at a time: a fetch's response can be as large as the client asks (a consumer
    // sends the next one after reading this one's answer anyway).
    if (this.fetchesInFlight > 0 && frame.length >= 2 && frame.readInt16BE(0) === FETCH_API_KEY) return false
    return true
  }

  private deliver(frame: Buffer, reserved: number, pooled: boolean): void {
    const fetch = frame.length >= 2 && frame.readInt16BE(0) === FETCH_API_KEY
    const slot: Slot = {done: false, bufs: null, reqBytes: frame.length, reserved, fetch, pooled: pooled ? frame : null}
    this.slots.push(slot)
    this.inFlight++
    this.inFlightBytes += frame.length
    if (fetch) this.fetchesInFlight++
    let result: FrameResult | Promise<FrameResult>
    try {
      result = this.server.handler(this, frame)
    } catch (error) {
      this.finish(slot)
      this.fail(error)
      return
    }
    if (result instanceof Promise) {
      result.then(bufs => this.complete(slot, bufs), error => { this.finish(slot); this.fail(error) })
    } else {
      this.complete(slot, result)
    }
  }

  /** The request no longer holds its frame: give back its share of the bounds. */
  private finish(slot: Slot): void {
    this.inFlightBytes -= slot.reqBytes
    slot.reqBytes = 0
    if (slot.fetch) { this.fetchesInFlight--; slot.fetch = false }
    if (slot.reserved > 0) { this.server.budget.release(slot.reserved); slot.reserved = 0 }
  }

  private fail(error: unknown): void {
    if (this.closed) return
    if (error instanceof CloseConnection) this.close(error.message)
    else this.close(`unexpected error while handling a request: ${(error as Error)?.message ?? String(error)}`)
  }

  private complete(slot: Slot, bufs: FrameResult): void {
    this.finish(slot)
    // Answered: the produce's records are in the log, its frame buffer can be reused. (A failed
    // request's frame is left to the garbage collector: a rejected handler may still hold it.)
    if (slot.pooled !== null) { releaseReadBuffer(slot.pooled); slot.pooled = null }
    slot.done = true
    if (this.closed) return
    slot.bufs = bufs
    if (bufs !== null) for (const b of bufs) this.heldBytes += b.length
    const slots = this.slots
    if (slots[this.head] !== slot) return
    let corked = false
    while (this.head < slots.length && slots[this.head].done) {
      const s = slots[this.head]
      slots[this.head] = undefined as never
      this.head++
      this.inFlight--
      if (s.bufs === null) continue
      if (!corked) {
        this.socket.cork()
        corked = true
      }
      let ok = true
      for (const b of s.bufs) {
        this.heldBytes -= b.length
        // Record data read from the log goes back to the read pool once the socket has it.
        ok = isReadBuffer(b) ? this.socket.write(b, () => releaseReadBuffer(b)) : this.socket.write(b)
      }
      s.bufs = null
      if (!ok) this.writeBlocked = true
    }
    if (corked) this.socket.uncork()
    if (this.head > 64 && this.head * 2 > slots.length) {
      slots.splice(0, this.head)
      this.head = 0
    }
    this.pump()
  }

  private updateReading(): void {
    if (this.closed) return
    const shouldPause = this.mutedUntil > 0 || this.waitingAdmission || this.readyHead < this.ready.length || this.rest !== null || this.writeBlocked || this.unsentBytes() >= CONNECTION_LIMITS.maxUnsentBytes
    if (shouldPause && !this.readPaused) {
      this.readPaused = true
      this.socket.pause()
    } else if (!shouldPause && this.readPaused) {
      this.readPaused = false
      this.socket.resume()
    }
  }
}

/**
 * The memory budget for large request frames across all connections (queued.max.request.bytes,
 * or socket.request.max.bytes when that is unbounded): a large frame is received only once the
 * budget has room for its declared size, in arrival order; a frame alone is always admitted,
 * so progress never stops.
 */
export class FrameBudget {
  private inUse = 0
  private readonly waiting: {conn: Connection; size: number}[] = []

  constructor(readonly limit: number) {}

  get used(): number {
    return this.inUse
  }

  /** Reserves size now when there is room (or nothing else is held); otherwise queues conn. */
  acquire(conn: Connection, size: number): boolean {
    if (this.waiting.length === 0 && (this.inUse === 0 || this.inUse + size <= this.limit)) {
      this.inUse += size
      return true
    }
    this.waiting.push({conn, size})
    return false
  }

  /** Counts a frame that arrived whole in one chunk (it is already in memory). */
  take(size: number): number {
    this.inUse += size
    return size
  }

  release(size: number): void {
    this.inUse -= size
    while (this.waiting.length > 0) {
      const w = this.waiting[0]
      if (w.conn.closed) { this.waiting.shift(); continue }
      if (this.inUse !== 0 && this.inUse + w.size > this.limit) break
      this.waiting.shift()
      this.inUse += w.size
      // Not from inside the releasing connection's own processing: on the next microtask.
      queueMicrotask(() => { if (w.conn.closed) this.release(w.size); else w.conn.admitted(w.size) })
    }
  }

  forget(conn: Connection): void {
    const i = this.waiting.findIndex(w => w.conn === conn)
    if (i >= 0) this.waiting.splice(i, 1)
    this.release(0)
  }
}

export interface BoundListener {
  name: string
  host: string
  port: number
  server: Server
  securityProtocol: string
}

export class SocketServer {
  readonly connections = new Set<Connection>()
  readonly listeners: BoundListener[] = []
  readonly budget: FrameBudget
  private seq = 0
  private readonly handshaking = new Set<Socket>()

  constructor(readonly logger: Logger, readonly handler: FrameHandler, readonly maxRequestBytes: number, largeFrameBudget = maxRequestBytes, readonly hooks: ConnectionHooks & {onClose?(conn: Connection): void} = {}) {
    this.budget = new FrameBudget(Math.max(largeFrameBudget, CONNECTION_LIMITS.largeFrame))
  }

  private accept(server: Server, socket: Socket): void {
    const bound = this.listeners.find(l => l.server === server)
    if (!bound) { socket.destroy(); return }
    const conn = new Connection(socket, bound, this, ++this.seq)
    this.connections.add(conn)
    try {
      this.hooks.onConnection?.(conn)
    } catch (error) {
      if (error instanceof CloseConnection) conn.failAuthentication(error.message)
      else conn.close(`unexpected error accepting a connection: ${(error as Error).message}`)
    }
  }

  /** Replaces a TLS listener's key material (Kafka's dynamic key store update); new handshakes use it. */
  setSecureContext(listener: string, options: SecureContextOptions): void {
    const l = this.listeners.find(x => x.name === listener)
    if (!l || !('setSecureContext' in l.server)) throw new Error(`listener ${listener} does not use TLS`)
    ;(l.server as TlsServer).setSecureContext(options)
  }

  /** Binds every listener; rejects with Kafka's one-line message when a port is taken. */
  async start(specs: ListenerSpec[]): Promise<void> {
    for (const spec of specs) {
      let server: Server
      const remotes = new WeakMap<Socket, string>()
      if (spec.tls) {
        const tlsServer = createTlsServer({...spec.tls, handshakeTimeout: spec.handshakeTimeoutMs ?? 10000}, socket => this.accept(tlsServer, socket))
        // Sockets still in their handshake: stop() must not wait for them.
        tlsServer.on('connection', (raw: Socket) => {
          remotes.set(raw, raw.remoteAddress ?? 'unknown')
          this.handshaking.add(raw)
          raw.once('close', () => this.handshaking.delete(raw))
          raw.on('error', () => {})
        })
        tlsServer.on('tlsClientError', (err, socket) => {
          const raw = (socket as unknown as {_parent?: Socket})._parent
          this.hooks.onTlsError?.(spec.name, socket.remoteAddress ?? (raw ? remotes.get(raw) : undefined) ?? 'unknown', err)
          socket.destroy()
        })
        server = tlsServer
      } else {
        server = createServer({noDelay: true}, socket => this.accept(server, socket))
      }
      await new Promise<void>((resolve, reject) => {
        server.once('error', (err: NodeJS.ErrnoException) => {
          const shown = spec.host === '' ? '0.0.0.0' : spec.host
          const why = err.code === 'EADDRINUSE' ? 'Address already in use.' : err.code === 'EADDRNOTAVAIL' ? 'Cannot assign requested address.' : err.code === 'EACCES' ? 'Permission denied.' : `${err.message}.`
          reject(new Error(`Socket server failed to bind to ${shown}:${spec.port}: ${why}`))
        })
        if (spec.host === '') server.listen({port: spec.port}, () => resolve())
        else server.listen({port: spec.port, host: spec.host}, () => resolve())
      })
      server.on('error', err => this.logger.error(`Listener ${spec.name} error: ${err.message}`))
      const port = (server.address() as {port: number}).port
      this.listeners.push({name: spec.name, host: spec.host, port, server, securityProtocol: spec.securityProtocol ?? 'PLAINTEXT'})
      this.logger.info(`Awaiting socket connections on ${spec.host === '' ? '0.0.0.0' : spec.host}:${port}.`)
    }
  }

  /** Stops accepting, then closes every connection. */
  async stop(): Promise<void> {
    const closing = this.listeners.map(l => new Promise<void>(resolve => l.server.close(() => resolve())))
    for (const c of this.connections) c.close()
    for (const s of this.handshaking) s.destroy()
    await Promise.all(closing)
  }
}
