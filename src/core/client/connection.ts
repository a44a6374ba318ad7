// A minimal Kafka client connection for the command-line tools: one TCP socket, length-
// prefixed frames, requests matched to responses by correlation id, encoded and decoded by
// the project's generated codecs (src/core/protocol). Version negotiation via ApiVersions.
import {Socket, connect as netConnect} from 'node:net'
import {Reader, Writer} from '../protocol/io.js'
import {ApiVersions, type ApiSpec, type DeepPartial} from '../protocol/messages.js'
import {decodeResponseHeader, encodeRequestHeader, requestHeaderVersion, responseHeaderVersion} from '../protocol/header.js'

/** A failure to reach or talk to a broker (retriable by the caller until its deadline). */
export class ConnectionError extends Error {}

interface Pending {
  apiKey: number
  version: number
  resolve: (r: Reader) => void
  reject: (e: Error) => void
  timer: NodeJS.Timeout
}

export class BrokerConnection {
  private correlationId = 0
  private readonly pending = new Map<number, Pending>()
  private buffered: Buffer[] = []
  private bufferedBytes = 0
  private closed = false
  /** apiKey → [min, max] the broker serves. */
  versions = new Map<number, [number, number]>()

  private constructor(private readonly socket: Socket, readonly address: string, private readonly clientId: string, private readonly requestTimeoutMs: number) {
    socket.on('data', d => this.onData(d))
    socket.on('error', e => this.fail(new ConnectionError(`Connection to ${address} failed: ${e.message}`)))
    socket.on('close', () => this.fail(new ConnectionError(`Connection to ${address} was closed`)))
  }

  /** Connects and negotiates API versions. */
  static async connect(host: string, port: number, opts: {clientId: string; timeoutMs: number; requestTimeoutMs?: number}): Promise<BrokerConnection> {
    const socket = await new Promise<Socket>((res, rej) => {
      const s = netConnect({host, port})
      const timer = setTimeout(() => { s.destroy(); rej(new ConnectionError(`Connection to ${host}:${port} timed out`)) }, opts.timeoutMs)
      s.once('connect', () => { clearTimeout(timer); s.setNoDelay(true); res(s) })
      s.once('error', e => { clearTimeout(timer); s.destroy(); rej(new ConnectionError(`Connection to ${host}:${port} failed: ${(e as NodeJS.ErrnoException).code ?? e.message}`)) })
    })
    const conn = new BrokerConnection(socket, `${host}:${port}`, opts.clientId, opts.requestTimeoutMs ?? 30000)
    try {
      const res = await conn.send(ApiVersions, 0, {})
      for (const k of res.apiKeys) conn.versions.set(k.apiKey, [k.minVersion, k.maxVersion])
    } catch (error) {
      conn.close()
      throw error
    }
    return conn
  }

  /** The highest version both sides speak, or -1. */
  version(api: ApiSpec<any, any>, max = api.maxStableVersion): number {
    const r = this.versions.get(api.apiKey)
    if (!r) return -1
    const v = Math.min(r[1], max)
    return v >= r[0] && v >= api.minVersion ? v : -1
  }

  send<Req, Res>(api: ApiSpec<Req, Res>, version: number, request: DeepPartial<Req>): Promise<Res> {
    if (this.closed) return Promise.reject(new ConnectionError(`Connection to ${this.address} is closed`))
    const id = this.correlationId = (this.correlationId + 1) & 0x7fffffff
    const w = new Writer(256)
    w.int32(0)
    encodeRequestHeader(w, api.apiKey, version, id, this.clientId, requestHeaderVersion(api.apiKey, version))
    api.encodeRequest(w, version, request)
    const frame = w.toBuffer()
    frame.writeInt32BE(frame.length - 4, 0)
    return new Promise<Res>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(id)
        reject(new ConnectionError(`Request ${api.name} to ${this.address} timed out after ${this.requestTimeoutMs} ms`))
      }, this.requestTimeoutMs)
      this.pending.set(id, {
        apiKey: api.apiKey,
        version,
        timer,
        reject,
        resolve: r => {
          try { resolve(api.decodeResponse(r, version)) } catch (error) { reject(new ConnectionError(`Malformed ${api.name} response from ${this.address}: ${(error as Error).message}`)) }
        },
      })
      this.socket.write(frame)
    })
  }

  close(): void {
    this.closed = true
    this.socket.destroy()
    this.fail(new ConnectionError(`Connection to ${this.address} was closed`))
  }

  private fail(error: Error): void {
    this.closed = true
    for (const p of this.pending.values()) { clearTimeout(p.timer); p.reject(error) }
    this.pending.clear()
  }

  private onData(d: Buffer): void {
    this.buffered.push(d)
    this.bufferedBytes += d.length
    for (;;) {
      if (this.bufferedBytes < 4) return
      let buf = this.buffered.length === 1 ? this.buffered[0] : Buffer.concat(this.buffered)
      this.buffered = [buf]
      const size = buf.readInt32BE(0)
      if (size < 4 || size > 256 * 1024 * 1024) {
        this.socket.destroy()
        this.fail(new ConnectionError(`Invalid response size ${size} from ${this.address}`))
        return
      }
      if (buf.length < size + 4) return
      const frame = buf.subarray(4, 4 + size)
      buf = buf.subarray(4 + size)
      this.buffered = buf.length ? [buf] : []
      this.bufferedBytes = buf.length
      const id = frame.readInt32BE(0)
      const p = this.pending.get(id)
      if (!p) continue
      this.pending.delete(id)
      clearTimeout(p.timer)
      const r = new Reader(frame)
      try {
        decodeResponseHeader(r, responseHeaderVersion(p.apiKey, p.version))
      } catch (error) {
        p.reject(new ConnectionError(`Malformed response header from ${this.address}`))
        continue
      }
      p.resolve(r)
    }
  }
}

/** Splits "host:port,host2:port2" into endpoints; throws a one-line error for bad input. */
export function parseBootstrap(list: string): {host: string; port: number}[] {
  const out: {host: string; port: number}[] = []
  for (const raw of list.split(',')) {
    const s = raw.trim()
    if (!s) continue
    const m = /^\[?([^\]]*?)\]?:(\d+)$/.exec(s)
    if (!m || !m[1]) throw new Error(`Invalid url in bootstrap.servers: ${s}`)
    out.push({host: m[1], port: Number(m[2])})
  }
  if (out.length === 0) throw new Error('No resolvable bootstrap urls given in bootstrap.servers')
  return out
}
