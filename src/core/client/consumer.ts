// The client core's consumer, with the Java consumer's semantics and defaults (Kafka 3.9,
// classic group protocol):
//
// - assign(partitions) or subscribe(topics | pattern) with a group.id: FindCoordinator,
//   JoinGroup (MEMBER_ID_REQUIRED handled), the leader runs the agreed assignor (range or
//   roundrobin), SyncGroup, then Heartbeat every heartbeat.interval.ms. A moved or dead
//   coordinator (NOT_COORDINATOR, COORDINATOR_NOT_AVAILABLE, a lost connection, a timeout) is
//   looked up again and the member carries on, rejoining when the coordinator asks
//   (REBALANCE_IN_PROGRESS, UNKNOWN_MEMBER_ID, ILLEGAL_GENERATION). Eager rebalancing: offsets
//   are committed and partitions given up before a rejoin. LeaveGroup on close.
// - Positions: the group's committed offsets (OffsetFetch), else auto.offset.reset (earliest,
//   latest; none fails with NoOffsetForPartitionException) through ListOffsets at the leader.
// - Fetching: one Fetch in flight per leader node, for the assigned partitions that have no
//   data waiting to be polled; read_committed drops aborted transactions. A partition whose
//   leader moved (NOT_LEADER_OR_FOLLOWER, ...) or whose node is unreachable gets fresh
//   metadata and is fetched from the new leader: the consumer never gives up because a broker
//   went away. OFFSET_OUT_OF_RANGE resets by auto.offset.reset.
// - enable.auto.commit (default true with a group): positions are committed every
//   auto.commit.interval.ms from poll(), before a rebalance and on close.
import {
  Fetch, FindCoordinator, JoinGroup, SyncGroup, Heartbeat, LeaveGroup, OffsetCommit, OffsetFetch, ListOffsets,
  DataCodecs, type FetchResponse,
} from '../protocol/messages.js'
import {Reader, Writer} from '../protocol/io.js'
import {errorName} from '../protocol/errors.js'
import {ConnectionError} from '../protocol/client.js'
import {ClientConfig} from './config.js'
import {NetworkClient, networkSettings} from './network.js'
import {AbortFilter, readRecords, type FetchedRecord, type RecordHeader} from './records.js'
import {KafkaClientError, apiError, isRetriable, timeoutError} from './kafka-errors.js'
import {assignorsFor, type Assignor, type MemberSubscription} from './assignors.js'
import {retryBackoff, sleep, type ExponentialBackoff} from './backoff.js'
import {Loggers} from './log.js'

export interface ConsumerRecord extends FetchedRecord {
  topic: string
  partition: number
}

export interface TopicPartition {
  topic: string
  partition: number
}

export interface ConsumerSettings {
  groupId: string | undefined
  groupInstanceId: string | null
  autoOffsetReset: 'earliest' | 'latest' | 'none'
  enableAutoCommit: boolean
  autoCommitIntervalMs: number
  sessionTimeoutMs: number
  heartbeatIntervalMs: number
  maxPollIntervalMs: number
  maxPollRecords: number
  fetchMinBytes: number
  fetchMaxBytes: number
  fetchMaxWaitMs: number
  maxPartitionFetchBytes: number
  isolationLevel: 0 | 1
  allowAutoCreateTopics: boolean
  checkCrcs: boolean
  defaultApiTimeoutMs: number
  excludeInternalTopics: boolean
  assignors: Assignor[]
}

export function consumerSettings(cfg: ClientConfig): ConsumerSettings {
  const groupId = cfg.string('group.id', undefined)
  const isolation = cfg.oneOf('isolation.level', 'read_uncommitted', ['read_committed', 'read_uncommitted'], true)
  let assignors: Assignor[]
  try {
    assignors = assignorsFor(cfg.list('partition.assignment.strategy', ['org.apache.kafka.clients.consumer.RangeAssignor', 'org.apache.kafka.clients.consumer.CooperativeStickyAssignor']))
  } catch (error) {
    throw new KafkaClientError('ConfigException', (error as Error).message)
  }
  return {
    groupId: groupId === '' ? undefined : groupId,
    groupInstanceId: cfg.string('group.instance.id', undefined) ?? null,
    autoOffsetReset: cfg.oneOf('auto.offset.reset', 'latest', ['latest', 'earliest', 'none']) as 'latest',
    enableAutoCommit: cfg.bool('enable.auto.commit', true),
    autoCommitIntervalMs: cfg.int('auto.commit.interval.ms', 5000, 0),
    sessionTimeoutMs: cfg.int('session.timeout.ms', 45000),
    heartbeatIntervalMs: cfg.int('heartbeat.interval.ms', 3000),
    maxPollIntervalMs: cfg.int('max.poll.interval.ms', 300000, 1),
    maxPollRecords: cfg.int('max.poll.records', 500, 1),
    fetchMinBytes: cfg.int('fetch.min.bytes', 1, 0),
    fetchMaxBytes: cfg.int('fetch.max.bytes', 52428800, 0),
    fetchMaxWaitMs: cfg.int('fetch.max.wait.ms', 500, 0),
    maxPartitionFetchBytes: cfg.int('max.partition.fetch.bytes', 1048576, 0),
    isolationLevel: isolation === 'read_committed' ? 1 : 0,
    allowAutoCreateTopics: cfg.bool('allow.auto.create.topics', true),
    checkCrcs: cfg.bool('check.crcs', true),
    defaultApiTimeoutMs: cfg.int('default.api.timeout.ms', 60000, 0),
    excludeInternalTopics: cfg.bool('exclude.internal.topics', true),
    assignors,
  }
}

const EARLIEST = -2
const LATEST = -1

