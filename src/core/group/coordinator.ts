// The classic-protocol group coordinator, in memory, with offsets and group metadata
// persisted to __consumer_offsets in Kafka's record format and loaded back when this
// broker becomes leader of an offsets partition. States: Empty, PreparingRebalance,
// CompletingRebalance, Stable, Dead (Kafka's GroupMetadata state machine).
import {randomUUID} from 'node:crypto'
import {ErrorCode} from '../protocol/errors.js'
import type {Logger} from '../util/log.js'
import {buildBatch} from '../protocol/record-batch.js'
import type {ReplicatedLog} from '../log/replicated-log.js'
import {loadOffsetsPartition} from './loader.js'
import {countOffsets, expiredOffsets, offsetCommitRecords, subscribedTopics, type OffsetCommitEntry as OffsetCommitPartition} from './offsets.js'
import {Group, EMPTY_BUFFER, sameProtocols, type JoinResult, type Member, type SyncResult} from './group.js'
import {encodeGroupKey, encodeGroupValue, encodeOffsetKey, offsetsPartitionFor, type GroupValue} from './records.js'

export const OFFSETS_TOPIC = '__consumer_offsets'

export interface CoordinatorConfig {
  brokerId: number
  offsetsTopicNumPartitions: number
  groupInitialRebalanceDelayMs: number
  groupMinSessionTimeoutMs: number
  groupMaxSessionTimeoutMs: number
  groupMaxSize: number
  offsetMetadataMaxBytes: number
  /** offsets.retention.minutes in ms. */
  offsetsRetentionMs: number
  /** offsets.retention.check.interval.ms: how often expireOffsets runs (0: never). */
  offsetsRetentionCheckIntervalMs: number
}

export interface OffsetsPartitions {
  /** The open, led-by-this-broker partition of __consumer_offsets, if any. */
  partition(index: number): ReplicatedLog | undefined
}

export interface JoinRequest {
  groupId: string
  memberId: string
  groupInstanceId: string | null
  clientId: string
  clientHost: string
  sessionTimeoutMs: number
  rebalanceTimeoutMs: number
  protocolType: string
  protocols: {name: string; metadata: Buffer}[]
  requireKnownMemberId: boolean
}

export type {OffsetCommitEntry as OffsetCommitPartition} from './offsets.js'

function joinError(memberId: string, errorCode: number): JoinResult {
  return {errorCode, generationId: -1, protocolType: null, protocolName: null, leader: '', skipAssignment: false, memberId, members: []}
}

function syncError(errorCode: number): SyncResult {
  return {errorCode, protocolType: null, protocolName: null, assignment: EMPTY_BUFFER}
}

export class GroupCoordinator {
  readonly groups = new Map<string, Group>()
  private readonly loading = new Set<number>()
  private readonly loaded = new Set<number>()
  stopped = false

  private readonly expiryTimer: NodeJS.Timeout | null

  constructor(readonly config: CoordinatorConfig, readonly partitions: OffsetsPartitions, readonly logger: Logger) {
    this.expiryTimer = config.offsetsRetentionCheckIntervalMs > 0 ? setInterval(() => this.expireOffsets(), config.offsetsRetentionCheckIntervalMs) : null
    this.expiryTimer?.unref()
  }

  partitionFor(groupId: string): number {
    return offsetsPartitionFor(groupId, this.config.offsetsTopicNumPartitions)
  }

  /** NONE when this broker coordinates the group, else NOT_COORDINATOR / COORDINATOR_LOAD_IN_PROGRESS. */
  checkCoordinator(groupId: string): number {
    if (this.stopped) return ErrorCode.COORDINATOR_NOT_AVAILABLE
    const p = this.partitionFor(groupId)
    if (this.loading.has(p)) return ErrorCode.COORDINATOR_LOAD_IN_PROGRESS
    const part = this.partitions.partition(p)
    if (!part || !part.isLeader()) return ErrorCode.NOT_COORDINATOR
    if (!this.loaded.has(p)) return ErrorCode.COORDINATOR_LOAD_IN_PROGRESS
    return ErrorCode.NONE
  }

  getGroup(groupId: string): Group | undefined {
    return this.groups.get(groupId)
  }

  private getOrCreate(groupId: string): Group {
    let g = this.groups.get(groupId)
    if (!g) {
      g = new Group(groupId, this.partitionFor(groupId))
      this.groups.set(groupId, g)
    }
    return g
  }

  // ---------------------------------------------------------------- loading

