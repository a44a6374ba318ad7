// What every request handler (one file per API key under handlers/) exports, and what it
// is given. ApiVersions is derived from the registry of these handlers.
import type {Connection} from './socket-server.js'
import type {KafkaBroker} from './broker.js'
import type {RequestAuthz} from '../security/api-authz.js'

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
}

export type HandlerResult = object | typeof NO_RESPONSE

export interface Handler {
  apiKey: number
  minVersion: number
  maxVersion: number
  handle(ctx: RequestContext, request: any, version: number): HandlerResult | Promise<HandlerResult>
}

/** Kafka's "no authorized operations were requested" marker. */
export const AUTHORIZED_OPERATIONS_OMITTED = -2147483648