interface PartitionState {
  topic: string
  partition: number
  name: string
  /** Next offset to fetch/return; null until known. */
  position: number | null
  /** Waiting for the group's committed offset (before falling back to auto.offset.reset). */
  awaitingCommitted: boolean
  /** A pending reset: -2 earliest, -1 latest. */
  resetTo: number | undefined
  resetInFlight: boolean
  resetNotBefore: number
  resetFailures: number
  /** Fetched data not yet returned by poll(). */
  buffered: Completed | undefined
  /** The offset committed last (auto commit skips unchanged positions). */
  committed: number | undefined
  /**
   * Where this consumer was when it last gave the partition up in a rebalance (its commit may
   * have failed, e.g. with the coordinator gone): if it gets the partition back, it does not
   * go back behind it.
   */
  keptPosition: number | undefined
  highWatermark: number
  leaderEpoch: number
}

interface Completed {
  ps: PartitionState
  records: Buffer
  fetchOffset: number
  filter: AbortFilter | undefined
}

export type RebalanceListener = {
  onAssigned?(partitions: TopicPartition[]): void
  onRevoked?(partitions: TopicPartition[]): void
}

export class Consumer {
  readonly net: NetworkClient
  readonly settings: ConsumerSettings
  readonly clientId: string
  private readonly assigned = new Map<string, PartitionState>()
  private readonly fetchInFlight = new Set<number>()
  /** After a failed fetch: when the node may be fetched from again, and the failures in a row. */
  private readonly fetchBackoff = new Map<number, {until: number; failures: number}>()
  private committedNotBefore = 0
  private committedFailures = 0
  private readonly retryBackoff: ExponentialBackoff
  private subscription: {topics: Set<string>} | {pattern: RegExp} | undefined
  private matchedTopics: string[] = []
  private manual = false
  private closed = false
  private fatal: Error | undefined
  private dataWaiters: (() => void)[] = []
  private scheduled = false
  private pumpTimer: NodeJS.Timeout | undefined
  private nextAutoCommit = 0
  private autoCommitInFlight: Promise<void> | undefined
  listener: RebalanceListener = {}
  // group membership
  private coordinator = -1
  private coordinatorFailures = 0
  private memberId = ''
  private generation = -1
  private protocolName: string | null = null
  private needsJoin = false
  private joined = false
  private isLeader = false
  private groupTask: Promise<void> | undefined
  private groupWake: (() => void) | undefined
  private leaderTopicsSnapshot = ''

  constructor(bootstrap: string, config: ClientConfig, defaultClientId = 'consumer') {
    this.settings = consumerSettings(config)
    const net = networkSettings(config, defaultClientId)
    this.clientId = net.clientId
    const prefix = this.settings.groupId !== undefined ? `[Consumer clientId=${net.clientId}, groupId=${this.settings.groupId}]` : `[Consumer clientId=${net.clientId}, groupId=null]`
    this.net = new NetworkClient(bootstrap, net, prefix)
    this.net.allowAutoTopicCreation = this.settings.allowAutoCreateTopics
    this.retryBackoff = retryBackoff(net.retryBackoffMs, net.retryBackoffMaxMs)
    this.net.onChange(() => {
      // A failed authentication ends the next poll (Java's AuthenticationException).
      if (this.net.authenticationError && !this.fatal) { this.fatal = this.net.authenticationError; this.signalData() }
      this.onMetadataOrConnection()
      this.schedulePump()
    })
    this.net.maybeUpdate()
  }

  get groupId(): string | undefined {
    return this.settings.groupId
  }

  /** The partitions assigned now. */
  assignment(): TopicPartition[] {
    return [...this.assigned.values()].map(p => ({topic: p.topic, partition: p.partition}))
  }

  // ---------------------------------------------------------------------------------------
  // Subscription and assignment

  subscribe(topics: string[] | RegExp): void {
    if (this.settings.groupId === undefined) throw new KafkaClientError('InvalidGroupIdException', 'To use the group management or offset commit APIs, you must provide a valid group.id in the consumer configuration.')
    if (this.manual) throw new KafkaClientError('IllegalStateException', 'Subscription to topics, partitions and pattern are mutually exclusive')
    if (topics instanceof RegExp) {
      this.subscription = {pattern: topics}
      this.net.allTopics = true
      this.net.requestUpdate()
    } else {
      this.subscription = {topics: new Set(topics)}
      this.matchedTopics = [...topics].sort()
      this.net.want(topics)
    }
    this.needsJoin = true
    this.startGroupTask()
  }

  assign(partitions: TopicPartition[]): void {
    if (this.subscription) throw new KafkaClientError('IllegalStateException', 'Subscription to topics, partitions and pattern are mutually exclusive')
    this.manual = true
    this.setAssignment(partitions)
    this.net.want(partitions.map(p => p.topic))
    // With a group.id, the coordinator is looked up only when it is needed: committed
    // offsets for a partition that was not sought, or a commit.
    this.schedulePump()
  }

  /** Sets the next offset to fetch for an assigned partition. */
  seek(topic: string, partition: number, offset: number): void {
    const ps = this.assigned.get(`${topic}-${partition}`)
    if (!ps) throw new KafkaClientError('IllegalStateException', `No current assignment for partition ${topic}-${partition}`)
    ps.position = offset
    ps.awaitingCommitted = false
    ps.resetTo = undefined
    ps.buffered = undefined
    this.schedulePump()
  }

  seekToBeginning(partitions: TopicPartition[]): void {
    for (const tp of partitions) this.requestReset(tp, EARLIEST)
  }

  seekToEnd(partitions: TopicPartition[]): void {
    for (const tp of partitions) this.requestReset(tp, LATEST)
  }

  private requestReset(tp: TopicPartition, to: number): void {
    const ps = this.assigned.get(`${tp.topic}-${tp.partition}`)
    if (!ps) throw new KafkaClientError('IllegalStateException', `No current assignment for partition ${tp.topic}-${tp.partition}`)
    ps.position = null
    ps.awaitingCommitted = false
    ps.resetTo = to
    ps.buffered = undefined
    this.schedulePump()
  }

  /** Positions of the partitions given up in the last rebalance. */
  private revokedPositions = new Map<string, number>()

