// The consumer-group admin calls behind kafka-consumer-groups, on the client core's admin
// layer (admin-client.ts): ListGroups (state filter) on every broker, DescribeGroups,
// OffsetFetch, ListOffsets at the partition leaders, OffsetCommit as an admin (generation -1),
// DeleteGroups and OffsetDelete at the group's coordinator. Lost connections and coordinator
// moves are retried until the call's deadline (--timeout); broker errors come back as codes
// for the tool to word as Kafka does.
import {AdminClient, AdminTimeoutError, RetriableCallError, type AdminTarget} from './admin-client.js'
import {ClientConfig} from './config.js'
import {ToolError} from './errors.js'
import {KafkaClientError} from './kafka-errors.js'
import {
  DataCodecs, DeleteGroups, DescribeGroups, ListGroups, ListOffsets, Metadata,
  OffsetCommit, OffsetDelete, OffsetFetch, type ApiSpec, type DeepPartial,
} from '../protocol/messages.js'
import {Reader} from '../protocol/io.js'
import {errorName} from '../protocol/errors.js'
import {javaHashMapOrder} from './format.js'

export interface Node {
  id: number
  host: string
  port: number
}

export interface GroupListing {
  groupId: string
  protocolType: string
  state: string
}

export interface TopicPartition {
  topic: string
  partition: number
}

export interface GroupMember {
  memberId: string
  groupInstanceId: string | null
  clientId: string
  host: string
  /** Decoded consumer assignment (empty when the member has none or it is not a consumer). */
  assignment: TopicPartition[]
}

export interface GroupDescription {
  groupId: string
  errorCode: number
  /** Kafka's state name: Stable, Empty, Dead, PreparingRebalance, CompletingRebalance. */
  state: string
  protocolType: string
  /** The chosen assignor (protocol name), '' when none. */
  assignor: string
  members: GroupMember[]
  coordinator: Node
}

export interface CommittedOffset {
  topic: string
  partition: number
  offset: number
  leaderEpoch: number
  metadata: string | null
}

/** ListOffsets special timestamps. */
export const LATEST_TIMESTAMP = -1
export const EARLIEST_TIMESTAMP = -2

/** A partition-level error from OffsetCommit/OffsetDelete/ListOffsets. */
export interface PartitionError extends TopicPartition {
  errorCode: number
}

const RETRIABLE_GROUP_ERRORS = new Set([14, 15, 16]) // COORDINATOR_LOAD_IN_PROGRESS, COORDINATOR_NOT_AVAILABLE, NOT_COORDINATOR

/** The broker answered with an error for the whole request (a group-level error). */
export class GroupError extends Error {
  constructor(readonly code: number, readonly groupId: string) {
    super(errorName(code))
  }
}

export interface GroupAdminOptions {
  clientId?: string
  /** How long each call may take in all, retries included (--timeout). */
  timeoutMs?: number
  /** Admin client properties (--command-config), Java names. */
  props?: Map<string, string>
}

/** Decodes a member's assignment bytes (ConsumerProtocolAssignment); [] for empty/foreign data. */
export function decodeAssignment(bytes: Buffer | null | undefined): TopicPartition[] {
  if (!bytes || bytes.length < 2) return []
  try {
    const r = new Reader(bytes)
    const version = r.int16()
    const a = DataCodecs.ConsumerProtocolAssignmentCodec.decode(r, Math.min(Math.max(version, 0), DataCodecs.ConsumerProtocolAssignmentCodec.maxVersion))
    const out: TopicPartition[] = []
    for (const t of a.assignedPartitions) for (const p of t.partitions) out.push({topic: t.topic, partition: p})
    return out
  } catch {
    return []
  }
}

export class GroupAdmin {
  readonly client: AdminClient
  readonly timeoutMs: number

  constructor(bootstrap: string, opts: GroupAdminOptions = {}) {
    const cfg = new ClientConfig(opts.props ?? new Map())
    cfg.set('client.id', opts.clientId ?? cfg.get('client.id') ?? 'adminclient-1')
    this.timeoutMs = opts.timeoutMs ?? 5000
    try {
      this.client = new AdminClient(bootstrap, cfg)
    } catch (error) {
      throw new ToolError((error as Error).message)
    }
  }

  close(): void {
    this.client.close()
  }

