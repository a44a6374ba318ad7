// The metadata cache: every broker's in-memory copy of the cluster metadata in ZooKeeper
// (live brokers, topics with their partition states, dynamic broker configs, pending
// deletions), loaded by the watch-driven events of the one event queue. Handlers read it
// through MetadataView (read-only); only the loaders below (run on the queue) and the
// leader's ISR write-through change it. When this broker is the controller, loading a
// topic or a broker change hands the new state to the controller.
import type {PartitionState, TopicMeta, BrokerInfo} from './znodes.js'
import {ZkPaths, decodeBrokerRegistration, encodeTopicAssignment} from './znodes.js'
import {INTERNAL_TOPICS, randomUuid} from './assignment.js'
import {sameArray, type ClusterContext} from './events.js'

const CONFIG_CHANGE_EXPIRATION_MS = 15 * 60 * 1000

/** What request handlers read: the cache, never changed through this view. */
export interface MetadataView {
  readonly brokerId: number
  readonly clusterId: string
  controllerId(): number
  isController(): boolean
  brokers(): BrokerInfo[]
  topics(): ReadonlyMap<string, TopicMeta>
  topic(name: string): TopicMeta | undefined
  topicById(id: string): TopicMeta | undefined
  brokerConfigOverrides(): Record<string, string>
  brokerConfigLayers(): {default: Record<string, string>; own: Record<string, string>}
}

export class MetadataCache {
  readonly brokerMap = new Map<number, BrokerInfo>()
  /** czxid of each broker's registration (Kafka's broker epoch): a change means the broker restarted. */
  readonly brokerEpochs = new Map<number, bigint>()
  readonly topicMap = new Map<string, TopicMeta>()
  readonly idMap = new Map<string, TopicMeta>()
  readonly pendingDeletes = new Set<string>()
  brokerDynamic: Record<string, string> = {}
  brokerDynamicLayers: {default: Record<string, string>; own: Record<string, string>} = {default: {}, own: {}}
  private lastConfigChange = -1

  constructor(private readonly ctx: ClusterContext) {}

  brokers(): BrokerInfo[] { return [...this.brokerMap.values()].sort((a, b) => a.id - b.id) }
  liveBrokerIds(): number[] { return [...this.brokerMap.keys()].sort((a, b) => a - b) }

