// The client core's admin layer (Java's KafkaAdminClient call model): one call is one request
// to a target — any broker, the controller, a group or transaction coordinator, a partition's
// leader, or a given node — retried until default.api.timeout.ms (60 s) when the target
// cannot be reached or answers with a retriable error (NOT_CONTROLLER,
// COORDINATOR_LOAD_IN_PROGRESS, COORDINATOR_NOT_AVAILABLE, NOT_COORDINATOR,
// LEADER_NOT_AVAILABLE, NOT_LEADER_OR_FOLLOWER, a lost connection, a request timeout), each
// attempt bounded by request.timeout.ms, with retry.backoff.ms doubling to
// retry.backoff.max.ms between attempts. The target is looked up again before each retry.
//
//   const admin = new AdminClient('localhost:9092', new ClientConfig(props))
//   const res = await admin.call('createTopics', {kind: 'controller'}, CreateTopics, {...},
//     {handle: r => { for (const t of r.topics) admin.check(t.errorCode, t.errorMessage); return r }})
//
// `handle` turns the response into the result; admin.check() (or throwing RetriableCallError)
// marks a per-entity error as retriable so the whole call is retried.
import {FindCoordinator, Metadata, type ApiSpec, type DeepPartial, type MetadataResponse} from '../protocol/messages.js'
import {errorName} from '../protocol/errors.js'
import {ConnectionError} from '../protocol/client.js'
import {ClientConfig} from './config.js'
import {NetworkClient, networkSettings} from './network.js'
import {KafkaClientError, apiError, isRetriable} from './kafka-errors.js'
import {retryBackoff, sleep, type ExponentialBackoff} from './backoff.js'

export type AdminTarget =
  | {kind: 'any'}
  | {kind: 'controller'}
  | {kind: 'node'; id: number}
  | {kind: 'coordinator'; key: string; keyType?: number}
  | {kind: 'leader'; topic: string; partition: number}

/** Thrown by a call's handler: retry the call (after looking the target up again). */
export class RetriableCallError extends Error {
  constructor(message: string, readonly code = -1) {
    super(message)
  }
}

/**
 * The call ran out of default.api.timeout.ms. neverSent: no attempt reached a broker (Java:
 * "Timed out waiting for a node assignment. Call: <name>").
 */
export class AdminTimeoutError extends KafkaClientError {
  constructor(message: string, readonly callName: string, readonly neverSent: boolean, readonly tries: number, readonly lastError: Error | undefined) {
    super('TimeoutException', message, 7, true)
  }
}

/** Error codes after which the target is looked up again. */
const COORDINATOR_ERRORS = new Set(['COORDINATOR_NOT_AVAILABLE', 'NOT_COORDINATOR'])

export interface CallOptions<Res, T> {
  /** The call's own deadline in ms (default.api.timeout.ms by default). */
  timeoutMs?: number
  maxVersion?: number
  minVersion?: number
  handle?: (res: Res, node: number) => T
}

export class AdminClient {
  readonly net: NetworkClient
  readonly defaultApiTimeoutMs: number
  readonly clientId: string
  private readonly backoff: ExponentialBackoff
  private controllerId = -1
  private readonly coordinators = new Map<string, number>()

  constructor(bootstrap: string, config: ClientConfig = new ClientConfig(), defaultClientId = 'adminclient-1') {
    const net = networkSettings(config, defaultClientId)
    this.clientId = net.clientId
    this.defaultApiTimeoutMs = config.int('default.api.timeout.ms', 60000, 0)
    this.net = new NetworkClient(bootstrap, net, `[AdminClient clientId=${net.clientId}]`)
    this.backoff = retryBackoff(net.retryBackoffMs, net.retryBackoffMaxMs)
  }

  close(): void {
    this.net.close()
  }

  /** Throws RetriableCallError for a retriable code, the Java exception for another error. */
  check(code: number, message?: string | null): void {
    if (code === 0) return
    if (isRetriable(code) || errorName(code) === 'NOT_CONTROLLER' || COORDINATOR_ERRORS.has(errorName(code))) throw new RetriableCallError(message || errorName(code), code)
    throw apiError(code, message)
  }

  /** A Metadata request to any broker (topics null: all topics; [] none). */
  async metadata(topics: string[] | null, deadline = Date.now() + this.defaultApiTimeoutMs, callName = 'describeTopics'): Promise<MetadataResponse> {
    return this.call(callName, {kind: 'any'}, Metadata, v => ({
      topics: topics === null ? (v === 0 ? [] : null) : topics.map(name => ({name, topicId: 'AAAAAAAAAAAAAAAAAAAAAA'})),
      allowAutoTopicCreation: false, includeClusterAuthorizedOperations: false, includeTopicAuthorizedOperations: false,
    }), {timeoutMs: Math.max(0, deadline - Date.now()), maxVersion: 12})
  }

