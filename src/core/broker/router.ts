// Turns one request frame into one response frame: header, version checks, the handler,
// and the encoded response with its size prefix. Malformed input closes only the
// connection that sent it, with one log line.
import {Reader, Writer, ProtocolError} from '../protocol/io.js'
import {apisByKey} from '../protocol/messages.js'
import {decodeRequestHeader, encodeResponseHeader, responseHeaderVersion} from '../protocol/header.js'
import {ErrorCode} from '../protocol/errors.js'
import {CloseConnection, type Connection, type FrameResult} from './socket-server.js'
import {NO_RESPONSE, type FetchQuota, type Handler, type HandlerResult, type RequestContext} from './handler.js'
import type {KafkaBroker} from './broker.js'
import {handlers} from './handlers/index.js'
import {apiVersionsList} from './handlers/18-api-versions.js'
import {API_CHECKS} from './api-authz.js'
import {performance} from 'node:perf_hooks'

/** What the quota managers need to know about one request (only when quotas are configured). */
interface QuotaContext {
  conn: Connection
  user: string
  clientId: string
  apiKey: number
  /** Request bytes (Produce's quota counts them). */
  requestBytes: number
  /** When the handler was called (performance.now()). */
  t0: number
  /** Time spent handling it on the event loop, ms (the request quota's measure); -1 until the handler returned. */
  handlerMs: number
  /** A consumer's Fetch: the throttle its handler got from fetchQuota.check (-1: not checked). */
  fetchThrottle: number
  /** Fetches from followers and the SASL/ApiVersions exchange are not subject to client quotas. */
  exempt: boolean
}

const QUOTA_EXEMPT_APIS = new Set([17, 18, 36])

const API_VERSIONS = 18

export class RequestRouter {
  readonly byKey = new Map<number, Handler>()

  constructor(readonly broker: KafkaBroker) {
    for (const h of handlers) this.byKey.set(h.apiKey, h)
  }

  handle(conn: Connection, frame: Buffer): FrameResult | Promise<FrameResult> {
    // SASL listeners: until the client is authenticated (or while it re-authenticates), the
    // connection's SASL session takes the frame (ApiVersions is still answered below).
    const sasl = conn.security
    if (sasl !== null) {
      const r = sasl.intercept(frame, () => this.route(conn, frame))
      if (r !== undefined) return r
    }
    return this.route(conn, frame)
  }

  private route(conn: Connection, frame: Buffer): FrameResult | Promise<FrameResult> {
    const r = new Reader(frame)
    let header: {apiKey: number; apiVersion: number; correlationId: number; clientId: string | null}
    try {
      header = decodeRequestHeader(r)
    } catch (error) {
      throw new CloseConnection(`malformed request header (${(error as Error).message})`)
    }
    const {apiKey, apiVersion, correlationId} = header
    const handler = this.byKey.get(apiKey)
    const spec = apisByKey.get(apiKey)
    if (apiKey === API_VERSIONS && handler && (apiVersion > handler.maxVersion || apiVersion < handler.minVersion)) {
      // Answer with a v0 body carrying the supported list; clients retry with a version from it.
      return this.encode(correlationId, API_VERSIONS, 0, {errorCode: ErrorCode.UNSUPPORTED_VERSION, apiKeys: apiVersionsList(this.byKey)})
    }
    if (!handler || !spec) throw new CloseConnection(`unknown API key ${apiKey} (correlation id ${correlationId})`)
    if (apiVersion < handler.minVersion || apiVersion > handler.maxVersion) {
      throw new CloseConnection(`unsupported version ${apiVersion} of API key ${apiKey} (supported ${handler.minVersion}-${handler.maxVersion})`)
    }
    let request: unknown
    try {
      request = spec.decodeRequest(r, apiVersion)
    } catch (error) {
      if (error instanceof ProtocolError || error instanceof RangeError) {
        throw new CloseConnection(`malformed ${spec.name} v${apiVersion} request (${(error as Error).message})`)
      }
      throw error
    }
    if (header.clientId) conn.clientId = header.clientId
    const ctx: RequestContext = {broker: this.broker, conn, clientId: header.clientId ?? '', correlationId, apiVersion}
    // Authorization (when an authorizer is configured): the per-API table of broker/api-authz.ts.
    let after: ((res: any) => any) | undefined
    const authz = this.broker.security.requestAuthz(conn, spec.name)
    if (authz !== null) {
      ctx.authz = authz
      const verdict = API_CHECKS[apiKey]?.(authz, request, apiVersion)
      if (verdict !== undefined) {
        if (verdict.close !== undefined) throw new CloseConnection(verdict.close)
        if (verdict.respond !== undefined) return this.encode(correlationId, apiKey, apiVersion, verdict.respond)
        if (verdict.request !== undefined) request = verdict.request
        after = verdict.after
      }
    }
    const quotas = this.broker.security.quotas
    let q: QuotaContext | undefined
    if (quotas.active) {
      const replica = apiKey === 1 && ((request as {replicaId?: number}).replicaId ?? (request as {replicaState?: {replicaId: number}}).replicaState?.replicaId ?? -1) >= 0
      q = {conn, user: conn.principal.slice(conn.principal.indexOf(':') + 1), clientId: header.clientId ?? '', apiKey, requestBytes: frame.length, t0: performance.now(), handlerMs: -1, exempt: replica || QUOTA_EXEMPT_APIS.has(apiKey), fetchThrottle: -1}
      if (apiKey === 1 && !q.exempt) ctx.fetchQuota = this.fetchQuota(q)
    }
    const result = handler.handle(ctx, request, apiVersion)
    if (q !== undefined) q.handlerMs = performance.now() - q.t0
    if (result instanceof Promise) return result.then(res => this.finish(apiKey, apiVersion, correlationId, res, after, q))
    return this.finish(apiKey, apiVersion, correlationId, result, after, q)
  }

