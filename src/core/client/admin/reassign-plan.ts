// The planning parts of kafka-reassign-partitions, as Kafka 3.9's tool computes them: the
// current replicas of topics (from Metadata), a proposed assignment over a broker list
// (Kafka's replica placement, rack-aware when every broker has a rack), and the throttle
// settings for a set of moves (leader throttles on the source replicas, follower throttles
// on the new ones, the rate on every broker involved).
import type {AdminClient} from '../admin-client.js'
import {KafkaClientError, apiError} from '../kafka-errors.js'
import {assignReplicasToBrokers, assignReplicasToBrokersRackAware} from '../../cluster/assignment.js'
import type {NodeInfo, PartitionReassignment, TopicPartition} from './reassign.js'

export type Replicas = TopicPartition & {replicas: number[]}

const UNKNOWN_TOPIC_OR_PARTITION = 3

/**
 * Each topic's replica lists by partition index. An unknown topic fails with Kafka's
 * "Topic X not found." unless lenient (then it is left out).
 */
export async function replicasByTopic(admin: AdminClient, topics: string[], lenient = false): Promise<Map<string, number[][]>> {
  const out = new Map<string, number[][]>()
  if (topics.length === 0) return out
  const md = await admin.metadata(topics, undefined, 'describeTopics')
  for (const name of topics) {
    const t = md.topics.find(x => x.name === name)
    if (!t || t.errorCode === UNKNOWN_TOPIC_OR_PARTITION) {
      if (lenient) continue
      throw new KafkaClientError('UnknownTopicOrPartitionException', `Topic ${name} not found.`, UNKNOWN_TOPIC_OR_PARTITION)
    }
    if (t.errorCode !== 0) throw apiError(t.errorCode)
    const parts: number[][] = []
    for (const p of t.partitions) parts[p.partitionIndex] = p.replicaNodes
    out.set(name, parts)
  }
  return out
}

/** Every partition of the topics with its replicas. */
export function allPartitions(byTopic: Map<string, number[][]>): Replicas[] {
  return [...byTopic].flatMap(([topic, parts]) => parts.map((replicas, partition) => ({topic, partition, replicas})).filter(p => p.replicas))
}

/** The current replicas of the given partitions; any missing one fails as Kafka's tool does. */
export function partitionsOf(byTopic: Map<string, number[][]>, wanted: TopicPartition[]): Replicas[] {
  const found: Replicas[] = []
  const missing: string[] = []
  for (const w of wanted) {
    const replicas = byTopic.get(w.topic)?.[w.partition]
    if (replicas) found.push({topic: w.topic, partition: w.partition, replicas})
    else missing.push(`${w.topic}-${w.partition}`)
  }
  if (missing.length) throw new KafkaClientError('UnknownTopicOrPartitionException', `Unable to find partition: ${missing.join(', ')}`, UNKNOWN_TOPIC_OR_PARTITION)
  return found
}

/** Iteration order of a java.util.HashSet<Integer> built from ids in this order (duplicates dropped). */
export function javaIntSetOrder(ids: number[]): number[] {
  const unique = [...new Set(ids)]
  let cap = 16
  while (unique.length > cap * 0.75) cap *= 2
  const bucket = (h: number) => ((h ^ (h >>> 16)) & (cap - 1))
  return unique.map((id, i) => ({id, i, b: bucket(id)})).sort((a, b) => a.b - b.b || a.i - b.i).map(x => x.id)
}

/**
 * --generate: each topic's partitions placed over the brokers as Kafka's AdminUtils places
 * them (random start, so only the shape is deterministic), with the topic's current
 * replication factor.
 */
export function proposeAssignment(current: Replicas[], brokers: NodeInfo[], rackAware: boolean): Replicas[] {
  const withRack = brokers.filter(b => rackAware && b.rack !== null)
  if (rackAware && withRack.length !== 0 && withRack.length !== brokers.length) {
    throw new Error('Not all brokers have rack information. Add --disable-rack-aware in command line to make replica assignment without rack information.')
  }
  const byTopic = new Map<string, Replicas[]>()
  for (const c of current) byTopic.set(c.topic, [...(byTopic.get(c.topic) ?? []), c])
  const out: Replicas[] = []
  for (const [topic, parts] of byTopic) {
    const rf = (parts.find(p => p.partition === 0) ?? parts[0]).replicas.length
    if (parts.length <= 0) throw new Error('Number of partitions must be larger than 0.')
    if (rf <= 0) throw new Error('Replication factor must be larger than 0.')
    if (rf > brokers.length) throw new Error(`Replication factor: ${rf} larger than available brokers: ${brokers.length}.`)
    const placed = withRack.length
      ? assignReplicasToBrokersRackAware(new Map(brokers.map(b => [b.id, b.rack!])), parts.length, rf)
      : assignReplicasToBrokers(brokers.map(b => b.id), parts.length, rf)
    placed.forEach((replicas, partition) => out.push({topic, partition, replicas}))
  }
  return out
}

/**
 * The throttles --execute --throttle sets: per topic, "partition:broker" for the replicas a
 * partition is moving from (leader throttle) and to (follower throttle), sorted as strings as
 * Kafka's TreeSet sorts them, and every broker taking part (sorted).
 */
export function throttleMoves(ongoing: (TopicPartition & PartitionReassignment)[], proposed: Replicas[], current: Replicas[]): {leader: Map<string, string>; follower: Map<string, string>; brokers: number[]} {
  const moves = new Map<string, Map<number, {sources: Set<number>; destinations: Set<number>}>>()
  const movesOf = (topic: string) => {
    let m = moves.get(topic)
    if (!m) moves.set(topic, m = new Map())
    return m
  }
  for (const r of ongoing) {
    movesOf(r.topic).set(r.partition, {sources: new Set(r.replicas.filter(x => !r.addingReplicas.includes(x))), destinations: new Set(r.addingReplicas)})
  }
  for (const p of proposed) {
    const m = movesOf(p.topic)
    const sources = new Set(m.get(p.partition)?.sources ?? current.find(c => c.topic === p.topic && c.partition === p.partition)?.replicas ?? [])
    m.set(p.partition, {sources, destinations: new Set(p.replicas.filter(r => !sources.has(r)))})
  }
  const leader = new Map<string, string>()
  const follower = new Map<string, string>()
  const brokers = new Set<number>()
  for (const [topic, parts] of moves) {
    const l = new Set<string>()
    const f = new Set<string>()
    for (const [p, mv] of parts) {
      for (const s of mv.sources) { l.add(`${p}:${s}`); brokers.add(s) }
      for (const d of mv.destinations) { if (!mv.sources.has(d)) f.add(`${p}:${d}`); brokers.add(d) }
    }
    leader.set(topic, [...l].sort().join(','))
    follower.set(topic, [...f].sort().join(','))
  }
  return {leader, follower, brokers: [...brokers].sort((a, b) => a - b)}
}