  async loadBrokers(): Promise<void> {
    const zk = this.ctx.zkClient
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
        this.ctx.logger.warn(`Ignoring unreadable broker registration at ${ZkPaths.broker(id)}`)
        now.delete(id)
      }
    }
    for (const id of before) if (!now.has(id)) { this.brokerMap.delete(id); this.brokerEpochs.delete(id) }
    const added = [...now].filter(id => !before.has(id))
    const removed = [...before].filter(id => !now.has(id))
    if (modified && !added.length && !removed.length && !bounced.length) this.ctx.fire('brokersChanged')
    if (added.length || removed.length || bounced.length) {
      if (this.ctx.started) this.ctx.logger.info(`Live brokers: ${[...now].sort((a, b) => a - b).join(',')}${added.length ? ` (new: ${added.join(',')})` : ''}${removed.length ? ` (failed: ${removed.join(',')})` : ''}${bounced.length ? ` (restarted: ${bounced.join(',')})` : ''}`)
      this.ctx.fire('brokersChanged')
      if (this.ctx.controller.isController()) await this.ctx.controller.onBrokerChange(removed, added, bounced)
    }
  }

  async loadTopics(forceReload = false): Promise<void> {
    const names = await this.ctx.zkClient.getChildren(ZkPaths.topics, true) ?? []
    const now = new Set(names)
    for (const name of [...this.topicMap.keys()]) {
      if (!now.has(name)) this.removeTopicFromCache(name)
    }
    // Topics are independent: load them concurrently (requests pipeline on one connection).
    await Promise.all(names.filter(n => forceReload || !this.topicMap.has(n)).map(n => this.loadTopic(n, true, forceReload)))
  }

  removeTopicFromCache(name: string): void {
    const t = this.topicMap.get(name)
    if (!t) return
    this.topicMap.delete(name)
    if (this.idMap.get(t.topicId) === t) this.idMap.delete(t.topicId)
    this.ctx.logger.info(`Topic ${name} deleted`)
    this.ctx.fire('topicDeleted', name)
  }

  /** Reads a topic's assignment, config and partition states; with rereadStates every state (and its watch) is read again. */
  async loadTopic(name: string, watch: boolean, rereadStates = false): Promise<void> {
    const zk = this.ctx.zkClient
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
      if (this.ctx.controller.isController()) {
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
          if (existing.replicas.includes(this.ctx.brokerId) && !replicas.includes(this.ctx.brokerId)) removedHere.push({topic: name, partition: p})
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
    if (removedHere.length && this.ctx.started) this.ctx.fire('partitionsRemoved', removedHere)
    const toRead: number[] = []
    for (let p = 0; p < count; p++) if (rereadStates || t.partitions[p].zkVersion < 0) toRead.push(p)
    // Independent reads: pipelined on the one connection.
    for (const s of await Promise.all(toRead.map(p => this.readPartitionState(name, p, true)))) if (s) changed.push(s)
    if (this.ctx.controller.isController() && t.partitions.some(ps => ps.zkVersion < 0)) await this.ctx.controller.initPartitions(t)
    this.emitMine(changed)
    if (this.ctx.controller.isController()) await this.ctx.controller.checkReassignments(t.partitions)
  }

  async readPartitionState(topic: string, partition: number, watch: boolean): Promise<PartitionState | undefined> {
    const t = this.topicMap.get(topic)
    const ps = t?.partitions[partition]
    if (!ps) return undefined
    const r = await this.ctx.zkClient.getJson<{leader: number; leader_epoch: number; isr: number[]; controller_epoch: number}>(ZkPaths.partitionState(topic, partition), watch)
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

  async loadPartitionState(topic: string, partition: number, watch: boolean): Promise<void> {
    await this.loadPartitionStates([{topic, partition}], watch)
  }

  /**
   * Reads many partition states at once (the reads pipelined on the one session), hands the
   * changes to the broker as one batch, and lets the controller complete reassignments among them.
   */
  async loadPartitionStates(list: readonly {topic: string; partition: number}[], watch: boolean): Promise<void> {
    const read = await Promise.all(list.map(p => this.readPartitionState(p.topic, p.partition, watch)))
    this.emitMine(read.filter((s): s is PartitionState => !!s))
    if (!this.ctx.controller.isController()) return
    // (the cache may already hold a state: updateIsr on this broker writes it through)
    const moving: PartitionState[] = []
    for (const p of list) {
      const ps = this.topicMap.get(p.topic)?.partitions[p.partition]
      if (ps && (ps.addingReplicas || ps.removingReplicas)) moving.push(ps)
    }
    if (moving.length) await this.ctx.controller.checkReassignments(moving)
  }

  myPartitions(): PartitionState[] {
    const out: PartitionState[] = []
    for (const t of this.topicMap.values()) for (const ps of t.partitions) if (ps && ps.zkVersion >= 0 && ps.replicas.includes(this.ctx.brokerId)) out.push(ps)
    return out
  }

  emitMine(states: PartitionState[]): void {
    if (!this.ctx.started) return
    const mine = states.filter(s => s.zkVersion >= 0 && s.replicas.includes(this.ctx.brokerId))
    if (mine.length) this.ctx.fire('partitionsChanged', mine)
  }

  async loadDeleteRequests(): Promise<void> {
    const names = await this.ctx.zkClient.getChildren(ZkPaths.deleteTopics, true) ?? []
    this.pendingDeletes.clear()
    for (const n of names) this.pendingDeletes.add(n)
    for (const t of this.topicMap.values()) t.markedForDeletion = this.pendingDeletes.has(t.name)
    if (this.ctx.controller.isController() && names.length) await this.ctx.controller.completeDeletions(names)
  }

  async loadBrokerConfigs(): Promise<void> {
    const zk = this.ctx.zkClient
    const def = (await zk.getJson<{config?: Record<string, string>}>(ZkPaths.brokerConfig('<default>')))?.value.config ?? {}
    const mine = (await zk.getJson<{config?: Record<string, string>}>(ZkPaths.brokerConfig(String(this.ctx.brokerId))))?.value.config ?? {}
    this.brokerDynamic = {...def, ...mine}
    this.brokerDynamicLayers = {default: def, own: mine}
  }

  async loadConfigChanges(initial: boolean): Promise<void> {
    const zk = this.ctx.zkClient
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
        if (this.ctx.controller.isController()) {
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
          this.ctx.fire('topicConfigChanged', name)
        }
      } else if (type === 'brokers' && (name === '<default>' || name === String(this.ctx.brokerId))) {
        await this.loadBrokerConfigs()
        this.ctx.fire('brokerConfigChanged')
      }
      // users/<u>, users/<u>/clients/<c>, clients/<c>, ips/<ip>: SCRAM credentials and quotas.
      if (type !== 'topics' && type !== 'brokers') this.ctx.fire('entityConfigChanged', entity)
    }
  }
}
