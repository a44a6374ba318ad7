// The controller: active only while this broker holds /controller (elected through an
// ephemeral znode and fenced by the version of /controller_epoch). It makes the decisions
// every broker then reads from ZooKeeper: initial partition states, leader election and ISR
// shrink on broker loss, preferred and unclean elections, auto leader rebalance, topic
// deletion, and the completion of reassignments. Its steps run on the cluster's one event
// queue (called from the metadata cache's loaders or from watch events).
import {ErrorCode} from '../protocol/errors.js'
import {ZkCode, type ZkOp} from './zk.js'
import {type ElectionResult, type PartitionState, type ReassignmentRequest, type TopicMeta, ZkPaths, encodePartitionState} from './znodes.js'
import {isCode, sameArray, type ClusterContext} from './events.js'
import {Reassignments} from './reassignment.js'

/**
 * Partition states per fenced multi: a state op is at most a few hundred bytes, so a multi of
 * 200 stays far below ZooKeeper's 1 MB request limit (jute.maxbuffer).
 */
const STATES_PER_MULTI = 200
/** Up to this many elections are logged one line each; more get one summary line (and debug lines). */
const LOG_EACH_UP_TO = 20

/** A new state for a partition: leader and ISR, with the leader epoch bumped. */
interface StateWrite {
  ps: PartitionState
  leader: number
  isr: number[]
  /** What the log line says about this change. */
  what: string
}

export class Controller {
  /** The controller's broker id as last read from /controller (-1: none known). */
  id = -1
  epoch = 0
  epochZkVersion = -1
  private rebalanceTimer: NodeJS.Timeout | undefined
  private readonly reassignments: Reassignments

  constructor(private readonly ctx: ClusterContext) {
    this.reassignments = new Reassignments(ctx)
  }

  isController(): boolean { return this.id === this.ctx.brokerId && this.id >= 0 }

  /** Stops the auto leader rebalance timer (on shutdown). */
  stopTimers(): void {
    if (this.rebalanceTimer) clearInterval(this.rebalanceTimer)
    this.rebalanceTimer = undefined
  }

  async elect(): Promise<void> {
    const zk = this.ctx.zkClient
    for (;;) {
      if (this.ctx.stopped) return
      const cur = await zk.getJson<{brokerid: number}>(ZkPaths.controller, true)
      if (cur) {
        const was = this.id
        this.id = cur.value.brokerid
        if (this.id === this.ctx.brokerId && cur.stat.ephemeralOwner !== zk.sessionId) this.id = -1
        if (was !== this.id) this.ctx.logger.info(`Controller is broker ${this.id}`)
        return
      }
      if (this.ctx.stopping) { this.id = -1; return }
      let epochNode = await zk.get(ZkPaths.controllerEpoch)
      if (!epochNode) {
        await zk.create(ZkPaths.controllerEpoch, '0').catch(e => { if (!isCode(e, ZkCode.NODE_EXISTS)) throw e })
        epochNode = await zk.get(ZkPaths.controllerEpoch)
        if (!epochNode) continue
      }
      const epoch = Number(epochNode.data.toString('utf8')) || 0
      try {
        await zk.multi([
          {op: 'create', path: ZkPaths.controller, data: JSON.stringify({version: 2, brokerid: this.ctx.brokerId, timestamp: String(Date.now()), kraftControllerEpoch: -1}), ephemeral: true},
          {op: 'set', path: ZkPaths.controllerEpoch, data: String(epoch + 1), version: epochNode.stat.version},
        ])
      } catch (error) {
        if (isCode(error, ZkCode.NODE_EXISTS) || isCode(error, ZkCode.BAD_VERSION)) continue
        throw error
      }
      this.id = this.ctx.brokerId
      this.epoch = epoch + 1
      this.epochZkVersion = epochNode.stat.version + 1
      await zk.exists(ZkPaths.controller, true)
      this.ctx.logger.info(`Broker ${this.ctx.brokerId} became the controller (epoch ${this.epoch})`)
      await this.onControllerFailover()
      return
    }
  }