  private setAssignment(partitions: TopicPartition[]): void {
    const next = new Map<string, PartitionState>()
    for (const tp of partitions) {
      const name = `${tp.topic}-${tp.partition}`
      next.set(name, this.assigned.get(name) ?? {
        topic: tp.topic, partition: tp.partition, name, position: null, awaitingCommitted: this.settings.groupId !== undefined,
        resetTo: undefined, resetInFlight: false, resetNotBefore: 0, resetFailures: 0, buffered: undefined, committed: undefined, keptPosition: this.revokedPositions.get(name), highWatermark: -1, leaderEpoch: -1,
      })
    }
    this.assigned.clear()
    for (const [k, v] of next) this.assigned.set(k, v)
  }

  private onMetadataOrConnection(): void {
    if (!this.subscription || this.closed) return
    if ('pattern' in this.subscription) {
      const rx = this.subscription.pattern
      const matched = [...this.net.topics.values()]
        .filter(t => t.errorCode === 0 && rx.test(t.name) && !(t.isInternal && this.settings.excludeInternalTopics))
        .map(t => t.name).sort()
      if (matched.join('\0') !== this.matchedTopics.join('\0')) {
        this.matchedTopics = matched
        this.requestRejoin()
      }
    }
    if (this.isLeader && this.joined) {
      const snap = this.partitionSnapshot(this.leaderTopics)
      if (snap !== this.leaderTopicsSnapshot) this.requestRejoin()
    }
  }

  private leaderTopics: string[] = []

  private partitionSnapshot(topics: string[]): string {
    return topics.map(t => `${t}:${this.net.topics.get(t)?.partitions.length ?? -1}`).join(',')
  }

  private requestRejoin(): void {
    if (!this.needsJoin) {
      this.needsJoin = true
      this.groupWake?.()
    }
  }

  // ---------------------------------------------------------------------------------------
  // Group membership (a background task while the consumer is open)

  private startGroupTask(): void {
    if (this.groupTask || this.settings.groupId === undefined) return
    this.groupTask = this.groupLoop().catch(error => {
      this.fatal = error as Error
      this.signalData()
    })
  }

  private async groupSleep(ms: number): Promise<void> {
    if (this.closed || ms <= 0) return
    await new Promise<void>(res => {
      const t = setTimeout(() => { this.groupWake = undefined; res() }, ms)
      this.groupWake = () => { clearTimeout(t); this.groupWake = undefined; res() }
    })
  }

  private groupError(code: number): KafkaClientError {
    const name = errorName(code)
    if (name === 'GROUP_AUTHORIZATION_FAILED') return new KafkaClientError('GroupAuthorizationException', `Not authorized to access group: ${this.settings.groupId}`, code)
    return apiError(code)
  }

  private markCoordinatorUnknown(why: string): void {
    if (this.coordinator >= 0) {
      this.net.disconnect(this.coordinator)
      this.net.log.info(Loggers.abstractCoordinator, `Group coordinator ${this.coordinator} is unavailable or invalid due to cause: ${why}. Rediscovery will be attempted.`)
    }
    this.coordinator = -1
  }

  private isCoordinatorError(code: number): boolean {
    const n = errorName(code)
    return n === 'COORDINATOR_NOT_AVAILABLE' || n === 'NOT_COORDINATOR'
  }

  private async findCoordinator(): Promise<void> {
    while (this.coordinator < 0 && !this.closed) {
      try {
        const node = await this.net.anyNode(Date.now() + this.settings.defaultApiTimeoutMs)
        const groupId = this.settings.groupId!
        const res = await this.net.send(node, FindCoordinator, v => (v >= 4 ? {keyType: 0, coordinatorKeys: [groupId]} : {key: groupId, keyType: 0}))
        const c = res.coordinators.length > 0 ? res.coordinators[0] : {errorCode: res.errorCode, nodeId: res.nodeId, host: res.host, port: res.port, errorMessage: res.errorMessage}
        if (c.errorCode !== 0) {
          if (!isRetriable(c.errorCode)) throw this.groupError(c.errorCode)
          throw new ConnectionError(errorName(c.errorCode))
        }
        // The coordinator gets a connection of its own (Java: id MAX_INT - node id).
        this.coordinator = this.net.coordinatorNode(c.nodeId, c.host, c.port)
        this.coordinatorFailures = 0
        this.schedulePump()
        this.net.log.info(Loggers.abstractCoordinator, `Discovered group coordinator ${c.host}:${c.port} (id: ${c.nodeId} rack: null)`)
      } catch (error) {
        if (error instanceof KafkaClientError && !error.retriable && error.exceptionClass !== 'TimeoutException') throw error
        await this.groupSleep(this.retryBackoff.backoff(this.coordinatorFailures++))
      }
    }
  }

  private subscribedTopics(): string[] {
    return this.matchedTopics
  }

  private encodeSubscription(topics: string[]): Buffer {
    const w = new Writer(64)
    w.int16(1)
    DataCodecs.ConsumerProtocolSubscriptionCodec.encode(w, 1, {topics, userData: null, ownedPartitions: []})
    return Buffer.from(w.toBuffer())
  }

  private static decodeSubscription(buf: Buffer): string[] {
    try {
      const r = new Reader(buf)
      const v = r.int16()
      const spec = DataCodecs.ConsumerProtocolSubscriptionCodec
      try {
        return spec.decode(r, Math.min(Math.max(v, 0), spec.maxVersion)).topics
      } catch {
        return spec.decode(new Reader(buf, 2), 0).topics
      }
    } catch {
      return []
    }
  }

  private static encodeAssignment(topics: Map<string, number[]>): Buffer {
    const w = new Writer(64)
    w.int16(1)
    DataCodecs.ConsumerProtocolAssignmentCodec.encode(w, 1, {assignedPartitions: [...topics].map(([topic, partitions]) => ({topic, partitions})), userData: null})
    return Buffer.from(w.toBuffer())
  }

  private static decodeAssignment(buf: Buffer): TopicPartition[] {
    if (buf.length < 2) return []
    const r = new Reader(buf)
    const v = r.int16()
    const spec = DataCodecs.ConsumerProtocolAssignmentCodec
    const a = spec.decode(r, Math.min(Math.max(v, 0), spec.maxVersion))
    const out: TopicPartition[] = []
    for (const t of a.assignedPartitions) for (const p of t.partitions) out.push({topic: t.topic, partition: p})
    return out
  }

