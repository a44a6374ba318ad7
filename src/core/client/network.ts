// The client core's network layer (Java's NetworkClient + ClusterConnectionStates + Metadata):
// one KafkaConnection per broker node, opened on demand and reopened after a failure with
// Java's reconnect backoff (reconnect.backoff.ms doubling to reconnect.backoff.max.ms, 20%
// jitter), a connection set-up timeout (socket.connection.setup.timeout.ms doubling to
// .max.ms), a timeout per request (request.timeout.ms; a timed-out request closes its
// connection, as Java's does), and a metadata cache that bootstraps from ANY listed server,
// is refreshed on demand (stale leaders, lost connections) and every metadata.max.age.ms,
// with retry.backoff.ms / retry.backoff.max.ms between failed attempts. Failed connection
// attempts are logged as Java logs them (WARN ... could not be established. Node may not be
// available.). Pure of CLI concerns.
import {lookup} from 'node:dns/promises'
import {isIP} from 'node:net'
import {KafkaConnection, ConnectionError, RequestTimeoutError, TlsHandshakeError} from '../protocol/client.js'
import {saslAuthenticate, scheduleReauthentication, SaslAuthError} from '../security/client.js'
import {clientSecurity, PLAINTEXT_SECURITY, type ClientSecurity} from './security.js'
import {Metadata as MetadataApi, type ApiSpec, type DeepPartial, type MetadataResponse} from '../protocol/messages.js'
import {errorName} from '../protocol/errors.js'
import {ExponentialBackoff, retryBackoff} from './backoff.js'
import {ClientLogger, Loggers} from './log.js'
import {KafkaClientError, timeoutError} from './kafka-errors.js'
import {ClientConfig} from './config.js'
import {javaHashMapOrder} from './format.js'

export interface BrokerNode {
  id: number
  host: string
  port: number
  rack: string | null
}

export interface PartitionInfo {
  partition: number
  leader: number
  leaderEpoch: number
  replicas: number[]
  isr: number[]
  offline: number[]
  errorCode: number
}

export interface TopicInfo {
  name: string
  topicId: string
  isInternal: boolean
  errorCode: number
  /** Indexed by partition id. */
  partitions: PartitionInfo[]
}

/** Settings shared by every client (Java's CommonClientConfigs), with Java's defaults. */
export interface NetworkSettings {
  clientId: string
  requestTimeoutMs: number
  reconnectBackoffMs: number
  reconnectBackoffMaxMs: number
  connectionSetupTimeoutMs: number
  connectionSetupTimeoutMaxMs: number
  retryBackoffMs: number
  retryBackoffMaxMs: number
  metadataMaxAgeMs: number
  /** security.protocol, ssl.*, sasl.* (PLAINTEXT when absent). */
  security?: ClientSecurity
}

export function networkSettings(cfg: ClientConfig, clientId: string, requestTimeoutDefault = 30000): NetworkSettings {
  return {
    clientId: cfg.string('client.id', clientId),
    requestTimeoutMs: cfg.int('request.timeout.ms', requestTimeoutDefault, 0),
    reconnectBackoffMs: cfg.long('reconnect.backoff.ms', 50, 0),
    reconnectBackoffMaxMs: cfg.long('reconnect.backoff.max.ms', 1000, 0),
    connectionSetupTimeoutMs: cfg.long('socket.connection.setup.timeout.ms', 10000, 0),
    connectionSetupTimeoutMaxMs: cfg.long('socket.connection.setup.timeout.max.ms', 30000, 0),
    retryBackoffMs: cfg.long('retry.backoff.ms', 100, 0),
    retryBackoffMaxMs: cfg.long('retry.backoff.max.ms', 1000, 0),
    metadataMaxAgeMs: cfg.long('metadata.max.age.ms', 300000, 0),
    security: clientSecurity(cfg),
  }
}