  /** The node a target resolves to now (looking up controller, coordinator or leader). */
  private async resolve(target: AdminTarget, deadline: number): Promise<number> {
    switch (target.kind) {
      case 'any':
        return this.net.anyNode(deadline)
      case 'node':
        if (!this.net.node(target.id)) await this.rawMetadata([], deadline)
        if (!this.net.node(target.id)) throw new RetriableCallError(`node ${target.id} is not in the cluster metadata`)
        return target.id
      case 'controller': {
        if (this.controllerId >= 0 && this.net.node(this.controllerId)) return this.controllerId
        const md = await this.rawMetadata([], deadline)
        if (md.controllerId < 0 || !md.brokers.some(b => b.nodeId === md.controllerId)) throw new RetriableCallError('no controller in the metadata')
        this.controllerId = md.controllerId
        return md.controllerId
      }
      case 'coordinator': {
        const keyType = target.keyType ?? 0
        const cacheKey = `${keyType}\0${target.key}`
        const known = this.coordinators.get(cacheKey)
        if (known !== undefined) return known
        const node = await this.net.anyNode(deadline)
        const res = await this.net.send(node, FindCoordinator, v => (v >= 4 ? {keyType, coordinatorKeys: [target.key]} : {key: target.key, keyType}), {timeoutMs: this.requestTimeout(deadline)})
        const c = res.coordinators.length > 0 ? res.coordinators[0] : {errorCode: res.errorCode, errorMessage: res.errorMessage, nodeId: res.nodeId, host: res.host, port: res.port}
        if (c.errorCode !== 0) {
          if (isRetriable(c.errorCode)) throw new RetriableCallError(keyType === 0 ? `Timed out waiting for the coordinator of group ${target.key}` : `Timed out waiting for the coordinator of ${target.key}`, c.errorCode)
          throw new KafkaClientError(errorName(c.errorCode) === 'GROUP_AUTHORIZATION_FAILED' ? 'GroupAuthorizationException' : apiError(c.errorCode).exceptionClass, c.errorMessage || apiError(c.errorCode).message, c.errorCode)
        }
        const id = this.net.coordinatorNode(c.nodeId, c.host, c.port)
        this.coordinators.set(cacheKey, id)
        return id
      }
      case 'leader': {
        const md = await this.rawMetadata([target.topic], deadline)
        const t = md.topics.find(x => x.name === target.topic)
        if (!t) throw new RetriableCallError(`no metadata for topic ${target.topic}`)
        if (t.errorCode !== 0) {
          if (isRetriable(t.errorCode)) throw new RetriableCallError(errorName(t.errorCode), t.errorCode)
          throw apiError(t.errorCode)
        }
        const p = t.partitions.find(x => x.partitionIndex === target.partition)
        if (!p) throw apiError(3)
        if (p.leaderId < 0) throw new RetriableCallError('LEADER_NOT_AVAILABLE', 5)
        return p.leaderId
      }
    }
  }

  private async rawMetadata(topics: string[], deadline: number): Promise<MetadataResponse> {
    const node = await this.net.anyNode(deadline)
    const md = await this.net.send(node, Metadata, {topics: topics.map(name => ({name, topicId: 'AAAAAAAAAAAAAAAAAAAAAA'})), allowAutoTopicCreation: false}, {timeoutMs: this.requestTimeout(deadline), maxVersion: 12})
    this.learnBrokers(md)
    return md
  }

  /** The brokers of a metadata response become the nodes calls can be sent to. */
  private learnBrokers(md: MetadataResponse): void {
    if (md.brokers.length === 0) return
    this.net.brokers.clear()
    for (const b of md.brokers) this.net.brokers.set(b.nodeId, {id: b.nodeId, host: b.host, port: b.port, rack: b.rack})
    if (md.controllerId >= 0) this.controllerId = md.controllerId
  }

  private requestTimeout(deadline: number): number {
    return Math.max(1, Math.min(this.net.settings.requestTimeoutMs, deadline - Date.now()))
  }

  private forget(target: AdminTarget): void {
    if (target.kind === 'controller') this.controllerId = -1
    if (target.kind === 'coordinator') this.coordinators.delete(`${target.keyType ?? 0}\0${target.key}`)
  }

  /**
   * One admin call: resolves the target, sends the request (built per version when a function)
   * and hands the response to opts.handle. Retries as described above until the deadline.
   */
  async call<Req, Res, T = Res>(callName: string, target: AdminTarget, api: ApiSpec<Req, Res>, request: DeepPartial<Req> | ((version: number) => DeepPartial<Req>), opts: CallOptions<Res, T> = {}): Promise<T> {
    const deadline = Date.now() + (opts.timeoutMs ?? this.defaultApiTimeoutMs)
    let tries = 0
    let sent = false
    let lastError: Error | undefined
    for (;;) {
      try {
        const node = await this.resolve(target, deadline)
        let res: Res
        try {
          res = await this.net.send(node, api, request, {timeoutMs: this.requestTimeout(deadline), maxVersion: opts.maxVersion, minVersion: opts.minVersion})
        } catch (error) {
          // A request that left but got no answer counts as sent.
          if (error instanceof ConnectionError && /timed out/.test(error.message)) sent = true
          throw error
        }
        sent = true
        if ((api as ApiSpec<unknown, unknown>) === Metadata) this.learnBrokers(res as unknown as MetadataResponse)
        return opts.handle ? opts.handle(res, node) : (res as unknown as T)
      } catch (error) {
        const e = error as Error
        const retriable = e instanceof RetriableCallError || e instanceof ConnectionError || (e instanceof KafkaClientError && e.retriable && !(e instanceof AdminTimeoutError))
        if (!retriable) throw e
        if (e instanceof RetriableCallError && e.code >= 0 && (COORDINATOR_ERRORS.has(errorName(e.code)) || errorName(e.code) === 'NOT_CONTROLLER')) this.forget(target)
        if (e instanceof ConnectionError) this.forget(target)
        if (e instanceof RetriableCallError && e.code >= 0) sent = true
        lastError = e
        tries++
        const wait = this.backoff.backoff(tries - 1)
        if (Date.now() + wait >= deadline) {
          throw sent
            ? new AdminTimeoutError(`Call(callName=${callName}, deadlineMs=${deadline}, tries=${tries}, nextAllowedTryMs=${Date.now() + wait}) timed out at ${Date.now()} after ${tries} attempt(s)`, callName, false, tries, lastError)
            : new AdminTimeoutError(`Timed out waiting for a node assignment. Call: ${callName}`, callName, true, tries, lastError)
        }
        await sleep(wait)
      }
    }
  }
}