  /** One admin call with the tool's deadline; running out of time is Kafka's TimeoutException line. */
  private async call<Req, Res, T>(callName: string, target: AdminTarget, api: ApiSpec<Req, Res>, request: DeepPartial<Req> | ((v: number) => DeepPartial<Req>), handle: (res: Res, node: number) => T, maxVersion?: number): Promise<T> {
    try {
      return await this.client.call(callName, target, api, request, {timeoutMs: this.timeoutMs, handle, maxVersion})
    } catch (error) {
      if (error instanceof AdminTimeoutError) {
        const why = error.lastError instanceof RetriableCallError ? error.lastError.message : 'Timed out waiting for a node assignment'
        throw new ToolError(`org.apache.kafka.common.errors.TimeoutException: ${why}. Call: ${callName}`)
      }
      if (error instanceof KafkaClientError && error.exceptionClass === 'UnsupportedVersionException') throw new ToolError(error.message)
      throw error
    }
  }

  /** A coordinator-level error: coordinator moves are retried, others reported. */
  private static groupCode(code: number, groupId: string, what: string): void {
    if (RETRIABLE_GROUP_ERRORS.has(code)) throw new RetriableCallError(`Timed out waiting for ${what}`, code)
    if (code !== 0) throw new GroupError(code, groupId)
  }

  /** Every group the brokers know (ListGroups on each broker), optionally filtered by state. */
  async listGroups(states: string[] = []): Promise<GroupListing[]> {
    const md = await this.call('listConsumerGroups', {kind: 'any'}, Metadata, {topics: [], allowAutoTopicCreation: false}, r => r, 12)
    const out: GroupListing[] = []
    const seen = new Set<string>()
    for (const b of md.brokers) {
      await this.call('listConsumerGroups', {kind: 'node', id: b.nodeId}, ListGroups, {statesFilter: states, typesFilter: []}, (res, node) => {
        if (states.length > 0 && this.client.net.versionFor(node, ListGroups) < 4) throw new ToolError(`The broker at ${b.host}:${b.port} does not support listing groups by state`)
        if (RETRIABLE_GROUP_ERRORS.has(res.errorCode)) throw new RetriableCallError('Timed out waiting for the group coordinator', res.errorCode)
        if (res.errorCode !== 0) throw new GroupError(res.errorCode, '')
        for (const g of res.groups) {
          // Kafka's consumer-group listing: protocol type "consumer" or "" (offsets only).
          if (g.protocolType !== 'consumer' && g.protocolType !== '') continue
          if (seen.has(g.groupId)) continue
          seen.add(g.groupId)
          out.push({groupId: g.groupId, protocolType: g.protocolType, state: g.groupState || 'Unknown'})
        }
      })
    }
    // Kafka's admin client collects the listings in a HashMap keyed by group id.
    return javaHashMapOrder(out, g => g.groupId)
  }

  private coordinatorNode(virtualId: number): Node {
    const n = this.client.net.node(virtualId)
    return {id: 2147483647 - virtualId, host: n?.host ?? '', port: n?.port ?? -1}
  }

  async describeGroup(groupId: string): Promise<GroupDescription> {
    return this.call('describeConsumerGroups', {kind: 'coordinator', key: groupId}, DescribeGroups, {groups: [groupId], includeAuthorizedOperations: false}, (res, node) => {
      const g = res.groups.find(x => x.groupId === groupId) ?? res.groups[0]
      if (!g) throw new RetriableCallError('empty DescribeGroups response')
      if (g.errorCode !== 0 && errorName(g.errorCode) !== 'GROUP_ID_NOT_FOUND') GroupAdmin.groupCode(g.errorCode, groupId, `the coordinator of group ${groupId}`)
      const consumer = g.protocolType === 'consumer' || g.protocolType === ''
      return {
        groupId,
        errorCode: g.errorCode,
        state: g.errorCode !== 0 ? 'Dead' : g.groupState,
        protocolType: g.protocolType,
        assignor: g.protocolData ?? '',
        coordinator: this.coordinatorNode(node),
        members: g.members.map(m => ({
          memberId: m.memberId,
          groupInstanceId: m.groupInstanceId,
          clientId: m.clientId,
          host: m.clientHost,
          assignment: consumer ? decodeAssignment(m.memberAssignment) : [],
        })),
      }
    })
  }

