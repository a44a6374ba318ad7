// KafkaBroker: config -> log manager -> socket server (bound first, so port 0 works and the
// real port is what gets registered) -> cluster (ZooKeeper) -> partitions -> requests.
// stop() is graceful: stop accepting, close connections, leave ZooKeeper, close logs.
import {Logger} from '../util/log.js'
import {ErrorCode, KafkaError} from '../protocol/errors.js'
import {LogManager, LogDirError} from '../log/log-manager.js'
import {ClusterManager, type PartitionState} from '../cluster/cluster.js'
import type {ServerConfig} from '../config/server-config.js'
import {SocketServer} from './socket-server.js'
import {RequestRouter} from './router.js'
import {ReplicaManager} from './replica-manager.js'
import {GroupCoordinator, OFFSETS_TOPIC} from '../group/coordinator.js'
import {topicConfigEntries} from './configs.js'
import {FetchSessionCache} from './fetch-sessions.js'
import {MemoryReclaimer} from '../util/memory.js'
import {BrokerSecurity} from './broker-security.js'
import {TransactionCoordinator, TXN_TOPIC} from '../txn/coordinator.js'
import {TxnMarkerSender} from '../txn/marker-sender.js'
import {writeMarkers, type MarkerPartitions} from '../txn/write-markers.js'
import {txnPartitionFor} from '../txn/records.js'
import {Apis} from '../protocol/messages.js'

export interface BrokerNode {
  nodeId: number
  host: string
  port: number
  rack: string | null
}

const LEGAL_TOPIC = /^[a-zA-Z0-9._-]+$/

export class KafkaBroker {
  readonly logger: Logger
  logs!: LogManager
  cluster!: ClusterManager
  replicas!: ReplicaManager
  groups!: GroupCoordinator
  txns!: TransactionCoordinator
  router!: RequestRouter
  socketServer!: SocketServer
  /** TLS, SASL, ACLs and quotas. */
  security!: BrokerSecurity
  brokerId: number
  stopping = false
  /** Fetches waiting for data: woken at shutdown. */
  readonly fetchWaiters = new Set<() => void>()
  /** Incremental fetch sessions (KIP-227). */
  readonly fetchSessions: FetchSessionCache
  private readyResolve!: () => void
  readonly ready: Promise<void> = new Promise(r => { this.readyResolve = r })
  private creating = new Map<string, Promise<void>>()
  private producerIdNext = 0
  private producerIdEnd = 0
  private producerIdPending: Promise<void> | null = null
  private started = false
  private readonly reclaimer = new MemoryReclaimer()

  constructor(readonly config: ServerConfig) {
    this.fetchSessions = new FetchSessionCache(config.fetchSessionCacheSlots)
    this.brokerId = config.brokerId
    this.logger = new Logger('kafka.server.KafkaServer', `[KafkaServer id=${config.brokerId}]`)
  }

  get settings() {
    const c = this.config
    return {autoCreateTopics: c.autoCreateTopicsEnable}
  }

  /** The ports the listeners really bound (port 0 in the config becomes a real port). */
  boundPorts(): {name: string; host: string; port: number}[] {
    return this.socketServer?.listeners.map(l => ({name: l.name, host: l.host, port: l.port})) ?? []
  }

