// A raw Kafka conversation for protocol-level security tests: frames written as the test
// builds them (Kafka requests or bare SASL tokens), frames read back as they come, and
// whether/when the broker closed the connection.
import {connect as netConnect, type Socket} from 'node:net'
import {connect as tlsConnect} from 'node:tls'
import {Writer, Reader} from '../../src/core/protocol/io.js'
import {apisByKey} from '../../src/core/protocol/messages.js'
import {encodeRequestHeader, requestHeaderVersion, responseHeaderVersion, decodeResponseHeader} from '../../src/core/protocol/header.js'

export function requestFrame(apiKey: number, version: number, correlationId: number, body: object, clientId = 'raw-test'): Buffer {
  const spec = apisByKey.get(apiKey)!
  const w = new Writer()
  const size = w.markInt32()
  encodeRequestHeader(w, apiKey, version, correlationId, clientId, requestHeaderVersion(apiKey, version))
  spec.encodeRequest(w, version, body as never)
  w.patchInt32(size, w.length - 4)
  return w.toBuffer()
}

export function sizePrefixed(payload: Buffer): Buffer {
  const size = Buffer.alloc(4)
  size.writeInt32BE(payload.length)
  return Buffer.concat([size, payload])
}

/** Decodes a response frame (without its size prefix). */
export function decodeResponse(apiKey: number, version: number, frame: Buffer): any {
  const r = new Reader(frame)
  decodeResponseHeader(r, apiKey === 18 ? 0 : responseHeaderVersion(apiKey, version))
  return apisByKey.get(apiKey)!.decodeResponse(r, version)
}

export class RawConn {
  readonly frames: Buffer[] = []
  closed = false
  closedAt = 0
  private buf = Buffer.alloc(0)
  private waiters: (() => void)[] = []

  private constructor(readonly socket: Socket) {
    socket.on('data', d => {
      this.buf = Buffer.concat([this.buf, d])
      while (this.buf.length >= 4) {
        const n = this.buf.readInt32BE(0)
        if (this.buf.length < 4 + n) break
        this.frames.push(this.buf.subarray(4, 4 + n))
        this.buf = this.buf.subarray(4 + n)
      }
      this.wake()
    })
    socket.on('close', () => { this.closed = true; this.closedAt = Date.now(); this.wake() })
    socket.on('error', () => {})
  }

  private wake(): void {
    for (const w of this.waiters.splice(0)) w()
  }

  static open(port: number, opts: {tls?: {ca: Buffer | string}} = {}): Promise<RawConn> {
    return new Promise((resolve, reject) => {
      const s = opts.tls
        ? tlsConnect({port, host: '127.0.0.1', ca: opts.tls.ca, servername: 'localhost'}, () => resolve(new RawConn(s)))
        : netConnect(port, '127.0.0.1', () => resolve(new RawConn(s)))
      s.once('error', reject)
    })
  }

  write(b: Buffer): void {
    this.socket.write(b)
  }

  /** The next frame, or null if the connection closes first or the deadline passes. */
  async next(timeoutMs = 5000): Promise<Buffer | null> {
    const deadline = Date.now() + timeoutMs
    for (;;) {
      const f = this.frames.shift()
      if (f) return f
      if (this.closed || Date.now() > deadline) return null
      await new Promise<void>(r => {
        const t = setTimeout(r, Math.max(1, deadline - Date.now()))
        this.waiters.push(() => { clearTimeout(t); r() })
      })
    }
  }

  /** Resolves once the broker closed the connection (true) or the deadline passed (false). */
  async waitClosed(timeoutMs = 5000): Promise<boolean> {
    const deadline = Date.now() + timeoutMs
    while (!this.closed && Date.now() < deadline) {
      await new Promise<void>(r => {
        const t = setTimeout(r, Math.max(1, deadline - Date.now()))
        this.waiters.push(() => { clearTimeout(t); r() })
      })
    }
    return this.closed
  }

  close(): void {
    this.socket.destroy()
  }
}

/** SASL/PLAIN's initial response. */
export function plainToken(user: string, password: string, authzid = ''): Buffer {
  return Buffer.from(`${authzid}\u0000${user}\u0000${password}`, 'utf8')
}