  /**
   * Reads one __consumer_offsets partition back into memory (on becoming its leader). Groups
   * with members come back Stable with their members, assignment and generation, and each
   * member's session starts now (Kafka's loadGroup): a consumer whose coordinator moved goes
   * on heartbeating without a rebalance, and one that died is removed after its session.
   */
  async loadPartition(part: ReplicatedLog): Promise<void> {
    const index = part.index
    if (this.loading.has(index)) return
    this.loading.add(index)
    this.completionsDuringLoad.set(index, [])
    const started = Date.now()
    try {
      const loaded = await loadOffsetsPartition(part, part.logEndOffset, this.logger, OFFSETS_TOPIC)
      for (const [groupId, topics] of loaded.offsets) {
        const g = this.getOrCreate(groupId)
        for (const [topic, parts] of topics) for (const [p, o] of parts) g.setOffset(topic, p, o)
      }
      for (const [groupId, v] of loaded.groups) {
        if (v !== null) this.restoreGroup(this.getOrCreate(groupId), v)
        else if (this.groups.get(groupId)?.hasOffsets() === false) this.groups.delete(groupId)
      }
      for (const [pid, list] of loaded.pendingTxn) for (const t of list) this.getOrCreate(t.group).setPendingTxnOffset(pid, t.topic, t.partition, t.offset)
      for (const [pid, commit] of this.completionsDuringLoad.get(index) ?? []) {
        for (const g of this.groups.values()) if (g.partition === index) g.completeTxn(pid, commit)
      }
      this.loaded.add(index)
      this.logger.info(`Finished loading offsets and group metadata from ${OFFSETS_TOPIC}-${index} in ${Date.now() - started} milliseconds (${loaded.offsetCount} offsets).`)
    } catch (error) {
      this.logger.error(`Error loading offsets from ${OFFSETS_TOPIC}-${index}: ${(error as Error).message}`)
      this.loaded.add(index)
    } finally {
      this.loading.delete(index)
      this.completionsDuringLoad.delete(index)
    }
  }

  /** A group as its last metadata record left it: Empty, or Stable with its members. */
  private restoreGroup(g: Group, v: GroupValue): void {
    if (g.members.size > 0) return
    g.generationId = v.generation
    g.protocolType = v.protocolType === '' ? null : v.protocolType
    if (v.members.length === 0) {
      g.protocolName = null
      g.leaderId = null
      g.transition('Empty')
      return
    }
    g.protocolName = v.protocol
    g.leaderId = v.leader
    for (const mv of v.members) {
      const m: Member = {
        memberId: mv.memberId,
        groupInstanceId: mv.groupInstanceId,
        clientId: mv.clientId,
        clientHost: mv.clientHost,
        sessionTimeoutMs: mv.sessionTimeoutMs,
        rebalanceTimeoutMs: mv.rebalanceTimeoutMs > 0 ? mv.rebalanceTimeoutMs : mv.sessionTimeoutMs,
        protocolType: v.protocolType,
        protocols: [{name: v.protocol ?? '', metadata: mv.subscription}],
        assignment: mv.assignment,
        awaitingJoin: null,
        awaitingSync: null,
        sessionTimer: null,
        isNew: false,
      }
      g.members.set(m.memberId, m)
      if (m.groupInstanceId !== null) g.staticMembers.set(m.groupInstanceId, m.memberId)
    }
    if (g.leaderId === null || !g.members.has(g.leaderId)) g.leaderId = g.members.keys().next().value!
    g.transition('Stable')
    for (const m of g.members.values()) this.startSession(g, m)
  }

  /** Forgets the groups of a partition this broker no longer leads. */
  unloadPartition(index: number): void {
    this.loaded.delete(index)
    for (const [id, g] of this.groups) {
      if (g.partition !== index) continue
      this.clearTimers(g)
      for (const m of g.members.values()) this.failMember(m, ErrorCode.NOT_COORDINATOR)
      this.groups.delete(id)
    }
  }

  // ---------------------------------------------------------------- persistence

  /** The last offset appended by the latest successful append (for waiting on replication). */
  lastAppend: {partition: ReplicatedLog; offset: number} | null = null

  private append(groupId: string, records: {key: Buffer; value: Buffer | null}[]): number {
    this.lastAppend = null
    const p = this.partitions.partition(this.partitionFor(groupId))
    if (!p || !p.isLeader()) return ErrorCode.NOT_COORDINATOR
    const batch = buildBatch({baseOffset: 0, baseTimestamp: Date.now(), records: records.map(r => ({key: r.key, value: r.value, headers: [], timestampDelta: 0}))})
    const out = p.appendAsLeader(batch, -1, 1, 0x7fffffff)
    if (out.errorCode !== 0) {
      this.logger.warn(`Failed to append to ${OFFSETS_TOPIC}-${p.index}: ${out.errorMessage ?? out.errorCode}`)
      return out.errorCode === ErrorCode.NOT_LEADER_OR_FOLLOWER ? ErrorCode.NOT_COORDINATOR : ErrorCode.UNKNOWN_SERVER_ERROR
    }
    this.lastAppend = {partition: p, offset: out.lastOffset}
    return ErrorCode.NONE
  }

  /**
   * Commits offsets and resolves once they are replicated to the in-sync replicas of the
   * offsets partition (as Kafka's commits use acks=-1); REQUEST_TIMED_OUT after timeoutMs.
   */
  async commitOffsetsReplicated(groupId: string, generationId: number, memberId: string, entries: OffsetCommitPartition[], timeoutMs = 5000): Promise<number[]> {
    const codes = this.commitOffsets(groupId, generationId, memberId, entries)
    const appended = this.lastAppend
    if (appended === null || appended.partition.highWatermark > appended.offset) return codes
    const ok = await appended.partition.waitForHighWatermark(appended.offset, timeoutMs)
    return ok ? codes : codes.map(c => (c === 0 ? ErrorCode.REQUEST_TIMED_OUT : c))
  }