  async onControllerFailover(): Promise<void> {
    const zk = this.ctx.zkClient
    if (!await zk.exists(ZkPaths.feature)) {
      await zk.create(ZkPaths.feature, JSON.stringify({features: {}, version: 2, status: 1})).catch(e => { if (!isCode(e, ZkCode.NODE_EXISTS)) throw e })
    }
    await this.processIsrChanges()
    await this.ctx.cache.loadBrokers()
    await this.ctx.cache.loadTopics(true)
    const live = new Set(this.ctx.cache.brokerMap.keys())
    const offline: PartitionState[] = []
    for (const t of this.ctx.cache.topicMap.values()) {
      if (t.partitions.some(ps => ps.zkVersion < 0)) await this.initPartitions(t)
      // Offline leaders, dead ISR members, and replicas that restarted since their state was
      // written (a previous controller may have died before it handled their failure).
      offline.push(...t.partitions.filter(ps => ps.zkVersion >= 0 && (ps.leader < 0 || !live.has(ps.leader) || ps.isr.some(r => !live.has(r)) || this.restartedSince(ps).size > 0)))
    }
    await this.electPartitions(offline, live)
    if (this.ctx.cache.pendingDeletes.size) await this.completeDeletions([...this.ctx.cache.pendingDeletes])
    await this.checkReassignments([...this.ctx.cache.topicMap.values()].flatMap(t => t.partitions))
    await this.processPreferredElectionRequest()
    this.scheduleRebalance()
  }

  scheduleRebalance(): void {
    if (!this.ctx.config.autoLeaderRebalanceEnable || this.rebalanceTimer) return
    this.rebalanceTimer = setInterval(() => {
      if (this.ctx.stopped || !this.isController()) return
      this.ctx.queue.enqueue('auto leader rebalance', () => this.autoRebalance())
    }, this.ctx.config.leaderImbalanceCheckIntervalSeconds * 1000)
    this.rebalanceTimer.unref()
  }

  /** Kafka's auto leader rebalance: per preferred broker, move leadership back when the imbalance exceeds the threshold. */
  async autoRebalance(): Promise<void> {
    const live = new Set(this.ctx.cache.brokerMap.keys())
    const byPreferred = new Map<number, PartitionState[]>()
    for (const t of this.ctx.cache.topicMap.values()) {
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
      if (imbalanced.length === 0 || (imbalanced.length * 100) / states.length <= this.ctx.config.leaderImbalancePerBrokerPercentage) continue
      const eligible = imbalanced.filter(ps => ps.isr.includes(broker))
      if (eligible.length) {
        this.ctx.logger.info(`Leader imbalance ratio for broker ${broker} is ${(imbalanced.length / states.length).toFixed(3)}; electing preferred leaders`)
        await this.electPreferred(eligible)
      }
    }
  }

  /** Moves leadership to the preferred (first) replica when it is alive and in the ISR. Returns per-partition results. */
  async electPreferred(states: PartitionState[]): Promise<ElectionResult[]> {
    const live = new Set(this.ctx.cache.brokerMap.keys())
    const out: ElectionResult[] = []
    const writes: StateWrite[] = []
    const at: number[] = []
    for (const ps of states) {
      const preferred = ps.replicas[0]
      if (ps.leader === preferred) { out.push({topic: ps.topic, partition: ps.partition, errorCode: ErrorCode.ELECTION_NOT_NEEDED, message: 'Leader election not needed for topic partition.'}); continue }
      if (preferred === undefined || !live.has(preferred) || !ps.isr.includes(preferred)) {
        out.push({topic: ps.topic, partition: ps.partition, errorCode: ErrorCode.PREFERRED_LEADER_NOT_AVAILABLE, message: `Failed to elect leader for partition ${ps.topic}-${ps.partition} under strategy PreferredReplicaPartitionLeaderElectionStrategy`})
        continue
      }
      at.push(out.length)
      out.push({topic: ps.topic, partition: ps.partition, errorCode: ErrorCode.NONE, message: null})
      writes.push({ps, leader: preferred, isr: ps.isr, what: `preferred leader ${preferred} elected (was ${ps.leader}), leader epoch ${ps.leaderEpoch + 1}`})
    }
    const ok = await this.writeStates(writes, 'Preferred leader election')
    for (const [i, done] of ok.entries()) if (!done) out[at[i]] = {...out[at[i]], errorCode: ErrorCode.NOT_CONTROLLER, message: 'The controller changed during the election'}
    return out
  }

