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
//   ElectLeaders is electLeaders() on the controller (NOT_CONTROLLER elsewhere).
import {EventEmitter} from 'node:events'
import type {ServerConfig, Listener} from '../config/server-config.js'
import {validateTopicConfigs, BROKER_TO_TOPIC_KEY} from '../config/server-config.js'
import {ErrorCode, KafkaError} from '../protocol/errors.js'
import type {Logger} from '../util/log.js'
import {ZkClient, ZkCode, ZkError, splitConnectString, type ZkOp, type ZkWatchEvent, type ZkSecurity} from './zk.js'
import {
  type BrokerEndpoint, type BrokerInfo, type PartitionState, type ReassignmentRequest, type TopicMeta, type ElectionResult, type CreateTopicOptions, type ReplicaPlan,
  ZkPaths, PERSISTENT_PATHS, PRODUCER_ID_BLOCK_SIZE, DYNAMIC_BROKER_KEYS, encodeBrokerRegistration, decodeBrokerRegistration, encodeTopicAssignment,
  encodeTopicWithPlan, encodePartitionState, encodeTopicConfig,
} from './znodes.js'
import {assignReplicasToBrokers, assignReplicasToBrokersRackAware, INTERNAL_TOPICS, randomUuid, topicNameError, unifyCollisionChars} from './assignment.js'

export * from './znodes.js'

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

// ZooKeeper paths (Kafka's ZkData)
const CONFIG_CHANGE_EXPIRATION_MS = 15 * 60 * 1000

function isCode(error: unknown, code: number): boolean {
  return error instanceof ZkError && error.code === code
}

function sameArray(a: number[], b: number[]): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i])
}

export class ClusterManager extends EventEmitter {
  private zk: ZkClient | undefined
  private _brokerId: number
  private _clusterId = ''
  private controller = -1
  private controllerEpoch = 0
  private controllerEpochZkVersion = -1
  private readonly brokerMap = new Map<number, BrokerInfo>()
  /** czxid of each broker's registration (Kafka's broker epoch): a change means the broker restarted. */
  private readonly brokerEpochs = new Map<number, bigint>()
  private readonly topicMap = new Map<string, TopicMeta>()
  private readonly idMap = new Map<string, TopicMeta>()
  private readonly pendingDeletes = new Set<string>()
  private brokerDynamic: Record<string, string> = {}
  private brokerDynamicLayers: {default: Record<string, string>; own: Record<string, string>} = {default: {}, own: {}}
  private lastConfigChange = -1
  private queue: Promise<void> = Promise.resolve()
  private readonly internal = new EventEmitter()
  private stopped = false
  private started = false
  private readonly endpoints: BrokerEndpoint[]
  private readonly metadataWaitMs: number
  private rebalanceTimer: NodeJS.Timeout | undefined
  private needResync = false
  /** Set by stop(): never run for controller again. */
  private stopping = false

  constructor(readonly config: ServerConfig, readonly logger: Logger, readonly options: ClusterManagerOptions = {}) {
    super()
    this._brokerId = config.brokerId
    this.endpoints = (options.advertisedListeners ?? config.advertisedListeners).map(l => ({listener: l.name, host: l.host, port: l.port, securityProtocol: l.securityProtocol}))
    this.metadataWaitMs = options.metadataWaitMs ?? 10000
    this.internal.setMaxListeners(0)
  }

  get brokerId(): number { return this._brokerId }
  get clusterId(): string { return this._clusterId }
  controllerId(): number { return this.controller }
  isController(): boolean { return this.controller === this._brokerId && this.controller >= 0 }
  brokers(): BrokerInfo[] { return [...this.brokerMap.values()].sort((a, b) => a.id - b.id) }
  topics(): Map<string, TopicMeta> { return this.topicMap }
  topic(name: string): TopicMeta | undefined { return this.topicMap.get(name) }
  topicById(id: string): TopicMeta | undefined { return this.idMap.get(id) }
  brokerConfigOverrides(): Record<string, string> { return {...this.brokerDynamic} }
  /** The dynamic broker configs apart: the cluster default (/config/brokers/<default>) and this broker's own. */
  brokerConfigLayers(): {default: Record<string, string>; own: Record<string, string>} { return {default: {...this.brokerDynamicLayers.default}, own: {...this.brokerDynamicLayers.own}} }
  /** The ZooKeeper client (for the broker's own znodes, e.g. tests and tools). */
  get zkClient(): ZkClient {
    if (!this.zk) throw new Error('ClusterManager is not started')
    return this.zk
  }

  // ------------------------------------------------------------------ lifecycle