  private groupRecord(g: Group): {key: Buffer; value: Buffer | null} {
    const members = [...g.members.values()].map(m => ({
      memberId: m.memberId,
      groupInstanceId: m.groupInstanceId,
      clientId: m.clientId,
      clientHost: m.clientHost,
      rebalanceTimeoutMs: m.rebalanceTimeoutMs,
      sessionTimeoutMs: m.sessionTimeoutMs,
      subscription: m.protocols.find(p => p.name === g.protocolName)?.metadata ?? EMPTY_BUFFER,
      assignment: m.assignment,
    }))
    return {key: encodeGroupKey(g.groupId), value: encodeGroupValue({protocolType: g.protocolType ?? '', generation: g.generationId, protocol: g.protocolName, leader: g.leaderId, currentStateTimestamp: g.currentStateTimestamp, members})}
  }

  // ---------------------------------------------------------------- timers

  private clearTimers(g: Group): void {
    if (g.rebalanceTimer) clearTimeout(g.rebalanceTimer)
    g.rebalanceTimer = null
    for (const t of g.pendingMembers.values()) clearTimeout(t)
    for (const m of g.members.values()) this.stopSession(m)
  }

  private stopSession(m: Member): void {
    if (m.sessionTimer) clearTimeout(m.sessionTimer)
    m.sessionTimer = null
  }

  private startSession(g: Group, m: Member): void {
    this.stopSession(m)
    m.sessionTimer = setTimeout(() => {
      m.sessionTimer = null
      if (g.members.get(m.memberId) !== m || this.stopped) return
      this.logger.info(`Member ${m.memberId} in group ${g.groupId} has failed, removing it from the group`)
      this.removeMember(g, m)
    }, m.sessionTimeoutMs)
    m.sessionTimer.unref?.()
  }

  private failMember(m: Member, code: number): void {
    const j = m.awaitingJoin
    m.awaitingJoin = null
    j?.(joinError(m.memberId, code))
    const s = m.awaitingSync
    m.awaitingSync = null
    s?.(syncError(code))
  }

  // ---------------------------------------------------------------- join / rebalance

  joinGroup(req: JoinRequest): Promise<JoinResult> | JoinResult {
    const c = this.config
    if (req.groupId === '') return joinError(req.memberId, ErrorCode.INVALID_GROUP_ID)
    const coord = this.checkCoordinator(req.groupId)
    if (coord !== 0) return joinError(req.memberId, coord)
    if (req.sessionTimeoutMs < c.groupMinSessionTimeoutMs || req.sessionTimeoutMs > c.groupMaxSessionTimeoutMs) return joinError(req.memberId, ErrorCode.INVALID_SESSION_TIMEOUT)
    let g = this.groups.get(req.groupId)
    if (!g) {
      if (req.memberId !== '') return joinError(req.memberId, ErrorCode.UNKNOWN_MEMBER_ID)
      g = this.getOrCreate(req.groupId)
    }
    if (g.state === 'Dead') return joinError(req.memberId, ErrorCode.COORDINATOR_NOT_AVAILABLE)
    if (!g.supportsProtocols(req.protocolType, req.protocols.map(p => p.name))) return joinError(req.memberId, ErrorCode.INCONSISTENT_GROUP_PROTOCOL)
    if (req.memberId === '' && req.groupInstanceId !== null) {
      const held = g.staticMembers.get(req.groupInstanceId)
      if (held !== undefined && g.members.has(held)) return this.replaceStaticMember(g, held, req)
    }
    if (req.memberId !== '' && g.checkInstance(req.memberId, req.groupInstanceId) !== 0) return joinError(req.memberId, ErrorCode.FENCED_INSTANCE_ID)
    if (req.memberId === '') {
      if (g.members.size + g.pendingMembers.size >= c.groupMaxSize) return joinError('', ErrorCode.GROUP_MAX_SIZE_REACHED)
      const memberId = `${req.groupInstanceId ?? req.clientId}-${randomUUID()}`
      if (req.requireKnownMemberId && req.groupInstanceId === null) {
        const group = g
        const t = setTimeout(() => {
          group.pendingMembers.delete(memberId)
          if (group.state === 'PreparingRebalance') this.maybeCompleteJoin(group)
        }, req.sessionTimeoutMs)
        t.unref?.()
        g.pendingMembers.set(memberId, t)
        return joinError(memberId, ErrorCode.MEMBER_ID_REQUIRED)
      }
      return this.addMemberAndRebalance(g, memberId, req)
    }
    const pending = g.pendingMembers.get(req.memberId)
    if (pending !== undefined) {
      clearTimeout(pending)
      g.pendingMembers.delete(req.memberId)
      return this.addMemberAndRebalance(g, req.memberId, req)
    }
    const m = g.members.get(req.memberId)
    if (!m) return joinError(req.memberId, ErrorCode.UNKNOWN_MEMBER_ID)
    switch (g.state) {
      case 'PreparingRebalance':
        return this.updateMemberAndRebalance(g, m, req)
      case 'CompletingRebalance':
        if (sameProtocols(m.protocols, req.protocols)) return this.joinResultFor(g, m)
        return this.updateMemberAndRebalance(g, m, req)
      case 'Stable':
        if (m.memberId === g.leaderId || !sameProtocols(m.protocols, req.protocols)) return this.updateMemberAndRebalance(g, m, req)
        this.startSession(g, m)
        return this.joinResultFor(g, m)
      default:
        return joinError(req.memberId, ErrorCode.UNKNOWN_MEMBER_ID)
    }
  }