  /**
   * The group's committed offsets (OffsetFetch, all partitions); entries with offset -1 are dropped.
   * Asked without requireStable, as Apache's Admin client does by default: an offset an open
   * transaction holds is answered with the offset committed before it (with requireStable the
   * coordinator would answer UNSTABLE_OFFSET_COMMIT until the transaction ends).
   */
  async committedOffsets(groupId: string): Promise<CommittedOffset[]> {
    return this.call('listConsumerGroupOffsets', {kind: 'coordinator', key: groupId}, OffsetFetch, v => (v >= 8
      ? {groups: [{groupId, memberId: null, memberEpoch: -1, topics: null}], requireStable: false}
      : {groupId, topics: null, requireStable: false}), (res, node) => {
      const v = this.client.net.versionFor(node, OffsetFetch)
      if (v < 2) throw new ToolError('The broker does not support fetching all of a group\'s offsets')
      let code: number
      let topics: {name: string; partitions: {partitionIndex: number; committedOffset: number; committedLeaderEpoch: number; metadata: string | null; errorCode: number}[]}[]
      if (v >= 8) {
        const g = res.groups.find(x => x.groupId === groupId) ?? res.groups[0]
        code = g ? g.errorCode : 0
        topics = g ? g.topics : []
      } else {
        code = res.errorCode
        topics = res.topics
      }
      if (errorName(code) === 'UNSTABLE_OFFSET_COMMIT') throw new RetriableCallError(`Timed out waiting for the offsets of group ${groupId}`)
      GroupAdmin.groupCode(code, groupId, `the offsets of group ${groupId}`)
      const out: CommittedOffset[] = []
      for (const t of topics) {
        for (const p of t.partitions) {
          if (errorName(p.errorCode) === 'UNSTABLE_OFFSET_COMMIT') throw new RetriableCallError(`Timed out waiting for the offsets of group ${groupId}`)
          if (p.errorCode !== 0 || p.committedOffset < 0) continue
          out.push({topic: t.name, partition: p.partitionIndex, offset: Number(p.committedOffset), leaderEpoch: p.committedLeaderEpoch, metadata: p.metadata})
        }
      }
      return out
    })
  }

  /**
   * Partitions of topics (Metadata): topic -> sorted partition ids with their leaders.
   * A topic that does not exist maps to its error code.
   */
  async topicPartitions(topics: string[]): Promise<Map<string, {partitions: {partition: number; leader: number}[]} | {errorCode: number}>> {
    return this.call('describeTopics', {kind: 'any'}, Metadata, {topics: topics.map(name => ({name, topicId: 'AAAAAAAAAAAAAAAAAAAAAA'})), allowAutoTopicCreation: false}, res => {
      const out = new Map<string, {partitions: {partition: number; leader: number}[]} | {errorCode: number}>()
      for (const t of res.topics) {
        if (t.name === null) continue
        if (t.errorCode !== 0) {
          if (errorName(t.errorCode) === 'LEADER_NOT_AVAILABLE') throw new RetriableCallError('Timed out waiting for topic metadata')
          out.set(t.name, {errorCode: t.errorCode})
          continue
        }
        out.set(t.name, {partitions: t.partitions.map(p => ({partition: p.partitionIndex, leader: p.leaderId})).sort((a, b) => a.partition - b.partition)})
      }
      return out
    }, 12)
  }

  /**
   * ListOffsets for each partition at its leader: timestamp -1 latest, -2 earliest, else the
   * first offset at or after it (-1 when there is none). Partitions without a leader or with
   * an error are missing from the result.
   */
  async listOffsets(partitions: TopicPartition[], timestamp: number): Promise<Map<string, number>> {
    const out = new Map<string, number>()
    if (partitions.length === 0) return out
    const deadline = Date.now() + this.timeoutMs
    for (let attempt = 0; ; attempt++) {
      const topics = [...new Set(partitions.map(p => p.topic))]
      const md = await this.call('listOffsets', {kind: 'any'}, Metadata, {topics: topics.map(name => ({name, topicId: 'AAAAAAAAAAAAAAAAAAAAAA'})), allowAutoTopicCreation: false}, r => r, 12)
      const brokers = new Set(md.brokers.map(b => b.nodeId))
      const leaders = new Map<string, number>()
      for (const t of md.topics) for (const p of t.partitions) leaders.set(`${t.name}\0${p.partitionIndex}`, p.leaderId)
      const byLeader = new Map<number, Map<string, number[]>>()
      for (const tp of partitions) {
        const leader = leaders.get(`${tp.topic}\0${tp.partition}`)
        if (leader === undefined || leader < 0 || !brokers.has(leader)) continue
        let m = byLeader.get(leader)
        if (!m) byLeader.set(leader, m = new Map())
        let ps = m.get(tp.topic)
        if (!ps) m.set(tp.topic, ps = [])
        ps.push(tp.partition)
      }
      let moved = false
      for (const [leader, topicMap] of byLeader) {
        await this.call('listOffsets', {kind: 'node', id: leader}, ListOffsets, {
          replicaId: -1,
          isolationLevel: 0,
          topics: [...topicMap].map(([name, ps]) => ({name, partitions: ps.map(partitionIndex => ({partitionIndex, currentLeaderEpoch: -1, timestamp, maxNumOffsets: 1}))})),
        }, (res, node) => {
          const v = this.client.net.versionFor(node, ListOffsets)
          for (const t of res.topics) {
            for (const p of t.partitions) {
              const name = errorName(p.errorCode)
              if (name === 'NOT_LEADER_OR_FOLLOWER' || name === 'LEADER_NOT_AVAILABLE' || name === 'UNKNOWN_LEADER_EPOCH') { moved = true; continue }
              if (p.errorCode !== 0) continue
              const off = v === 0 ? (p.oldStyleOffsets[0] ?? -1) : Number(p.offset)
              out.set(`${t.name}\0${p.partitionIndex}`, off)
            }
          }
        })
      }
      if (!moved) return out
      if (Date.now() >= deadline) throw new ToolError('org.apache.kafka.common.errors.TimeoutException: Timed out waiting for partition leaders. Call: listOffsets')
      await new Promise(r => setTimeout(r, Math.min(1000, 100 * 2 ** attempt)))
    }
  }