  async start(): Promise<void> {
    const c = this.config
    const {hosts, chroot} = splitConnectString(c.zookeeperConnect)
    const zkOpts = {sessionTimeoutMs: c.zookeeperSessionTimeoutMs, connectionTimeoutMs: c.zookeeperConnectionTimeoutMs, logger: this.logger, auth: this.options.zkAuth, secureAcls: c.zookeeperSetAcl, ...this.options.zkSecurity}
    if (chroot) {
      // As Kafka does: create the chroot through a session without it, then use it.
      const root = await ZkClient.connect(hosts, zkOpts)
      try { await root.ensurePath(chroot) } finally { await root.close() }
    }
    const zk = await ZkClient.connect(c.zookeeperConnect, zkOpts)
    this.zk = zk
    try {
      await Promise.all(PERSISTENT_PATHS.map(p => zk.ensurePath(p)))
      this._clusterId = await this.getOrCreateClusterId()
      const stored = this.options.storedClusterId
      if (stored && stored !== this._clusterId) {
        throw new Error(`The Cluster ID ${this._clusterId} doesn't match stored clusterId Some(${stored}) in meta.properties. The broker is trying to join the wrong cluster. Configured zookeeper.connect may be wrong.`)
      }
      if (this._brokerId < 0) this._brokerId = this.options.storedBrokerId ?? await this.generateBrokerId()
      await this.registerBroker()
      zk.on('watch', (e: ZkWatchEvent) => this.onWatch(e))
      zk.on('disconnected', () => this.logger.warn('Disconnected from ZooKeeper; waiting to reconnect'))
      zk.on('connected', () => {
        // Same session again: watches survive (the client re-sends them), but an event that
        // failed with CONNECTION_LOSS meanwhile must be redone: re-read everything.
        if (this.needResync) this.enqueue('resync after reconnect', () => this.resync())
      })
      zk.on('session', () => this.enqueue('session re-established', () => this.onNewSession()))
      await this.run('startup', async () => {
        await this.loadBrokerConfigs()
        await this.loadConfigChanges(true)
        await this.loadDeleteRequests()
        await this.loadBrokers()
        await this.loadTopics()
        await this.elect()
      })
      this.started = true
      this.logger.info(`Registered broker ${this._brokerId} at path ${ZkPaths.broker(this._brokerId)} with addresses: ${this.endpoints.map(e => `${e.listener}://${e.host}:${e.port}`).join(',')}, cluster id ${this._clusterId}`)
      const mine = this.myPartitions()
      if (mine.length) this.fire('partitionsChanged', mine)
    } catch (error) {
      this.stopped = true
      await zk.close()
      throw error
    }
  }

  async stop(): Promise<void> {
    if (this.stopped) return
    this.stopped = true
    this.stopping = true
    if (this.rebalanceTimer) clearInterval(this.rebalanceTimer)
    this.rebalanceTimer = undefined
    const zk = this.zk
    if (!zk) return
    // Never hang on shutdown (ZooKeeper may be gone): bounded waits, then close the session.
    if (zk.connected) await Promise.race([this.queue.catch(() => {}), new Promise(r => setTimeout(r, 3000).unref())])
    try {
      const others = this.brokers().filter(b => b.id !== this._brokerId).length
      if (zk.connected) await zk.delete(ZkPaths.broker(this._brokerId), -1, 3000).catch(() => {})
      if (zk.connected && this.isController()) {
        this.logger.info(`Resigning as the controller (epoch ${this.controllerEpoch})`)
        await zk.delete(ZkPaths.controller, -1, 3000).catch(() => {})
      }
      if (zk.connected && others > 0 && this.config.controlledShutdownEnable) {
        // Controlled shutdown through ZooKeeper: the (other) controller sees this broker gone and
        // moves leadership to ISR members; wait (bounded) so that clients find new leaders while
        // this broker still answers. The broker should call stop() before closing its listeners.
        const movable = () => [...this.topicMap.values()].some(t => t.partitions.some(ps => ps && ps.leader === this._brokerId && ps.isr.some(r => r !== this._brokerId && this.brokerMap.has(r))))
        if (movable()) {
          this.logger.info('Controlled shutdown: waiting for leadership to move to other brokers')
          this.stopped = false // keep following partition state changes meanwhile
          try {
            await this.waitCache(() => !movable(), 5000)
          } finally {
            this.stopped = true
          }
        }
      }
    } finally {
      this.controller = -1
      await zk.close()
    }
  }

  private async getOrCreateClusterId(): Promise<string> {
    const zk = this.zkClient
    for (;;) {
      const cur = await zk.getJson<{id: string}>(ZkPaths.clusterId)
      if (cur) return cur.value.id
      try {
        const id = randomUuid()
        await zk.create(ZkPaths.clusterId, JSON.stringify({version: '1', id}), {parents: true})
        return id
      } catch (error) {
        if (!isCode(error, ZkCode.NODE_EXISTS)) throw error
      }
    }
  }

  /** Kafka's broker id generation: the version of /brokers/seqid after an unconditional set, plus reserved.broker.max.id. */
  private async generateBrokerId(): Promise<number> {
    const stat = await this.zkClient.set(ZkPaths.brokerSeqId, '', -1)
    return stat.version + this.config.reservedBrokerMaxId
  }

  /**
   * Registers /brokers/ids/<id> (ephemeral). When the node exists for another session, that
   * may be this broker's previous life (killed before its session expired): wait up to
   * zookeeper.session.timeout.ms for it to go, then refuse to start with Kafka's message.
   */
  private async registerBroker(): Promise<void> {
    const zk = this.zkClient
    const path = ZkPaths.broker(this._brokerId)
    const data = encodeBrokerRegistration(this.endpoints, this.config.brokerRack)
    const deadline = Date.now() + this.config.zookeeperSessionTimeoutMs + 2000
    let waiting = false
    for (;;) {
      try {
        await zk.create(path, data, {ephemeral: true})
        return
      } catch (error) {
        if (!isCode(error, ZkCode.NODE_EXISTS)) throw error
      }
      const existing = await zk.get(path)
      if (!existing) continue
      if (existing.stat.ephemeralOwner === zk.sessionId) return
      if (Date.now() >= deadline || this.stopped) {
        throw new Error(`Error while creating ephemeral at ${path}, node already exists and owner '${BigInt('0x' + existing.stat.ephemeralOwner)}' does not match current session '${BigInt('0x' + (zk.sessionId || '0'))}'`)
      }
      if (!waiting) {
        waiting = true
        this.logger.info(`${path} is still registered by session 0x${existing.stat.ephemeralOwner.replace(/^0+/, '')}; waiting up to ${this.config.zookeeperSessionTimeoutMs} ms for it to expire`)
      }
      await new Promise(r => setTimeout(r, 200))
    }
  }

  private async onNewSession(): Promise<void> {
    if (this.stopped) return
    this.logger.info('New ZooKeeper session: re-registering the broker and re-reading metadata')
    this.controller = -1
    await this.registerBroker()
    await this.resync()
  }

  /** Re-reads all metadata (and re-sets every watch), then runs for controller if there is none. */
  private async resync(): Promise<void> {
    this.needResync = false
    await this.loadBrokerConfigs()
    await this.loadConfigChanges(false)
    await this.loadDeleteRequests()
    await this.loadBrokers()
    await this.loadTopics(true)
    await this.elect()
  }

  // ------------------------------------------------------------------ event queue

  /** Emits to the broker's listeners; a listener that throws is logged, never breaks metadata processing. */
  private fire(event: string, ...args: unknown[]): void {
    try {
      this.emit(event, ...args)
    } catch (error) {
      this.logger.error(`A '${event}' listener failed: ${(error as Error).message}`)
    }
  }

  private enqueue(what: string, fn: () => Promise<void>): void {
    void this.run(what, fn).catch(() => {})
  }

  private run(what: string, fn: () => Promise<void>): Promise<void> {
    const p = this.queue.then(async () => {
      if (this.stopped && what !== 'startup') return
      try {
        await fn()
      } catch (error) {
        if (this.stopped) return
        if (isCode(error, ZkCode.CONNECTION_LOSS) || isCode(error, ZkCode.SESSION_EXPIRED)) {
          this.needResync = true
          this.logger.warn(`Lost the ZooKeeper connection while processing ${what}; will re-read metadata when reconnected`)
        } else this.logger.error(`Error while processing ${what}: ${(error as Error).message}`)
        throw error
      } finally {
        this.internal.emit('change')
      }
    })
    this.queue = p.catch(() => {})
    return p
  }

  private onWatch(e: ZkWatchEvent): void {
    if (this.stopped) return
    const p = e.path
    if (p === ZkPaths.brokerIds) this.enqueue('broker change', () => this.loadBrokers())
    else if (p === ZkPaths.topics) this.enqueue('topic change', () => this.loadTopics())
    else if (p === ZkPaths.controller) this.enqueue('controller change', () => this.elect())
    else if (p === ZkPaths.deleteTopics) this.enqueue('topic deletion', () => this.loadDeleteRequests())
    else if (p === ZkPaths.configChanges) this.enqueue('config change', () => this.loadConfigChanges(false))
    else if (p === ZkPaths.isrChange) this.enqueue('isr change notification', () => this.processIsrChanges())
    else if (p === ZkPaths.preferredReplicaElection) this.enqueue('preferred replica election', () => this.processPreferredElectionRequest())
    else if (p.startsWith(ZkPaths.topics + '/')) {
      const rest = p.slice(ZkPaths.topics.length + 1).split('/')
      const topic = rest[0]
      // Deleted too: the topic may have been deleted and re-created between two reads of /brokers/topics.
      if (rest.length === 1) this.enqueue(`topic ${topic} change`, () => this.loadTopic(topic, true))
      else if (rest.length === 4 && rest[3] === 'state' && e.type !== 'deleted') {
        const partition = Number(rest[2])
        this.enqueue(`partition ${topic}-${partition} change`, () => this.loadPartitionState(topic, partition, true))
      }
    }
  }

  /** Resolves when pred() holds after some cache change, or false after timeoutMs. */
  private waitCache(pred: () => boolean, timeoutMs: number): Promise<boolean> {
    if (pred()) return Promise.resolve(true)
    return new Promise(resolve => {
      const check = () => {
        if (!pred()) return
        done(true)
      }
      const done = (v: boolean) => {
        clearTimeout(timer)
        this.internal.off('change', check)
        resolve(v)
      }
      const timer = setTimeout(() => done(pred()), timeoutMs)
      this.internal.on('change', check)
    })
  }

  // ------------------------------------------------------------------ cache loading

  private async loadBrokers(): Promise<void> {
    const zk = this.zkClient
    const ids = (await zk.getChildren(ZkPaths.brokerIds, true) ?? []).map(Number).filter(n => Number.isInteger(n))
    const before = new Set(this.brokerMap.keys())
    const now = new Set(ids)
    let modified = false
    const bounced: number[] = []
    const regs = await Promise.all(ids.map(id => zk.get(ZkPaths.broker(id))))
    for (const [i, id] of ids.entries()) {
      const r = regs[i]
      if (!r) { now.delete(id); continue }
      const epoch = this.brokerEpochs.get(id)
      if (epoch !== undefined && epoch !== r.stat.czxid && before.has(id)) bounced.push(id)
      this.brokerEpochs.set(id, r.stat.czxid)
      try {
        const info = decodeBrokerRegistration(id, r.data.toString('utf8'))
        const prev = this.brokerMap.get(id)
        if (prev && JSON.stringify(prev) !== JSON.stringify(info)) modified = true
        this.brokerMap.set(id, info)
      } catch {
        this.logger.warn(`Ignoring unreadable broker registration at ${ZkPaths.broker(id)}`)
        now.delete(id)
      }
    }
    for (const id of before) if (!now.has(id)) { this.brokerMap.delete(id); this.brokerEpochs.delete(id) }
    const added = [...now].filter(id => !before.has(id))
    const removed = [...before].filter(id => !now.has(id))
    if (modified && !added.length && !removed.length && !bounced.length) this.fire('brokersChanged')
    if (added.length || removed.length || bounced.length) {
      if (this.started) this.logger.info(`Live brokers: ${[...now].sort((a, b) => a - b).join(',')}${added.length ? ` (new: ${added.join(',')})` : ''}${removed.length ? ` (failed: ${removed.join(',')})` : ''}${bounced.length ? ` (restarted: ${bounced.join(',')})` : ''}`)
      this.fire('brokersChanged')
      if (this.isController()) await this.onBrokerChange(removed, added, bounced)
    }
  }

  private async loadTopics(forceReload = false): Promise<void> {
    const names = await this.zkClient.getChildren(ZkPaths.topics, true) ?? []
    const now = new Set(names)
    for (const name of [...this.topicMap.keys()]) {
      if (!now.has(name)) this.removeTopicFromCache(name)
    }
    // Topics are independent: load them concurrently (requests pipeline on one connection).
    await Promise.all(names.filter(n => forceReload || !this.topicMap.has(n)).map(n => this.loadTopic(n, true, forceReload)))
  }

  private removeTopicFromCache(name: string): void {
    const t = this.topicMap.get(name)
    if (!t) return
    this.topicMap.delete(name)
    if (this.idMap.get(t.topicId) === t) this.idMap.delete(t.topicId)
    this.logger.info(`Topic ${name} deleted`)
    this.fire('topicDeleted', name)
  }

  /** Reads a topic's assignment, config and partition states; with rereadStates every state (and its watch) is read again. */
  private async loadTopic(name: string, watch: boolean, rereadStates = false): Promise<void> {
    const zk = this.zkClient
    const r = await zk.getJson<{partitions?: Record<string, number[]>; topic_id?: string; adding_replicas?: Record<string, number[]>; removing_replicas?: Record<string, number[]>}>(ZkPaths.topic(name), watch)
    if (!r) { this.removeTopicFromCache(name); return }
    const assignment = r.value.partitions ?? {}
    const adding = r.value.adding_replicas ?? {}
    const removing = r.value.removing_replicas ?? {}
    const count = Object.keys(assignment).length
    let t = this.topicMap.get(name)
    let topicId = r.value.topic_id
    if (!topicId) {
      // A topic written by an old tool without an id: the controller adds one, as Kafka does.
      topicId = t?.topicId ?? randomUuid()
      if (this.isController()) {
        const parts = Array.from({length: count}, (_, p) => assignment[String(p)] ?? [])
        await zk.set(ZkPaths.topic(name), encodeTopicAssignment(parts, topicId), r.stat.version).catch(() => {})
      }
    }
    const configs = (await zk.getJson<{config?: Record<string, string>}>(ZkPaths.topicConfig(name)))?.value.config ?? {}
    if (t && t.topicId !== topicId) {
      // Deleted and re-created under the same name: the old incarnation is gone for the broker (its logs too).
      this.removeTopicFromCache(name)
      t = undefined
    }
    if (!t) {
      t = {name, topicId, partitions: [], configs, internal: INTERNAL_TOPICS.has(name), markedForDeletion: this.pendingDeletes.has(name)}
      this.topicMap.set(name, t)
      this.idMap.set(topicId, t)
    } else {
      t.configs = configs
    }
    const changed: PartitionState[] = []
    const removedHere: {topic: string; partition: number}[] = []
    for (let p = 0; p < count; p++) {
      const replicas = assignment[String(p)] ?? []
      const existing = t.partitions[p]
      if (existing) {
        if (!sameArray(existing.replicas, replicas)) {
          if (existing.replicas.includes(this._brokerId) && !replicas.includes(this._brokerId)) removedHere.push({topic: name, partition: p})
          existing.replicas = replicas
          changed.push(existing)
        }
      } else {
        t.partitions[p] = {topic: name, partition: p, leader: -1, leaderEpoch: -1, isr: [], replicas, controllerEpoch: -1, zkVersion: -1}
      }
      const ps = t.partitions[p]
      const a = adding[String(p)]
      const rm = removing[String(p)]
      if (a?.length) ps.addingReplicas = a; else delete ps.addingReplicas
      if (rm?.length) ps.removingReplicas = rm; else delete ps.removingReplicas
    }
    // A reassignment moved this broker off these partitions: the broker drops its replicas.
    if (removedHere.length && this.started) this.fire('partitionsRemoved', removedHere)
    const toRead: number[] = []
    for (let p = 0; p < count; p++) if (rereadStates || t.partitions[p].zkVersion < 0) toRead.push(p)
    // Independent reads: pipelined on the one connection.
    for (const s of await Promise.all(toRead.map(p => this.readPartitionState(name, p, true)))) if (s) changed.push(s)
    if (this.isController() && t.partitions.some(ps => ps.zkVersion < 0)) await this.initPartitions(t)
    this.emitMine(changed)
    if (this.isController()) await this.checkReassignments(t.partitions)
  }

  private async readPartitionState(topic: string, partition: number, watch: boolean): Promise<PartitionState | undefined> {
    const t = this.topicMap.get(topic)
    const ps = t?.partitions[partition]
    if (!ps) return undefined
    const r = await this.zkClient.getJson<{leader: number; leader_epoch: number; isr: number[]; controller_epoch: number}>(ZkPaths.partitionState(topic, partition), watch)
    if (!r) return undefined
    ps.stateZxid = r.stat.mzxid
    if (r.stat.version === ps.zkVersion) return undefined
    const before = `${ps.leader}/${ps.leaderEpoch}/${ps.isr.join(',')}`
    ps.leader = r.value.leader
    ps.leaderEpoch = r.value.leader_epoch
    ps.isr = r.value.isr ?? []
    ps.controllerEpoch = r.value.controller_epoch
    ps.zkVersion = r.stat.version
    return before === `${ps.leader}/${ps.leaderEpoch}/${ps.isr.join(',')}` ? undefined : ps
  }

  private async loadPartitionState(topic: string, partition: number, watch: boolean): Promise<void> {
    const s = await this.readPartitionState(topic, partition, watch)
    if (s) this.emitMine([s])
    // (the cache may already hold this state: updateIsr on this broker writes it through)
    const ps = this.topicMap.get(topic)?.partitions[partition]
    if (this.isController() && ps && (ps.addingReplicas || ps.removingReplicas)) await this.checkReassignments([ps])
  }

  private myPartitions(): PartitionState[] {
    const out: PartitionState[] = []
    for (const t of this.topicMap.values()) for (const ps of t.partitions) if (ps && ps.zkVersion >= 0 && ps.replicas.includes(this._brokerId)) out.push(ps)
    return out
  }

  private emitMine(states: PartitionState[]): void {
    if (!this.started) return
    const mine = states.filter(s => s.zkVersion >= 0 && s.replicas.includes(this._brokerId))
    if (mine.length) this.fire('partitionsChanged', mine)
  }

  private async loadDeleteRequests(): Promise<void> {
    const names = await this.zkClient.getChildren(ZkPaths.deleteTopics, true) ?? []
    this.pendingDeletes.clear()
    for (const n of names) this.pendingDeletes.add(n)
    for (const t of this.topicMap.values()) t.markedForDeletion = this.pendingDeletes.has(t.name)
    if (this.isController() && names.length) await this.completeDeletions(names)
  }

  private async loadBrokerConfigs(): Promise<void> {
    const zk = this.zkClient
    const def = (await zk.getJson<{config?: Record<string, string>}>(ZkPaths.brokerConfig('<default>')))?.value.config ?? {}
    const mine = (await zk.getJson<{config?: Record<string, string>}>(ZkPaths.brokerConfig(String(this._brokerId))))?.value.config ?? {}
    this.brokerDynamic = {...def, ...mine}
    this.brokerDynamicLayers = {default: def, own: mine}
  }

  private async loadConfigChanges(initial: boolean): Promise<void> {
    const zk = this.zkClient
    const children = (await zk.getChildren(ZkPaths.configChanges, true) ?? []).filter(c => c.startsWith('config_change_')).sort()
    const seqOf = (c: string) => Number(c.slice('config_change_'.length))
    if (initial) {
      this.lastConfigChange = children.length ? seqOf(children[children.length - 1]) : -1
      return
    }
    const now = Date.now()
    for (const c of children) {
      const seq = seqOf(c)
      const path = `${ZkPaths.configChanges}/${c}`
      if (seq <= this.lastConfigChange) {
        // Purge old notifications as Kafka does (after 15 minutes).
        if (this.isController()) {
          const st = await zk.exists(path)
          if (st && now - st.ctime > CONFIG_CHANGE_EXPIRATION_MS) await zk.delete(path).catch(() => {})
        }
        continue
      }
      this.lastConfigChange = seq
      const r = await zk.getJson<{entity_path?: string; entity_type?: string; entity_name?: string}>(path).catch(() => undefined)
      if (!r) continue
      const entity = r.value.entity_path ?? (r.value.entity_type ? `${r.value.entity_type}/${r.value.entity_name}` : '')
      const slash = entity.indexOf('/')
      const type = entity.slice(0, slash)
      const name = entity.slice(slash + 1)
      if (type === 'topics') {
        const t = this.topicMap.get(name)
        if (t) {
          t.configs = (await zk.getJson<{config?: Record<string, string>}>(ZkPaths.topicConfig(name)))?.value.config ?? {}
          this.fire('topicConfigChanged', name)
        }
      } else if (type === 'brokers' && (name === '<default>' || name === String(this._brokerId))) {
        await this.loadBrokerConfigs()
        this.fire('brokerConfigChanged')
      }
      // users/<u>, users/<u>/clients/<c>, clients/<c>, ips/<ip>: SCRAM credentials and quotas.
      if (type !== 'topics' && type !== 'brokers') this.fire('entityConfigChanged', entity)
    }
  }

  // ------------------------------------------------------------------ controller

  private async elect(): Promise<void> {
    const zk = this.zkClient
    for (;;) {
      if (this.stopped) return
      const cur = await zk.getJson<{brokerid: number}>(ZkPaths.controller, true)
      if (cur) {
        const was = this.controller
        this.controller = cur.value.brokerid
        if (this.controller === this._brokerId && cur.stat.ephemeralOwner !== zk.sessionId) this.controller = -1
        if (was !== this.controller) this.logger.info(`Controller is broker ${this.controller}`)
        return
      }
      if (this.stopping) { this.controller = -1; return }
      let epochNode = await zk.get(ZkPaths.controllerEpoch)
      if (!epochNode) {
        await zk.create(ZkPaths.controllerEpoch, '0').catch(e => { if (!isCode(e, ZkCode.NODE_EXISTS)) throw e })
        epochNode = await zk.get(ZkPaths.controllerEpoch)
        if (!epochNode) continue
      }
      const epoch = Number(epochNode.data.toString('utf8')) || 0
      try {
        await zk.multi([
          {op: 'create', path: ZkPaths.controller, data: JSON.stringify({version: 2, brokerid: this._brokerId, timestamp: String(Date.now()), kraftControllerEpoch: -1}), ephemeral: true},
          {op: 'set', path: ZkPaths.controllerEpoch, data: String(epoch + 1), version: epochNode.stat.version},
        ])
      } catch (error) {
        if (isCode(error, ZkCode.NODE_EXISTS) || isCode(error, ZkCode.BAD_VERSION)) continue
        throw error
      }
      this.controller = this._brokerId
      this.controllerEpoch = epoch + 1
      this.controllerEpochZkVersion = epochNode.stat.version + 1
      await zk.exists(ZkPaths.controller, true)
      this.logger.info(`Broker ${this._brokerId} became the controller (epoch ${this.controllerEpoch})`)
      await this.onControllerFailover()
      return
    }
  }

  private async onControllerFailover(): Promise<void> {
    const zk = this.zkClient
    if (!await zk.exists(ZkPaths.feature)) {
      await zk.create(ZkPaths.feature, JSON.stringify({features: {}, version: 2, status: 1})).catch(e => { if (!isCode(e, ZkCode.NODE_EXISTS)) throw e })
    }
    await this.processIsrChanges()
    await this.loadBrokers()
    await this.loadTopics(true)
    const live = new Set(this.brokerMap.keys())
    for (const t of this.topicMap.values()) {
      if (t.partitions.some(ps => ps.zkVersion < 0)) await this.initPartitions(t)
      // Offline leaders, dead ISR members, and replicas that restarted since their state was
      // written (a previous controller may have died before it handled their failure).
      await this.electPartitions(t.partitions.filter(ps => ps.zkVersion >= 0 && (ps.leader < 0 || !live.has(ps.leader) || ps.isr.some(r => !live.has(r)) || this.restartedSince(ps).size > 0)), live)
    }
    if (this.pendingDeletes.size) await this.completeDeletions([...this.pendingDeletes])
    for (const t of this.topicMap.values()) await this.checkReassignments(t.partitions)
    await this.processPreferredElectionRequest()
    this.scheduleRebalance()
  }

  private scheduleRebalance(): void {
    if (!this.config.autoLeaderRebalanceEnable || this.rebalanceTimer) return
    this.rebalanceTimer = setInterval(() => {
      if (this.stopped || !this.isController()) return
      this.enqueue('auto leader rebalance', () => this.autoRebalance())
    }, this.config.leaderImbalanceCheckIntervalSeconds * 1000)
    this.rebalanceTimer.unref()
  }

  /** Kafka's auto leader rebalance: per preferred broker, move leadership back when the imbalance exceeds the threshold. */
  private async autoRebalance(): Promise<void> {
    const live = new Set(this.brokerMap.keys())
    const byPreferred = new Map<number, PartitionState[]>()
    for (const t of this.topicMap.values()) {
      if (t.markedForDeletion) continue
      for (const ps of t.partitions) {
        if (!ps || ps.zkVersion < 0 || ps.replicas.length === 0) continue
        const list = byPreferred.get(ps.replicas[0]) ?? []
        list.push(ps)
        byPreferred.set(ps.replicas[0], list)
      }
    }
    for (const [broker, states] of byPreferred) {
      if (!live.has(broker)) continue
      const imbalanced = states.filter(ps => ps.leader !== broker)
      if (imbalanced.length === 0 || (imbalanced.length * 100) / states.length <= this.config.leaderImbalancePerBrokerPercentage) continue
      const eligible = imbalanced.filter(ps => ps.isr.includes(broker))
      if (eligible.length) {
        this.logger.info(`Leader imbalance ratio for broker ${broker} is ${(imbalanced.length / states.length).toFixed(3)}; electing preferred leaders`)
        await this.electPreferred(eligible)
      }
    }
  }

  /** Moves leadership to the preferred (first) replica when it is alive and in the ISR. Returns per-partition results. */
  private async electPreferred(states: PartitionState[]): Promise<ElectionResult[]> {
    const live = new Set(this.brokerMap.keys())
    const out: ElectionResult[] = []
    for (const ps of states) {
      const preferred = ps.replicas[0]
      if (ps.leader === preferred) { out.push({topic: ps.topic, partition: ps.partition, errorCode: ErrorCode.ELECTION_NOT_NEEDED, message: 'Leader election not needed for topic partition.'}); continue }
      if (preferred === undefined || !live.has(preferred) || !ps.isr.includes(preferred)) {
        out.push({topic: ps.topic, partition: ps.partition, errorCode: ErrorCode.PREFERRED_LEADER_NOT_AVAILABLE, message: `Failed to elect leader for partition ${ps.topic}-${ps.partition} under strategy PreferredReplicaPartitionLeaderElectionStrategy`})
        continue
      }
      const ok = await this.controllerWrite([{op: 'set', path: ZkPaths.partitionState(ps.topic, ps.partition), data: encodePartitionState(preferred, ps.leaderEpoch + 1, ps.isr, this.controllerEpoch), version: ps.zkVersion}])
      if (ok) this.logger.info(`Partition ${ps.topic}-${ps.partition}: preferred leader ${preferred} elected (was ${ps.leader}), leader epoch ${ps.leaderEpoch + 1}`)
      await this.loadPartitionState(ps.topic, ps.partition, true)
      out.push(ok ? {topic: ps.topic, partition: ps.partition, errorCode: ErrorCode.NONE, message: null} : {topic: ps.topic, partition: ps.partition, errorCode: ErrorCode.NOT_CONTROLLER, message: 'The controller changed during the election'})
    }
    return out
  }

  /** /admin/preferred_replica_election (written by tools or any broker): the controller elects, then removes the request. */
  private async processPreferredElectionRequest(): Promise<void> {
    const zk = this.zkClient
    const r = await zk.getJson<{partitions?: {topic: string; partition: number}[]}>(ZkPaths.preferredReplicaElection, true).catch(() => undefined)
    if (!this.isController()) return
    if (!r) {
      if (await zk.exists(ZkPaths.preferredReplicaElection)) await zk.delete(ZkPaths.preferredReplicaElection).catch(() => {})
      return
    }
    const states = (r.value.partitions ?? []).map(p => this.topicMap.get(p.topic)?.partitions[p.partition]).filter((s): s is PartitionState => !!s && s.zkVersion >= 0)
    await this.electPreferred(states)
    await zk.delete(ZkPaths.preferredReplicaElection).catch(() => {})
  }

  /** Writes with the controller's fence: the multi fails if another controller bumped the epoch. */
  private async controllerWrite(ops: ZkOp[]): Promise<boolean> {
    if (!this.isController()) return false
    try {
      await this.zkClient.multi([{op: 'check', path: ZkPaths.controllerEpoch, version: this.controllerEpochZkVersion}, ...ops])
      return true
    } catch (error) {
      if (isCode(error, ZkCode.BAD_VERSION) || isCode(error, ZkCode.NODE_EXISTS) || isCode(error, ZkCode.NO_NODE)) {
        this.logger.warn(`Controller write refused (${(error as Error).message}); re-reading state`)
        return false
      }
      throw error
    }
  }

  /**
   * New partitions: leader = first live replica, ISR = live replicas, leader epoch 0. All of a
   * topic's new partitions are written in one fenced multi; if that fails (some already
   * exist), partition by partition.
   */
  private async initPartitions(t: TopicMeta): Promise<void> {
    const live = new Set(this.brokerMap.keys())
    const zk = this.zkClient
    const todo: {ps: PartitionState; isr: number[]}[] = []
    for (const ps of t.partitions) {
      if (!ps || ps.zkVersion >= 0) continue
      const liveReplicas = ps.replicas.filter(r => live.has(r))
      if (liveReplicas.length === 0) {
        this.logger.error(`Cannot bring new partition ${t.name}-${ps.partition} online: none of its replicas ${ps.replicas.join(',')} is alive`)
        continue
      }
      todo.push({ps, isr: liveReplicas})
    }
    if (todo.length === 0) return
    await zk.ensurePath(ZkPaths.partitions(t.name))
    const existing = new Set(await zk.getChildren(ZkPaths.partitions(t.name)) ?? [])
    const ops: ZkOp[] = []
    for (const {ps, isr} of todo) {
      if (!existing.has(String(ps.partition))) ops.push({op: 'create', path: ZkPaths.partition(t.name, ps.partition)})
      ops.push({op: 'create', path: ZkPaths.partitionState(t.name, ps.partition), data: encodePartitionState(isr[0], 0, isr, this.controllerEpoch)})
    }
    let ok = await this.controllerWrite(ops)
    if (!ok && this.isController()) {
      // Someone wrote some of them meanwhile: one partition at a time, skipping existing states.
      for (const {ps, isr} of todo) {
        await zk.ensurePath(ZkPaths.partition(t.name, ps.partition))
        await this.controllerWrite([{op: 'create', path: ZkPaths.partitionState(t.name, ps.partition), data: encodePartitionState(isr[0], 0, isr, this.controllerEpoch)}])
      }
      ok = true
    }
    if (ok) this.logger.info(`Partitions ${todo.map(x => x.ps.partition).join(',')} of topic ${t.name} are online (controller epoch ${this.controllerEpoch})`)
    const changed = (await Promise.all(todo.map(x => this.readPartitionState(t.name, x.ps.partition, true)))).filter((s): s is PartitionState => !!s)
    this.emitMine(changed)
  }

  /**
   * Replicas of this partition (leader and ISR members) whose current broker registration is
   * newer than the partition's state: they restarted after it was written (KIP-380's broker
   * epoch, here the registration's czxid against the state's mzxid). A quick restart can hide
   * the failure (the registration is gone and back between two looks), and a controller that
   * takes over after its predecessor died never saw it: this catches both.
   */
  private restartedSince(ps: PartitionState): Set<number> {
    const out = new Set<number>()
    if (ps.stateZxid === undefined) return out
    const check = (id: number) => {
      const epoch = this.brokerEpochs.get(id)
      if (epoch !== undefined && epoch > ps.stateZxid!) out.add(id)
    }
    if (ps.leader >= 0) check(ps.leader)
    for (const r of ps.isr) check(r)
    // Only when an ISR member that did not restart is alive to take over: when every live ISR
    // member restarted (a whole-cluster restart, a single replica), none is better placed than
    // the leader, and the state stands, as with Kafka.
    if (out.size > 0 && !ps.isr.some(r => this.brokerMap.has(r) && !out.has(r))) out.clear()
    return out
  }

  /**
   * Broker failures, bounces (same id, new registration: the broker restarted faster than
   * we looked; Kafka tells them apart by the registration's czxid, the broker epoch) and
   * start-ups. Failed and bounced brokers first lose leadership and ISR membership, then
   * partitions without a leader get one among the live (including returning) replicas.
   */
  private async onBrokerChange(removed: number[], added: number[], bounced: number[] = []): Promise<void> {
    const live = new Set(this.brokerMap.keys())
    const dead = new Set([...removed, ...bounced])
    const joined = new Set([...added, ...bounced])
    for (const t of this.topicMap.values()) {
      if (t.partitions.some(ps => ps.zkVersion < 0)) await this.initPartitions(t)
      await this.electPartitions(t.partitions.filter(ps => ps.zkVersion >= 0 && (dead.has(ps.leader) || ps.isr.some(r => dead.has(r)) || this.restartedSince(ps).size > 0)), live)
      await this.electPartitions(t.partitions.filter(ps => ps.zkVersion >= 0 && ps.leader < 0 && ps.replicas.some(r => joined.has(r))), live)
    }
  }

  /**
   * Leader election and ISR shrink for partitions whose leader or ISR members are gone
   * (Kafka's offline election + removing dead replicas from the ISR; both bump the leader
   * epoch). Clean election takes the first live replica (in assignment order) that is in
   * the ISR; unclean election (when enabled for the topic) the first live replica. A replica
   * that restarted since the state was written (restartedSince) counts as failed and back: it
   * leaves the ISR (it rejoins once it has caught up) and leads only when no other ISR member
   * is alive, with a new leader epoch either way.
   */
  private async electPartitions(states: PartitionState[], live: Set<number>): Promise<void> {
    for (const ps of states) {
      const t = this.topicMap.get(ps.topic)
      const uncleanRaw = t?.configs['unclean.leader.election.enable'] ?? this.brokerDynamic['unclean.leader.election.enable']
      const unclean = uncleanRaw !== undefined ? uncleanRaw.toLowerCase() === 'true' : this.config.uncleanLeaderElectionEnable
      const restarted = this.restartedSince(ps)
      const liveIsr = ps.isr.filter(r => live.has(r) && !restarted.has(r))
      let leader = ps.leader
      let isr = liveIsr
      if (leader < 0 || !live.has(leader) || restarted.has(leader)) {
        const clean = ps.replicas.find(r => live.has(r) && !restarted.has(r) && ps.isr.includes(r))
          ?? ps.replicas.find(r => restarted.has(r) && ps.isr.includes(r))
        if (clean !== undefined) {
          leader = clean
          if (!isr.includes(clean)) isr = [...isr, clean].sort((a, b) => a - b)
        } else {
          const any = unclean ? ps.replicas.find(r => live.has(r)) : undefined
          if (any !== undefined) {
            leader = any
            isr = [any]
            this.logger.warn(`Unclean leader election for ${ps.topic}-${ps.partition}: broker ${any} (not in ISR ${ps.isr.join(',')}) becomes leader; data may be lost`)
          } else {
            leader = -1
            // Kafka keeps the last ISR member when no replica can lead.
            isr = liveIsr.length ? liveIsr : ps.isr.slice(-1)
          }
        }
      }
      if (leader === ps.leader && sameArray(isr, ps.isr) && !restarted.has(leader)) continue
      const data = encodePartitionState(leader, ps.leaderEpoch + 1, isr, this.controllerEpoch)
      const ok = await this.controllerWrite([{op: 'set', path: ZkPaths.partitionState(ps.topic, ps.partition), data, version: ps.zkVersion}])
      if (ok) this.logger.info(`Partition ${ps.topic}-${ps.partition}: leader ${ps.leader} -> ${leader}, isr ${ps.isr.join(',')} -> ${isr.join(',')}, leader epoch ${ps.leaderEpoch + 1}${restarted.size ? ` (restarted since the last state: ${[...restarted].join(',')})` : ''}`)
      await this.loadPartitionState(ps.topic, ps.partition, true)
    }
  }

  private async completeDeletions(names: string[]): Promise<void> {
    const zk = this.zkClient
    for (const name of names) {
      if (!this.isController()) return
      if (!this.config.deleteTopicEnable) {
        this.logger.info(`Removing deletion request for topic ${name}: delete.topic.enable is false`)
        await zk.delete(ZkPaths.deleteTopic(name)).catch(() => {})
        continue
      }
      if (await zk.exists(ZkPaths.topic(name))) {
        this.logger.info(`Deleting topic ${name}`)
        await zk.deleteRecursive(ZkPaths.topic(name))
        await zk.delete(ZkPaths.topicConfig(name)).catch(e => { if (!isCode(e, ZkCode.NO_NODE)) throw e })
      }
      await zk.delete(ZkPaths.deleteTopic(name)).catch(e => { if (!isCode(e, ZkCode.NO_NODE)) throw e })
      this.pendingDeletes.delete(name)
      this.removeTopicFromCache(name)
    }
  }

  private async processIsrChanges(): Promise<void> {
    const zk = this.zkClient
    const children = await zk.getChildren(ZkPaths.isrChange, true) ?? []
    if (!this.isController()) return
    // Every broker already watches the partition state znodes; the controller only clears the notifications.
    for (const c of children) await zk.delete(`${ZkPaths.isrChange}/${c}`).catch(() => {})
  }

  // ------------------------------------------------------------------ admin operations

  private liveBrokerIds(): number[] {
    return [...this.brokerMap.keys()].sort((a, b) => a - b)
  }

  /** Placement over the live brokers: rack-aware when every broker has a rack, as Kafka's default (enforced) mode. */
  private place(nPartitions: number, rf: number, fixedStartIndex = -1, startPartitionId = -1): number[][] {
    const brokers = this.brokers()
    if (rf > brokers.length) throw new KafkaError(ErrorCode.INVALID_REPLICATION_FACTOR, `Replication factor: ${rf} larger than available brokers: ${brokers.length}.`)
    const withRack = brokers.filter(b => b.rack !== null)
    if (withRack.length === 0) return assignReplicasToBrokers(brokers.map(b => b.id), nPartitions, rf, fixedStartIndex, startPartitionId)
    if (withRack.length < brokers.length) throw new KafkaError(ErrorCode.INVALID_REPLICA_ASSIGNMENT, 'Not all brokers have rack information for replica rack aware assignment.')
    return assignReplicasToBrokersRackAware(new Map(brokers.map(b => [b.id, b.rack!])), nPartitions, rf, fixedStartIndex, startPartitionId)
  }

  private validateAssignment(assignment: number[][], startPartition: number, expectedRf?: number): void {
    const live = new Set(this.brokerMap.keys())
    const unknown = new Set<number>()
    assignment.forEach((replicas, i) => {
      const p = startPartition + i
      if (!replicas || replicas.length === 0) throw new KafkaError(ErrorCode.INVALID_REPLICA_ASSIGNMENT, `Replica assignment for partition ${p} is empty`)
      if (new Set(replicas).size !== replicas.length) throw new KafkaError(ErrorCode.INVALID_REPLICA_ASSIGNMENT, `Duplicate replica assignment found: ${replicas.join(', ')}`)
      if (expectedRf !== undefined && replicas.length !== expectedRf) throw new KafkaError(ErrorCode.INVALID_REPLICA_ASSIGNMENT, `All partitions should have the same number of replicas (partition ${p} has ${replicas.length}, expected ${expectedRf})`)
      for (const r of replicas) if (!live.has(r)) unknown.add(r)
    })
    if (unknown.size) throw new KafkaError(ErrorCode.INVALID_REPLICA_ASSIGNMENT, `Unknown broker(s) in replica assignment: ${[...unknown].join(', ')}.`)
  }

  async createTopic(name: string, opts: CreateTopicOptions): Promise<TopicMeta> {
    const zk = this.zkClient
    const nameErr = topicNameError(name)
    if (nameErr) throw new KafkaError(ErrorCode.INVALID_TOPIC_EXCEPTION, nameErr)
    if (this.topicMap.has(name) || await zk.exists(ZkPaths.topic(name))) {
      throw new KafkaError(ErrorCode.TOPIC_ALREADY_EXISTS, this.pendingDeletes.has(name) ? `Topic '${name}' is marked for deletion.` : `Topic '${name}' already exists.`)
    }
    const unified = unifyCollisionChars(name)
    for (const other of this.topicMap.keys()) {
      if (other !== name && unifyCollisionChars(other) === unified) throw new KafkaError(ErrorCode.INVALID_TOPIC_EXCEPTION, `Topic '${name}' collides with existing topic: ${other}`)
    }
    const hasAssignment = opts.assignment !== undefined && Object.keys(opts.assignment).length > 0
    if (hasAssignment && (opts.numPartitions !== -1 || opts.replicationFactor !== -1)) {
      throw new KafkaError(ErrorCode.INVALID_REQUEST, 'Both numPartitions or replicationFactor and replicasAssignments were set. Both cannot be used at the same time.')
    }
    let partitions: number[][]
    if (hasAssignment) {
      const keys = Object.keys(opts.assignment!).map(Number).sort((a, b) => a - b)
      if (!keys.every((k, i) => k === i)) throw new KafkaError(ErrorCode.INVALID_REPLICA_ASSIGNMENT, 'Partitions should be a consecutive 0-based integer sequence')
      partitions = keys.map(k => opts.assignment![k])
      this.validateAssignment(partitions, 0, partitions[0].length)
    } else {
      const n = opts.numPartitions === -1 ? this.config.numPartitions : opts.numPartitions
      const rf = opts.replicationFactor === -1 ? this.config.defaultReplicationFactor : opts.replicationFactor
      if (n <= 0) throw new KafkaError(ErrorCode.INVALID_PARTITIONS, 'Number of partitions must be larger than 0.')
      if (rf <= 0) throw new KafkaError(ErrorCode.INVALID_REPLICATION_FACTOR, 'Replication factor must be larger than 0.')
      partitions = this.place(n, rf)
    }
    const configErr = validateTopicConfigs(opts.configs ?? {})
    if (configErr) throw new KafkaError(ErrorCode.INVALID_CONFIG, configErr)

    const topicId = randomUuid()
    const live = new Set(this.brokerMap.keys())
    if (opts.validateOnly) {
      return {name, topicId, configs: {...opts.configs}, internal: INTERNAL_TOPICS.has(name), markedForDeletion: false, partitions: partitions.map((replicas, p) => {
        const isr = replicas.filter(r => live.has(r))
        return {topic: name, partition: p, leader: isr[0] ?? -1, leaderEpoch: 0, isr, replicas, controllerEpoch: this.controllerEpoch, zkVersion: -1}
      })}
    }
    // As Kafka's AdminZkClient: the config first, then the assignment (which the controller acts on).
    const cfgJson = encodeTopicConfig({...opts.configs})
    try {
      await zk.create(ZkPaths.topicConfig(name), cfgJson)
    } catch (error) {
      if (!isCode(error, ZkCode.NODE_EXISTS)) throw error
      await zk.set(ZkPaths.topicConfig(name), cfgJson)
    }
    try {
      await zk.create(ZkPaths.topic(name), encodeTopicAssignment(partitions, topicId))
    } catch (error) {
      if (isCode(error, ZkCode.NODE_EXISTS)) throw new KafkaError(ErrorCode.TOPIC_ALREADY_EXISTS, `Topic '${name}' already exists.`)
      throw error
    }
    this.logger.info(`Creating topic ${name} with configuration ${JSON.stringify(opts.configs ?? {})} and initial partition assignment ${JSON.stringify(Object.fromEntries(partitions.map((r, p) => [p, r])))}`)
    await this.run(`create topic ${name}`, () => this.loadTopic(name, true))
    await this.waitCache(() => {
      const t = this.topicMap.get(name)
      return !!t && t.partitions.length === partitions.length && t.partitions.every(ps => ps.zkVersion >= 0)
    }, this.metadataWaitMs)
    const t = this.topicMap.get(name)
    if (!t) throw new KafkaError(ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, `Topic '${name}' was deleted while being created.`)
    return t
  }

  async deleteTopic(name: string): Promise<void> {
    if (!this.config.deleteTopicEnable) throw new KafkaError(ErrorCode.TOPIC_DELETION_DISABLED, 'Topic deletion is disabled.')
    const zk = this.zkClient
    if (!this.topicMap.has(name) && !await zk.exists(ZkPaths.topic(name))) {
      throw new KafkaError(ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, 'This server does not host this topic-partition.')
    }
    try {
      await zk.create(ZkPaths.deleteTopic(name))
    } catch (error) {
      if (!isCode(error, ZkCode.NODE_EXISTS)) throw error
    }
    this.logger.info(`Topic ${name} marked for deletion`)
    await this.waitCache(() => !this.topicMap.has(name), this.metadataWaitMs)
  }

  async createPartitions(name: string, totalCount: number, assignment?: number[][], validateOnly = false): Promise<void> {
    const zk = this.zkClient
    const r = await zk.getJson<{partitions?: Record<string, number[]>; topic_id?: string}>(ZkPaths.topic(name))
    if (!r || this.pendingDeletes.has(name)) throw new KafkaError(ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, `The topic '${name}' does not exist.`)
    if (this.topicMap.get(name)?.partitions.some(ps => ps?.addingReplicas || ps?.removingReplicas)) throw new KafkaError(ErrorCode.REASSIGNMENT_IN_PROGRESS, `A partition reassignment is in progress for the topic '${name}'.`)
    const existing = Object.keys(r.value.partitions ?? {}).length
    const current = Array.from({length: existing}, (_, p) => r.value.partitions![String(p)] ?? [])
    if (totalCount < existing) throw new KafkaError(ErrorCode.INVALID_PARTITIONS, `Topic currently has ${existing} partitions, which is higher than the requested ${totalCount}.`)
    if (totalCount === existing) throw new KafkaError(ErrorCode.INVALID_PARTITIONS, `Topic already has ${existing} partitions.`)
    const add = totalCount - existing
    const rf = current[0]?.length ?? 1
    let added: number[][]
    if (assignment && assignment.length) {
      if (assignment.length !== add) throw new KafkaError(ErrorCode.INVALID_REPLICA_ASSIGNMENT, `Increasing the number of partitions by ${add} but ${assignment.length} assignments provided.`)
      this.validateAssignment(assignment, existing, rf)
      added = assignment
    } else {
      const brokers = this.liveBrokerIds()
      const startIndex = Math.max(0, brokers.findIndex(id => id >= (current[0]?.[0] ?? 0)))
      added = this.place(add, rf, startIndex, existing)
    }
    if (validateOnly) return
    const topicId = r.value.topic_id ?? this.topicMap.get(name)?.topicId ?? randomUuid()
    try {
      await zk.set(ZkPaths.topic(name), encodeTopicAssignment([...current, ...added], topicId), r.stat.version)
    } catch (error) {
      if (isCode(error, ZkCode.BAD_VERSION)) throw new KafkaError(ErrorCode.REASSIGNMENT_IN_PROGRESS, `The assignment of topic '${name}' changed concurrently; retry.`)
      throw error
    }
    this.logger.info(`Adding ${add} partition(s) to topic ${name}`)
    await this.run(`add partitions to ${name}`, () => this.loadTopic(name, true))
    await this.waitCache(() => {
      const t = this.topicMap.get(name)
      return !!t && t.partitions.length === totalCount && t.partitions.every(ps => ps.zkVersion >= 0)
    }, this.metadataWaitMs)
  }

  async alterTopicConfigs(name: string, set: Record<string, string>, remove: string[], validateOnly = false): Promise<void> {
    const zk = this.zkClient
    if (!this.topicMap.has(name) && !await zk.exists(ZkPaths.topic(name))) throw new KafkaError(ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, `Topic ${name} does not exist.`)
    const err = validateTopicConfigs({...set, ...Object.fromEntries(remove.map(k => [k, null]))})
    if (err) throw new KafkaError(ErrorCode.INVALID_CONFIG, err)
    if (validateOnly) return
    const cur = await zk.getJson<{config?: Record<string, string>}>(ZkPaths.topicConfig(name))
    const merged: Record<string, string> = {...(cur?.value.config ?? {}), ...set}
    for (const k of remove) delete merged[k]
    const json = encodeTopicConfig(merged)
    if (cur) await zk.set(ZkPaths.topicConfig(name), json, cur.stat.version)
    else await zk.create(ZkPaths.topicConfig(name), json)
    await zk.create(`${ZkPaths.configChanges}/config_change_`, JSON.stringify({version: 2, entity_path: `topics/${name}`}), {sequential: true})
    const t = this.topicMap.get(name)
    if (t) t.configs = merged
  }

  /**
   * ElectLeaders (the controller serves it; other brokers answer NOT_CONTROLLER, as Kafka).
   * preferred: move leadership to the first replica; otherwise unclean: elect a leader for
   * partitions that have none, even outside the ISR. partitions undefined = all partitions.
   */
  async electLeaders(preferred: boolean, partitions?: {topic: string; partition: number}[]): Promise<ElectionResult[]> {
    const all = partitions ?? [...this.topicMap.values()].flatMap(t => t.partitions.filter(Boolean).map(ps => ({topic: t.name, partition: ps.partition})))
    if (!this.isController()) return all.map(p => ({...p, errorCode: ErrorCode.NOT_CONTROLLER, message: null}))
    const results: ElectionResult[] = []
    await this.run('elect leaders', async () => {
      const live = new Set(this.brokerMap.keys())
      for (const p of all) {
        const ps = this.topicMap.get(p.topic)?.partitions[p.partition]
        if (!ps || ps.zkVersion < 0) { results.push({...p, errorCode: ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, message: 'The partition does not exist.'}); continue }
        if (preferred) { results.push(...await this.electPreferred([ps])); continue }
        if (ps.leader >= 0 && live.has(ps.leader)) { results.push({...p, errorCode: ErrorCode.ELECTION_NOT_NEEDED, message: 'Leader election not needed for topic partition.'}); continue }
        const leader = ps.replicas.find(r => live.has(r) && ps.isr.includes(r)) ?? ps.replicas.find(r => live.has(r))
        if (leader === undefined) { results.push({...p, errorCode: ErrorCode.ELIGIBLE_LEADERS_NOT_AVAILABLE, message: `Failed to elect leader for partition ${p.topic}-${p.partition} under strategy OfflinePartitionLeaderElectionStrategy(true)`}); continue }
        const isr = ps.isr.includes(leader) ? ps.isr.filter(r => live.has(r)) : [leader]
        const ok = await this.controllerWrite([{op: 'set', path: ZkPaths.partitionState(ps.topic, ps.partition), data: encodePartitionState(leader, ps.leaderEpoch + 1, isr, this.controllerEpoch), version: ps.zkVersion}])
        await this.loadPartitionState(ps.topic, ps.partition, true)
        results.push(ok ? {...p, errorCode: ErrorCode.NONE, message: null} : {...p, errorCode: ErrorCode.NOT_CONTROLLER, message: 'The controller changed during the election'})
      }
    })
    return results
  }

  /**
   * Dynamic broker configs (kafka-configs --entity-type brokers): writes /config/brokers/<entity>
   * (entity = a broker id or '<default>') and a change notification every broker follows.
   */
  async alterBrokerConfigs(entity: string, set: Record<string, string>, remove: string[], validateOnly = false, replace = false): Promise<void> {
    if (entity !== '<default>' && !/^\d+$/.test(entity)) throw new KafkaError(ErrorCode.INVALID_REQUEST, `Invalid broker id ${entity}`)
    const bad = [...Object.keys(set), ...remove].filter(k => BROKER_TO_TOPIC_KEY[k] === undefined && !DYNAMIC_BROKER_KEYS.has(k))
    if (bad.length) throw new KafkaError(ErrorCode.INVALID_CONFIG, `Cannot update these configs dynamically: Set(${bad.join(', ')})`)
    const asTopic: Record<string, string> = {}
    for (const [k, v] of Object.entries(set)) if (BROKER_TO_TOPIC_KEY[k]) asTopic[BROKER_TO_TOPIC_KEY[k]] = v
    const err = validateTopicConfigs(asTopic)
    if (err) throw new KafkaError(ErrorCode.INVALID_CONFIG, err.replace(/configuration (\S+):/, (_m, tk: string) => `configuration ${Object.keys(set).find(k => BROKER_TO_TOPIC_KEY[k] === tk) ?? tk}:`))
    if (validateOnly) return
    const zk = this.zkClient
    const path = ZkPaths.brokerConfig(entity)
    const cur = await zk.getJson<{config?: Record<string, string>}>(path)
    // replace (AlterConfigs): the given set becomes the entity's whole dynamic config.
    const merged: Record<string, string> = replace ? {...set} : {...(cur?.value.config ?? {}), ...set}
    for (const k of remove) delete merged[k]
    const json = encodeTopicConfig(merged)
    if (cur) await zk.set(path, json, cur.stat.version)
    else await zk.create(path, json, {parents: true}).catch(async e => { if (isCode(e, ZkCode.NODE_EXISTS)) await zk.set(path, json); else throw e })
    await zk.create(`${ZkPaths.configChanges}/config_change_`, JSON.stringify({version: 2, entity_path: `brokers/${entity}`}), {sequential: true})
    if (entity === '<default>' || entity === String(this._brokerId)) await this.run('broker config change', async () => {
      await this.loadBrokerConfigs()
      this.fire('brokerConfigChanged')
    })
  }

  // ------------------------------------------------------------------ reassignment

  /**
   * AlterPartitionReassignments (controller only, as Kafka): the topic znode gets the union
   * of target and current replicas plus adding_replicas/removing_replicas; once every target
   * replica is in the ISR the controller finishes (replicas = target, leader moved into the
   * target if needed, leader epoch bumped) and dropped brokers get 'partitionsRemoved'.
   * replicas null cancels a reassignment in progress.
   */
  async reassignPartitions(reqs: ReassignmentRequest[]): Promise<ElectionResult[]> {
    if (!this.isController()) return reqs.map(r => ({topic: r.topic, partition: r.partition, errorCode: ErrorCode.NOT_CONTROLLER, message: null}))
    const results = new Map<string, ElectionResult>()
    await this.run('partition reassignment', async () => {
      const live = new Set(this.brokerMap.keys())
      const plans = new Map<string, Map<number, ReplicaPlan>>()
      for (const req of reqs) {
        const res = (errorCode: number, message: string | null) => {
          results.set(`${req.topic}-${req.partition}`, {topic: req.topic, partition: req.partition, errorCode, message})
          if (errorCode !== ErrorCode.NONE) plans.get(req.topic)?.delete(req.partition) // the last word for a partition wins
        }
        const t = this.topicMap.get(req.topic)
        const ps = t?.partitions[req.partition]
        // Kafka's ZooKeeper-mode controller checks the replica list first, then the partition (its texts).
        const target = req.replicas
        if (target !== null) {
          if (target.length === 0) { res(ErrorCode.INVALID_REPLICA_ASSIGNMENT, 'Empty replica list specified in partition reassignment.'); continue }
          if (new Set(target).size !== target.length) { res(ErrorCode.INVALID_REPLICA_ASSIGNMENT, `Duplicate replica ids in partition reassignment replica list: Buffer(${target.join(', ')})`); continue }
          if (target.some(r => r < 0)) { res(ErrorCode.INVALID_REPLICA_ASSIGNMENT, `Invalid broker id in replica list: Buffer(${target.join(', ')})`); continue }
        }
        const original = ps && ps.zkVersion >= 0 ? ps.replicas.filter(r => !(ps.addingReplicas ?? []).includes(r)) : []
        if (target !== null) {
          // Only the replicas being added must be alive.
          const added = target.filter(r => !original.includes(r))
          if (added.some(r => !live.has(r))) { res(ErrorCode.INVALID_REPLICA_ASSIGNMENT, `Replica assignment has brokers that are not alive. Replica list: ArrayBuffer(${added.join(', ')}), live broker list: ${[...live].length > 4 ? 'HashSet' : 'Set'}(${[...live].join(', ')})`); continue }
        }
        if (!t || !ps || ps.zkVersion < 0 || t.markedForDeletion) { res(ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, 'The partition does not exist.'); continue }
        let plan: ReplicaPlan
        if (target === null) {
          if (!ps.addingReplicas && !ps.removingReplicas) { res(ErrorCode.NO_REASSIGNMENT_IN_PROGRESS, null); continue }
          plan = {replicas: original}
        } else {
          const adding = target.filter(r => !original.includes(r))
          const removing = original.filter(r => !target.includes(r))
          plan = adding.length || removing.length
            ? {replicas: [...target, ...original.filter(r => !target.includes(r))], adding: adding.length ? adding : undefined, removing: removing.length ? removing : undefined}
            : {replicas: target}
        }
        const forTopic = plans.get(t.name) ?? new Map<number, ReplicaPlan>()
        forTopic.set(ps.partition, plan)
        plans.set(t.name, forTopic)
        res(ErrorCode.NONE, null)
      }
      for (const [name, plan] of plans) {
        const t = this.topicMap.get(name)!
        const r = await this.zkClient.get(ZkPaths.topic(name))
        const ok = !!r && await this.controllerWrite([{op: 'set', path: ZkPaths.topic(name), data: encodeTopicWithPlan(t, plan), version: r.stat.version}])
        if (!ok) {
          for (const p of plan.keys()) results.set(`${name}-${p}`, {topic: name, partition: p, errorCode: ErrorCode.NOT_CONTROLLER, message: 'The controller changed during the reassignment'})
          continue
        }
        this.logger.info(`Reassigning ${[...plan].map(([p, x]) => `${name}-${p} -> ${x.replicas.join(',')}${x.adding ? ` (adding ${x.adding.join(',')})` : ''}${x.removing ? ` (removing ${x.removing.join(',')})` : ''}`).join('; ')}`)
        // The leader epoch bump tells every replica (new ones included) that the replica set changed.
        for (const [p, x] of plan) {
          const ps = t.partitions[p]
          const isr = ps.isr.filter(b => x.replicas.includes(b))
          await this.controllerWrite([{op: 'set', path: ZkPaths.partitionState(name, p), data: encodePartitionState(ps.leader, ps.leaderEpoch + 1, isr.length ? isr : ps.isr, this.controllerEpoch), version: ps.zkVersion}])
        }
        await this.loadTopic(name, true)
        for (const p of plan.keys()) await this.loadPartitionState(name, p, true)
      }
    })
    return [...results.values()]
  }

  /** Reassignments in progress (ListPartitionReassignments). */
  listPartitionReassignments(): {topic: string; partition: number; replicas: number[]; addingReplicas: number[]; removingReplicas: number[]}[] {
    const out = []
    for (const t of this.topicMap.values()) {
      for (const ps of t.partitions) {
        if (ps?.addingReplicas || ps?.removingReplicas) out.push({topic: t.name, partition: ps.partition, replicas: [...ps.replicas], addingReplicas: [...(ps.addingReplicas ?? [])], removingReplicas: [...(ps.removingReplicas ?? [])]})
      }
    }
    return out
  }

  /** Controller: completes reassignments whose target replicas are all in the ISR. */
  private async checkReassignments(states: PartitionState[]): Promise<void> {
    const live = new Set(this.brokerMap.keys())
    for (const ps of states) {
      if (!ps || ps.zkVersion < 0 || (!ps.addingReplicas && !ps.removingReplicas)) continue
      const target = ps.replicas.filter(r => !(ps.removingReplicas ?? []).includes(r))
      if (!target.every(r => ps.isr.includes(r))) continue
      const t = this.topicMap.get(ps.topic)
      const r = await this.zkClient.get(ZkPaths.topic(ps.topic))
      if (!t || !r) continue
      const leader = target.includes(ps.leader) && live.has(ps.leader) ? ps.leader : target.find(x => live.has(x) && ps.isr.includes(x)) ?? -1
      const isr = ps.isr.filter(x => target.includes(x))
      const ok = await this.controllerWrite([
        {op: 'set', path: ZkPaths.topic(ps.topic), data: encodeTopicWithPlan(t, new Map([[ps.partition, {replicas: target}]])), version: r.stat.version},
        {op: 'set', path: ZkPaths.partitionState(ps.topic, ps.partition), data: encodePartitionState(leader, ps.leaderEpoch + 1, isr, this.controllerEpoch), version: ps.zkVersion},
      ])
      if (!ok) continue
      this.logger.info(`Reassignment of ${ps.topic}-${ps.partition} completed: replicas ${target.join(',')}, leader ${leader}, isr ${isr.join(',')}`)
      await this.loadTopic(ps.topic, true)
      await this.loadPartitionState(ps.topic, ps.partition, true)
    }
  }

  /** Allocates the next block of producer ids in /latest_producer_id_block, as Kafka's ZK-mode ProducerIdManager. */
  async nextProducerIdBlock(): Promise<{start: number; length: number}> {
    const zk = this.zkClient
    for (;;) {
      const cur = await zk.get(ZkPaths.producerIdBlock)
      if (!cur) { await zk.ensurePath(ZkPaths.producerIdBlock); continue }
      let start = 0
      if (cur.data.length) {
        const o = JSON.parse(cur.data.toString('utf8')) as {block_end: string | number}
        start = Number(o.block_end) + 1
      }
      const end = start + PRODUCER_ID_BLOCK_SIZE - 1
      if (end > Number.MAX_SAFE_INTEGER) throw new KafkaError(ErrorCode.UNKNOWN_SERVER_ERROR, 'Exhausted all producer ids')
      try {
        await zk.set(ZkPaths.producerIdBlock, JSON.stringify({version: 1, broker: this._brokerId, block_start: String(start), block_end: String(end)}), cur.stat.version)
        return {start, length: PRODUCER_ID_BLOCK_SIZE}
      } catch (error) {
        if (!isCode(error, ZkCode.BAD_VERSION)) throw error
      }
    }
  }

  /**
   * The partition leader changes the ISR (follower caught up or fell behind): a conditional
   * set on the state znode (same leader and leader epoch), then an isr_change notification.
   * Throws NOT_LEADER_OR_FOLLOWER when leadership moved meanwhile.
   */
  async updateIsr(state: PartitionState, isr: number[]): Promise<PartitionState> {
    const zk = this.zkClient
    const path = ZkPaths.partitionState(state.topic, state.partition)
    let expected = state
    for (let attempt = 0; attempt < 5; attempt++) {
      try {
        const st = await zk.set(path, encodePartitionState(expected.leader, expected.leaderEpoch, isr, expected.controllerEpoch), expected.zkVersion)
        const ps = this.topicMap.get(state.topic)?.partitions[state.partition]
        if (ps && ps.zkVersion < st.version) {
          ps.isr = [...isr]
          ps.zkVersion = st.version
          ps.stateZxid = st.mzxid
          this.emitMine([ps])
        }
        await zk.create(`${ZkPaths.isrChange}/isr_change_`, JSON.stringify({version: 1, partitions: [{topic: state.topic, partition: state.partition}]}), {sequential: true}).catch(() => {})
        return ps ?? {...expected, isr: [...isr], zkVersion: st.version, stateZxid: st.mzxid}
      } catch (error) {
        if (!isCode(error, ZkCode.BAD_VERSION)) throw error
        const r = await zk.getJson<{leader: number; leader_epoch: number; isr: number[]; controller_epoch: number}>(path)
        if (!r || r.value.leader !== state.leader || r.value.leader_epoch !== state.leaderEpoch) {
          throw new KafkaError(ErrorCode.NOT_LEADER_OR_FOLLOWER, `Broker ${this._brokerId} is no longer the leader of ${state.topic}-${state.partition} at epoch ${state.leaderEpoch}`)
        }
        expected = {...state, controllerEpoch: r.value.controller_epoch, zkVersion: r.stat.version}
      }
    }
    throw new KafkaError(ErrorCode.REQUEST_TIMED_OUT, `Could not update the ISR of ${state.topic}-${state.partition}`)
  }
}