  async start(): Promise<void> {
    const t0 = Date.now()
    this.logger.info('starting')
    const c = this.config
    for (const w of c.warnings) this.logger.warn(w)
    try {
      this.logs = await LogManager.open({logDirs: c.logDirs, brokerId: c.brokerId, logger: new Logger('kafka.log.LogManager')})
    } catch (error) {
      // A configured directory that cannot be one: name the key, the value and the file.
      if (error instanceof LogDirError && error.dir !== undefined) throw new Error(`Invalid value ${c.logDirs.join(',')} for configuration log.dirs in ${c.source}: ${error.message}`)
      throw error
    }
    this.logs.highWatermarkOf = (topic, partition) => this.replicas?.partition(topic, partition)?.highWatermark
    this.router = new RequestRouter(this)
    const socketLogger = new Logger('kafka.network.SocketServer', `[SocketServer listenerType=ZK_BROKER, nodeId=${c.brokerId}]`)
    try {
      // Key stores, trust stores and SASL settings are read before anything binds: a bad one stops start-up.
      this.security = new BrokerSecurity(c, socketLogger)
      this.security.encode = (correlationId, apiKey, version, body) => this.router.encode(correlationId, apiKey, version, body)
      this.security.broker = this
    } catch (error) {
      await this.closeLogs()
      throw error
    }
    this.socketServer = new SocketServer(socketLogger, (conn, frame) => this.onFrame(conn, frame), c.socketRequestMaxBytes, c.queuedMaxRequestBytes > 0 ? c.queuedMaxRequestBytes : c.socketRequestMaxBytes, this.security.hooks())
    try {
      await this.socketServer.start(this.security.listenerSpecs())
      this.security.attach(this.socketServer, () => this.dynamicBrokerConfigs())
      // Registration must carry the real ports when the config asked for port 0.
      for (const bound of this.socketServer.listeners) {
        const l = c.listeners.find(x => x.name === bound.name)
        if (l && l.port === 0) l.port = bound.port
        const a = c.advertisedListeners.find(x => x.name === bound.name)
        if (a && a.port === 0) a.port = bound.port
      }
      this.cluster = new ClusterManager(c, new Logger('kafka.zk.KafkaZkClient'), {zkSecurity: this.security.zkSecurity})
      await this.cluster.start()
      this.cluster.on('entityConfigChanged', (entityPath: string) => this.security.onEntityConfigChanged(entityPath))
      await this.security.start(() => this.cluster.zkClient)
    } catch (error) {
      await this.socketServer.stop().catch(() => {})
      await this.cluster?.stop().catch(() => {})
      this.security.stop()
      await this.closeLogs()
      throw error
    }
    this.brokerId = this.cluster.brokerId
    ;(this.logger as {prefix: string}).prefix = `[KafkaServer id=${this.brokerId}]`
    this.replicas = new ReplicaManager(c, this.logs, this.cluster, new Logger('kafka.server.ReplicaManager', `[ReplicaManager broker=${this.brokerId}]`), this.brokerId, (host, port, opts) => this.security.connectToBroker(host, port, opts))
    this.groups = new GroupCoordinator({
      brokerId: this.brokerId,
      offsetsTopicNumPartitions: this.offsetsTopicPartitions(),
      groupInitialRebalanceDelayMs: c.groupInitialRebalanceDelayMs,
      groupMinSessionTimeoutMs: c.groupMinSessionTimeoutMs,
      groupMaxSessionTimeoutMs: c.groupMaxSessionTimeoutMs,
      groupMaxSize: c.groupMaxSize,
      offsetMetadataMaxBytes: 4096,
      offsetsRetentionMs: c.offsetsRetentionMinutes * 60000,
      offsetsRetentionCheckIntervalMs: c.offsetsRetentionCheckIntervalMs,
    }, {partition: index => this.replicas.partition(OFFSETS_TOPIC, index)}, new Logger('kafka.coordinator.group.GroupCoordinator', `[GroupCoordinator ${this.brokerId}]`))
    this.txns = this.createTxnCoordinator()
    this.replicas.onLeader = p => {
      if (p.topic === OFFSETS_TOPIC) void this.groups.loadPartition(p)
      else if (p.topic === TXN_TOPIC) void this.txns.loadPartition(p)
    }
    this.replicas.onTxnCompleted = (p, t) => {
      if (p.topic === OFFSETS_TOPIC) this.groups.completeTxn(p.index, t.producerId, !t.aborted)
    }
    this.cluster.on('partitionsChanged', (states: PartitionState[]) => {
      void this.replicas.applyStates(states).then(() => {
        for (const s of states) {
          if (s.topic === OFFSETS_TOPIC && s.leader !== this.brokerId) this.groups.unloadPartition(s.partition)
          else if (s.topic === TXN_TOPIC && s.leader !== this.brokerId) this.txns.unloadPartition(s.partition)
        }
      })
    })
    this.cluster.on('topicDeleted', (name: string) => {
      this.groups.topicDeleted(name)
      void this.replicas.topicDeleted(name)
    })
    this.cluster.on('partitionsRemoved', (list: {topic: string; partition: number}[]) => {
      for (const {topic, partition} of list) {
        if (topic === OFFSETS_TOPIC) this.groups.unloadPartition(partition)
        else if (topic === TXN_TOPIC) this.txns.unloadPartition(partition)
      }
      void this.replicas.removePartitions(list)
    })
    this.cluster.on('topicConfigChanged', (name: string) => this.replicas.topicConfigChanged(name))
    let dynamicBefore = this.dynamicBrokerConfigs()
    this.cluster.on('brokerConfigChanged', () => {
      const now = this.dynamicBrokerConfigs()
      const changed = [...new Set([...Object.keys(now), ...Object.keys(dynamicBefore)])].filter(k => now[k] !== dynamicBefore[k])
      dynamicBefore = now
      this.security.onDynamicConfigChange(changed)
      // Topic-level defaults changed at run time (log.retention.ms, log.message.timestamp.type,
      // ...) reach every topic without its own override at once, as Kafka's DynamicLogConfig.
      // (Thread-count keys such as num.io.threads are stored and shown but mean nothing to
      // kafkit's single event loop.)
      if (changed.length > 0) for (const name of this.cluster.topics().keys()) this.replicas.topicConfigChanged(name)
    })
    for (const ev of ['partitionsChanged', 'topicDeleted', 'topicConfigChanged', 'brokersChanged']) {
      this.cluster.on(ev, () => { for (const check of [...this.conditionWaiters]) check() })
    }
    await this.replicas.syncAll()
    await this.replicas.removeStrayLogs()
    this.logs.startRetention(c.logRetentionCheckIntervalMs)
    this.logs.startFlusher(Math.min(c.logFlushSchedulerIntervalMs, 1000))
    this.logs.startCheckpoints(c.logFlushOffsetCheckpointIntervalMs)
    this.reclaimer.start()
    if (c.logCleanerEnable) this.logs.startCleaner(c.logCleanerBackoffMs)
    this.started = true
    this.readyResolve()
    this.logger.info('started')
    this.logger.debug(`start-up took ${Date.now() - t0} ms`)
  }

