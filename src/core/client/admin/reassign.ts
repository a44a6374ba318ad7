// Admin calls of kafka-reassign-partitions and kafka-leader-election on the client core's
// admin layer (admin-client.ts: routing, NOT_CONTROLLER and lost connections retried until
// default.api.timeout.ms), shaped as Java's Admin methods the tools call:
// listPartitionReassignments, alterPartitionReassignments, describeCluster (nodes),
// incrementalAlterConfigs and electLeaders. Per-partition failures come back as Java's
// exceptions (KafkaClientError: class name and the broker's message, or the default one).
import {AdminClient, RetriableCallError} from '../admin-client.js'
import {apiError, errorName, type KafkaClientError} from '../kafka-errors.js'
import {AlterPartitionReassignments, ElectLeaders, IncrementalAlterConfigs, ListPartitionReassignments, Metadata} from '../../protocol/messages.js'

export interface TopicPartition {topic: string; partition: number}
export interface PartitionReassignment {replicas: number[]; addingReplicas: number[]; removingReplicas: number[]}
export interface NodeInfo {id: number; host: string; port: number; rack: string | null}

/** "topic-partition", as Java's TopicPartition prints. */
export const tpString = (tp: TopicPartition): string => `${tp.topic}-${tp.partition}`
const tpKey = (topic: string, partition: number): string => `${topic}\u0000${partition}`

/** Java's ordering of TopicPartitions in the tools: topic name, then partition. */
export function compareTopicPartitions(a: TopicPartition, b: TopicPartition): number {
  if (a.topic !== b.topic) return a.topic < b.topic ? -1 : 1
  return a.partition - b.partition
}

function groupByTopic<T extends TopicPartition>(items: T[]): Map<string, T[]> {
  const out = new Map<string, T[]>()
  for (const it of items) {
    let l = out.get(it.topic)
    if (!l) out.set(it.topic, l = [])
    l.push(it)
  }
  return out
}

/** A controller call's top-level error: NOT_CONTROLLER and retriable codes retry, others fail the call. */
function topLevel(admin: AdminClient, code: number, message: string | null): void {
  if (code !== 0) admin.check(code, message)
}

/** Reassignments in progress (all, or those among the given partitions), keyed "topic\0partition". */
export async function listPartitionReassignments(admin: AdminClient, partitions?: TopicPartition[]): Promise<Map<string, TopicPartition & PartitionReassignment>> {
  return admin.call('listPartitionReassignments', {kind: 'controller'}, ListPartitionReassignments, {
    timeoutMs: admin.defaultApiTimeoutMs,
    topics: partitions === undefined ? null : [...groupByTopic(partitions)].map(([name, ps]) => ({name, partitionIndexes: ps.map(p => p.partition)})),
  }, {
    handle: res => {
      topLevel(admin, res.errorCode, res.errorMessage)
      const out = new Map<string, TopicPartition & PartitionReassignment>()
      for (const t of res.topics) for (const p of t.partitions) {
        out.set(tpKey(t.name, p.partitionIndex), {topic: t.name, partition: p.partitionIndex, replicas: p.replicas, addingReplicas: p.addingReplicas, removingReplicas: p.removingReplicas})
      }
      return out
    },
  })
}

/** Starts (replicas) or cancels (null) reassignments; returns the failures by "topic-partition". */
export async function alterPartitionReassignments(admin: AdminClient, reqs: (TopicPartition & {replicas: number[] | null})[]): Promise<Map<string, KafkaClientError>> {
  return admin.call('alterPartitionReassignments', {kind: 'controller'}, AlterPartitionReassignments, {
    timeoutMs: admin.defaultApiTimeoutMs,
    topics: [...groupByTopic(reqs)].map(([name, ps]) => ({name, partitions: ps.map(p => ({partitionIndex: p.partition, replicas: p.replicas}))})),
  }, {
    handle: res => {
      topLevel(admin, res.errorCode, res.errorMessage)
      const errors = new Map<string, KafkaClientError>()
      for (const t of res.responses) for (const p of t.partitions) {
        if (p.errorCode !== 0) errors.set(tpString({topic: t.name, partition: p.partitionIndex}), apiError(p.errorCode, p.errorMessage))
      }
      return errors
    },
  })
}