  /**
   * A static member (group.instance.id) rejoining with an empty member id takes over its
   * old member's place under a new id; a Stable group keeps its assignment (no rebalance).
   */
  private replaceStaticMember(g: Group, oldId: string, req: JoinRequest): Promise<JoinResult> | JoinResult {
    const m = g.members.get(oldId)!
    const newId = `${req.groupInstanceId}-${randomUUID()}`
    this.failMember(m, ErrorCode.FENCED_INSTANCE_ID)
    g.members.delete(oldId)
    m.memberId = newId
    g.members.set(newId, m)
    g.staticMembers.set(req.groupInstanceId!, newId)
    if (g.leaderId === oldId) g.leaderId = newId
    this.logger.info(`Static member ${req.groupInstanceId} of group ${g.groupId} rejoined: member id ${oldId} replaced by ${newId}`)
    if (g.state === 'Stable' && sameProtocols(m.protocols, req.protocols)) {
      m.clientId = req.clientId
      m.clientHost = req.clientHost
      m.sessionTimeoutMs = req.sessionTimeoutMs
      this.startSession(g, m)
      this.append(g.groupId, [this.groupRecord(g)])
      return {...this.joinResultFor(g, m), skipAssignment: m.memberId === g.leaderId}
    }
    return this.updateMemberAndRebalance(g, m, req)
  }

  private joinResultFor(g: Group, m: Member): JoinResult {
    const isLeader = m.memberId === g.leaderId
    return {
      errorCode: 0,
      generationId: g.generationId,
      protocolType: g.protocolType,
      protocolName: g.protocolName,
      leader: g.leaderId ?? '',
      skipAssignment: false,
      memberId: m.memberId,
      members: isLeader ? [...g.members.values()].map(x => ({memberId: x.memberId, groupInstanceId: x.groupInstanceId, metadata: x.protocols.find(p => p.name === g.protocolName)?.metadata ?? EMPTY_BUFFER})) : [],
    }
  }

  private addMemberAndRebalance(g: Group, memberId: string, req: JoinRequest): Promise<JoinResult> {
    const m: Member = {
      memberId,
      groupInstanceId: req.groupInstanceId,
      clientId: req.clientId,
      clientHost: req.clientHost,
      sessionTimeoutMs: req.sessionTimeoutMs,
      rebalanceTimeoutMs: req.rebalanceTimeoutMs > 0 ? req.rebalanceTimeoutMs : req.sessionTimeoutMs,
      protocolType: req.protocolType,
      protocols: req.protocols,
      assignment: EMPTY_BUFFER,
      awaitingJoin: null,
      awaitingSync: null,
      sessionTimer: null,
      isNew: true,
    }
    if (g.members.size === 0) g.protocolType = req.protocolType
    if (g.leaderId === null) g.leaderId = memberId
    g.members.set(memberId, m)
    if (req.groupInstanceId !== null) g.staticMembers.set(req.groupInstanceId, memberId)
    // A member joining during the initial delay extends it (Kafka's InitialDelayedJoin).
    if (g.state === 'PreparingRebalance' && g.initialDelayDeadline > 0) g.newMemberJoinedSinceArm = true
    const p = new Promise<JoinResult>(resolve => { m.awaitingJoin = resolve })
    // A new member that never completes the join is dropped after its session timeout.
    this.maybePrepareRebalance(g, `Adding new member ${memberId} with group instance id ${req.groupInstanceId ?? 'None'}`)
    this.maybeCompleteJoin(g)
    return p
  }

  private updateMemberAndRebalance(g: Group, m: Member, req: JoinRequest): Promise<JoinResult> {
    m.protocols = req.protocols
    m.sessionTimeoutMs = req.sessionTimeoutMs
    m.rebalanceTimeoutMs = req.rebalanceTimeoutMs > 0 ? req.rebalanceTimeoutMs : req.sessionTimeoutMs
    m.clientId = req.clientId
    m.clientHost = req.clientHost
    const previous = m.awaitingJoin
    const p = new Promise<JoinResult>(resolve => { m.awaitingJoin = resolve })
    previous?.(joinError(m.memberId, ErrorCode.REBALANCE_IN_PROGRESS))
    this.stopSession(m)
    this.maybePrepareRebalance(g, `Updating metadata for member ${m.memberId}`)
    this.maybeCompleteJoin(g)
    return p
  }

  private maybePrepareRebalance(g: Group, reason: string): void {
    if (g.state === 'Stable' || g.state === 'CompletingRebalance' || g.state === 'Empty') this.prepareRebalance(g, reason)
  }