  /** The partitions WriteTxnMarkers writes to, as the marker code sees them. */
  markerPartitions(): MarkerPartitions {
    return {
      partition: (topic, index) => this.replicas.partition(topic, index),
      exists: (topic, index) => {
        const meta = this.cluster.topic(topic)
        return !!meta && !meta.markedForDeletion && index >= 0 && index < meta.partitions.length
      },
    }
  }

  /**
   * KIP-890 part 1 (transaction.partition.verification.enable): before the first transactional
   * write of a producer to a partition, ask the transaction coordinator whether the partition is
   * in the producer's open transaction (AddPartitionsToTxn v4 verifyOnly, or directly when this
   * broker coordinates it). Errors as Kafka 3.9 answers the produce: coordinator trouble becomes
   * the retriable NOT_ENOUGH_REPLICAS, a fenced producer INVALID_PRODUCER_EPOCH.
   */
  async verifyTxnPartition(transactionalId: string, producerId: number, producerEpoch: number, topic: string, partition: number): Promise<number> {
    const meta = this.cluster.topic(TXN_TOPIC)
    let code: number
    if (!meta) {
      code = ErrorCode.COORDINATOR_NOT_AVAILABLE
    } else {
      const leader = meta.partitions[txnPartitionFor(transactionalId, meta.partitions.length)]?.leader ?? -1
      if (leader === this.brokerId) {
        code = this.txns.verifyPartition(transactionalId, producerId, producerEpoch, topic, partition)
      } else if (leader < 0) {
        code = ErrorCode.COORDINATOR_NOT_AVAILABLE
      } else {
        try {
          const res = await this.txns.deps.markers.request(leader, Apis.AddPartitionsToTxn, 4, {transactions: [{transactionalId, producerId, producerEpoch, verifyOnly: true, topics: [{name: topic, partitions: [partition]}]}]}, 10000)
          code = res.errorCode !== 0 ? res.errorCode : res.resultsByTransaction[0]?.topicResults[0]?.resultsByPartition[0]?.partitionErrorCode ?? ErrorCode.UNKNOWN_SERVER_ERROR
        } catch {
          code = ErrorCode.NETWORK_EXCEPTION
        }
      }
    }
    switch (code) {
      case ErrorCode.NONE:
        return 0
      case ErrorCode.PRODUCER_FENCED:
        return ErrorCode.INVALID_PRODUCER_EPOCH
      case ErrorCode.NOT_COORDINATOR:
      case ErrorCode.COORDINATOR_NOT_AVAILABLE:
      case ErrorCode.COORDINATOR_LOAD_IN_PROGRESS:
      case ErrorCode.CONCURRENT_TRANSACTIONS:
      case ErrorCode.NETWORK_EXCEPTION:
        return ErrorCode.NOT_ENOUGH_REPLICAS
      default:
        return code
    }
  }