  /** Gives up the partitions before a rejoin (eager protocol), committing first. */
  private async revokeAll(): Promise<void> {
    if (this.manual || this.assigned.size === 0) return
    if (this.settings.enableAutoCommit && this.generation >= 0) await this.commitPositions(true).catch(() => {})
    const revoked = this.assignment()
    this.revokedPositions = new Map()
    for (const ps of this.assigned.values()) if (ps.position !== null) this.revokedPositions.set(ps.name, ps.position)
    this.setAssignment([])
    this.listener.onRevoked?.(revoked)
  }

  private async joinGroup(): Promise<void> {
    const groupId = this.settings.groupId!
    await this.revokeAll()
    this.joined = false
    // Pattern subscriptions wait for the first metadata to know the matching topics.
    if (this.subscription && 'pattern' in this.subscription && this.net.metadataVersion === 0) await this.net.awaitUpdate(Date.now() + this.settings.defaultApiTimeoutMs).catch(() => {})
    const topics = this.subscribedTopics()
    const protocols = this.settings.assignors.map(a => ({name: a.name, metadata: this.encodeSubscription(topics)}))
    const res = await this.net.send(this.coordinator, JoinGroup, {
      groupId, sessionTimeoutMs: this.settings.sessionTimeoutMs, rebalanceTimeoutMs: this.settings.maxPollIntervalMs,
      memberId: this.memberId, groupInstanceId: this.settings.groupInstanceId, protocolType: 'consumer', protocols, reason: null,
    }, {timeoutMs: Math.max(this.net.settings.requestTimeoutMs, this.settings.maxPollIntervalMs + 5000)})
    const name = errorName(res.errorCode)
    if (res.errorCode !== 0) {
      if (name === 'MEMBER_ID_REQUIRED') { this.memberId = res.memberId; return }
      if (name === 'UNKNOWN_MEMBER_ID') { this.memberId = ''; return }
      if (name === 'REBALANCE_IN_PROGRESS' || name === 'COORDINATOR_LOAD_IN_PROGRESS') { await this.groupSleep(this.net.settings.retryBackoffMs); return }
      if (this.isCoordinatorError(res.errorCode)) { this.markCoordinatorUnknown(name); return }
      throw this.groupError(res.errorCode)
    }
    this.memberId = res.memberId
    this.generation = res.generationId
    this.protocolName = res.protocolName
    this.isLeader = res.leader === res.memberId
    let assignments: {memberId: string; assignment: Buffer}[] = []
    if (this.isLeader && !res.skipAssignment) {
      const members: MemberSubscription[] = res.members.map(m => ({memberId: m.memberId, groupInstanceId: m.groupInstanceId, topics: Consumer.decodeSubscription(m.metadata)}))
      const all = [...new Set(members.flatMap(m => m.topics))].sort()
      this.leaderTopics = all
      this.net.want(all)
      const deadline = Date.now() + Math.min(this.settings.defaultApiTimeoutMs, 10000)
      while (all.some(t => !this.net.topics.get(t)?.partitions.length) && Date.now() < deadline) {
        await this.net.awaitUpdate(deadline).catch(() => {})
      }
      this.leaderTopicsSnapshot = this.partitionSnapshot(all)
      const counts = new Map<string, number>()
      for (const t of all) {
        const n = this.net.topics.get(t)?.partitions.length ?? 0
        if (n > 0) counts.set(t, n)
      }
      const assignor = this.settings.assignors.find(a => a.name === res.protocolName) ?? this.settings.assignors[0]
      const result = assignor.assign(counts, members)
      assignments = [...result].map(([memberId, topics]) => ({memberId, assignment: Consumer.encodeAssignment(topics)}))
    }
    const sync = await this.net.send(this.coordinator, SyncGroup, {
      groupId, generationId: this.generation, memberId: this.memberId, groupInstanceId: this.settings.groupInstanceId,
      protocolType: 'consumer', protocolName: res.protocolName, assignments,
    })
    const sname = errorName(sync.errorCode)
    if (sync.errorCode !== 0) {
      if (sname === 'REBALANCE_IN_PROGRESS') return
      if (sname === 'UNKNOWN_MEMBER_ID' || sname === 'ILLEGAL_GENERATION') { this.resetGeneration(sname === 'UNKNOWN_MEMBER_ID'); return }
      if (this.isCoordinatorError(sync.errorCode)) { this.markCoordinatorUnknown(sname); return }
      throw this.groupError(sync.errorCode)
    }
    const tps = Consumer.decodeAssignment(sync.assignment)
    this.setAssignment(tps)
    this.net.want(tps.map(t => t.topic))
    this.needsJoin = false
    this.joined = true
    this.net.log.info(Loggers.coordinator, `Adding newly assigned partitions: ${tps.map(t => `${t.topic}-${t.partition}`).join(', ')}`)
    this.listener.onAssigned?.(tps)
    this.schedulePump()
  }

  private resetGeneration(unknownMember: boolean): void {
    this.generation = -1
    if (unknownMember) this.memberId = ''
    this.needsJoin = true
    this.joined = false
  }

  private async heartbeat(): Promise<void> {
    const res = await this.net.send(this.coordinator, Heartbeat, {groupId: this.settings.groupId!, generationId: this.generation, memberId: this.memberId, groupInstanceId: this.settings.groupInstanceId})
    const name = errorName(res.errorCode)
    if (res.errorCode === 0) return
    if (name === 'REBALANCE_IN_PROGRESS') { this.needsJoin = true; return }
    if (name === 'UNKNOWN_MEMBER_ID' || name === 'ILLEGAL_GENERATION' || name === 'FENCED_INSTANCE_ID') {
      if (name === 'FENCED_INSTANCE_ID') throw this.groupError(res.errorCode)
      this.resetGeneration(name === 'UNKNOWN_MEMBER_ID')
      return
    }
    if (this.isCoordinatorError(res.errorCode)) { this.markCoordinatorUnknown(name); return }
    if (isRetriable(res.errorCode)) return
    throw this.groupError(res.errorCode)
  }

