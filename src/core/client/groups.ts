// The consumer-group admin calls behind kafka-consumer-groups, on kafkit's protocol layer:
// ListGroups (state filter), DescribeGroups, OffsetFetch, ListOffsets at the partition
// leaders, OffsetCommit as an admin (generation -1), DeleteGroups and OffsetDelete at the
// group's coordinator. Connection problems and coordinator moves are retried until the
// call's deadline; broker errors come back as codes for the tool to word as Kafka does.
import {KafkaConnection, ConnectionError} from '../protocol/client.js'
import {parseBootstrap} from './connection.js'
import {ConnectionPool} from './pool.js'
import {ToolError} from './errors.js'
import {
  DataCodecs, DeleteGroups, DescribeGroups, FindCoordinator, ListGroups, ListOffsets, Metadata,
  OffsetCommit, OffsetDelete, OffsetFetch, type ApiSpec,
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

class Retry extends Error {}

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
}

function versionFor(c: KafkaConnection, api: ApiSpec<any, any>, max = api.maxStableVersion): number {
  const r = c.brokerVersions.get(api.apiKey)
  if (!r) return -1
  const v = Math.min(r[1], max)
  return v >= r[0] && v >= api.minVersion ? v : -1
}

function need(c: KafkaConnection, api: ApiSpec<any, any>, max?: number): number {
  const v = versionFor(c, api, max)
  if (v < 0) throw new ToolError(`The broker at ${c.where} does not support ${api.name}`)
  return v
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
  private readonly pool: ConnectionPool
  private readonly clientId: string
  readonly timeoutMs: number

  constructor(bootstrap: string, opts: GroupAdminOptions = {}) {
    let endpoints: {host: string; port: number}[]
    try {
      endpoints = parseBootstrap(bootstrap)
    } catch (error) {
      throw new ToolError((error as Error).message)
    }
    this.clientId = opts.clientId ?? 'adminclient-1'
    this.timeoutMs = opts.timeoutMs ?? 5000
    this.pool = new ConnectionPool(endpoints, this.clientId)
  }

  close(): void {
    this.pool.close()
  }

  /** Runs fn, retrying connection failures and coordinator moves until the deadline. */
  private async call<T>(callName: string, fn: (deadline: number) => Promise<T>): Promise<T> {
    const deadline = Date.now() + this.timeoutMs
    let backoff = 50
    for (;;) {
      try {
        return await fn(deadline)
      } catch (error) {
        if (!(error instanceof ConnectionError) && !(error instanceof Retry)) throw error
        this.pool.prune()
        if (Date.now() + backoff >= deadline) {
          throw new ToolError(error instanceof Retry
            ? `org.apache.kafka.common.errors.TimeoutException: ${error.message}. Call: ${callName}`
            : `org.apache.kafka.common.errors.TimeoutException: Timed out waiting for a node assignment. Call: ${callName}`)
        }
        await new Promise(r => setTimeout(r, backoff))
        backoff = Math.min(backoff * 2, 500)
      }
    }
  }

  private reqTimeout(deadline: number): number {
    return Math.max(100, deadline - Date.now())
  }

  /** The coordinator node of a group (FindCoordinator, key type 0). */
  private async coordinator(groupId: string, deadline: number): Promise<{conn: KafkaConnection; node: Node}> {
    const c = await this.pool.anyBroker(deadline)
    const v = need(c, FindCoordinator)
    const res = await c.send(FindCoordinator, v, v >= 4 ? {keyType: 0, coordinatorKeys: [groupId]} : {key: groupId, keyType: 0}, this.reqTimeout(deadline))
    let node: Node
    let code: number
    if (v >= 4) {
      const x = res.coordinators[0]
      if (!x) throw new Retry('empty FindCoordinator response')
      code = x.errorCode
      node = {id: x.nodeId, host: x.host, port: x.port}
    } else {
      code = res.errorCode
      node = {id: res.nodeId, host: res.host, port: res.port}
    }
    if (RETRIABLE_GROUP_ERRORS.has(code)) throw new Retry(`Timed out waiting for the coordinator of group ${groupId}`)
    if (code !== 0) throw new GroupError(code, groupId)
    return {conn: await this.pool.connTo(node.host, node.port, deadline), node}
  }

  /** Every group the brokers know (ListGroups on each broker), optionally filtered by state. */
  async listGroups(states: string[] = []): Promise<GroupListing[]> {
    return this.call('listConsumerGroups', async deadline => {
      const first = await this.pool.anyBroker(deadline)
      const md = await first.send(Metadata, need(first, Metadata), {topics: [], allowAutoTopicCreation: false}, this.reqTimeout(deadline))
      const nodes = md.brokers.length ? md.brokers.map(b => ({host: b.host, port: b.port})) : [{host: first.host, port: first.port}]
      const out: GroupListing[] = []
      const seen = new Set<string>()
      for (const n of nodes) {
        const c = await this.pool.connTo(n.host, n.port, deadline)
        const v = need(c, ListGroups)
        if (states.length > 0 && v < 4) throw new ToolError(`The broker at ${c.where} does not support listing groups by state`)
        const res = await c.send(ListGroups, v, {statesFilter: states, typesFilter: []}, this.reqTimeout(deadline))
        if (RETRIABLE_GROUP_ERRORS.has(res.errorCode)) throw new Retry('Timed out waiting for the group coordinator')
        if (res.errorCode !== 0) throw new GroupError(res.errorCode, '')
        for (const g of res.groups) {
          // Kafka's consumer-group listing: protocol type "consumer" or "" (offsets only).
          if (g.protocolType !== 'consumer' && g.protocolType !== '') continue
          if (seen.has(g.groupId)) continue
          seen.add(g.groupId)
          out.push({groupId: g.groupId, protocolType: g.protocolType, state: g.groupState || 'Unknown'})
        }
      }
      // Kafka's admin client collects the listings in a HashMap keyed by group id.
      return javaHashMapOrder(out, g => g.groupId)
    })
  }

  async describeGroup(groupId: string): Promise<GroupDescription> {
    return this.call('describeConsumerGroups', async deadline => {
      const {conn, node} = await this.coordinator(groupId, deadline)
      const res = await conn.send(DescribeGroups, need(conn, DescribeGroups), {groups: [groupId], includeAuthorizedOperations: false}, this.reqTimeout(deadline))
      const g = res.groups.find(x => x.groupId === groupId) ?? res.groups[0]
      if (!g) throw new Retry('empty DescribeGroups response')
      if (RETRIABLE_GROUP_ERRORS.has(g.errorCode)) throw new Retry(`Timed out waiting for the coordinator of group ${groupId}`)
      if (g.errorCode !== 0 && errorName(g.errorCode) !== 'GROUP_ID_NOT_FOUND') throw new GroupError(g.errorCode, groupId)
      const consumer = g.protocolType === 'consumer' || g.protocolType === ''
      return {
        groupId,
        errorCode: g.errorCode,
        state: g.errorCode !== 0 ? 'Dead' : g.groupState,
        protocolType: g.protocolType,
        assignor: g.protocolData ?? '',
        coordinator: node,
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

  /** The group's committed offsets (OffsetFetch, all partitions); entries with offset -1 are dropped. */
  async committedOffsets(groupId: string): Promise<CommittedOffset[]> {
    return this.call('listConsumerGroupOffsets', async deadline => {
      const {conn} = await this.coordinator(groupId, deadline)
      const v = need(conn, OffsetFetch)
      if (v < 2) throw new ToolError(`The broker at ${conn.where} does not support fetching all of a group's offsets`)
      const res = await conn.send(OffsetFetch, v, v >= 8
        ? {groups: [{groupId, memberId: null, memberEpoch: -1, topics: null}], requireStable: true}
        : {groupId, topics: null, requireStable: v >= 7}, this.reqTimeout(deadline))
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
      if (RETRIABLE_GROUP_ERRORS.has(code) || errorName(code) === 'UNSTABLE_OFFSET_COMMIT') throw new Retry(`Timed out waiting for the offsets of group ${groupId}`)
      if (code !== 0) throw new GroupError(code, groupId)
      const out: CommittedOffset[] = []
      for (const t of topics) {
        for (const p of t.partitions) {
          if (errorName(p.errorCode) === 'UNSTABLE_OFFSET_COMMIT') throw new Retry(`Timed out waiting for the offsets of group ${groupId}`)
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
    return this.call('describeTopics', async deadline => {
      const c = await this.pool.anyBroker(deadline)
      const v = need(c, Metadata)
      const res = await c.send(Metadata, v, {topics: topics.map(name => ({name, topicId: 'AAAAAAAAAAAAAAAAAAAAAA'})), allowAutoTopicCreation: false}, this.reqTimeout(deadline))
      const out = new Map<string, {partitions: {partition: number; leader: number}[]} | {errorCode: number}>()
      for (const t of res.topics) {
        if (t.name === null) continue
        if (t.errorCode !== 0) {
          if (errorName(t.errorCode) === 'LEADER_NOT_AVAILABLE') throw new Retry('Timed out waiting for topic metadata')
          out.set(t.name, {errorCode: t.errorCode})
          continue
        }
        out.set(t.name, {partitions: t.partitions.map(p => ({partition: p.partitionIndex, leader: p.leaderId})).sort((a, b) => a.partition - b.partition)})
      }
      return out
    })
  }

  /**
   * ListOffsets for each partition at its leader: timestamp -1 latest, -2 earliest, else the
   * first offset at or after it (-1 when there is none). Partitions without a leader or with
   * an error are missing from the result.
   */
  async listOffsets(partitions: TopicPartition[], timestamp: number): Promise<Map<string, number>> {
    const out = new Map<string, number>()
    if (partitions.length === 0) return out
    return this.call('listOffsets', async deadline => {
      const first = await this.pool.anyBroker(deadline)
      const topics = [...new Set(partitions.map(p => p.topic))]
      const md = await first.send(Metadata, need(first, Metadata), {topics: topics.map(name => ({name, topicId: 'AAAAAAAAAAAAAAAAAAAAAA'})), allowAutoTopicCreation: false}, this.reqTimeout(deadline))
      const brokers = new Map(md.brokers.map(b => [b.nodeId, b]))
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
      for (const [leader, topicMap] of byLeader) {
        const b = brokers.get(leader)!
        const c = await this.pool.connTo(b.host, b.port, deadline)
        const v = need(c, ListOffsets)
        const res = await c.send(ListOffsets, v, {
          replicaId: -1,
          isolationLevel: 0,
          topics: [...topicMap].map(([name, ps]) => ({name, partitions: ps.map(partitionIndex => ({partitionIndex, currentLeaderEpoch: -1, timestamp, maxNumOffsets: 1}))})),
        }, this.reqTimeout(deadline))
        for (const t of res.topics) {
          for (const p of t.partitions) {
            const name = errorName(p.errorCode)
            if (name === 'NOT_LEADER_OR_FOLLOWER' || name === 'LEADER_NOT_AVAILABLE' || name === 'UNKNOWN_LEADER_EPOCH') throw new Retry('Timed out waiting for partition leaders')
            if (p.errorCode !== 0) continue
            const off = v === 0 ? (p.oldStyleOffsets[0] ?? -1) : Number(p.offset)
            out.set(`${t.name}\0${p.partitionIndex}`, off)
          }
        }
      }
      return out
    })
  }

  /** Commits offsets for the group as an admin (generation -1); partition errors returned. */
  async alterOffsets(groupId: string, offsets: {topic: string; partition: number; offset: number}[]): Promise<PartitionError[]> {
    return this.call('alterConsumerGroupOffsets', async deadline => {
      const {conn} = await this.coordinator(groupId, deadline)
      const v = need(conn, OffsetCommit)
      const topics = new Map<string, {partitionIndex: number; committedOffset: number; committedLeaderEpoch: number; commitTimestamp: number; committedMetadata: string}[]>()
      for (const o of offsets) {
        let ps = topics.get(o.topic)
        if (!ps) topics.set(o.topic, ps = [])
        ps.push({partitionIndex: o.partition, committedOffset: o.offset, committedLeaderEpoch: -1, commitTimestamp: -1, committedMetadata: ''})
      }
      const res = await conn.send(OffsetCommit, v, {
        groupId, generationIdOrMemberEpoch: -1, memberId: '', groupInstanceId: null, retentionTimeMs: -1,
        topics: [...topics].map(([name, partitions]) => ({name, partitions})),
      }, this.reqTimeout(deadline))
      const errors: PartitionError[] = []
      for (const t of res.topics) {
        for (const p of t.partitions) {
          if (RETRIABLE_GROUP_ERRORS.has(p.errorCode)) throw new Retry(`Timed out waiting for the coordinator of group ${groupId}`)
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
      const code = await this.call('deleteConsumerGroups', async deadline => {
        const {conn} = await this.coordinator(groupId, deadline)
        const res = await conn.send(DeleteGroups, need(conn, DeleteGroups), {groupsNames: [groupId]}, this.reqTimeout(deadline))
        const r = res.results.find(x => x.groupId === groupId) ?? res.results[0]
        if (!r) throw new Retry('empty DeleteGroups response')
        if (RETRIABLE_GROUP_ERRORS.has(r.errorCode)) throw new Retry(`Timed out waiting for the coordinator of group ${groupId}`)
        return r.errorCode
      })
      out.set(groupId, code)
    }
    return out
  }

  /** OffsetDelete: the top-level error code and each partition's code. */
  async deleteOffsets(groupId: string, partitions: TopicPartition[]): Promise<{errorCode: number; partitions: PartitionError[]}> {
    return this.call('deleteConsumerGroupOffsets', async deadline => {
      const {conn} = await this.coordinator(groupId, deadline)
      const topics = new Map<string, {partitionIndex: number}[]>()
      for (const tp of partitions) {
        let ps = topics.get(tp.topic)
        if (!ps) topics.set(tp.topic, ps = [])
        ps.push({partitionIndex: tp.partition})
      }
      const res = await conn.send(OffsetDelete, need(conn, OffsetDelete), {groupId, topics: [...topics].map(([name, ps]) => ({name, partitions: ps}))}, this.reqTimeout(deadline))
      if (RETRIABLE_GROUP_ERRORS.has(res.errorCode)) throw new Retry(`Timed out waiting for the coordinator of group ${groupId}`)
      const out: PartitionError[] = []
      for (const t of res.topics) for (const p of t.partitions) out.push({topic: t.name, partition: p.partitionIndex, errorCode: p.errorCode})
      return {errorCode: res.errorCode, partitions: out}
    })
  }
}