  private finish(apiKey: number, version: number, correlationId: number, res: HandlerResult, after?: (res: any) => any, q?: QuotaContext): FrameResult {
    if (res === NO_RESPONSE) {
      if (q !== undefined) q.conn.mute(this.throttleTime(q, 0))
      return null
    }
    const body = after !== undefined ? after(res) : res
    const bufs = this.encode(correlationId, apiKey, version, body)
    if (q === undefined) return bufs
    if (q.fetchThrottle >= 0) {
      // A consumer's fetch: the handler recorded it before building the response (fetchQuota);
      // a throttled one is already the empty response with throttle_time_ms.
      if (q.fetchThrottle > 0) q.conn.mute(q.fetchThrottle)
      return bufs
    }
    let bytes = 0
    if (apiKey === 1) for (const b of bufs) bytes += b.length
    const throttle = this.throttleTime(q, bytes)
    if (throttle <= 0) return bufs
    // Kafka (KIP-219): the response carries throttle_time_ms and the channel is muted that long.
    const b = body as {throttleTimeMs?: number}
    b.throttleTimeMs = Math.max(throttle, b.throttleTimeMs ?? 0)
    q.conn.mute(throttle)
    return this.encode(correlationId, apiKey, version, b)
  }

  /**
   * Kafka's order for a consumer's Fetch (KafkaApis.handleFetchRequest): the fetch size is
   * capped to one quota window's bytes; the response size and the request time are recorded
   * before the response is built; when either quota is violated the bytes are taken back and
   * the client gets an empty response with throttle_time_ms, its channel muted that long.
   */
  private fetchQuota(q: QuotaContext): FetchQuota {
    const quotas = this.broker.security.quotas
    return {
      maxBytes: quotas.fetch.maxValueInWindow(q.user, q.clientId),
      check(responseBytes: number): number {
        const now = Date.now()
        const handlerMs = q.handlerMs >= 0 ? q.handlerMs : performance.now() - q.t0
        const bandwidth = quotas.fetch.record(q.user, q.clientId, responseBytes, now)
        const request = quotas.request.record(q.user, q.clientId, handlerMs / 10, now)
        const throttle = Math.max(bandwidth, request)
        if (throttle > 0) quotas.fetch.unrecord(q.user, q.clientId, responseBytes, now)
        q.fetchThrottle = throttle
        return throttle
      },
    }
  }

  /** Records the request with the quota managers that apply; the longest throttle wins. */
  private throttleTime(q: QuotaContext, responseBytes: number): number {
    if (q.exempt) return 0
    const quotas = this.broker.security.quotas
    const now = Date.now()
    let bandwidth = 0
    if (q.apiKey === 0) bandwidth = quotas.produce.record(q.user, q.clientId, q.requestBytes, now)
    else if (q.apiKey === 1) bandwidth = quotas.fetch.record(q.user, q.clientId, responseBytes, now)
    // request_percentage: handler time as percent of one thread over the window (Kafka's nanosToPercentage).
    const request = quotas.request.record(q.user, q.clientId, q.handlerMs / 10, now)
    return Math.max(bandwidth, request)
  }

  encode(correlationId: number, apiKey: number, version: number, body: object): Buffer[] {
    const spec = apisByKey.get(apiKey)!
    const w = new Writer()
    encodeResponseHeader(w, correlationId, responseHeaderVersion(apiKey, version))
    spec.encodeResponse(w, version, body)
    const bufs = w.toBuffers()
    const size = Buffer.allocUnsafe(4)
    size.writeInt32BE(w.length, 0)
    bufs.unshift(size)
    return bufs
  }
}