  private async groupLoop(): Promise<void> {
    let failures = 0
    while (!this.closed) {
      try {
        if (this.coordinator < 0) {
          await this.findCoordinator()
          continue
        }
        if (this.manual) {
          // assign() with a group: the coordinator is only needed for commits.
          await this.groupSleep(this.settings.heartbeatIntervalMs)
          continue
        }
        if (this.needsJoin || this.generation < 0) {
          await this.joinGroup()
          failures = 0
          continue
        }
        await this.groupSleep(this.settings.heartbeatIntervalMs)
        if (this.closed || this.needsJoin) continue
        await this.heartbeat()
        failures = 0
      } catch (error) {
        if (this.closed) return
        if (error instanceof KafkaClientError && !error.retriable && error.exceptionClass !== 'TimeoutException' && !(error instanceof ConnectionError)) throw error
        // A lost connection or a timeout: the coordinator is looked up again.
        this.markCoordinatorUnknown((error as Error).message)
        await this.groupSleep(this.retryBackoff.backoff(failures++))
      }
    }
  }

  // ---------------------------------------------------------------------------------------
  // Offsets

  private byLeader<T extends {topic: string; partition: number}>(items: T[]): Map<number, T[]> {
    const out = new Map<number, T[]>()
    for (const it of items) {
      const leader = this.net.leaderFor(it.topic, it.partition)
      if (leader < 0) continue
      let l = out.get(leader)
      if (!l) out.set(leader, l = [])
      l.push(it)
    }
    return out
  }

  private committedInFlight = false

  /** OffsetFetch for partitions that wait for their committed offset. */
  private fetchCommitted(): void {
    if (this.committedInFlight || this.coordinator < 0 || this.settings.groupId === undefined || Date.now() < this.committedNotBefore) return
    const waiting = [...this.assigned.values()].filter(p => p.awaitingCommitted)
    if (waiting.length === 0) return
    this.committedInFlight = true
    const groupId = this.settings.groupId
    const topics = new Map<string, number[]>()
    for (const p of waiting) {
      let l = topics.get(p.topic)
      if (!l) topics.set(p.topic, l = [])
      l.push(p.partition)
    }
    const req = [...topics].map(([name, partitionIndexes]) => ({name, partitionIndexes}))
    this.net.send(this.coordinator, OffsetFetch, v => (v >= 8
      ? {groups: [{groupId, memberId: null, memberEpoch: -1, topics: req}], requireStable: true}
      : {groupId, topics: req, requireStable: v >= 7}), {maxVersion: 8}).then(res => {
      let code = res.errorCode
      let rtopics = res.topics
      if (res.groups.length > 0) {
        code = res.groups[0].errorCode
        rtopics = res.groups[0].topics as typeof rtopics
      }
      if (code !== 0) {
        if (this.isCoordinatorError(code)) this.markCoordinatorUnknown(errorName(code))
        if (!isRetriable(code) && errorName(code) !== 'UNSTABLE_OFFSET_COMMIT') this.fatal = this.groupError(code)
        return
      }
      for (const t of rtopics) {
        for (const p of t.partitions) {
          const ps = this.assigned.get(`${t.name}-${p.partitionIndex}`)
          if (!ps || !ps.awaitingCommitted) continue
          if (p.errorCode !== 0) continue
          ps.awaitingCommitted = false
          if (p.committedOffset >= 0) {
            ps.position = Math.max(p.committedOffset, ps.keptPosition ?? -1)
            ps.committed = p.committedOffset
          } else if (ps.keptPosition !== undefined) {
            ps.position = ps.keptPosition
          } else {
            ps.resetTo = undefined
          }
          ps.keptPosition = undefined
        }
      }
    }, () => {
      this.markCoordinatorUnknown('OffsetFetch failed')
    }).finally(() => {
      if ([...this.assigned.values()].some(p => p.awaitingCommitted)) this.committedNotBefore = Date.now() + this.retryBackoff.backoff(this.committedFailures++)
      else this.committedFailures = 0
      this.committedInFlight = false
      this.schedulePump()
    })
  }

  /** ListOffsets for partitions without a position (auto.offset.reset or seekToBeginning/End). */
  private resetPositions(now: number): void {
    const need: PartitionState[] = []
    for (const ps of this.assigned.values()) {
      if (ps.position !== null || ps.awaitingCommitted || ps.resetInFlight || now < ps.resetNotBefore) continue
      if (ps.resetTo === undefined) {
        if (this.settings.autoOffsetReset === 'none') {
          this.fatal = new KafkaClientError('NoOffsetForPartitionException', `Undefined offset with no reset policy for partitions: [${ps.name}]`)
          this.signalData()
          return
        }
        ps.resetTo = this.settings.autoOffsetReset === 'earliest' ? EARLIEST : LATEST
      }
      need.push(ps)
    }
    if (need.length === 0) return
    const groups = this.byLeader(need)
    if ([...groups.values()].reduce((n, l) => n + l.length, 0) < need.length) {
      this.net.requestUpdate()
      this.armPump(this.net.settings.retryBackoffMs)
    }
    for (const [leader, list] of groups) {
      for (const ps of list) ps.resetInFlight = true
      const topics = new Map<string, PartitionState[]>()
      for (const ps of list) {
        let l = topics.get(ps.topic)
        if (!l) topics.set(ps.topic, l = [])
        l.push(ps)
      }
      this.net.send(leader, ListOffsets, {
        replicaId: -1, isolationLevel: this.settings.isolationLevel,
        topics: [...topics].map(([name, ps]) => ({name, partitions: ps.map(p => ({partitionIndex: p.partition, currentLeaderEpoch: -1, timestamp: p.resetTo!, maxNumOffsets: 1}))})),
      }, {minVersion: 1}).then(res => {
        for (const t of res.topics) {
          for (const p of t.partitions) {
            const ps = this.assigned.get(`${t.name}-${p.partitionIndex}`)
            if (!ps || ps.position !== null) continue
            if (p.errorCode !== 0) {
              ps.resetNotBefore = Date.now() + this.retryBackoff.backoff(ps.resetFailures++)
              this.net.requestUpdate()
              continue
            }
            ps.position = p.offset
            ps.resetTo = undefined
            ps.resetFailures = 0
          }
        }
      }, () => {
        for (const ps of list) ps.resetNotBefore = Date.now() + this.retryBackoff.backoff(ps.resetFailures++)
        this.net.requestUpdate()
      }).finally(() => {
        for (const ps of list) ps.resetInFlight = false
        this.schedulePump()
      })
    }
  }

