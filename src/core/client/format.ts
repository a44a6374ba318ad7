// Output formats of Apache Kafka's tools, reproduced exactly (kafka-topics --describe), and
// the iteration order of Java's HashMap, which decides the order Kafka's tools print
// topics (--describe) and configs (Configs: ...) in.
import type {ConfigEntry, TopicInfo} from './admin.js'

/** Java's String.hashCode over UTF-16 code units. */
export function javaStringHash(s: string): number {
  let h = 0
  for (let i = 0; i < s.length; i++) h = (Math.imul(h, 31) + s.charCodeAt(i)) | 0
  return h
}

function tableSizeFor(n: number): number {
  let c = 1
  while (c < n) c *= 2
  return c
}

/**
 * The order a java.util.HashMap<String, ?> iterates keys inserted in this order: by bucket
 * ((h ^ h>>>16) & (capacity-1)), then insertion order (resizes keep relative order).
 * initialCapacity undefined means `new HashMap<>()` (16).
 */
export function javaHashMapOrder<T>(items: T[], key: (t: T) => string | number, initialCapacity?: number): T[] {
  let cap = initialCapacity === undefined ? 16 : Math.max(1, tableSizeFor(initialCapacity))
  while (items.length > Math.floor(cap * 0.75)) cap *= 2
  const mask = cap - 1
  const withBucket = items.map((t, i) => {
    const k = key(t)
    const h = typeof k === 'number' ? k | 0 : javaStringHash(k) // a number: the key's Java hashCode()
    return {t, i, b: (h ^ (h >>> 16)) & mask}
  })
  withBucket.sort((a, b) => a.b - b.b || a.i - b.i)
  return withBucket.map(x => x.t)
}

/** The header line of a topic in kafka-topics --describe. */
export function describeTopicLine(t: TopicInfo, configs: ConfigEntry[]): string {
  const overrides = javaHashMapOrder(configs, e => e.name).filter(e => !e.isDefault).map(e => `${e.name}=${e.value}`).join(',')
  const rf = t.partitions.length ? t.partitions[0].replicas.length : 0
  let line = `Topic: ${t.name}`
  if (t.topicId && t.topicId !== 'AAAAAAAAAAAAAAAAAAAAAA') line += `\tTopicId: ${t.topicId}`
  return `${line}\tPartitionCount: ${t.partitions.length}\tReplicationFactor: ${rf}\tConfigs: ${overrides}`
}

/** One partition line of kafka-topics --describe. */
export function describePartitionLine(topic: string, p: TopicInfo['partitions'][number]): string {
  return `\tTopic: ${topic}\tPartition: ${p.partition}\tLeader: ${p.leader >= 0 ? p.leader : 'none'}\tReplicas: ${p.replicas.join(',')}\tIsr: ${p.isr.join(',')}\tElr: N/A\tLastKnownElr: N/A`
}

/**
 * Kafka's topic filter (IncludeList): commas mean "or", spaces and surrounding quotes are
 * dropped, and the whole topic name must match. Throws a one-line error for a bad regex.
 */
export function topicFilter(raw: string): (topic: string) => boolean {
  const re = raw.trim().replace(/,/g, '|').replace(/ /g, '').replace(/^["']+/, '').replace(/["']+$/, '')
  let rx: RegExp
  try {
    rx = new RegExp(`^(?:${re})$`)
  } catch {
    throw new Error(`${raw} is an invalid regex.`)
  }
  return topic => rx.test(topic)
}

const INTERNAL_TOPICS = new Set(['__consumer_offsets', '__transaction_state'])
export function isInternalTopic(name: string): boolean {
  return INTERNAL_TOPICS.has(name)
}

/** Topic name rules (Kafka's Topic.validate). Returns an error message or undefined. */
export function invalidTopicName(name: string): string | undefined {
  if (name.length === 0) return 'Topic name is illegal, it can\'t be empty'
  if (name === '.' || name === '..') return 'Topic name cannot be "." or ".."'
  if (name.length > 249) return `Topic name is illegal, it can't be longer than 249 characters, topic name: ${name}`
  if (!/^[a-zA-Z0-9._-]+$/.test(name)) return `Topic name is invalid: '${name}' contains one or more characters other than ASCII alphanumerics, '.', '_' and '-'`
  return undefined
}