  private createTxnCoordinator(): TransactionCoordinator {
    const c = this.config
    const markers = new TxnMarkerSender({
      brokerId: this.brokerId,
      leaderOf: (topic, partition) => {
        const meta = this.cluster.topic(topic)
        if (!meta || meta.markedForDeletion) return undefined
        const s = meta.partitions[partition]
        if (!s) return undefined
        return s.leader >= 0 && this.cluster.brokers().some(b => b.id === s.leader) ? s.leader : -1
      },
      endpoint: id => {
        const b = this.cluster.brokers().find(x => x.id === id)
        if (!b) return undefined
        const ep = b.endpoints.find(e => e.listener === c.interBrokerListenerName) ?? b.endpoints[0]
        return ep ? {host: ep.host, port: ep.port} : {host: b.host, port: b.port}
      },
      writeLocal: (req, targets) => writeMarkers(this.markerPartitions(), req, targets, 30000),
      connect: (host, port, opts) => this.security.connectToBroker(host, port, opts),
    }, new Logger('kafka.coordinator.transaction.TransactionMarkerChannelManager', `[Transaction Marker Channel Manager ${this.brokerId}]:`))
    const meta = this.cluster.topic(TXN_TOPIC)
    return new TransactionCoordinator({
      brokerId: this.brokerId,
      numPartitions: meta ? meta.partitions.length : c.transactionStateLogNumPartitions,
      transactionMaxTimeoutMs: c.transactionMaxTimeoutMs,
      transactionalIdExpirationMs: c.transactionalIdExpirationMs,
      abortTimedOutIntervalMs: c.transactionAbortTimedOutTransactionCleanupIntervalMs,
      removeExpiredIntervalMs: c.transactionRemoveExpiredTransactionCleanupIntervalMs,
      writeTimeoutMs: 30000,
    }, {
      partition: index => this.replicas.partition(TXN_TOPIC, index),
      nextProducerId: () => this.nextProducerId(),
      markers,
    }, new Logger('kafka.coordinator.transaction.TransactionCoordinator', `[TransactionCoordinator id=${this.brokerId}]`))
  }