/** Splits "host:port,host2:port2" ("[::1]:9092" too); Java's ConfigException text for bad input. */
export function parseBootstrapServers(list: string): {host: string; port: number}[] {
  const out: {host: string; port: number}[] = []
  for (const raw of list.split(',')) {
    const s = raw.trim()
    if (!s) continue
    const m = /^(?:\[([^\]]+)\]|([^:\s[\]]+)):(\d{1,5})$/.exec(s)
    const port = m ? Number(m[3]) : NaN
    if (!m || port < 1 || port > 65535) throw new Error(`Invalid url in bootstrap.servers: ${s}`)
    out.push({host: m[1] ?? m[2], port})
  }
  if (out.length === 0) throw new Error('No resolvable bootstrap urls given in bootstrap.servers')
  return out
}

interface NodeState {
  node: BrokerNode
  conn: KafkaConnection | undefined
  connecting: Promise<KafkaConnection> | undefined
  /** Consecutive failed connection attempts. */
  failures: number
  nextAttemptAt: number
  addrIndex: number
}

export interface SendOptions {
  timeoutMs?: number
  /** Highest version to use (the negotiated version is min(ours, broker's, this)). */
  maxVersion?: number
  minVersion?: number
}

/** A version both sides speak: min(kafkit's stable max, broker's max, cap). -1 when none. */
export function pickVersion(c: KafkaConnection, api: ApiSpec<any, any>, cap = api.maxStableVersion, floor = api.minVersion): number {
  const r = c.brokerVersions.get(api.apiKey)
  if (!r) return -1
  const v = Math.min(api.maxStableVersion, r[1], cap)
  return v >= Math.max(r[0], api.minVersion, floor) ? v : -1
}

export class NetworkClient {
  readonly log: ClientLogger
  readonly settings: NetworkSettings
  readonly bootstrap: BrokerNode[]
  private readonly nodes = new Map<number, NodeState>()
  private readonly reconnectBackoff: ExponentialBackoff
  private readonly setupTimeout: ExponentialBackoff
  private readonly metadataBackoff: ExponentialBackoff
  private closed = false
  /** Called whenever a connection becomes ready or metadata changes (the producer's wake-up). */
  private readonly listeners: (() => void)[] = []

  // ---- metadata cache ----
  readonly brokers = new Map<number, BrokerNode>()
  readonly topics = new Map<string, TopicInfo>()
  controllerId = -1
  clusterId: string | null = null
  /** Topics whose metadata is wanted (the requested set); allTopics asks for every topic. */
  readonly wanted = new Set<string>()
  allTopics = false
  allowAutoTopicCreation = false
  /** Bumped after every successful metadata update. */
  metadataVersion = 0
  private needUpdate = true
  private lastRefreshMs = 0
  private lastSuccessMs = 0
  private failedRefreshes = 0
  private updating: Promise<void> | undefined
  private ageTimer: NodeJS.Timeout | undefined
  private updateWaiters: (() => void)[] = []
  lastMetadataError: Error | undefined
  /**
   * The last failed authentication (SASL or the TLS handshake): Java's AuthenticationException,
   * not retried by the callers (cleared by the next successful one).
   */
  authenticationError: KafkaClientError | undefined

  constructor(bootstrap: string | {host: string; port: number}[], settings: NetworkSettings, logPrefix: string) {
    this.settings = settings
    this.log = new ClientLogger(logPrefix)
    const list = typeof bootstrap === 'string' ? parseBootstrapServers(bootstrap) : bootstrap
    this.bootstrap = list.map((e, i) => ({id: -(i + 1), host: e.host, port: e.port, rack: null}))
    this.reconnectBackoff = new ExponentialBackoff(settings.reconnectBackoffMs, 2, settings.reconnectBackoffMaxMs, 0.2)
    this.setupTimeout = new ExponentialBackoff(settings.connectionSetupTimeoutMs, 2, settings.connectionSetupTimeoutMaxMs, 0.2)
    this.metadataBackoff = retryBackoff(settings.retryBackoffMs, settings.retryBackoffMaxMs)
  }