  /** Commits the positions of the assigned partitions (those that moved since the last commit). */
  private async commitPositions(sync: boolean, closing = false, explicit?: (TopicPartition & {offset: number})[]): Promise<void> {
    const offsets = explicit
      ? explicit.flatMap(o => { const ps = this.assigned.get(`${o.topic}-${o.partition}`); return ps ? [{ps, offset: o.offset}] : [] })
      : [...this.assigned.values()].filter(p => p.position !== null && p.position !== p.committed).map(p => ({ps: p, offset: p.position!}))
    if (offsets.length === 0 || this.settings.groupId === undefined) return
    this.lastCommitOffsets = `{${offsets.map(o => `${o.ps.name}=OffsetAndMetadata{offset=${o.offset}, leaderEpoch=null, metadata=''}`).join(', ')}}`
    const deadline = Date.now() + this.settings.defaultApiTimeoutMs
    let attempt = 0
    for (;;) {
      try {
        if (this.coordinator < 0) {
          if (!sync) return
          if (!this.groupTask) await this.findCoordinator()
          else await sleep(this.retryBackoff.backoff(attempt++))
          if (Date.now() >= deadline) throw timeoutError('Timeout of ' + this.settings.defaultApiTimeoutMs + 'ms expired before successfully committing offsets')
          continue
        }
        const topics = new Map<string, {partitionIndex: number; committedOffset: number; committedLeaderEpoch: number; commitTimestamp: number; committedMetadata: string}[]>()
        for (const {ps, offset} of offsets) {
          let l = topics.get(ps.topic)
          if (!l) topics.set(ps.topic, l = [])
          l.push({partitionIndex: ps.partition, committedOffset: offset, committedLeaderEpoch: -1, commitTimestamp: -1, committedMetadata: ''})
        }
        // Closing with a membership the coordinator forgot (it moved or restarted and has no
        // members): the commit goes as a simple consumer's, which the broker takes only while
        // the group has no members, so no other member's progress is overwritten.
        const simple = this.manual || (closing && this.generation < 0)
        const res = await this.net.send(this.coordinator, OffsetCommit, {
          groupId: this.settings.groupId, generationIdOrMemberEpoch: simple ? -1 : this.generation, memberId: simple ? '' : this.memberId,
          groupInstanceId: this.settings.groupInstanceId, retentionTimeMs: -1, topics: [...topics].map(([name, partitions]) => ({name, partitions})),
        })
        let retry = false
        for (const t of res.topics) {
          for (const p of t.partitions) {
            const ps = this.assigned.get(`${t.name}-${p.partitionIndex}`)
            const o = offsets.find(x => x.ps === ps)
            if (p.errorCode === 0) {
              if (ps && o) ps.committed = o.offset
              continue
            }
            const name = errorName(p.errorCode)
            if (this.isCoordinatorError(p.errorCode)) { this.markCoordinatorUnknown(name); retry = true; continue }
            if (name === 'COORDINATOR_LOAD_IN_PROGRESS' || name === 'REQUEST_TIMED_OUT') { retry = true; continue }
            if (name === 'REBALANCE_IN_PROGRESS' || name === 'ILLEGAL_GENERATION' || name === 'UNKNOWN_MEMBER_ID') {
              if (name !== 'REBALANCE_IN_PROGRESS') {
                this.resetGeneration(name === 'UNKNOWN_MEMBER_ID')
                if (closing && !simple) { retry = true; continue }
              } else this.requestRejoin()
              throw new KafkaClientError('CommitFailedException', 'Commit cannot be completed since the group has already rebalanced and assigned the partitions to another member. This means that the time between subsequent calls to poll() was longer than the configured max.poll.interval.ms, which typically implies that the poll loop is spending too much time message processing. You can address this either by increasing max.poll.interval.ms or by reducing the maximum size of batches returned in poll() with max.poll.records.')
            }
            throw apiError(p.errorCode)
          }
        }
        if (!retry) return
      } catch (error) {
        if (error instanceof KafkaClientError && !error.retriable) throw error
        if (!(error instanceof KafkaClientError)) this.markCoordinatorUnknown((error as Error).message)
        if (!sync) throw error
      }
      if (Date.now() >= deadline) throw timeoutError(`Timeout of ${this.settings.defaultApiTimeoutMs}ms expired before successfully committing offsets`)
      await sleep(this.retryBackoff.backoff(attempt++))
    }
  }

  /**
   * Commits the current positions, or the given offsets of assigned partitions, and waits for
   * the result (retrying until default.api.timeout.ms).
   */
  async commitSync(offsets?: (TopicPartition & {offset: number})[]): Promise<void> {
    await this.commitPositions(true, false, offsets)
  }

  /** The offsets of the last commit attempt, as Java prints a Map<TopicPartition, OffsetAndMetadata>. */
  private lastCommitOffsets = '{}'

  /** Java's ConsumerCoordinator: retriable commit failures are retried quietly. */
  private static retriableCommitError(error: unknown): boolean {
    return error instanceof ConnectionError || (error instanceof KafkaClientError && error.retriable)
  }

  private maybeAutoCommit(now: number): void {
    if (!this.settings.enableAutoCommit || this.settings.groupId === undefined || this.autoCommitInFlight) return
    if (now < this.nextAutoCommit) return
    this.nextAutoCommit = now + this.settings.autoCommitIntervalMs
    if (!this.manual && (!this.joined || this.needsJoin)) return
    const p = this.commitPositions(false).catch(error => {
      if (Consumer.retriableCommitError(error)) {
        this.nextAutoCommit = Date.now() + this.net.settings.retryBackoffMs
        return
      }
      this.net.log.warn(Loggers.coordinator, `Asynchronous auto-commit of offsets ${this.lastCommitOffsets} failed: ${(error as Error).message}`)
    })
    this.autoCommitInFlight = p
    p.finally(() => { this.autoCommitInFlight = undefined })
  }