  /** Creates __transaction_state on first use (FindCoordinator for a transactional id), as Kafka does. */
  async ensureTxnTopic(): Promise<void> {
    if (this.cluster.topic(TXN_TOPIC)) {
      if (!this.replicas.partitionsOf(TXN_TOPIC)) await this.replicas.waitForTopic(TXN_TOPIC, 5000)
      return
    }
    let p = this.creating.get(TXN_TOPIC)
    if (!p) {
      p = (async () => {
        try {
          const c = this.config
          const live = this.cluster.brokers().length
          const rf = c.transactionStateLogReplicationFactor
          if (live < rf) {
            throw new KafkaError(ErrorCode.COORDINATOR_NOT_AVAILABLE, `Number of alive brokers '${live}' does not meet the required replication factor '${rf}' for the transactions state topic (configured via 'transaction.state.log.replication.factor'). This error can be ignored if the cluster is starting up and not all brokers are up yet.`)
          }
          try {
            await this.cluster.createTopic(TXN_TOPIC, {numPartitions: c.transactionStateLogNumPartitions, replicationFactor: rf, configs: {
              'cleanup.policy': 'compact', 'compression.type': 'uncompressed', 'min.insync.replicas': String(c.transactionStateLogMinIsr),
              'segment.bytes': String(c.transactionStateLogSegmentBytes), 'unclean.leader.election.enable': 'false',
            }})
          } catch (error) {
            if (!(error instanceof KafkaError && error.code === ErrorCode.TOPIC_ALREADY_EXISTS)) throw error
          }
          await this.replicas.waitForTopic(TXN_TOPIC, 10000)
        } finally {
          this.creating.delete(TXN_TOPIC)
        }
      })()
      this.creating.set(TXN_TOPIC, p)
    }
    await p
  }

  private offsetsTopicPartitions(): number {
    const meta = this.cluster.topic(OFFSETS_TOPIC)
    return meta ? meta.partitions.length : this.config.offsetsTopicNumPartitions
  }

  private onFrame(conn: import('./socket-server.js').Connection, frame: Buffer) {
    if (!this.started) return this.ready.then(() => this.router.handle(conn, frame))
    return this.router.handle(conn, frame)
  }

  /** Live brokers with the endpoint of the given listener. */
  liveBrokers(listenerName: string): BrokerNode[] {
    const out: BrokerNode[] = []
    for (const b of this.cluster.brokers()) {
      const ep = b.endpoints.find(e => e.listener === listenerName) ?? b.endpoints[0]
      out.push({nodeId: b.id, host: ep ? ep.host : b.host, port: ep ? ep.port : b.port, rack: b.rack})
    }
    return out.sort((a, b) => a.nodeId - b.nodeId)
  }

  validTopicName(name: string): boolean {
    return name.length > 0 && name.length <= 249 && name !== '.' && name !== '..' && LEGAL_TOPIC.test(name)
  }

  /** Creates a topic with the broker defaults (auto.create.topics.enable) and waits for it locally. */
  autoCreateTopic(name: string): Promise<void> {
    let p = this.creating.get(name)
    if (p) return p
    p = (async () => {
      try {
        if (!this.validTopicName(name)) throw new KafkaError(ErrorCode.INVALID_TOPIC_EXCEPTION)
        if (!this.cluster.topic(name)) {
          try {
            await this.cluster.createTopic(name, {numPartitions: -1, replicationFactor: -1, configs: {}})
            this.logger.info(`Auto creation of topic ${name} with ${this.config.numPartitions} partitions and replication factor ${this.config.defaultReplicationFactor} is successful`)
          } catch (error) {
            if (!(error instanceof KafkaError && error.code === ErrorCode.TOPIC_ALREADY_EXISTS)) throw error
          }
        }
        await this.replicas.waitForTopic(name, 5000)
      } finally {
        this.creating.delete(name)
      }
    })()
    this.creating.set(name, p)
    return p
  }