  /** /admin/preferred_replica_election (written by tools or any broker): the controller elects, then removes the request. */
  async processPreferredElectionRequest(): Promise<void> {
    const zk = this.ctx.zkClient
    const r = await zk.getJson<{partitions?: {topic: string; partition: number}[]}>(ZkPaths.preferredReplicaElection, true).catch(() => undefined)
    if (!this.isController()) return
    if (!r) {
      if (await zk.exists(ZkPaths.preferredReplicaElection)) await zk.delete(ZkPaths.preferredReplicaElection).catch(() => {})
      return
    }
    const states = (r.value.partitions ?? []).map(p => this.ctx.cache.topicMap.get(p.topic)?.partitions[p.partition]).filter((s): s is PartitionState => !!s && s.zkVersion >= 0)
    await this.electPreferred(states)
    await zk.delete(ZkPaths.preferredReplicaElection).catch(() => {})
  }

  /** Writes with the controller's fence: the multi fails if another controller bumped the epoch. */
  async controllerWrite(ops: ZkOp[], quiet = false): Promise<boolean> {
    if (!this.isController()) return false
    try {
      await this.ctx.zkClient.multi([{op: 'check', path: ZkPaths.controllerEpoch, version: this.epochZkVersion}, ...ops])
      return true
    } catch (error) {
      if (isCode(error, ZkCode.BAD_VERSION) || isCode(error, ZkCode.NODE_EXISTS) || isCode(error, ZkCode.NO_NODE)) {
        if (!quiet) this.ctx.logger.warn(`Controller write refused (${(error as Error).message}); re-reading state`)
        return false
      }
      throw error
    }
  }

  /**
   * Writes new partition states (leader, ISR, leader epoch + 1), each conditional on the
   * state's zkVersion and all fenced by the controller epoch as every controller write:
   * STATES_PER_MULTI states per multi, every multi in flight at once (pipelined on the one
   * session, as Kafka's controller sends its ZooKeeper writes asynchronously). A multi refused
   * because one of its states moved meanwhile (its leader changed the ISR) is redone one state
   * per multi, so that only the moved state fails. The states are then read back together
   * (watches re-set, changes handed to the broker as one batch). Returns which writes applied.
   */
  async writeStates(writes: StateWrite[], kind: string): Promise<boolean[]> {
    const ok = writes.map(() => false)
    if (writes.length === 0) return ok
    const op = (w: StateWrite): ZkOp => ({op: 'set', path: ZkPaths.partitionState(w.ps.topic, w.ps.partition), data: encodePartitionState(w.leader, w.ps.leaderEpoch + 1, w.isr, this.epoch), version: w.ps.zkVersion})
    const chunks: number[][] = []
    for (let i = 0; i < writes.length; i += STATES_PER_MULTI) chunks.push(Array.from({length: Math.min(STATES_PER_MULTI, writes.length - i)}, (_, j) => i + j))
    await Promise.all(chunks.map(async idx => {
      if (await this.controllerWrite(idx.map(i => op(writes[i])), true)) { for (const i of idx) ok[i] = true; return }
      if (idx.length === 1 || !this.isController()) return
      await Promise.all(idx.map(async i => { ok[i] = await this.controllerWrite([op(writes[i])], true) }))
    }))
    const done = writes.filter((_, i) => ok[i])
    const refused = writes.length - done.length
    if (writes.length <= LOG_EACH_UP_TO) {
      for (const w of done) this.ctx.logger.info(`Partition ${w.ps.topic}-${w.ps.partition}: ${w.what}`)
    } else {
      for (const w of done) this.ctx.logger.debug(`Partition ${w.ps.topic}-${w.ps.partition}: ${w.what}`)
      if (done.length) this.ctx.logger.info(`${kind}: new states for ${done.length} partitions in ${chunks.length} fenced multis (controller epoch ${this.epoch}), e.g. ${done[0].ps.topic}-${done[0].ps.partition}: ${done[0].what}`)
    }
    if (refused) this.ctx.logger.warn(`${kind}: ${refused} of ${writes.length} partition state writes refused (the state moved or the controller changed); re-reading them`)
    await this.ctx.cache.loadPartitionStates(writes.map(w => ({topic: w.ps.topic, partition: w.ps.partition})), true)
    return ok
  }