  private prepareRebalance(g: Group, reason: string): void {
    if (g.state === 'CompletingRebalance') {
      for (const m of g.members.values()) {
        m.assignment = EMPTY_BUFFER
        const s = m.awaitingSync
        m.awaitingSync = null
        s?.(syncError(ErrorCode.REBALANCE_IN_PROGRESS))
      }
    }
    const wasEmpty = g.state === 'Empty'
    g.transition('PreparingRebalance')
    this.logger.info(`Preparing to rebalance group ${g.groupId} in state PreparingRebalance with old generation ${g.generationId} (${OFFSETS_TOPIC}-${g.partition}) (reason: ${reason})`)
    if (g.rebalanceTimer) clearTimeout(g.rebalanceTimer)
    const delay = this.config.groupInitialRebalanceDelayMs
    if (wasEmpty && delay > 0) {
      // InitialDelayedJoin: wait for more members, extending by the delay up to the rebalance timeout.
      const limit = Date.now() + Math.max(g.maxRebalanceTimeoutMs(), delay)
      g.initialDelayDeadline = limit
      const arm = (ms: number) => {
        g.rebalanceTimer = setTimeout(() => {
          g.rebalanceTimer = null
          const remaining = g.initialDelayDeadline - Date.now()
          if (g.state === 'PreparingRebalance' && g.newMemberJoinedSinceArm && remaining > 0) {
            g.newMemberJoinedSinceArm = false
            arm(Math.min(delay, remaining))
            return
          }
          g.initialDelayDeadline = 0
          this.completeJoin(g)
        }, ms)
      }
      g.newMemberJoinedSinceArm = false
      arm(delay)
    } else {
      g.initialDelayDeadline = 0
      g.rebalanceTimer = setTimeout(() => {
        g.rebalanceTimer = null
        this.completeJoin(g)
      }, Math.max(g.maxRebalanceTimeoutMs(), 1))
    }
  }

  private maybeCompleteJoin(g: Group): void {
    if (g.state !== 'PreparingRebalance') return
    if (g.initialDelayDeadline > 0) return
    if (g.allMembersJoined()) {
      if (g.rebalanceTimer) clearTimeout(g.rebalanceTimer)
      g.rebalanceTimer = null
      this.completeJoin(g)
    }
  }

  private completeJoin(g: Group): void {
    if (g.state !== 'PreparingRebalance') return
    // Members that did not rejoin in time are removed.
    for (const m of [...g.members.values()]) {
      if (m.awaitingJoin === null) {
        this.logger.info(`Member ${m.memberId} in group ${g.groupId} did not rejoin in time, removing it`)
        this.stopSession(m)
        g.members.delete(m.memberId)
        if (m.groupInstanceId !== null && g.staticMembers.get(m.groupInstanceId) === m.memberId) g.staticMembers.delete(m.groupInstanceId)
      }
    }
    if (g.leaderId !== null && !g.members.has(g.leaderId)) g.leaderId = g.members.size > 0 ? g.members.keys().next().value! : null
    g.generationId++
    if (g.members.size === 0) {
      g.transition('Empty')
      g.protocolName = null
      g.leaderId = null
      this.logger.info(`Group ${g.groupId} with generation ${g.generationId} is now empty (${OFFSETS_TOPIC}-${g.partition})`)
      this.append(g.groupId, [this.groupRecord(g)])
      return
    }
    g.protocolName = g.selectProtocol()
    g.transition('CompletingRebalance')
    this.logger.info(`Stabilized group ${g.groupId} generation ${g.generationId} (${OFFSETS_TOPIC}-${g.partition}) with ${g.members.size} members`)
    for (const m of g.members.values()) {
      const resolve = m.awaitingJoin
      m.awaitingJoin = null
      m.isNew = false
      resolve?.(this.joinResultFor(g, m))
      this.startSession(g, m)
    }
  }

  private removeMember(g: Group, m: Member): void {
    this.stopSession(m)
    this.failMember(m, ErrorCode.UNKNOWN_MEMBER_ID)
    g.members.delete(m.memberId)
    if (m.groupInstanceId !== null && g.staticMembers.get(m.groupInstanceId) === m.memberId) g.staticMembers.delete(m.groupInstanceId)
    if (g.leaderId === m.memberId) g.leaderId = g.members.size > 0 ? g.members.keys().next().value! : null
    switch (g.state) {
      case 'Stable':
      case 'CompletingRebalance':
        this.prepareRebalance(g, `removing member ${m.memberId} on LeaveGroup or session expiry`)
        break
      case 'PreparingRebalance':
        this.maybeCompleteJoin(g)
        break
    }
  }

  // ---------------------------------------------------------------- sync / heartbeat / leave