/** The cluster's brokers (Java's describeCluster().nodes()), from Metadata. */
export async function describeClusterNodes(admin: AdminClient): Promise<NodeInfo[]> {
  const md = await admin.call('describeCluster', {kind: 'any'}, Metadata, {topics: [], allowAutoTopicCreation: false, includeClusterAuthorizedOperations: false, includeTopicAuthorizedOperations: false}, {maxVersion: 12})
  return md.brokers.map(b => ({id: b.nodeId, host: b.host, port: b.port, rack: b.rack})).sort((a, b) => a.id - b.id)
}

export const BROKER_RESOURCE = 4
export const TOPIC_RESOURCE = 2
/** AlterConfigOp types. */
export const OP_SET = 0
export const OP_DELETE = 1

export interface ConfigOp {name: string; op: number; value: string | null}

/**
 * incrementalAlterConfigs: a broker resource goes to that broker (as Java's Admin sends it),
 * topic resources to any broker. Any resource's error fails the call (Java's all().get()).
 */
export async function incrementalAlterConfigs(admin: AdminClient, resources: {type: number; name: string; ops: ConfigOp[]}[]): Promise<void> {
  const send = async (target: {kind: 'any'} | {kind: 'node'; id: number}, list: typeof resources) => {
    if (list.length === 0) return
    await admin.call('incrementalAlterConfigs', target, IncrementalAlterConfigs, {
      validateOnly: false,
      resources: list.map(r => ({resourceType: r.type, resourceName: r.name, configs: r.ops.map(o => ({name: o.name, configOperation: o.op, value: o.value}))})),
    }, {
      handle: res => {
        for (const r of res.responses) if (r.errorCode !== 0) throw apiError(r.errorCode, r.errorMessage)
      },
    })
  }
  const brokers = resources.filter(r => r.type === BROKER_RESOURCE && /^\d+$/.test(r.name))
  const rest = resources.filter(r => !brokers.includes(r))
  for (const b of brokers) await send({kind: 'node', id: Number(b.name)}, [b])
  await send({kind: 'any'}, rest)
}

export const ELECTION_PREFERRED = 0
export const ELECTION_UNCLEAN = 1

/**
 * electLeaders: per partition, null (elected) or the Java exception. partitions null: every
 * partition (the broker answers for all it knows). A top-level error fails the call.
 */
export async function electLeaders(admin: AdminClient, electionType: number, partitions: TopicPartition[] | null): Promise<Map<string, {tp: TopicPartition; error: KafkaClientError | null}>> {
  return admin.call('electLeaders', {kind: 'controller'}, ElectLeaders, {
    electionType,
    timeoutMs: admin.defaultApiTimeoutMs,
    topicPartitions: partitions === null ? null : [...groupByTopic(partitions)].map(([topic, ps]) => ({topic, partitions: ps.map(p => p.partition)})),
  }, {
    minVersion: electionType === ELECTION_PREFERRED ? 0 : 1,
    handle: res => {
      if (res.errorCode !== 0) {
        if (errorName(res.errorCode) === 'NOT_CONTROLLER') throw new RetriableCallError('not controller', res.errorCode)
        throw apiError(res.errorCode)
      }
      const out = new Map<string, {tp: TopicPartition; error: KafkaClientError | null}>()
      for (const t of res.replicaElectionResults) for (const p of t.partitionResult) {
        const tp = {topic: t.topic, partition: p.partitionId}
        out.set(tpString(tp), {tp, error: p.errorCode === 0 ? null : apiError(p.errorCode, p.errorMessage)})
      }
      return out
    },
  })
}