  // ---------------------------------------------------------------------------------------
  // Fetching

  private schedulePump(): void {
    if (this.scheduled || this.closed) return
    this.scheduled = true
    setImmediate(() => {
      this.scheduled = false
      this.pump()
    })
  }

  private armPump(ms: number): void {
    if (this.pumpTimer || this.closed) return
    this.pumpTimer = setTimeout(() => { this.pumpTimer = undefined; this.pump() }, Math.max(1, ms))
  }

  private pump(): void {
    if (this.closed) return
    const now = Date.now()
    if (this.coordinator < 0 && this.manual && !this.groupTask && [...this.assigned.values()].some(p => p.awaitingCommitted)) this.startGroupTask()
    if (this.coordinator >= 0) {
      this.fetchCommitted()
      if (now < this.committedNotBefore) this.armPump(this.committedNotBefore - now)
    }
    this.resetPositions(now)
    const fetchable: PartitionState[] = []
    let waitMs = Infinity
    for (const ps of this.assigned.values()) {
      if (ps.position === null) { if (ps.resetNotBefore > now) waitMs = Math.min(waitMs, ps.resetNotBefore - now); continue }
      if (ps.buffered) continue
      fetchable.push(ps)
    }
    let missingLeader = false
    const groups = new Map<number, PartitionState[]>()
    for (const ps of fetchable) {
      const leader = this.net.leaderFor(ps.topic, ps.partition)
      if (leader < 0) { missingLeader = true; continue }
      let l = groups.get(leader)
      if (!l) groups.set(leader, l = [])
      l.push(ps)
    }
    if (missingLeader) this.net.requestUpdate()
    for (const [node, list] of groups) {
      if (this.fetchInFlight.has(node)) continue
      const fb = this.fetchBackoff.get(node)
      if (fb && fb.until > now) { waitMs = Math.min(waitMs, fb.until - now); continue }
      if (!this.net.ready(node)) {
        const d = this.net.connectionDelay(node)
        if (d > 0) waitMs = Math.min(waitMs, d)
        continue
      }
      this.sendFetch(node, list)
    }
    if (waitMs < Infinity) this.armPump(waitMs)
    if (missingLeader) this.armPump(this.net.settings.retryBackoffMs)
  }

  private sendFetch(node: number, list: PartitionState[]): void {
    this.fetchInFlight.add(node)
    const topics = new Map<string, PartitionState[]>()
    for (const ps of list) {
      let l = topics.get(ps.topic)
      if (!l) topics.set(ps.topic, l = [])
      l.push(ps)
    }
    const offsets = new Map(list.map(ps => [ps, ps.position!]))
    const s = this.settings
    this.net.send(node, Fetch, {
      replicaId: -1, maxWaitMs: s.fetchMaxWaitMs, minBytes: s.fetchMinBytes, maxBytes: s.fetchMaxBytes, isolationLevel: s.isolationLevel,
      sessionId: 0, sessionEpoch: -1,
      topics: [...topics].map(([topic, ps]) => ({topic, partitions: ps.map(p => ({partition: p.partition, currentLeaderEpoch: -1, fetchOffset: p.position!, lastFetchedEpoch: -1, logStartOffset: -1, partitionMaxBytes: s.maxPartitionFetchBytes}))})),
      forgottenTopicsData: [], rackId: '',
    }, {maxVersion: 12, timeoutMs: this.net.settings.requestTimeoutMs + s.fetchMaxWaitMs}).then(
      res => { this.fetchBackoff.delete(node); this.handleFetch(res, offsets) },
      (error: Error) => {
        const fb = this.fetchBackoff.get(node) ?? {until: 0, failures: 0}
        fb.until = Date.now() + this.retryBackoff.backoff(fb.failures++)
        this.fetchBackoff.set(node, fb)
        if (error instanceof KafkaClientError && !error.retriable && !(error instanceof ConnectionError)) this.fatal = error
        this.net.requestUpdate()
      },
    ).finally(() => {
      this.fetchInFlight.delete(node)
      this.schedulePump()
    })
  }

  private handleFetch(res: FetchResponse, offsets: Map<PartitionState, number>): void {
    if (res.errorCode !== 0) {
      this.net.requestUpdate()
      return
    }
    let got = false
    for (const t of res.responses) {
      for (const p of t.partitions) {
        const ps = this.assigned.get(`${t.topic}-${p.partitionIndex}`)
        if (!ps) continue
        const fetchOffset = offsets.get(ps)
        if (fetchOffset === undefined || ps.position !== fetchOffset || ps.buffered) continue
        if (p.errorCode !== 0) {
          const name = errorName(p.errorCode)
          if (name === 'OFFSET_OUT_OF_RANGE') {
            if (this.settings.autoOffsetReset === 'none') {
              this.fatal = new KafkaClientError('OffsetOutOfRangeException', `Fetch position FetchPosition{offset=${fetchOffset}} is out of range for partition ${ps.name}`, 1)
            } else {
              this.net.log.info(Loggers.fetcher, `Fetch position FetchPosition{offset=${fetchOffset}} is out of range for partition ${ps.name}, resetting offset`)
              ps.position = null
              ps.resetTo = this.settings.autoOffsetReset === 'earliest' ? EARLIEST : LATEST
            }
          } else if (name === 'TOPIC_AUTHORIZATION_FAILED') {
            this.fatal = new KafkaClientError('TopicAuthorizationException', `Not authorized to access topics: [${ps.topic}]`, p.errorCode)
          } else {
            if (name === 'UNKNOWN_TOPIC_OR_PARTITION') this.net.log.warn(Loggers.fetcher, `Received unknown topic or partition error in fetch for partition ${ps.name}`)
            this.net.requestUpdate()
          }
          continue
        }
        ps.highWatermark = p.highWatermark
        if (p.records && p.records.length > 0) {
          ps.buffered = {ps, records: p.records, fetchOffset, filter: this.settings.isolationLevel === 1 ? new AbortFilter(p.abortedTransactions ?? []) : undefined}
          got = true
        }
      }
    }
    if (got || this.fatal) this.signalData()
  }