  syncGroup(groupId: string, generationId: number, memberId: string, protocolType: string | null, protocolName: string | null, assignments: {memberId: string; assignment: Buffer}[], groupInstanceId: string | null = null): Promise<SyncResult> | SyncResult {
    const coord = this.checkCoordinator(groupId)
    if (coord !== 0) return syncError(coord)
    const g = this.groups.get(groupId)
    if (!g) return syncError(ErrorCode.UNKNOWN_MEMBER_ID)
    if (g.state === 'Dead') return syncError(ErrorCode.COORDINATOR_NOT_AVAILABLE)
    if (g.checkInstance(memberId, groupInstanceId) !== 0) return syncError(ErrorCode.FENCED_INSTANCE_ID)
    const m = g.members.get(memberId)
    if (!m) return syncError(ErrorCode.UNKNOWN_MEMBER_ID)
    if (generationId !== g.generationId) return syncError(ErrorCode.ILLEGAL_GENERATION)
    if ((protocolType !== null && protocolType !== g.protocolType) || (protocolName !== null && protocolName !== g.protocolName)) return syncError(ErrorCode.INCONSISTENT_GROUP_PROTOCOL)
    switch (g.state) {
      case 'Empty':
        return syncError(ErrorCode.UNKNOWN_MEMBER_ID)
      case 'PreparingRebalance':
        return syncError(ErrorCode.REBALANCE_IN_PROGRESS)
      case 'Stable':
        this.startSession(g, m)
        return {errorCode: 0, protocolType: g.protocolType, protocolName: g.protocolName, assignment: m.assignment}
      case 'CompletingRebalance': {
        const p = new Promise<SyncResult>(resolve => { m.awaitingSync = resolve })
        this.startSession(g, m)
        if (memberId === g.leaderId) {
          const byMember = new Map(assignments.map(a => [a.memberId, a.assignment]))
          for (const x of g.members.values()) x.assignment = byMember.get(x.memberId) ?? EMPTY_BUFFER
          // As Kafka's storeGroup: the members get their assignment once the group's record
          // is on the in-sync replicas, so a coordinator that takes over knows them.
          const code = this.append(g.groupId, [this.groupRecord(g)])
          const appended = this.lastAppend
          if (code === 0 && appended !== null && appended.partition.highWatermark <= appended.offset) {
            void appended.partition.waitForHighWatermark(appended.offset, 5000).then(ok => this.completeSync(g, generationId, ok ? 0 : ErrorCode.COORDINATOR_NOT_AVAILABLE))
          } else {
            this.completeSync(g, generationId, code)
          }
        }
        return p
      }
    }
  }

  /** Answers the members waiting in SyncGroup once the leader's assignment is stored (or failed to be). */
  private completeSync(g: Group, generationId: number, code: number): void {
    if (g.state !== 'CompletingRebalance' || g.generationId !== generationId) return
    if (code !== 0) {
      for (const x of g.members.values()) x.assignment = EMPTY_BUFFER
      for (const x of g.members.values()) {
        const s = x.awaitingSync
        x.awaitingSync = null
        s?.(syncError(code))
      }
      this.prepareRebalance(g, 'error persisting the group metadata')
      return
    }
    g.transition('Stable')
    for (const x of g.members.values()) {
      const s = x.awaitingSync
      x.awaitingSync = null
      s?.({errorCode: 0, protocolType: g.protocolType, protocolName: g.protocolName, assignment: x.assignment})
    }
  }

  heartbeat(groupId: string, generationId: number, memberId: string, groupInstanceId: string | null = null): number {
    const coord = this.checkCoordinator(groupId)
    if (coord !== 0) return coord
    const g = this.groups.get(groupId)
    if (!g) return ErrorCode.UNKNOWN_MEMBER_ID
    if (g.state === 'Dead') return ErrorCode.COORDINATOR_NOT_AVAILABLE
    if (g.state === 'Empty') return ErrorCode.UNKNOWN_MEMBER_ID
    if (g.checkInstance(memberId, groupInstanceId) !== 0) return ErrorCode.FENCED_INSTANCE_ID
    const m = g.members.get(memberId)
    if (!m) return ErrorCode.UNKNOWN_MEMBER_ID
    if (generationId !== g.generationId) return ErrorCode.ILLEGAL_GENERATION
    if (m.awaitingJoin === null) this.startSession(g, m)
    if (g.state === 'PreparingRebalance') return ErrorCode.REBALANCE_IN_PROGRESS
    return ErrorCode.NONE
  }

  leaveGroup(groupId: string, members: {memberId: string; groupInstanceId: string | null}[]): {errorCode: number; members: {memberId: string; groupInstanceId: string | null; errorCode: number}[]} {
    const coord = this.checkCoordinator(groupId)
    if (coord !== 0) return {errorCode: coord, members: []}
    const g = this.groups.get(groupId)
    if (!g || g.state === 'Dead') return {errorCode: ErrorCode.UNKNOWN_MEMBER_ID, members: members.map(m => ({...m, errorCode: ErrorCode.UNKNOWN_MEMBER_ID}))}
    const out = members.map(x => {
      const pending = g.pendingMembers.get(x.memberId)
      if (pending !== undefined) {
        clearTimeout(pending)
        g.pendingMembers.delete(x.memberId)
        this.maybeCompleteJoin(g)
        return {...x, errorCode: 0}
      }
      const id = x.memberId === '' && x.groupInstanceId !== null ? g.staticMembers.get(x.groupInstanceId) ?? '' : x.memberId
      if (g.checkInstance(id, x.groupInstanceId) !== 0) return {...x, errorCode: ErrorCode.FENCED_INSTANCE_ID}
      const m = g.members.get(id)
      if (!m) return {...x, errorCode: ErrorCode.UNKNOWN_MEMBER_ID}
      this.logger.info(`Member ${m.memberId} has left group ${groupId} through explicit LeaveGroup request`)
      this.removeMember(g, m)
      return {...x, errorCode: 0}
    })
    return {errorCode: 0, members: out}
  }

