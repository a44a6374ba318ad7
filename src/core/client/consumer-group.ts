// The consumer's group membership (classic protocol, eager rebalancing): FindCoordinator,
// JoinGroup (MEMBER_ID_REQUIRED handled), the leader runs the agreed assignor, SyncGroup,
// then Heartbeat every heartbeat.interval.ms, as a background task while the consumer is
// open. A moved or dead coordinator is looked up again and the member carries on, rejoining
// when the coordinator asks; offsets are committed and partitions given up before a rejoin;
// LeaveGroup on close. Also the consumer protocol's subscription and assignment encodings.
import {FindCoordinator, JoinGroup, SyncGroup, Heartbeat, LeaveGroup, DataCodecs} from '../protocol/messages.js'
import {Reader, Writer} from '../protocol/io.js'
import {errorName} from '../protocol/errors.js'
import {ConnectionError} from '../protocol/client.js'
import {KafkaClientError, apiError, isRetriable} from './kafka-errors.js'
import type {MemberSubscription} from './assignors.js'
import {Loggers} from './log.js'
import type {TopicPartition} from './consumer-config.js'
import type {Consumer} from './consumer.js'

export function encodeSubscription(topics: string[]): Buffer {
  const w = new Writer(64)
  w.int16(1)
  DataCodecs.ConsumerProtocolSubscriptionCodec.encode(w, 1, {topics, userData: null, ownedPartitions: []})
  return Buffer.from(w.toBuffer())
}