  private signalData(): void {
    const ws = this.dataWaiters
    this.dataWaiters = []
    for (const w of ws) w()
  }

  /** Takes up to max records from the buffered fetches (records or only counts). */
  private drainBuffered(max: number, out: ConsumerRecord[] | undefined, counts: {count: number; bytes: number}): void {
    for (const ps of this.assigned.values()) {
      if (counts.count >= max) break
      const c = ps.buffered
      if (!c) continue
      if (ps.position !== c.fetchOffset) { ps.buffered = undefined; continue }
      const topic = ps.topic
      const partition = ps.partition
      const r = readRecords(c.records, c.fetchOffset, max - counts.count, c.filter, ps.name, this.settings.checkCrcs, out ? rec => {
        const cr = rec as ConsumerRecord
        cr.topic = topic
        cr.partition = partition
        out.push(cr)
      } : undefined)
      counts.count += r.count
      counts.bytes += r.bytes
      if (r.next > ps.position!) ps.position = r.next
      if (r.count === 0 || r.next === c.fetchOffset || counts.count < max) {
        // This fetch is used up (or held nothing at the position): the next one goes out.
        ps.buffered = undefined
      } else {
        c.fetchOffset = r.next
      }
    }
  }

  private async pollInternal(timeoutMs: number, max: number, out: ConsumerRecord[] | undefined): Promise<{count: number; bytes: number}> {
    if (this.closed) throw new KafkaClientError('IllegalStateException', 'This consumer has already been closed.')
    const deadline = Date.now() + Math.max(0, timeoutMs)
    const counts = {count: 0, bytes: 0}
    for (;;) {
      if (this.fatal) {
        const e = this.fatal
        this.fatal = undefined
        throw e
      }
      this.maybeAutoCommit(Date.now())
      this.drainBuffered(max, out, counts)
      this.schedulePump()
      if (counts.count > 0) return counts
      const wait = deadline - Date.now()
      if (wait <= 0 || this.closed) return counts
      await new Promise<void>(res => {
        const t = setTimeout(done, Math.min(wait, this.settings.autoCommitIntervalMs))
        function done() { clearTimeout(t); res() }
        this.dataWaiters.push(done)
      })
    }
  }

  /** Waits up to timeoutMs for records; returns at most max.poll.records (or max). */
  async poll(timeoutMs: number, max = this.settings.maxPollRecords): Promise<ConsumerRecord[]> {
    const out: ConsumerRecord[] = []
    await this.pollInternal(timeoutMs, max, out)
    return out
  }

  /** As poll(), counting records and their key+value bytes without building records. */
  pollCount(timeoutMs: number, max = this.settings.maxPollRecords): Promise<{count: number; bytes: number}> {
    return this.pollInternal(timeoutMs, max, undefined)
  }

  /** Wakes a poll() that is waiting (it returns what it has, possibly nothing). */
  wakeup(): void {
    this.signalData()
  }

  /**
   * Waits until the consumer has an assignment (a group member once joined; assign() at once)
   * whose positions are all known; false at the deadline. Fetching goes on meanwhile.
   */
  async awaitPositions(timeoutMs: number): Promise<boolean> {
    const deadline = Date.now() + timeoutMs
    for (;;) {
      if (this.fatal) {
        const e = this.fatal
        this.fatal = undefined
        throw e
      }
      const ready = (this.manual || (this.joined && !this.needsJoin)) && this.assigned.size > 0 && [...this.assigned.values()].every(p => p.position !== null)
      if (ready) return true
      if (Date.now() >= deadline || this.closed) return false
      this.schedulePump()
      await sleep(Math.min(20, Math.max(1, deadline - Date.now())))
    }
  }

  /** The next offset poll() returns for a partition (null until known). */
  position(topic: string, partition: number): number | null {
    return this.assigned.get(`${topic}-${partition}`)?.position ?? null
  }

  // ---------------------------------------------------------------------------------------
  // Close

  /** Commits (enable.auto.commit), leaves the group and closes the connections. */
  async close(timeoutMs = 30000): Promise<void> {
    if (this.closed) return
    const deadline = Date.now() + timeoutMs
    const bounded = <T>(p: Promise<T>) => Promise.race([p, sleep(Math.max(0, deadline - Date.now()), true)])
    try {
      if (this.settings.groupId !== undefined && this.settings.enableAutoCommit) {
        if (this.autoCommitInFlight) await bounded(this.autoCommitInFlight)
        await bounded(this.commitPositions(true, true).catch(error => {
          this.net.log.warn(Loggers.coordinator, `Synchronous auto-commit of offsets ${this.lastCommitOffsets} failed: ${(error as Error).message}`)
        }))
      }
      // Java's onLeavePrepare: the rebalance listener gives the partitions up.
      if (!this.manual && this.assigned.size > 0) {
        const revoked = this.assignment()
        this.setAssignment([])
        this.listener.onRevoked?.(revoked)
      }
      if (!this.manual && this.memberId && this.coordinator >= 0 && this.generation >= 0) {
        const groupId = this.settings.groupId!
        const memberId = this.memberId
        this.net.log.info(Loggers.abstractCoordinator, `Member ${memberId} sending LeaveGroup request to coordinator due to the consumer is being closed`)
        await bounded(this.net.send(this.coordinator, LeaveGroup, v => (v >= 3
          ? {groupId, members: [{memberId, groupInstanceId: this.settings.groupInstanceId, reason: 'the consumer is being closed'}]}
          : {groupId, memberId}), {timeoutMs: Math.max(100, Math.min(this.net.settings.requestTimeoutMs, deadline - Date.now()))}).catch(() => {}))
      }
    } finally {
      this.closed = true
      this.groupWake?.()
      if (this.pumpTimer) clearTimeout(this.pumpTimer)
      this.signalData()
      this.net.close()
    }
  }
}

export type {RecordHeader}