  // ---------------------------------------------------------------- offsets

  commitOffsets(groupId: string, generationId: number, memberId: string, entries: OffsetCommitPartition[]): number[] {
    const all = (code: number) => entries.map(() => code)
    const coord = this.checkCoordinator(groupId)
    if (coord !== 0) return all(coord)
    let g = this.groups.get(groupId)
    if (!g) {
      if (generationId >= 0) return all(ErrorCode.ILLEGAL_GENERATION)
      g = this.getOrCreate(groupId)
    } else if (g.state === 'Dead') {
      return all(ErrorCode.COORDINATOR_NOT_AVAILABLE)
    } else if (generationId < 0 && g.state === 'Empty') {
      // A standalone commit (no group management), e.g. an admin tool.
    } else if (g.state === 'CompletingRebalance') {
      return all(ErrorCode.REBALANCE_IN_PROGRESS)
    } else if (!g.members.has(memberId)) {
      return all(ErrorCode.UNKNOWN_MEMBER_ID)
    } else if (generationId !== g.generationId) {
      return all(ErrorCode.ILLEGAL_GENERATION)
    }
    const now = Date.now()
    const {codes, records, values} = offsetCommitRecords(groupId, entries, this.config.offsetMetadataMaxBytes, now)
    if (records.length === 0) return codes
    const code = this.append(groupId, records)
    if (code !== 0) return entries.map((_, i) => (codes[i] !== 0 ? codes[i] : code))
    const appended = this.lastAppend
    const member = g.members.get(memberId)
    if (member && member.awaitingJoin === null) this.startSession(g, member)
    entries.forEach((e, i) => {
      const v = values[i]
      if (v) g!.setOffset(e.topic, e.partition, v)
    })
    this.lastAppend = appended
    return codes
  }

  /**
   * TxnOffsetCommit: offsets written to __consumer_offsets as records of the producer's
   * transaction; they stay pending (invisible to OffsetFetch) until its COMMIT marker reaches
   * the offsets partition (completeTxn). Resolves once the in-sync replicas have them.
   */
  async txnCommitOffsets(groupId: string, producerId: number, producerEpoch: number, generationId: number, memberId: string, groupInstanceId: string | null, entries: OffsetCommitPartition[], timeoutMs = 5000): Promise<number[]> {
    const all = (code: number) => entries.map(() => code)
    const coord = this.checkCoordinator(groupId)
    if (coord !== 0) return all(coord)
    let g = this.groups.get(groupId)
    if (!g) g = this.getOrCreate(groupId)
    else if (g.state === 'Dead') return all(ErrorCode.COORDINATOR_NOT_AVAILABLE)
    if (groupInstanceId !== null && g.checkInstance(memberId, groupInstanceId) !== 0) return all(ErrorCode.FENCED_INSTANCE_ID)
    if (memberId !== '' && !g.members.has(memberId)) return all(ErrorCode.UNKNOWN_MEMBER_ID)
    if (generationId >= 0 && generationId !== g.generationId) return all(ErrorCode.ILLEGAL_GENERATION)
    const now = Date.now()
    const {codes, records, values} = offsetCommitRecords(groupId, entries, this.config.offsetMetadataMaxBytes, now)
    if (records.length === 0) return codes
    const p = this.partitions.partition(this.partitionFor(groupId))
    if (!p || !p.isLeader()) return all(ErrorCode.NOT_COORDINATOR)
    const batch = buildBatch({baseOffset: 0, baseTimestamp: now, producerId, producerEpoch, baseSequence: -1, isTransactional: true, records: records.map(r => ({key: r.key, value: r.value}))})
    const out = p.appendAsLeader(batch, -1, 1, 0x7fffffff)
    if (out.errorCode !== 0) {
      const code = out.errorCode === ErrorCode.NOT_LEADER_OR_FOLLOWER ? ErrorCode.NOT_COORDINATOR : out.errorCode === ErrorCode.INVALID_PRODUCER_EPOCH ? ErrorCode.PRODUCER_FENCED : ErrorCode.UNKNOWN_SERVER_ERROR
      return entries.map((_, i) => (codes[i] !== 0 ? codes[i] : code))
    }
    entries.forEach((e, i) => {
      const v = values[i]
      if (v) g!.setPendingTxnOffset(producerId, e.topic, e.partition, v)
    })
    if (p.highWatermark <= out.lastOffset && !(await p.waitForHighWatermark(out.lastOffset, timeoutMs))) return codes.map(c => (c === 0 ? ErrorCode.REQUEST_TIMED_OUT : c))
    return codes
  }

  /** A transaction marker reached __consumer_offsets-<index>: the producer's offsets there are committed or dropped. */
  completeTxn(index: number, producerId: number, commit: boolean): void {
    // A marker written while the partition loads may lie past what the load reads: apply it after.
    const pending = this.completionsDuringLoad.get(index)
    if (pending) pending.push([producerId, commit])
    for (const g of this.groups.values()) if (g.partition === index) g.completeTxn(producerId, commit)
  }

