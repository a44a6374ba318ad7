// The broker's network layer: one net.Server per listener, Kafka's size-prefixed framing,
// per-connection in-order responses (handlers may finish out of order), writes through
// cork/uncork of the response's buffer list (record data is never concatenated), and
// backpressure both ways (a slow reader pauses its own socket; too many requests in
// flight pause reading from that client).
import {createServer, type Server, type Socket} from 'node:net'
import type {Logger} from '../util/log.js'

export interface ListenerSpec {
  name: string
  host: string // '' = every interface
  port: number // 0 = a random port
}

/** Thrown by a frame handler to log one line and close the connection. */
export class CloseConnection extends Error {}

/** What a frame handler returns: the response buffers (size prefix included) or null for none. */
export type FrameResult = Buffer[] | null
export type FrameHandler = (conn: Connection, frame: Buffer) => FrameResult | Promise<FrameResult>

interface Slot {
  done: boolean
  bufs: FrameResult
}

const MAX_IN_FLIGHT = 100

export class Connection {
  readonly id: string
  readonly remoteHost: string
  /** Free for the request layer (e.g. the client id seen on the connection). */
  clientId = ''
  closed = false
  private readonly slots: Slot[] = []
  private head = 0
  private sizeBuf = Buffer.alloc(4)
  private sizeHave = 0
  private frame: Buffer | null = null
  private frameFill = 0
  private writeBlocked = false
  private readPaused = false

  constructor(readonly socket: Socket, readonly listener: BoundListener, private readonly server: SocketServer, seq: number) {
    this.remoteHost = socket.remoteAddress ?? 'unknown'
    this.id = `${socket.localAddress}:${socket.localPort}-${socket.remoteAddress}:${socket.remotePort}-${seq}`
    socket.setNoDelay(true)
    socket.on('data', chunk => this.onData(chunk))
    socket.on('drain', () => {
      this.writeBlocked = false
      this.updateReading()
    })
    socket.on('error', err => {
      server.logger.debug(`Connection ${this.id} error: ${err.message}`)
      socket.destroy()
    })
    socket.on('close', () => {
      this.closed = true
      server.connections.delete(this)
    })
  }

  close(reason?: string): void {
    if (reason) this.server.logger.info(`Closing socket connection to ${this.remoteHost} (${this.id}): ${reason}`)
    this.closed = true
    this.socket.destroy()
  }

  private onData(chunk: Buffer): void {
    let pos = 0
    const len = chunk.length
    while (pos < len && !this.closed) {
      if (this.frame !== null) {
        const n = Math.min(this.frame.length - this.frameFill, len - pos)
        chunk.copy(this.frame, this.frameFill, pos, pos + n)
        this.frameFill += n
        pos += n
        if (this.frameFill === this.frame.length) {
          const f = this.frame
          this.frame = null
          this.deliver(f)
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
        if (this.sizeHave < 4) return
        this.sizeHave = 0
        size = this.sizeBuf.readInt32BE(0)
      }
      if (size < 0 || size > this.server.maxRequestBytes) {
        this.close(`request of ${size} bytes exceeds socket.request.max.bytes (${this.server.maxRequestBytes}) or is invalid`)
        return
      }
      if (len - pos >= size) {
        // The whole frame is in this chunk: a view, no copy (each 'data' chunk is a fresh buffer).
        const f = chunk.subarray(pos, pos + size)
        pos += size
        this.deliver(f)
      } else {
        this.frame = Buffer.allocUnsafe(size)
        this.frameFill = 0
      }
    }
  }

  private deliver(frame: Buffer): void {
    const slot: Slot = {done: false, bufs: null}
    this.slots.push(slot)
    let result: FrameResult | Promise<FrameResult>
    try {
      result = this.server.handler(this, frame)
    } catch (error) {
      this.fail(error)
      return
    }
    if (result instanceof Promise) {
      result.then(bufs => this.complete(slot, bufs), error => this.fail(error))
      this.updateReading()
    } else {
      this.complete(slot, result)
    }
  }

  private fail(error: unknown): void {
    if (this.closed) return
    if (error instanceof CloseConnection) this.close(error.message)
    else this.close(`unexpected error while handling a request: ${(error as Error)?.message ?? String(error)}`)
  }

  private complete(slot: Slot, bufs: FrameResult): void {
    slot.done = true
    slot.bufs = bufs
    if (this.closed) return
    const slots = this.slots
    if (slots[this.head] !== slot) return
    let corked = false
    while (this.head < slots.length && slots[this.head].done) {
      const s = slots[this.head]
      this.head++
      if (s.bufs === null) continue
      if (!corked) {
        this.socket.cork()
        corked = true
      }
      let ok = true
      for (const b of s.bufs) ok = this.socket.write(b)
      if (!ok) this.writeBlocked = true
    }
    if (corked) this.socket.uncork()
    if (this.head > 64 && this.head * 2 > slots.length) {
      slots.splice(0, this.head)
      this.head = 0
    }
    this.updateReading()
  }

  private updateReading(): void {
    if (this.closed) return
    const inFlight = this.slots.length - this.head
    const shouldPause = this.writeBlocked || inFlight >= MAX_IN_FLIGHT
    if (shouldPause && !this.readPaused) {
      this.readPaused = true
      this.socket.pause()
    } else if (!shouldPause && this.readPaused) {
      this.readPaused = false
      this.socket.resume()
    }
  }
}

export interface BoundListener {
  name: string
  host: string
  port: number
  server: Server
}

export class SocketServer {
  readonly connections = new Set<Connection>()
  readonly listeners: BoundListener[] = []
  private seq = 0

  constructor(readonly logger: Logger, readonly handler: FrameHandler, readonly maxRequestBytes: number) {}

  /** Binds every listener; rejects with Kafka's one-line message when a port is taken. */
  async start(specs: ListenerSpec[]): Promise<void> {
    for (const spec of specs) {
      const server = createServer({noDelay: true}, socket => {
        const bound = this.listeners.find(l => l.server === server)!
        this.connections.add(new Connection(socket, bound, this, ++this.seq))
      })
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
      this.listeners.push({name: spec.name, host: spec.host, port, server})
      this.logger.info(`Awaiting socket connections on ${spec.host === '' ? '0.0.0.0' : spec.host}:${port}.`)
    }
  }

  /** Stops accepting, then closes every connection. */
  async stop(): Promise<void> {
    const closing = this.listeners.map(l => new Promise<void>(resolve => l.server.close(() => resolve())))
    for (const c of this.connections) c.close()
    await Promise.all(closing)
  }
}