  get isClosed(): boolean {
    return this.closed
  }

  onChange(fn: () => void): void {
    this.listeners.push(fn)
  }

  private notify(): void {
    for (const fn of this.listeners) fn()
  }

  // ---------------------------------------------------------------------------------------
  // Connections

  /** The node of an id: a broker from the metadata or a bootstrap server (negative ids). */
  node(id: number): BrokerNode | undefined {
    return this.brokers.get(id) ?? this.extraNodes.get(id) ?? (id < 0 ? this.bootstrap[-id - 1] : this.nodes.get(id)?.node)
  }

  private readonly extraNodes = new Map<number, BrokerNode>()

  /**
   * A node id for a group or transaction coordinator: its own connection (Java uses
   * Integer.MAX_VALUE - node id), so that a JoinGroup held by the broker for seconds does not
   * stall fetches to the same broker.
   */
  coordinatorNode(nodeId: number, host: string, port: number): number {
    const id = 2147483647 - nodeId
    this.extraNodes.set(id, {id, host, port, rack: null})
    return id
  }

  private state(id: number): NodeState | undefined {
    let s = this.nodes.get(id)
    const node = this.node(id)
    if (!node) return s
    if (!s) {
      s = {node, conn: undefined, connecting: undefined, failures: 0, nextAttemptAt: 0, addrIndex: 0}
      this.nodes.set(id, s)
    } else if (s.node.host !== node.host || s.node.port !== node.port) {
      // The broker moved (new address in the metadata): drop the old connection.
      s.node = node
      s.failures = 0
      s.nextAttemptAt = 0
      if (s.conn) void s.conn.close()
      s.conn = undefined
    }
    return s
  }

  /** The open connection to node id, or undefined (a connection attempt is started when allowed). */
  ready(id: number): KafkaConnection | undefined {
    const s = this.state(id)
    if (!s) return undefined
    if (s.conn && !s.conn.closed) return s.conn
    if (!s.connecting && Date.now() >= s.nextAttemptAt && !this.closed) this.startConnect(s).catch(() => {})
    return undefined
  }

  /** ms until a connection attempt to node id is allowed (0 when connected or allowed now). */
  connectionDelay(id: number): number {
    const s = this.nodes.get(id)
    if (!s || (s.conn && !s.conn.closed) || s.connecting) return 0
    return Math.max(0, s.nextAttemptAt - Date.now())
  }

  /** True while node id cannot be connected to (in reconnect backoff after a failure). */
  isBlackedOut(id: number): boolean {
    const s = this.nodes.get(id)
    return !!s && !s.conn && !s.connecting && Date.now() < s.nextAttemptAt
  }

  /** The connection to node id, waiting for the reconnect backoff and the connection itself. */
  async connect(id: number): Promise<KafkaConnection> {
    for (;;) {
      if (this.closed) throw new ConnectionError('the client is closed')
      const s = this.state(id)
      if (!s) throw new ConnectionError(`node ${id} is not in the cluster metadata`)
      if (s.conn && !s.conn.closed) return s.conn
      if (s.connecting) return s.connecting
      const wait = s.nextAttemptAt - Date.now()
      if (wait > 0) {
        await new Promise(res => setTimeout(res, wait))
        continue
      }
      return this.startConnect(s)
    }
  }

  private address(host: string, ip: string, port: number): string {
    return `${isIP(host) ? '' : host}/${ip}:${port}`
  }

