// Cluster metadata kept in ZooKeeper exactly as Apache Kafka 3.x does in ZooKeeper mode
// (same paths, same JSON), and the controller.
//
// ZooKeeper is the only channel between kafkit brokers: kafkit does not implement the
// controller-to-broker RPCs (LeaderAndIsr, UpdateMetadata, StopReplica). Every broker
// watches the znodes the controller writes (/brokers/ids, /brokers/topics/T and each
// partition's state znode, /config/changes, /admin/delete_topics) and keeps an in-memory
// cache from them; the broker holding /controller makes the decisions (replica placement,
// initial partition state, leader election on broker loss, topic deletion) and writes
// them, fenced by the version of /controller_epoch. A kafkit broker can share a
// ZooKeeper with Apache Kafka brokers' data (it reads and writes the same layout).
//
// All watch-driven work runs one event at a time on a single queue, like Kafka's
// controller event thread, so the cache never sees interleaved updates.
//
// Contract for the broker:
// - construct with the ServerConfig (advertisedListeners carrying real ports when a listener
//   asked for port 0, or pass options.advertisedListeners); options.storedBrokerId/ClusterId
//   come from meta.properties; start() resolves once registered and the cache is loaded, and
//   'partitionsChanged' is emitted once at the end of start() for this broker's partitions.
// - events: 'partitionsChanged' (PartitionState[] of partitions replicated here whose leader,
//   leader epoch, ISR or replicas changed), 'topicDeleted' (name: delete the local logs; also
//   for the old incarnation when a topic is re-created), 'topicConfigChanged' (name),
//   'brokersChanged', 'brokerConfigChanged'. Listeners run inside the metadata queue: keep
//   them quick (start async work, don't await it there).
// - call stop() BEFORE closing the listeners: with controlled.shutdown.enable it waits
//   (bounded) until other ISR members lead this broker's partitions, so clients fail over.
// - the leader changes an ISR with updateIsr() (conditional on the state's zkVersion);
//
// The parts (each in its own module, all over the one event queue of events.ts):
// metadata-cache.ts (the cache and its read-only MetadataView), controller.ts (active only
// while elected; reassignment.ts for partition reassignments), admin.ts (topic, partition
// and config changes any broker serves), registration.ts (cluster id, broker id, the
// ephemeral registration), broker-writes.ts (producer id blocks, the leader's ISR updates).
// This class wires them together, routes watch events and keeps the broker's API.
import {EventEmitter} from 'node:events'
import type {ServerConfig, Listener} from '../config/server-config.js'
import type {Logger} from '../util/log.js'
import {ZkClient, splitConnectString, type ZkWatchEvent, type ZkSecurity} from './zk.js'
import {type BrokerEndpoint, type BrokerInfo, type PartitionState, type ReassignmentRequest, type TopicMeta, type ElectionResult, type CreateTopicOptions, ZkPaths, PERSISTENT_PATHS} from './znodes.js'
import {ClusterContext} from './events.js'
import {MetadataCache, type MetadataView} from './metadata-cache.js'
import {Controller} from './controller.js'
import {AdminOperations} from './admin.js'
import {getOrCreateClusterId, generateBrokerId, registerBroker} from './registration.js'
import {nextProducerIdBlock, updateIsr} from './broker-writes.js'

export * from './znodes.js'
export type {MetadataView} from './metadata-cache.js'

export interface ClusterManagerOptions {
  /** Credentials for ZooKeeper (addauth), e.g. digest from the JAAS Client section. */
  zkAuth?: {scheme: string; auth: string}[]
  /** TLS and SASL to ZooKeeper (zookeeper.ssl.*, the JAAS Client section). */
  zkSecurity?: ZkSecurity
  /** Endpoints to register when they differ from advertised.listeners (e.g. port 0 bound to a real port). */
  advertisedListeners?: Listener[]
  /** broker.id found in meta.properties, used when broker.id is -1. */
  storedBrokerId?: number
  /** cluster.id found in meta.properties: start() refuses to join another cluster, as Kafka. */
  storedClusterId?: string
  /** How long createTopic/createPartitions wait for the controller to write partition states. */
  metadataWaitMs?: number
}

export class ClusterManager extends EventEmitter implements MetadataView {
  private readonly ctx: ClusterContext
  private readonly cache: MetadataCache
  private readonly controller: Controller
  private readonly admin: AdminOperations
  private readonly endpoints: BrokerEndpoint[]

