// Replica placement and topic-name rules, as Apache Kafka applies them in ZooKeeper mode.
import {randomBytes} from 'node:crypto'

/**
 * Kafka's rack-unaware placement (AdminUtils.assignReplicasToBrokers): the first replica of
 * partition p goes to broker (p + startIndex) mod n, the others follow at a shift that grows
 * by one after every n partitions. brokers are sorted ascending. startIndex/shift are random
 * unless fixedStartIndex >= 0 (createPartitions and tests use a fixed one).
 */
export function assignReplicasToBrokers(brokerIds: number[], nPartitions: number, replicationFactor: number, fixedStartIndex = -1, startPartitionId = -1, random: (n: number) => number = n => Math.floor(Math.random() * n)): number[][] {
  const brokers = [...brokerIds].sort((a, b) => a - b)
  const n = brokers.length
  const out: number[][] = []
  const startIndex = fixedStartIndex >= 0 ? fixedStartIndex : random(n)
  let partition = Math.max(0, startPartitionId)
  let shift = fixedStartIndex >= 0 ? fixedStartIndex : random(n)
  for (let i = 0; i < nPartitions; i++) {
    if (partition > 0 && partition % n === 0) shift++
    const first = (partition + startIndex) % n
    const replicas = [brokers[first]]
    for (let j = 0; j < replicationFactor - 1; j++) replicas.push(brokers[replicaIndex(first, shift, j, n)])
    out.push(replicas)
    partition++
  }
  return out
}

function replicaIndex(first: number, secondShift: number, j: number, n: number): number {
  const shift = 1 + ((secondShift + j) % (n - 1))
  return (first + shift) % n
}

/**
 * Kafka's rack-aware placement: brokers are ordered alternating by rack (racks sorted, ids
 * sorted within a rack), then placed as above, skipping a broker whose rack (or itself)
 * already holds a replica while some rack (broker) still holds none.
 */
export function assignReplicasToBrokersRackAware(brokerRacks: Map<number, string>, nPartitions: number, replicationFactor: number, fixedStartIndex = -1, startPartitionId = -1, random: (n: number) => number = n => Math.floor(Math.random() * n)): number[][] {
  const byRack = new Map<string, number[]>()
  for (const [id, rack] of brokerRacks) byRack.set(rack, [...(byRack.get(rack) ?? []), id])
  const racks = [...byRack.keys()].sort()
  for (const r of racks) byRack.get(r)!.sort((a, b) => a - b)
  const arranged: number[] = []
  const cursors = racks.map(() => 0)
  for (let i = 0; arranged.length < brokerRacks.size; i = (i + 1) % racks.length) {
    const list = byRack.get(racks[i])!
    if (cursors[i] < list.length) arranged.push(list[cursors[i]++])
  }
  const numRacks = racks.length
  const n = arranged.length
  const out: number[][] = []
  const startIndex = fixedStartIndex >= 0 ? fixedStartIndex : random(n)
  let partition = Math.max(0, startPartitionId)
  let shift = fixedStartIndex >= 0 ? fixedStartIndex : random(n)
  for (let i = 0; i < nPartitions; i++) {
    if (partition > 0 && partition % n === 0) shift++
    const first = (partition + startIndex) % n
    const leader = arranged[first]
    const replicas = [leader]
    const racksWith = new Set([brokerRacks.get(leader)!])
    const brokersWith = new Set([leader])
    let k = 0
    for (let j = 0; j < replicationFactor - 1; j++) {
      for (;;) {
        const broker = arranged[replicaIndex(first, shift * numRacks, k, n)]
        const rack = brokerRacks.get(broker)!
        k++
        if ((!racksWith.has(rack) || racksWith.size === numRacks) && (!brokersWith.has(broker) || brokersWith.size === n)) {
          replicas.push(broker)
          racksWith.add(rack)
          brokersWith.add(broker)
          break
        }
      }
    }
    out.push(replicas)
    partition++
  }
  return out
}

export const MAX_TOPIC_NAME_LENGTH = 249
export const INTERNAL_TOPICS = new Set(['__consumer_offsets', '__transaction_state'])

/** Kafka's topic name rules; returns the error message or undefined when legal. */
export function topicNameError(name: string): string | undefined {
  if (name.length === 0) return 'Topic name is illegal, it can\'t be empty'
  if (name === '.' || name === '..') return 'Topic name cannot be "." or ".."'
  if (name.length > MAX_TOPIC_NAME_LENGTH) return `Topic name is illegal, it can't be longer than ${MAX_TOPIC_NAME_LENGTH} characters, topic name: ${name}`
  if (!/^[a-zA-Z0-9._-]+$/.test(name)) return `Topic name "${name}" is illegal, it contains a character other than ASCII alphanumerics, '.', '_' and '-'`
  return undefined
}

/** Names that collide once '.' and '_' are treated alike (metric names). */
export function unifyCollisionChars(name: string): string {
  return name.replace(/\./g, '_')
}

/** A Kafka Uuid as its 22-char base64url form (never all zero, never starting with '-'). */
export function randomUuid(): string {
  for (;;) {
    const b = randomBytes(16)
    const s = b.toString('base64url')
    if (!s.startsWith('-') && !b.every(x => x === 0) && !(b.every((x, i) => (i === 15 ? x === 1 : x === 0)))) return s
  }
}