  private startConnect(s: NodeState): Promise<KafkaConnection> {
    const node = s.node
    const p = (async () => {
      let ip = node.host
      if (!isIP(node.host)) {
        try {
          const all = await lookup(node.host, {all: true})
          all.sort((a, b) => a.family - b.family) // IPv4 first, as the JVM does by default
          ip = all[s.addrIndex % all.length].address
        } catch (error) {
          throw this.connectFailed(s, node.host, `Error connecting to node ${this.nodeString(node)}`, error as Error, false)
        }
      }
      const timeoutMs = this.setupTimeout.backoff(s.failures)
      const security = this.settings.security ?? PLAINTEXT_SECURITY
      let conn: KafkaConnection
      try {
        conn = await KafkaConnection.connect(ip, node.port, {clientId: this.settings.clientId, timeoutMs, clientSoftwareName: 'kafkit', clientSoftwareVersion: '0.1.0', tls: security.tls?.(node.host)})
      } catch (error) {
        if (error instanceof TlsHandshakeError) throw this.authenticationFailed(s, ip, new KafkaClientError('SslAuthenticationException', 'SSL handshake failed', -1), error.reason)
        throw this.connectFailed(s, ip, '', error as Error, true)
      }
      try {
        if (security.sasl) {
          const lifetime = await saslAuthenticate(conn, security.sasl)
          scheduleReauthentication(conn, security.sasl, lifetime)
        }
        await conn.negotiate()
      } catch (error) {
        await conn.close()
        if (error instanceof TlsHandshakeError) throw this.authenticationFailed(s, ip, new KafkaClientError('SslAuthenticationException', 'SSL handshake failed', -1), error.reason)
        if (error instanceof SaslAuthError) throw this.authenticationFailed(s, ip, new KafkaClientError(error.exceptionClass, error.reason, error.exceptionClass === 'SaslAuthenticationException' ? 58 : 33))
        throw this.connectFailed(s, ip, '', error as Error, false)
      }
      this.authenticationError = undefined
      if (this.closed) {
        await conn.close()
        throw new ConnectionError('the client is closed')
      }
      s.failures = 0
      s.nextAttemptAt = 0
      s.conn = conn
      conn.onClose(() => {
        if (s.conn === conn) s.conn = undefined
        if (!this.closed) {
          this.bootstrapDisconnected(node)
          this.requestUpdate()
          this.notify()
        }
      })
      this.notify()
      return conn
    })()
    s.connecting = p
    p.then(() => { if (s.connecting === p) s.connecting = undefined }, () => { if (s.connecting === p) s.connecting = undefined })
    return p
  }

  private nodeString(node: BrokerNode): string {
    return `${node.host}:${node.port} (id: ${node.id} rack: ${node.rack})`
  }

  private bootstrapDisconnected(node: BrokerNode): void {
    if (node.id < 0 && this.metadataVersion === 0) this.log.warn(Loggers.network, `Bootstrap broker ${this.nodeString(node)} disconnected`)
  }

  private connectFailed(s: NodeState, ip: string, message: string, error: Error, notConnected: boolean): ConnectionError {
    s.failures++
    s.addrIndex++
    s.nextAttemptAt = Date.now() + this.reconnectBackoff.backoff(s.failures - 1)
    if (!this.closed) {
      if (notConnected) this.log.warn(Loggers.network, `Connection to node ${s.node.id} (${this.address(s.node.host, ip, s.node.port)}) could not be established. Node may not be available.`)
      else if (message) this.log.warn(Loggers.network, message, error.message)
      this.bootstrapDisconnected(s.node)
      this.requestUpdate()
      this.notify()
    }
    return error instanceof ConnectionError ? error : new ConnectionError(error.message)
  }

  /** A failed authentication: logged as Java logs it, kept for the callers, the node backs off. */
  private authenticationFailed(s: NodeState, ip: string, error: KafkaClientError, detail?: string): KafkaClientError {
    s.failures++
    s.nextAttemptAt = Date.now() + this.reconnectBackoff.backoff(s.failures - 1)
    this.authenticationError = error
    if (!this.closed) {
      this.log.error(Loggers.network, `Connection to node ${s.node.id} (${this.address(s.node.host, ip, s.node.port)}) failed authentication due to: ${error.message}${detail ? ` (${detail})` : ''}`)
      this.bootstrapDisconnected(s.node)
      this.notify()
      for (const w of this.updateWaiters.splice(0)) w()
    }
    return error
  }