  constructor(readonly config: ServerConfig, readonly logger: Logger, readonly options: ClusterManagerOptions = {}) {
    super()
    this.endpoints = (options.advertisedListeners ?? config.advertisedListeners).map(l => ({listener: l.name, host: l.host, port: l.port, securityProtocol: l.securityProtocol}))
    this.ctx = new ClusterContext(config, logger, this, options.metadataWaitMs ?? 10000)
    this.cache = this.ctx.cache = new MetadataCache(this.ctx)
    this.controller = this.ctx.controller = new Controller(this.ctx)
    this.admin = new AdminOperations(this.ctx)
  }

  get brokerId(): number { return this.ctx.brokerId }
  get clusterId(): string { return this.ctx.clusterId }
  controllerId(): number { return this.controller.id }
  isController(): boolean { return this.controller.isController() }
  brokers(): BrokerInfo[] { return this.cache.brokers() }
  topics(): Map<string, TopicMeta> { return this.cache.topicMap }
  topic(name: string): TopicMeta | undefined { return this.cache.topicMap.get(name) }
  topicById(id: string): TopicMeta | undefined { return this.cache.idMap.get(id) }
  brokerConfigOverrides(): Record<string, string> { return {...this.cache.brokerDynamic} }
  /** The dynamic broker configs apart: the cluster default (/config/brokers/<default>) and this broker's own. */
  brokerConfigLayers(): {default: Record<string, string>; own: Record<string, string>} { return {default: {...this.cache.brokerDynamicLayers.default}, own: {...this.cache.brokerDynamicLayers.own}} }
  /** The ZooKeeper client (for the broker's own znodes, e.g. tests and tools). */
  get zkClient(): ZkClient { return this.ctx.zkClient }

  // ------------------------------------------------------------------ lifecycle