export function decodeSubscription(buf: Buffer): string[] {
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

export function encodeAssignment(topics: Map<string, number[]>): Buffer {
  const w = new Writer(64)
  w.int16(1)
  DataCodecs.ConsumerProtocolAssignmentCodec.encode(w, 1, {assignedPartitions: [...topics].map(([topic, partitions]) => ({topic, partitions})), userData: null})
  return Buffer.from(w.toBuffer())
}

export function decodeAssignment(buf: Buffer): TopicPartition[] {
  if (buf.length < 2) return []
  const r = new Reader(buf)
  const v = r.int16()
  const spec = DataCodecs.ConsumerProtocolAssignmentCodec
  const a = spec.decode(r, Math.min(Math.max(v, 0), spec.maxVersion))
  const out: TopicPartition[] = []
  for (const t of a.assignedPartitions) for (const p of t.partitions) out.push({topic: t.topic, partition: p})
  return out
}

export class GroupMembership {
  coordinator = -1
  private coordinatorFailures = 0
  memberId = ''
  generation = -1
  private protocolName: string | null = null
  needsJoin = false
  joined = false
  private isLeader = false
  groupTask: Promise<void> | undefined
  groupWake: (() => void) | undefined
  private leaderTopicsSnapshot = ''

  constructor(private readonly c: Consumer) {}

  onMetadataOrConnection(): void {
    if (!this.c.subscription || this.c.closed) return
    if ('pattern' in this.c.subscription) {
      const rx = this.c.subscription.pattern
      const matched = [...this.c.net.topics.values()]
        .filter(t => t.errorCode === 0 && rx.test(t.name) && !(t.isInternal && this.c.settings.excludeInternalTopics))
        .map(t => t.name).sort()
      if (matched.join('\0') !== this.c.matchedTopics.join('\0')) {
        this.c.matchedTopics = matched
        this.requestRejoin()
      }
    }
    if (this.isLeader && this.joined) {
      const snap = this.partitionSnapshot(this.leaderTopics)
      if (snap !== this.leaderTopicsSnapshot) this.requestRejoin()
    }
  }

  leaderTopics: string[] = []

  partitionSnapshot(topics: string[]): string {
    return topics.map(t => `${t}:${this.c.net.topics.get(t)?.partitions.length ?? -1}`).join(',')
  }

  requestRejoin(): void {
    if (!this.needsJoin) {
      this.needsJoin = true
      this.groupWake?.()
    }
  }

  // ---------------------------------------------------------------------------------------
  // Group membership (a background task while the consumer is open)

  startGroupTask(): void {
    if (this.groupTask || this.c.settings.groupId === undefined) return
    this.groupTask = this.groupLoop().catch(error => {
      this.c.fatal = error as Error
      this.c.signalData()
    })
  }

  async groupSleep(ms: number): Promise<void> {
    if (this.c.closed || ms <= 0) return
    await new Promise<void>(res => {
      const t = setTimeout(() => { this.groupWake = undefined; res() }, ms)
      this.groupWake = () => { clearTimeout(t); this.groupWake = undefined; res() }
    })
  }

  groupError(code: number): KafkaClientError {
    const name = errorName(code)
    if (name === 'GROUP_AUTHORIZATION_FAILED') return new KafkaClientError('GroupAuthorizationException', `Not authorized to access group: ${this.c.settings.groupId}`, code)
    return apiError(code)
  }

  markCoordinatorUnknown(why: string): void {
    if (this.coordinator >= 0) {
      this.c.net.disconnect(this.coordinator)
      this.c.net.log.info(Loggers.abstractCoordinator, `Group coordinator ${this.coordinator} is unavailable or invalid due to cause: ${why}. Rediscovery will be attempted.`)
    }
    this.coordinator = -1
  }

  isCoordinatorError(code: number): boolean {
    const n = errorName(code)
    return n === 'COORDINATOR_NOT_AVAILABLE' || n === 'NOT_COORDINATOR'
  }

  async findCoordinator(): Promise<void> {
    while (this.coordinator < 0 && !this.c.closed) {
      try {
        const node = await this.c.net.anyNode(Date.now() + this.c.settings.defaultApiTimeoutMs)
        const groupId = this.c.settings.groupId!
        const res = await this.c.net.send(node, FindCoordinator, v => (v >= 4 ? {keyType: 0, coordinatorKeys: [groupId]} : {key: groupId, keyType: 0}))
        const c = res.coordinators.length > 0 ? res.coordinators[0] : {errorCode: res.errorCode, nodeId: res.nodeId, host: res.host, port: res.port, errorMessage: res.errorMessage}
        if (c.errorCode !== 0) {
          if (!isRetriable(c.errorCode)) throw this.groupError(c.errorCode)
          throw new ConnectionError(errorName(c.errorCode))
        }
        // The coordinator gets a connection of its own (Java: id MAX_INT - node id).
        this.coordinator = this.c.net.coordinatorNode(c.nodeId, c.host, c.port)
        this.coordinatorFailures = 0
        this.c.fetcher.schedulePump()
        this.c.net.log.info(Loggers.abstractCoordinator, `Discovered group coordinator ${c.host}:${c.port} (id: ${c.nodeId} rack: null)`)
      } catch (error) {
        if (error instanceof KafkaClientError && !error.retriable && error.exceptionClass !== 'TimeoutException') throw error
        await this.groupSleep(this.c.retryBackoff.backoff(this.coordinatorFailures++))
      }
    }
  }

  subscribedTopics(): string[] {
    return this.c.matchedTopics
  }

  /** Gives up the partitions before a rejoin (eager protocol), committing first. */
  async revokeAll(): Promise<void> {
    if (this.c.manual || this.c.assigned.size === 0) return
    if (this.c.settings.enableAutoCommit && this.generation >= 0) await this.c.offsets.commitPositions(true).catch(() => {})
    const revoked = this.c.assignment()
    this.c.revokedPositions = new Map()
    for (const ps of this.c.assigned.values()) if (ps.position !== null) this.c.revokedPositions.set(ps.name, ps.position)
    this.c.setAssignment([])
    this.c.listener.onRevoked?.(revoked)
  }

  async joinGroup(): Promise<void> {
    const groupId = this.c.settings.groupId!
    await this.revokeAll()
    this.joined = false
    // Pattern subscriptions wait for the first metadata to know the matching topics.
    if (this.c.subscription && 'pattern' in this.c.subscription && this.c.net.metadataVersion === 0) await this.c.net.awaitUpdate(Date.now() + this.c.settings.defaultApiTimeoutMs).catch(() => {})
    const topics = this.subscribedTopics()
    const protocols = this.c.settings.assignors.map(a => ({name: a.name, metadata: encodeSubscription(topics)}))
    const res = await this.c.net.send(this.coordinator, JoinGroup, {
      groupId, sessionTimeoutMs: this.c.settings.sessionTimeoutMs, rebalanceTimeoutMs: this.c.settings.maxPollIntervalMs,
      memberId: this.memberId, groupInstanceId: this.c.settings.groupInstanceId, protocolType: 'consumer', protocols, reason: null,
    }, {timeoutMs: Math.max(this.c.net.settings.requestTimeoutMs, this.c.settings.maxPollIntervalMs + 5000)})
    const name = errorName(res.errorCode)
    if (res.errorCode !== 0) {
      if (name === 'MEMBER_ID_REQUIRED') { this.memberId = res.memberId; return }
      if (name === 'UNKNOWN_MEMBER_ID') { this.memberId = ''; return }
      if (name === 'REBALANCE_IN_PROGRESS' || name === 'COORDINATOR_LOAD_IN_PROGRESS') { await this.groupSleep(this.c.net.settings.retryBackoffMs); return }
      if (this.isCoordinatorError(res.errorCode)) { this.markCoordinatorUnknown(name); return }
      throw this.groupError(res.errorCode)
    }
    this.memberId = res.memberId
    this.generation = res.generationId
    this.protocolName = res.protocolName
    this.isLeader = res.leader === res.memberId
    let assignments: {memberId: string; assignment: Buffer}[] = []
    if (this.isLeader && !res.skipAssignment) {
      const members: MemberSubscription[] = res.members.map(m => ({memberId: m.memberId, groupInstanceId: m.groupInstanceId, topics: decodeSubscription(m.metadata)}))
      const all = [...new Set(members.flatMap(m => m.topics))].sort()
      this.leaderTopics = all
      this.c.net.want(all)
      const deadline = Date.now() + Math.min(this.c.settings.defaultApiTimeoutMs, 10000)
      while (all.some(t => !this.c.net.topics.get(t)?.partitions.length) && Date.now() < deadline) {
        await this.c.net.awaitUpdate(deadline).catch(() => {})
      }
      this.leaderTopicsSnapshot = this.partitionSnapshot(all)
      const counts = new Map<string, number>()
      for (const t of all) {
        const n = this.c.net.topics.get(t)?.partitions.length ?? 0
        if (n > 0) counts.set(t, n)
      }
      const assignor = this.c.settings.assignors.find(a => a.name === res.protocolName) ?? this.c.settings.assignors[0]
      const result = assignor.assign(counts, members)
      assignments = [...result].map(([memberId, topics]) => ({memberId, assignment: encodeAssignment(topics)}))
    }
    const sync = await this.c.net.send(this.coordinator, SyncGroup, {
      groupId, generationId: this.generation, memberId: this.memberId, groupInstanceId: this.c.settings.groupInstanceId,
      protocolType: 'consumer', protocolName: res.protocolName, assignments,
    })
    const sname = errorName(sync.errorCode)
    if (sync.errorCode !== 0) {
      if (sname === 'REBALANCE_IN_PROGRESS') return
      if (sname === 'UNKNOWN_MEMBER_ID' || sname === 'ILLEGAL_GENERATION') { this.resetGeneration(sname === 'UNKNOWN_MEMBER_ID'); return }
      if (this.isCoordinatorError(sync.errorCode)) { this.markCoordinatorUnknown(sname); return }
      throw this.groupError(sync.errorCode)
    }
    const tps = decodeAssignment(sync.assignment)
    this.c.setAssignment(tps)
    this.c.net.want(tps.map(t => t.topic))
    this.needsJoin = false
    this.joined = true
    this.c.net.log.info(Loggers.coordinator, `Adding newly assigned partitions: ${tps.map(t => `${t.topic}-${t.partition}`).join(', ')}`)
    this.c.listener.onAssigned?.(tps)
    this.c.fetcher.schedulePump()
  }

  resetGeneration(unknownMember: boolean): void {
    this.generation = -1
    if (unknownMember) this.memberId = ''
    this.needsJoin = true
    this.joined = false
  }

  async heartbeat(): Promise<void> {
    const res = await this.c.net.send(this.coordinator, Heartbeat, {groupId: this.c.settings.groupId!, generationId: this.generation, memberId: this.memberId, groupInstanceId: this.c.settings.groupInstanceId})
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

  async groupLoop(): Promise<void> {
    let failures = 0
    while (!this.c.closed) {
      try {
        if (this.coordinator < 0) {
          await this.findCoordinator()
          continue
        }
        if (this.c.manual) {
          // assign() with a group: the coordinator is only needed for commits.
          await this.groupSleep(this.c.settings.heartbeatIntervalMs)
          continue
        }
        if (this.needsJoin || this.generation < 0) {
          await this.joinGroup()
          failures = 0
          continue
        }
        await this.groupSleep(this.c.settings.heartbeatIntervalMs)
        if (this.c.closed || this.needsJoin) continue
        await this.heartbeat()
        failures = 0
      } catch (error) {
        if (this.c.closed) return
        if (error instanceof KafkaClientError && !error.retriable && error.exceptionClass !== 'TimeoutException' && !(error instanceof ConnectionError)) throw error
        // A lost connection or a timeout: the coordinator is looked up again.
        this.markCoordinatorUnknown((error as Error).message)
        await this.groupSleep(this.c.retryBackoff.backoff(failures++))
      }
    }
  }

  /** LeaveGroup on close (a group member with a coordinator), bounded by the close deadline. */
  async leave(bounded: <T>(p: Promise<T>) => Promise<unknown>, deadline: number): Promise<void> {
    if (!this.c.manual && this.memberId && this.coordinator >= 0 && this.generation >= 0) {
      const groupId = this.c.settings.groupId!
      const memberId = this.memberId
      this.c.net.log.info(Loggers.abstractCoordinator, `Member ${memberId} sending LeaveGroup request to coordinator due to the consumer is being closed`)
      await bounded(this.c.net.send(this.coordinator, LeaveGroup, v => (v >= 3
        ? {groupId, members: [{memberId, groupInstanceId: this.c.settings.groupInstanceId, reason: 'the consumer is being closed'}]}
        : {groupId, memberId}), {timeoutMs: Math.max(100, Math.min(this.c.net.settings.requestTimeoutMs, deadline - Date.now()))}).catch(() => {}))
    }
  }
}