  /** Throws the last authentication failure (Java's Metadata.maybeThrowAnyException). */
  maybeThrowAuthenticationError(): void {
    if (this.authenticationError) throw this.authenticationError
  }

  /** Closes the connection to node id (its in-flight requests fail). */
  disconnect(id: number): void {
    const s = this.nodes.get(id)
    if (s?.conn) void s.conn.close()
  }

  /**
   * Sends one request to node id at the highest version both sides speak (at most
   * opts.maxVersion); the request may be built per version. A request that times out closes
   * the connection (as Java's NetworkClient does) and rejects with RequestTimeoutError.
   */
  send<Req, Res>(id: number, api: ApiSpec<Req, Res>, request: DeepPartial<Req> | ((version: number) => DeepPartial<Req>), opts: SendOptions = {}): Promise<Res> {
    // On an open connection the request is written at once (callers count on inFlight and on
    // the order of their sends); otherwise after connecting.
    const s = this.nodes.get(id)
    if (s?.conn && !s.conn.closed && !this.closed) return this.sendOn(s.conn, api, request, opts)
    return this.connect(id).then(conn => this.sendOn(conn, api, request, opts))
  }

  private sendOn<Req, Res>(conn: KafkaConnection, api: ApiSpec<Req, Res>, request: DeepPartial<Req> | ((version: number) => DeepPartial<Req>), opts: SendOptions): Promise<Res> {
    const v = pickVersion(conn, api, opts.maxVersion, opts.minVersion)
    if (v < 0) return Promise.reject(new KafkaClientError('UnsupportedVersionException', `The node does not support ${api.name.replace(/([a-z])([A-Z])/g, '$1_$2').toUpperCase()}`, 35))
    const body = typeof request === 'function' ? (request as (v: number) => DeepPartial<Req>)(v) : request
    return conn.send(api, v, body, opts.timeoutMs ?? this.settings.requestTimeoutMs).catch(error => {
      if (error instanceof RequestTimeoutError) void conn.close()
      throw error
    })
  }

  /** The [min, max] versions node id's open connection announced for apiKey (undefined if none). */
  brokerVersionRange(id: number, apiKey: number): [number, number] | undefined {
    const c = this.nodes.get(id)?.conn
    return c && !c.closed ? c.brokerVersions.get(apiKey) : undefined
  }

  /** The version send() would use with node id's open connection (-1 if not connected or none). */
  versionFor(id: number, api: ApiSpec<any, any>, cap?: number): number {
    const c = this.nodes.get(id)?.conn
    return c && !c.closed ? pickVersion(c, api, cap) : -1
  }

  /**
   * The node with the fewest requests in flight among those connected; else one that may be
   * connected to now; else one being connected to. Candidates: the brokers of the metadata, or
   * the bootstrap servers before the first metadata. undefined when every node is backing off.
   */
  leastLoadedNode(): number | undefined {
    const candidates = this.brokers.size > 0 ? [...this.brokers.keys()] : this.bootstrap.map(n => n.id)
    const offset = Math.floor(Math.random() * candidates.length)
    let best: number | undefined
    let bestInFlight = Infinity
    let connectable: number | undefined
    let connecting: number | undefined
    for (let i = 0; i < candidates.length; i++) {
      const id = candidates[(i + offset) % candidates.length]
      const s = this.nodes.get(id)
      if (s?.conn && !s.conn.closed) {
        const n = s.conn.inFlight
        if (n === 0) return id
        if (n < bestInFlight) { best = id; bestInFlight = n }
      } else if (s?.connecting) {
        connecting ??= id
      } else if (!s || Date.now() >= s.nextAttemptAt) {
        connectable ??= id
      }
    }
    return best ?? connectable ?? connecting
  }

