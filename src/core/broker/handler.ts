// What every request handler (one file per API key under handlers/) exports, and what it
// is given. ApiVersions is derived from the registry of these handlers.
import type {Connection} from './socket-server.js'
import type {KafkaBroker} from './broker.js'
import type {RequestAuthz} from './api-authz.js'
import type {ApiSpec} from '../protocol/messages.js'

/** Returned by a handler when the request gets no response (Produce with acks=0). */
export const NO_RESPONSE: unique symbol = Symbol('no response')

export interface RequestContext {
  broker: KafkaBroker
  conn: Connection
  clientId: string
  correlationId: number
  apiVersion: number
  /** Set when an authorizer is configured: per-resource checks inside handlers (authz.allowed(op, type, name)). */
  authz?: RequestAuthz
  /** Set on a consumer's Fetch when client quotas are configured (router.ts). */
  fetchQuota?: FetchQuota
}

/**
 * Kafka's fetch quota steps: the fetch is capped to what one quota window allows, and before
 * the response is built its size is recorded; a violation (byte rate or request percentage)
 * answers with an empty response carrying throttle_time_ms, its bytes taken back.
 */
export interface FetchQuota {
  /** The most bytes one fetch may return (Infinity without a consumer_byte_rate quota). */
  readonly maxBytes: number
  /** Records the response size and the request time; the throttle in ms (0: send the data). */
  check(responseBytes: number): number
}

export type HandlerResult = object | typeof NO_RESPONSE

/** A registered handler: what the router calls with a request the API's codec decoded. */
export interface Handler {
  apiKey: number
  minVersion: number
  maxVersion: number
  handle(ctx: RequestContext, request: any, version: number): HandlerResult | Promise<HandlerResult>
}

/** What a handler answers: the whole response (every field, for every version), or none. */
export type Answer<Res> = Res | typeof NO_RESPONSE | Promise<Res | typeof NO_RESPONSE>

/**
 * A handler typed by its API's generated schema: the request arrives as the codec's Req, and
 * the response must be a complete Res, so a forgotten field is a compile error rather than a
 * default silently written by the encoder.
 */
export function defineHandler<Req, Res>(api: ApiSpec<Req, Res>, def: {minVersion?: number; maxVersion: number; handle(ctx: RequestContext, request: Req, version: number): Answer<Res>}): Handler {
  return {apiKey: api.apiKey, minVersion: def.minVersion ?? api.minVersion, maxVersion: def.maxVersion, handle: def.handle as Handler['handle']}
}

/** Kafka's "no authorized operations were requested" marker. */
export const AUTHORIZED_OPERATIONS_OMITTED = -2147483648