  /**
   * New partitions: leader = first live replica, ISR = live replicas, leader epoch 0. All of a
   * topic's new partitions are written in one fenced multi; if that fails (some already
   * exist), partition by partition.
   */
  async initPartitions(t: TopicMeta): Promise<void> {
    const live = new Set(this.ctx.cache.brokerMap.keys())
    const zk = this.ctx.zkClient
    const todo: {ps: PartitionState; isr: number[]}[] = []
    for (const ps of t.partitions) {
      if (!ps || ps.zkVersion >= 0) continue
      const liveReplicas = ps.replicas.filter(r => live.has(r))
      if (liveReplicas.length === 0) {
        this.ctx.logger.error(`Cannot bring new partition ${t.name}-${ps.partition} online: none of its replicas ${ps.replicas.join(',')} is alive`)
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
      ops.push({op: 'create', path: ZkPaths.partitionState(t.name, ps.partition), data: encodePartitionState(isr[0], 0, isr, this.epoch)})
    }
    let ok = await this.controllerWrite(ops)
    if (!ok && this.isController()) {
      // Someone wrote some of them meanwhile: one partition at a time, skipping existing states.
      await Promise.all(todo.map(async ({ps, isr}) => {
        await zk.ensurePath(ZkPaths.partition(t.name, ps.partition))
        await this.controllerWrite([{op: 'create', path: ZkPaths.partitionState(t.name, ps.partition), data: encodePartitionState(isr[0], 0, isr, this.epoch)}], true)
      }))
      ok = true
    }
    if (ok) this.ctx.logger.info(`Partitions ${todo.map(x => x.ps.partition).join(',')} of topic ${t.name} are online (controller epoch ${this.epoch})`)
    const changed = (await Promise.all(todo.map(x => this.ctx.cache.readPartitionState(t.name, x.ps.partition, true)))).filter((s): s is PartitionState => !!s)
    this.ctx.cache.emitMine(changed)
  }

  /**
   * Replicas of this partition (leader and ISR members) whose current broker registration is
   * newer than the partition's state: they restarted after it was written (KIP-380's broker
   * epoch, here the registration's czxid against the state's mzxid). A quick restart can hide
   * the failure (the registration is gone and back between two looks), and a controller that
   * takes over after its predecessor died never saw it: this catches both.
   */
  restartedSince(ps: PartitionState): Set<number> {
    const out = new Set<number>()
    if (ps.stateZxid === undefined) return out
    const check = (id: number) => {
      const epoch = this.ctx.cache.brokerEpochs.get(id)
      if (epoch !== undefined && epoch > ps.stateZxid!) out.add(id)
    }
    if (ps.leader >= 0) check(ps.leader)
    for (const r of ps.isr) check(r)
    // Only when an ISR member that did not restart is alive to take over: when every live ISR
    // member restarted (a whole-cluster restart, a single replica), none is better placed than
    // the leader, and the state stands, as with Kafka.
    if (out.size > 0 && !ps.isr.some(r => this.ctx.cache.brokerMap.has(r) && !out.has(r))) out.clear()
    return out
  }

  /**
   * Broker failures, bounces (same id, new registration: the broker restarted faster than
   * we looked; Kafka tells them apart by the registration's czxid, the broker epoch) and
   * start-ups. Failed and bounced brokers first lose leadership and ISR membership, then
   * partitions without a leader get one among the live (including returning) replicas.
   */
  async onBrokerChange(removed: number[], added: number[], bounced: number[] = []): Promise<void> {
    const live = new Set(this.ctx.cache.brokerMap.keys())
    const dead = new Set([...removed, ...bounced])
    const joined = new Set([...added, ...bounced])
    const all: PartitionState[] = []
    for (const t of this.ctx.cache.topicMap.values()) {
      if (t.partitions.some(ps => ps.zkVersion < 0)) await this.initPartitions(t)
      for (const ps of t.partitions) if (ps && ps.zkVersion >= 0) all.push(ps)
    }
    await this.electPartitions(all.filter(ps => dead.has(ps.leader) || ps.isr.some(r => dead.has(r)) || this.restartedSince(ps).size > 0), live)
    await this.electPartitions(all.filter(ps => ps.leader < 0 && ps.replicas.some(r => joined.has(r))), live)
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
  async electPartitions(states: PartitionState[], live: Set<number>): Promise<void> {
    const writes: StateWrite[] = []
    for (const ps of states) {
      const t = this.ctx.cache.topicMap.get(ps.topic)
      const uncleanRaw = t?.configs['unclean.leader.election.enable'] ?? this.ctx.cache.brokerDynamic['unclean.leader.election.enable']
      const unclean = uncleanRaw !== undefined ? uncleanRaw.toLowerCase() === 'true' : this.ctx.config.uncleanLeaderElectionEnable
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
            this.ctx.logger.warn(`Unclean leader election for ${ps.topic}-${ps.partition}: broker ${any} (not in ISR ${ps.isr.join(',')}) becomes leader; data may be lost`)
          } else {
            leader = -1
            // Kafka keeps the last ISR member when no replica can lead.
            isr = liveIsr.length ? liveIsr : ps.isr.slice(-1)
          }
        }
      }
      if (leader === ps.leader && sameArray(isr, ps.isr) && !restarted.has(leader)) continue
      writes.push({ps, leader, isr, what: `leader ${ps.leader} -> ${leader}, isr ${ps.isr.join(',')} -> ${isr.join(',')}, leader epoch ${ps.leaderEpoch + 1}${restarted.size ? ` (restarted since the last state: ${[...restarted].join(',')})` : ''}`})
    }
    await this.writeStates(writes, 'Leader election')
  }

  async completeDeletions(names: string[]): Promise<void> {
    const zk = this.ctx.zkClient
    for (const name of names) {
      if (!this.isController()) return
      if (!this.ctx.config.deleteTopicEnable) {
        this.ctx.logger.info(`Removing deletion request for topic ${name}: delete.topic.enable is false`)
        await zk.delete(ZkPaths.deleteTopic(name)).catch(() => {})
        continue
      }
      if (await zk.exists(ZkPaths.topic(name))) {
        this.ctx.logger.info(`Deleting topic ${name}`)
        await zk.deleteRecursive(ZkPaths.topic(name))
        await zk.delete(ZkPaths.topicConfig(name)).catch(e => { if (!isCode(e, ZkCode.NO_NODE)) throw e })
      }
      await zk.delete(ZkPaths.deleteTopic(name)).catch(e => { if (!isCode(e, ZkCode.NO_NODE)) throw e })
      this.ctx.cache.pendingDeletes.delete(name)
      this.ctx.cache.removeTopicFromCache(name)
    }
  }

  async processIsrChanges(): Promise<void> {
    const zk = this.ctx.zkClient
    const children = await zk.getChildren(ZkPaths.isrChange, true) ?? []
    if (!this.isController()) return
    // Every broker already watches the partition state znodes; the controller only clears the notifications.
    await Promise.all(children.map(c => zk.delete(`${ZkPaths.isrChange}/${c}`).catch(() => {})))
  }

  /**
   * ElectLeaders (the controller serves it; other brokers answer NOT_CONTROLLER, as Kafka).
   * preferred: move leadership to the first replica; otherwise unclean: elect a leader for
   * partitions that have none, even outside the ISR. partitions undefined = all partitions.
   */
  async electLeaders(preferred: boolean, partitions?: {topic: string; partition: number}[]): Promise<ElectionResult[]> {
    const all = partitions ?? [...this.ctx.cache.topicMap.values()].flatMap(t => t.partitions.filter(Boolean).map(ps => ({topic: t.name, partition: ps.partition})))
    if (!this.isController()) return all.map(p => ({...p, errorCode: ErrorCode.NOT_CONTROLLER, message: null}))
    const results: (ElectionResult | undefined)[] = []
    await this.ctx.queue.run('elect leaders', async () => {
      const live = new Set(this.ctx.cache.brokerMap.keys())
      const preferredAt: number[] = []
      const preferredStates: PartitionState[] = []
      const writes: StateWrite[] = []
      const writeAt: number[] = []
      for (const p of all) {
        const ps = this.ctx.cache.topicMap.get(p.topic)?.partitions[p.partition]
        if (!ps || ps.zkVersion < 0) { results.push({...p, errorCode: ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, message: 'The partition does not exist.'}); continue }
        if (preferred) { preferredAt.push(results.length); preferredStates.push(ps); results.push(undefined); continue }
        if (ps.leader >= 0 && live.has(ps.leader)) { results.push({...p, errorCode: ErrorCode.ELECTION_NOT_NEEDED, message: 'Leader election not needed for topic partition.'}); continue }
        const leader = ps.replicas.find(r => live.has(r) && ps.isr.includes(r)) ?? ps.replicas.find(r => live.has(r))
        if (leader === undefined) { results.push({...p, errorCode: ErrorCode.ELIGIBLE_LEADERS_NOT_AVAILABLE, message: `Failed to elect leader for partition ${p.topic}-${p.partition} under strategy OfflinePartitionLeaderElectionStrategy(true)`}); continue }
        const isr = ps.isr.includes(leader) ? ps.isr.filter(r => live.has(r)) : [leader]
        writeAt.push(results.length)
        results.push({...p, errorCode: ErrorCode.NONE, message: null})
        writes.push({ps, leader, isr, what: `leader ${ps.leader} -> ${leader} (unclean election requested), isr ${ps.isr.join(',')} -> ${isr.join(',')}, leader epoch ${ps.leaderEpoch + 1}`})
      }
      for (const [i, r] of (await this.electPreferred(preferredStates)).entries()) results[preferredAt[i]] = r
      for (const [i, done] of (await this.writeStates(writes, 'Unclean leader election')).entries()) {
        if (!done) results[writeAt[i]] = {...results[writeAt[i]]!, errorCode: ErrorCode.NOT_CONTROLLER, message: 'The controller changed during the election'}
      }
    })
    return results as ElectionResult[]
  }

  reassignPartitions(reqs: ReassignmentRequest[]): Promise<ElectionResult[]> { return this.reassignments.reassign(reqs) }
  listPartitionReassignments(): ReturnType<Reassignments['list']> { return this.reassignments.list() }
  /** Controller: completes reassignments whose target replicas are all in the ISR. */
  checkReassignments(states: PartitionState[]): Promise<void> { return this.reassignments.complete(states) }
}