  /** ms until some node may be tried again (when leastLoadedNode() found none). */
  private nextNodeDelay(): number {
    const candidates = this.brokers.size > 0 ? [...this.brokers.keys()] : this.bootstrap.map(n => n.id)
    let min = this.settings.reconnectBackoffMaxMs
    for (const id of candidates) min = Math.min(min, this.connectionDelay(id))
    return Math.max(1, min)
  }

  /** A node to talk to, waiting (until the deadline) while every node is backing off. */
  async anyNode(deadline: number): Promise<number> {
    for (;;) {
      const id = this.leastLoadedNode()
      if (id !== undefined) return id
      const wait = Math.min(this.nextNodeDelay(), deadline - Date.now())
      if (wait <= 0) throw timeoutError('Timed out waiting for a node')
      await new Promise(res => setTimeout(res, wait))
    }
  }

  close(): void {
    this.closed = true
    if (this.ageTimer) clearTimeout(this.ageTimer)
    for (const s of this.nodes.values()) if (s.conn) void s.conn.close()
    for (const w of this.updateWaiters.splice(0)) w()
  }

  // ---------------------------------------------------------------------------------------
  // Metadata

  /** Adds topics to the wanted set; a refresh is requested when one is new. */
  want(topics: Iterable<string>): void {
    let added = false
    for (const t of topics) if (!this.wanted.has(t)) { this.wanted.add(t); added = true }
    if (added) this.requestUpdate()
  }

  /** Asks for a metadata refresh as soon as the refresh backoff allows. */
  requestUpdate(): void {
    this.needUpdate = true
    this.maybeUpdate()
  }

  private updateDue(now: number): boolean {
    return this.needUpdate || now - this.lastSuccessMs >= this.settings.metadataMaxAgeMs
  }

  private timeToAllowUpdate(now: number): number {
    if (this.lastRefreshMs === 0) return 0
    const backoff = this.failedRefreshes > 0 ? this.metadataBackoff.backoff(this.failedRefreshes - 1) : this.settings.retryBackoffMs
    return Math.max(0, this.lastRefreshMs + backoff - now)
  }

  /** Starts the update loop unless it runs already. */
  maybeUpdate(): void {
    if (this.updating || this.closed) return
    const p = this.runUpdates()
    this.updating = p
    p.finally(() => {
      if (this.updating === p) this.updating = undefined
      this.scheduleAgeRefresh()
    }).catch(() => {})
  }

  private scheduleAgeRefresh(): void {
    if (this.closed) return
    if (this.ageTimer) clearTimeout(this.ageTimer)
    const due = Math.max(0, this.lastSuccessMs + this.settings.metadataMaxAgeMs - Date.now())
    this.ageTimer = setTimeout(() => this.maybeUpdate(), Math.min(due, 2 ** 31 - 1))
    this.ageTimer.unref()
  }

  private async runUpdates(): Promise<void> {
    while (!this.closed && this.updateDue(Date.now())) {
      const wait = this.timeToAllowUpdate(Date.now())
      if (wait > 0) {
        // (The loop's own waits do not keep the process alive: whoever needs the metadata
        // waits with a timer of its own.)
        await new Promise(res => setTimeout(res, wait).unref())
        continue
      }
      const id = this.leastLoadedNode()
      if (id === undefined) {
        await new Promise(res => setTimeout(res, this.nextNodeDelay()).unref())
        continue
      }
      this.needUpdate = false
      try {
        const conn = await this.connect(id)
        const correlationId = conn.nextCorrelationId
        const topics = this.allTopics ? null : [...this.wanted].map(name => ({name}))
        const res = await this.send(id, MetadataApi, v => ({topics: topics === null && v === 0 ? [] : topics, allowAutoTopicCreation: this.allowAutoTopicCreation, includeTopicAuthorizedOperations: false, includeClusterAuthorizedOperations: false}), {maxVersion: 12})
        this.lastRefreshMs = Date.now()
        if (res.brokers.length === 0) {
          // A broker still starting up: ask again later.
          this.failedRefreshes++
          this.needUpdate = true
          continue
        }
        this.applyMetadata(res, correlationId)
        this.failedRefreshes = 0
        this.lastSuccessMs = this.lastRefreshMs
        this.lastMetadataError = undefined
      } catch (error) {
        this.lastRefreshMs = Date.now()
        this.failedRefreshes++
        this.needUpdate = true
        this.lastMetadataError = error as Error
      }
    }
  }