  private readonly completionsDuringLoad = new Map<number, Array<[number, boolean]>>()

  /** Deletes groups (DeleteGroups): only when empty; writes tombstones for the group and its offsets. */
  deleteGroup(groupId: string): number {
    const coord = this.checkCoordinator(groupId)
    if (coord !== 0) return coord
    const g = this.groups.get(groupId)
    if (!g || g.state === 'Dead') return ErrorCode.GROUP_ID_NOT_FOUND
    if (g.state !== 'Empty') return ErrorCode.NON_EMPTY_GROUP
    const records: {key: Buffer; value: Buffer | null}[] = []
    for (const [topic, parts] of g.offsets) for (const p of parts.keys()) records.push({key: encodeOffsetKey(groupId, topic, p), value: null})
    records.push({key: encodeGroupKey(groupId), value: null})
    const code = this.append(groupId, records)
    if (code !== 0) return code
    this.clearTimers(g)
    g.transition('Dead')
    this.groups.delete(groupId)
    return ErrorCode.NONE
  }

  /**
   * OffsetDelete: drops committed offsets. Allowed for an empty group; in an active consumer
   * group only for topics no member subscribes to (GROUP_SUBSCRIBED_TO_TOPIC otherwise).
   */
  deleteOffsets(groupId: string, partitions: {topic: string; partition: number}[]): {errorCode: number; codes: number[]} {
    const coord = this.checkCoordinator(groupId)
    if (coord !== 0) return {errorCode: coord, codes: []}
    const g = this.groups.get(groupId)
    if (!g || g.state === 'Dead') return {errorCode: ErrorCode.GROUP_ID_NOT_FOUND, codes: []}
    let subscribed = new Set<string>()
    if (g.state !== 'Empty') {
      if (g.protocolType !== 'consumer') return {errorCode: ErrorCode.NON_EMPTY_GROUP, codes: []}
      subscribed = subscribedTopics(g)
    }
    const codes = partitions.map(p => (subscribed.has(p.topic) ? ErrorCode.GROUP_SUBSCRIBED_TO_TOPIC : 0))
    const records: {key: Buffer; value: Buffer | null}[] = []
    partitions.forEach((p, i) => {
      if (codes[i] === 0 && g.offset(p.topic, p.partition)) records.push({key: encodeOffsetKey(groupId, p.topic, p.partition), value: null})
    })
    if (records.length > 0) {
      const code = this.append(groupId, records)
      if (code !== 0) return {errorCode: code, codes: []}
    }
    partitions.forEach((p, i) => {
      if (codes[i] === 0) g.offsets.get(p.topic)?.delete(p.partition)
    })
    return {errorCode: 0, codes}
  }

  /** Removes committed offsets of a deleted topic from every group. */
  topicDeleted(topic: string): void {
    for (const g of this.groups.values()) {
      const parts = g.offsets.get(topic)
      if (!parts || parts.size === 0) continue
      const records = [...parts.keys()].map(p => ({key: encodeOffsetKey(g.groupId, topic, p), value: null}))
      this.append(g.groupId, records)
      g.offsets.delete(topic)
    }
  }

  /**
   * offsets.retention.minutes, as Kafka 2.1+ applies it (KIP-211): the offsets of an Empty group
   * expire once the group has been empty for the retention period; a consumer group with
   * members keeps the offsets of the topics its members subscribe to and loses those of other
   * topics the retention period after their commit. Expired offsets get tombstones in
   * __consumer_offsets; an Empty group left without offsets is removed (Dead) with a tombstone.
   * Returns how many offsets expired.
   */
  expireOffsets(now = Date.now()): number {
    const retention = this.config.offsetsRetentionMs
    let total = 0
    for (const g of [...this.groups.values()]) {
      if (g.state === 'Dead' || this.checkCoordinator(g.groupId) !== 0) continue
      const expired = expiredOffsets(g, retention, now)
      if (expired.length === 0) continue
      const records: {key: Buffer; value: Buffer | null}[] = expired.map(e => ({key: encodeOffsetKey(g.groupId, e.topic, e.partition), value: null}))
      const removeGroup = g.state === 'Empty' && expired.length === countOffsets(g)
      if (removeGroup) records.push({key: encodeGroupKey(g.groupId), value: null})
      if (this.append(g.groupId, records) !== 0) continue
      for (const e of expired) {
        const parts = g.offsets.get(e.topic)
        parts?.delete(e.partition)
        if (parts && parts.size === 0) g.offsets.delete(e.topic)
      }
      total += expired.length
      if (removeGroup) {
        this.clearTimers(g)
        g.transition('Dead')
        this.groups.delete(g.groupId)
      }
    }
    if (total > 0) this.logger.info(`Removed ${total} expired offsets in ${Date.now() - now} milliseconds.`)
    return total
  }

  shutdown(): void {
    this.stopped = true
    if (this.expiryTimer) clearInterval(this.expiryTimer)
    for (const g of this.groups.values()) {
      this.clearTimers(g)
      for (const m of g.members.values()) this.failMember(m, ErrorCode.NOT_COORDINATOR)
    }
  }
}