  /** Commits offsets for the group as an admin (generation -1); partition errors returned. */
  async alterOffsets(groupId: string, offsets: {topic: string; partition: number; offset: number}[]): Promise<PartitionError[]> {
    const topics = new Map<string, {partitionIndex: number; committedOffset: number; committedLeaderEpoch: number; commitTimestamp: number; committedMetadata: string}[]>()
    for (const o of offsets) {
      let ps = topics.get(o.topic)
      if (!ps) topics.set(o.topic, ps = [])
      ps.push({partitionIndex: o.partition, committedOffset: o.offset, committedLeaderEpoch: -1, commitTimestamp: -1, committedMetadata: ''})
    }
    return this.call('alterConsumerGroupOffsets', {kind: 'coordinator', key: groupId}, OffsetCommit, {
      groupId, generationIdOrMemberEpoch: -1, memberId: '', groupInstanceId: null, retentionTimeMs: -1,
      topics: [...topics].map(([name, partitions]) => ({name, partitions})),
    }, res => {
      const errors: PartitionError[] = []
      for (const t of res.topics) {
        for (const p of t.partitions) {
          if (RETRIABLE_GROUP_ERRORS.has(p.errorCode)) throw new RetriableCallError(`Timed out waiting for the coordinator of group ${groupId}`, p.errorCode)
          if (p.errorCode !== 0) errors.push({topic: t.name, partition: p.partitionIndex, errorCode: p.errorCode})
        }
      }
      return errors
    })
  }

  /** DeleteGroups: group -> error code (0 when deleted). */
  async deleteGroups(groupIds: string[]): Promise<Map<string, number>> {
    const out = new Map<string, number>()
    for (const groupId of groupIds) {
      const code = await this.call('deleteConsumerGroups', {kind: 'coordinator', key: groupId}, DeleteGroups, {groupsNames: [groupId]}, res => {
        const r = res.results.find(x => x.groupId === groupId) ?? res.results[0]
        if (!r) throw new RetriableCallError('empty DeleteGroups response')
        if (RETRIABLE_GROUP_ERRORS.has(r.errorCode)) throw new RetriableCallError(`Timed out waiting for the coordinator of group ${groupId}`, r.errorCode)
        return r.errorCode
      })
      out.set(groupId, code)
    }
    return out
  }

  /** OffsetDelete: the top-level error code and each partition's code. */
  async deleteOffsets(groupId: string, partitions: TopicPartition[]): Promise<{errorCode: number; partitions: PartitionError[]}> {
    const topics = new Map<string, {partitionIndex: number}[]>()
    for (const tp of partitions) {
      let ps = topics.get(tp.topic)
      if (!ps) topics.set(tp.topic, ps = [])
      ps.push({partitionIndex: tp.partition})
    }
    return this.call('deleteConsumerGroupOffsets', {kind: 'coordinator', key: groupId}, OffsetDelete, {groupId, topics: [...topics].map(([name, ps]) => ({name, partitions: ps}))}, res => {
      if (RETRIABLE_GROUP_ERRORS.has(res.errorCode)) throw new RetriableCallError(`Timed out waiting for the coordinator of group ${groupId}`, res.errorCode)
      const out: PartitionError[] = []
      for (const t of res.topics) for (const p of t.partitions) out.push({topic: t.name, partition: p.partitionIndex, errorCode: p.errorCode})
      return {errorCode: res.errorCode, partitions: out}
    })
  }
}