  async start(): Promise<void> {
    const c = this.ctx.config
    const {hosts, chroot} = splitConnectString(c.zookeeperConnect)
    const zkOpts = {sessionTimeoutMs: c.zookeeperSessionTimeoutMs, connectionTimeoutMs: c.zookeeperConnectionTimeoutMs, logger: this.ctx.logger, auth: this.options.zkAuth, secureAcls: c.zookeeperSetAcl, ...this.options.zkSecurity}
    if (chroot) {
      // As Kafka does: create the chroot through a session without it, then use it.
      const root = await ZkClient.connect(hosts, zkOpts)
      try { await root.ensurePath(chroot) } finally { await root.close() }
    }
    const zk = await ZkClient.connect(c.zookeeperConnect, zkOpts)
    this.ctx.zk = zk
    try {
      await Promise.all(PERSISTENT_PATHS.map(p => zk.ensurePath(p)))
      this.ctx.clusterId = await getOrCreateClusterId(this.ctx)
      const stored = this.options.storedClusterId
      if (stored && stored !== this.ctx.clusterId) {
        throw new Error(`The Cluster ID ${this.ctx.clusterId} doesn't match stored clusterId Some(${stored}) in meta.properties. The broker is trying to join the wrong cluster. Configured zookeeper.connect may be wrong.`)
      }
      if (this.ctx.brokerId < 0) this.ctx.brokerId = this.options.storedBrokerId ?? await generateBrokerId(this.ctx)
      await registerBroker(this.ctx, this.endpoints)
      zk.on('watch', (e: ZkWatchEvent) => this.onWatch(e))
      zk.on('disconnected', () => this.ctx.logger.warn('Disconnected from ZooKeeper; waiting to reconnect'))
      zk.on('connected', () => {
        // Same session again: watches survive (the client re-sends them), but an event that
        // failed with CONNECTION_LOSS meanwhile must be redone: re-read everything.
        if (this.ctx.queue.needResync) this.ctx.queue.enqueue('resync after reconnect', () => this.resync())
      })
      zk.on('session', () => this.ctx.queue.enqueue('session re-established', () => this.onNewSession()))
      await this.ctx.queue.run('startup', async () => {
        await this.ctx.cache.loadBrokerConfigs()
        await this.ctx.cache.loadConfigChanges(true)
        await this.ctx.cache.loadDeleteRequests()
        await this.ctx.cache.loadBrokers()
        await this.ctx.cache.loadTopics()
        await this.ctx.controller.elect()
      })
      this.ctx.started = true
      this.ctx.logger.info(`Registered broker ${this.ctx.brokerId} at path ${ZkPaths.broker(this.ctx.brokerId)} with addresses: ${this.endpoints.map(e => `${e.listener}://${e.host}:${e.port}`).join(',')}, cluster id ${this.ctx.clusterId}`)
      const mine = this.ctx.cache.myPartitions()
      if (mine.length) this.ctx.fire('partitionsChanged', mine)
    } catch (error) {
      this.ctx.stopped = true
      await zk.close()
      throw error
    }
  }

  async stop(): Promise<void> {
    if (this.ctx.stopped) return
    this.ctx.stopped = true
    this.ctx.stopping = true
    this.ctx.controller.stopTimers()
    const zk = this.ctx.zk
    if (!zk) return
    // Never hang on shutdown (ZooKeeper may be gone): bounded waits, then close the session.
    if (zk.connected) await Promise.race([this.ctx.queue.idle().catch(() => {}), new Promise(r => setTimeout(r, 3000).unref())])
    try {
      const others = this.ctx.cache.brokers().filter(b => b.id !== this.ctx.brokerId).length
      if (zk.connected) await zk.delete(ZkPaths.broker(this.ctx.brokerId), -1, 3000).catch(() => {})
      if (zk.connected && this.ctx.controller.isController()) {
        this.ctx.logger.info(`Resigning as the controller (epoch ${this.ctx.controller.epoch})`)
        await zk.delete(ZkPaths.controller, -1, 3000).catch(() => {})
      }
      if (zk.connected && others > 0 && this.ctx.config.controlledShutdownEnable) {
        // Controlled shutdown through ZooKeeper: the (other) controller sees this broker gone and
        // moves leadership to ISR members; wait (bounded) so that clients find new leaders while
        // this broker still answers. The broker should call stop() before closing its listeners.
        const movable = () => [...this.ctx.cache.topicMap.values()].some(t => t.partitions.some(ps => ps && ps.leader === this.ctx.brokerId && ps.isr.some(r => r !== this.ctx.brokerId && this.ctx.cache.brokerMap.has(r))))
        if (movable()) {
          this.ctx.logger.info('Controlled shutdown: waiting for leadership to move to other brokers')
          this.ctx.stopped = false // keep following partition state changes meanwhile
          this.requeueStates()
          try {
            await this.ctx.queue.waitFor(() => !movable(), 5000)
          } finally {
            this.ctx.stopped = true
          }
        }
      }
    } finally {
      this.ctx.controller.id = -1
      await zk.close()
    }
  }

  private async onNewSession(): Promise<void> {
    if (this.ctx.stopped) return
    this.ctx.logger.info('New ZooKeeper session: re-registering the broker and re-reading metadata')
    this.ctx.controller.id = -1
    await registerBroker(this.ctx, this.endpoints)
    await this.resync()
  }

  /** Re-reads all metadata (and re-sets every watch), then runs for controller if there is none. */
  private async resync(): Promise<void> {
    this.ctx.queue.needResync = false
    await this.ctx.cache.loadBrokerConfigs()
    await this.ctx.cache.loadConfigChanges(false)
    await this.ctx.cache.loadDeleteRequests()
    await this.ctx.cache.loadBrokers()
    await this.ctx.cache.loadTopics(true)
    const wasController = this.ctx.controller.isController()
    await this.ctx.controller.elect()
    // Still the controller (same session): the event that failed may have left its work half
    // done (elections after a broker failure, with the broker set already updated): redo what a
    // new controller does, which elects every partition still led or followed by a dead broker.
    if (wasController && this.ctx.controller.isController()) await this.ctx.controller.onControllerFailover()
  }

  // ------------------------------------------------------------------ watch events onto the queue

  private onWatch(e: ZkWatchEvent): void {
    if (this.ctx.stopped) return
    const p = e.path
    if (p === ZkPaths.brokerIds) this.ctx.queue.enqueue('broker change', () => this.ctx.cache.loadBrokers())
    else if (p === ZkPaths.topics) this.ctx.queue.enqueue('topic change', () => this.ctx.cache.loadTopics())
    else if (p === ZkPaths.controller) this.ctx.queue.enqueue('controller change', () => this.ctx.controller.elect())
    else if (p === ZkPaths.deleteTopics) this.ctx.queue.enqueue('topic deletion', () => this.ctx.cache.loadDeleteRequests())
    else if (p === ZkPaths.configChanges) this.ctx.queue.enqueue('config change', () => this.ctx.cache.loadConfigChanges(false))
    else if (p === ZkPaths.isrChange) this.ctx.queue.enqueue('isr change notification', () => this.ctx.controller.processIsrChanges())
    else if (p === ZkPaths.preferredReplicaElection) this.ctx.queue.enqueue('preferred replica election', () => this.ctx.controller.processPreferredElectionRequest())
    else if (p.startsWith(ZkPaths.topics + '/')) {
      const rest = p.slice(ZkPaths.topics.length + 1).split('/')
      const topic = rest[0]
      // Deleted too: the topic may have been deleted and re-created between two reads of /brokers/topics.
      if (rest.length === 1) this.ctx.queue.enqueue(`topic ${topic} change`, () => this.ctx.cache.loadTopic(topic, true))
      else if (rest.length === 4 && rest[3] === 'state' && e.type !== 'deleted') {
        this.statesChanged(topic, Number(rest[2]))
      }
    }
  }

  /** Partition state znodes whose watch fired, gathered for the queued read not started yet. */
  private pendingStates: Map<string, {topic: string; partition: number}> | undefined

  /**
   * A partition state changed. A controller's election writes thousands at once: their watch
   * events are gathered into one queued event that reads them all, pipelined, instead of one
   * event (and one ZooKeeper round trip behind the previous) per partition.
   */
  private statesChanged(topic: string, partition: number): void {
    let batch = this.pendingStates
    if (!batch) {
      const mine = batch = this.pendingStates = new Map()
      this.ctx.queue.enqueue('partition state changes', () => {
        if (this.pendingStates === mine) this.pendingStates = undefined
        return this.ctx.cache.loadPartitionStates([...mine.values()], true)
      })
    }
    batch.set(`${topic}\u0000${partition}`, {topic, partition})
  }

  /** Queues the gathered state reads again (the queue skipped their event while stopped). */
  private requeueStates(): void {
    const batch = this.pendingStates
    this.pendingStates = undefined
    for (const p of batch?.values() ?? []) this.statesChanged(p.topic, p.partition)
  }

  // ------------------------------------------------------------------ admin operations (admin.ts)

  createTopic(name: string, opts: CreateTopicOptions): Promise<TopicMeta> { return this.admin.createTopic(name, opts) }
  deleteTopic(name: string): Promise<void> { return this.admin.deleteTopic(name) }
  createPartitions(name: string, totalCount: number, assignment?: number[][], validateOnly = false): Promise<void> { return this.admin.createPartitions(name, totalCount, assignment, validateOnly) }
  alterTopicConfigs(name: string, set: Record<string, string>, remove: string[], validateOnly = false): Promise<void> { return this.admin.alterTopicConfigs(name, set, remove, validateOnly) }
  /**
   * Dynamic broker configs (kafka-configs --entity-type brokers): writes /config/brokers/<entity>
   * (entity = a broker id or '<default>') and a change notification every broker follows.
   */
  alterBrokerConfigs(entity: string, set: Record<string, string>, remove: string[], validateOnly = false, replace = false): Promise<void> { return this.admin.alterBrokerConfigs(entity, set, remove, validateOnly, replace) }

  // ------------------------------------------------------------------ controller-served (controller.ts)

  /** ElectLeaders: the controller serves it; other brokers answer NOT_CONTROLLER, as Kafka. */
  electLeaders(preferred: boolean, partitions?: {topic: string; partition: number}[]): Promise<ElectionResult[]> { return this.controller.electLeaders(preferred, partitions) }
  /** AlterPartitionReassignments (controller only, as Kafka); replicas null cancels one in progress. */
  reassignPartitions(reqs: ReassignmentRequest[]): Promise<ElectionResult[]> { return this.controller.reassignPartitions(reqs) }
  /** Reassignments in progress (ListPartitionReassignments). */
  listPartitionReassignments(): {topic: string; partition: number; replicas: number[]; addingReplicas: number[]; removingReplicas: number[]}[] { return this.controller.listPartitionReassignments() }

  // ------------------------------------------------------------------ this broker's own writes (broker-writes.ts)

  /** Allocates the next block of producer ids in /latest_producer_id_block, as Kafka's ZK-mode ProducerIdManager. */
  nextProducerIdBlock(): Promise<{start: number; length: number}> { return nextProducerIdBlock(this.ctx) }
  /** The partition leader changes the ISR; throws NOT_LEADER_OR_FOLLOWER when leadership moved meanwhile. */
  updateIsr(state: PartitionState, isr: number[]): Promise<PartitionState> { return updateIsr(this.ctx, state, isr) }
}