  private applyMetadata(res: MetadataResponse, correlationId: number): void {
    this.brokers.clear()
    for (const b of res.brokers) this.brokers.set(b.nodeId, {id: b.nodeId, host: b.host, port: b.port, rack: b.rack})
    this.controllerId = res.controllerId
    this.clusterId = res.clusterId
    const errors: [string, string][] = []
    const seen = new Set<string>()
    for (const t of res.topics) {
      if (t.name === null) continue
      seen.add(t.name)
      if (t.errorCode !== 0) errors.push([t.name, errorName(t.errorCode)])
      const old = this.topics.get(t.name)
      const partitions: PartitionInfo[] = []
      for (const p of t.partitions) {
        const prev = old?.partitions[p.partitionIndex]
        // A response older than what is cached (a broker with stale metadata) keeps the cache.
        if (prev && prev.leaderEpoch > p.leaderEpoch && p.leaderEpoch >= 0) partitions[p.partitionIndex] = prev
        else partitions[p.partitionIndex] = {partition: p.partitionIndex, leader: p.leaderId, leaderEpoch: p.leaderEpoch, replicas: p.replicaNodes, isr: p.isrNodes, offline: p.offlineReplicas, errorCode: p.errorCode}
      }
      if (t.errorCode !== 0 && partitions.length === 0 && old && t.errorCode === 5) {
        // LEADER_NOT_AVAILABLE for the whole topic: keep the partition count, without leaders.
        for (const p of old.partitions) if (p) partitions[p.partition] = {...p, leader: -1}
      }
      this.topics.set(t.name, {name: t.name, topicId: t.topicId, isInternal: t.isInternal, errorCode: t.errorCode, partitions})
    }
    if (!this.allTopics) {
      for (const name of [...this.topics.keys()]) if (!seen.has(name) && !this.wanted.has(name)) this.topics.delete(name)
    } else {
      for (const name of [...this.topics.keys()]) if (!seen.has(name)) this.topics.delete(name)
    }
    if (errors.length > 0) {
      const shown = javaHashMapOrder(errors, e => e[0]).map(([k, v]) => `${k}=${v}`).join(', ')
      this.log.warn(Loggers.network, `The metadata response from the cluster reported a recoverable issue with correlation id ${correlationId} : {${shown}}`)
    }
    this.metadataVersion++
    for (const w of this.updateWaiters.splice(0)) w()
    this.notify()
  }

  /** Resolves after the next successful metadata update (or rejects at the deadline). */
  awaitUpdate(deadline: number): Promise<void> {
    const since = this.metadataVersion
    this.requestUpdate()
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        const i = this.updateWaiters.indexOf(done)
        if (i >= 0) this.updateWaiters.splice(i, 1)
        reject(timeoutError('Timed out waiting for metadata'))
      }, Math.max(0, deadline - Date.now()))
      const done = () => {
        clearTimeout(timer)
        if (this.closed && this.metadataVersion === since) reject(new ConnectionError('the client is closed'))
        else if (this.authenticationError && this.metadataVersion === since) reject(this.authenticationError)
        else resolve()
      }
      this.updateWaiters.push(done)
    })
  }

  /** Partition info, or undefined when the topic or partition is unknown. */
  partition(topic: string, partition: number): PartitionInfo | undefined {
    return this.topics.get(topic)?.partitions[partition]
  }

  /** The leader of a partition (-1 unknown). */
  leaderFor(topic: string, partition: number): number {
    const p = this.partition(topic, partition)
    return p ? p.leader : -1
  }
}