  /** Creates __consumer_offsets on first use (FindCoordinator), like Kafka. */
  async ensureOffsetsTopic(): Promise<void> {
    if (this.cluster.topic(OFFSETS_TOPIC)) {
      if (!this.replicas.partitionsOf(OFFSETS_TOPIC)) await this.replicas.waitForTopic(OFFSETS_TOPIC, 5000)
      return
    }
    let p = this.creating.get(OFFSETS_TOPIC)
    if (!p) {
      p = (async () => {
        try {
          const live = this.cluster.brokers().length
          const rf = this.config.offsetsTopicReplicationFactor
          if (live < rf) {
            throw new KafkaError(ErrorCode.COORDINATOR_NOT_AVAILABLE, `Number of alive brokers '${live}' does not meet the required replication factor '${rf}' for the offsets topic (configured via 'offsets.topic.replication.factor'). This error can be ignored if the cluster is starting up and not all brokers are up yet.`)
          }
          try {
            await this.cluster.createTopic(OFFSETS_TOPIC, {numPartitions: this.config.offsetsTopicNumPartitions, replicationFactor: rf, configs: {'cleanup.policy': 'compact', 'compression.type': 'producer', 'segment.bytes': String(this.config.offsetsTopicSegmentBytes)}})
          } catch (error) {
            if (!(error instanceof KafkaError && error.code === ErrorCode.TOPIC_ALREADY_EXISTS)) throw error
          }
          await this.replicas.waitForTopic(OFFSETS_TOPIC, 10000)
        } finally {
          this.creating.delete(OFFSETS_TOPIC)
        }
      })()
      this.creating.set(OFFSETS_TOPIC, p)
    }
    await p
  }

  /** A new producer id, from blocks reserved in ZooKeeper. */
  async nextProducerId(): Promise<number> {
    while (this.producerIdNext >= this.producerIdEnd) {
      if (!this.producerIdPending) {
        this.producerIdPending = (async () => {
          try {
            const block = await this.cluster.nextProducerIdBlock()
            this.producerIdNext = block.start
            this.producerIdEnd = block.start + block.length
          } finally {
            this.producerIdPending = null
          }
        })()
      }
      await this.producerIdPending
    }
    return this.producerIdNext++
  }

  dynamicBrokerConfigs(): Record<string, string> {
    try { return this.cluster.brokerConfigOverrides?.() ?? {} } catch { return {} }
  }

  /** The dynamic broker configs by layer: the cluster default and this broker's own. */
  dynamicBrokerLayers(): {default: Record<string, string>; own: Record<string, string>} {
    try { return this.cluster.brokerConfigLayers?.() ?? {default: {}, own: {}} } catch { return {default: {}, own: {}} }
  }

  topicConfigEntries(_name: string, overrides: Record<string, string>) {
    return topicConfigEntries(this.config, overrides, this.dynamicBrokerConfigs()).map(e => ({name: e.name, value: e.value, readOnly: e.readOnly, configSource: e.configSource, isSensitive: e.isSensitive}))
  }

  /** Conditions admin requests wait for, re-checked on every cluster change. */
  private readonly conditionWaiters = new Set<() => void>()

  /** Resolves true once cond() holds (checked on cluster events and every 50 ms), false at the deadline. */
  waitUntil(cond: () => boolean, timeoutMs: number): Promise<boolean> {
    if (cond()) return Promise.resolve(true)
    return new Promise(resolve => {
      const deadline = Date.now() + timeoutMs
      const check = () => {
        if (cond()) finish(true)
        else if (Date.now() >= deadline || this.stopping) finish(false)
      }
      const finish = (ok: boolean) => {
        clearInterval(timer)
        this.conditionWaiters.delete(check)
        resolve(ok)
      }
      const timer = setInterval(check, 50)
      this.conditionWaiters.add(check)
    })
  }

  private async closeLogs(): Promise<void> {
    try {
      await this.logs?.close()
    } catch (error) {
      this.logger.error(`Error closing logs: ${(error as Error).message}`)
    }
  }

  async stop(): Promise<void> {
    if (this.stopping) return
    this.stopping = true
    this.reclaimer.stop()
    this.security?.stop()
    this.logger.info('shutting down')
    for (const f of [...this.fetchWaiters]) f()
    await this.socketServer?.stop().catch(() => {})
    this.groups?.shutdown()
    this.txns?.shutdown()
    try {
      await this.cluster?.stop()
    } catch (error) {
      this.logger.warn(`Error leaving ZooKeeper: ${(error as Error).message}`)
    }
    await this.replicas?.close()
    await this.closeLogs()
    this.logger.info('shut down completed')
  }
}
