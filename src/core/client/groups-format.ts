// Pure helpers of kafka-consumer-groups: Apache Kafka 3.9's padded columns (Java's "%-Ns"),
// the order its HashMaps iterate TopicPartitions and group ids in (which decides the row
// order Kafka prints), the reset-offsets datetime/duration/CSV inputs, and the Java
// exception names Kafka's tool prints for broker errors. No I/O here.
import {javaStringHash, javaHashMapOrder} from './format.js'
import {errorMessage, errorName} from '../protocol/errors.js'

export {javaHashMapOrder}

/** Java's String.format("%-Ns", s): left-justified, padded to n, never cut. */
export function pad(s: string | number, n: number): string {
  const t = String(s)
  return t.length >= n ? t : t + ' '.repeat(n - t.length)
}

/** Applies a sequence of widths to values as Kafka's "%-Ns %-Ns ... %s" formats do (last column unpadded when its width is 0). */
export function row(values: (string | number)[], widths: number[]): string {
  let out = ''
  for (let i = 0; i < values.length; i++) {
    if (i > 0) out += ' '
    out += widths[i] > 0 ? pad(values[i], widths[i]) : String(values[i])
  }
  return out
}

/** org.apache.kafka.common.TopicPartition#hashCode. */
export function topicPartitionHash(topic: string, partition: number): number {
  return (Math.imul(31, (31 + partition) | 0) + javaStringHash(topic)) | 0
}

/**
 * The order a java.util.HashMap (default capacity, grown as entries are added) iterates
 * keys inserted in this order: by bucket of the spread hash, then insertion order.
 */
export function javaHashOrder<T>(items: T[], hash: (t: T) => number): T[] {
  let cap = 16
  while (items.length > Math.floor(cap * 0.75)) cap *= 2
  const mask = cap - 1
  return items
    .map((t, i) => {
      const h = hash(t)
      return {t, i, b: (h ^ (h >>> 16)) & mask}
    })
    .sort((a, b) => a.b - b.b || a.i - b.i)
    .map(x => x.t)
}

/** TopicPartitions (in insertion order) as a HashMap<TopicPartition, ?> iterates them. */
export function tpHashOrder<T extends {topic: string; partition: number}>(items: T[]): T[] {
  return javaHashOrder(items, t => topicPartitionHash(t.topic, t.partition))
}

/** "topic-partition" as TopicPartition#toString. */
export function tpString(tp: {topic: string; partition: number}): string {
  return `${tp.topic}-${tp.partition}`
}

const EXCEPTION_NAMES: Record<string, string> = {
  NON_EMPTY_GROUP: 'GroupNotEmptyException',
  GROUP_AUTHORIZATION_FAILED: 'GroupAuthorizationException',
  TOPIC_AUTHORIZATION_FAILED: 'TopicAuthorizationException',
  UNKNOWN_TOPIC_OR_PARTITION: 'UnknownTopicOrPartitionException',
  NOT_LEADER_OR_FOLLOWER: 'NotLeaderOrFollowerException',
  UNKNOWN_SERVER_ERROR: 'UnknownServerException',
  INVALID_TOPIC_EXCEPTION: 'InvalidTopicException',
}

/** Kafka's Java exception class for an error code (org.apache.kafka.common.errors.X). */
export function exceptionName(code: number): string {
  const name = errorName(code)
  if (EXCEPTION_NAMES[name]) return EXCEPTION_NAMES[name]
  const pascal = name.toLowerCase().split('_').map(w => w.charAt(0).toUpperCase() + w.slice(1)).join('')
  return pascal.endsWith('Exception') ? pascal : `${pascal}Exception`
}

/** The message Kafka's client exceptions carry for a code (as the Java admin client words it). */
export function exceptionMessage(code: number): string {
  if (errorName(code) === 'GROUP_SUBSCRIBED_TO_TOPIC') return 'Deleting offsets of a topic is forbidden while the consumer group is actively subscribed to it.'
  return errorMessage(code)
}

/** "org.apache.kafka.common.errors.X: message" (Throwable#toString of the client exception). */
export function javaException(code: number): string {
  return `org.apache.kafka.common.errors.${exceptionName(code)}: ${exceptionMessage(code)}`
}

/**
 * Kafka's Utils.getDateTime: 'YYYY-MM-DDTHH:mm:SS.sss' with an optional zone (Z, +hh:mm,
 * +hhmm, +hh); without one the time is UTC. Throws a one-line error otherwise.
 */
export function parseDateTime(text: string): number {
  const parts = text.split('T')
  if (parts.length < 2 || parts[1] === '') throw new Error('Error parsing timestamp. It does not contain a \'T\' according to ISO8601 format')
  let ts = text
  if (!/[+\-Z]/.test(parts[1])) ts += 'Z'
  const m = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})\.(\d{3})(Z|[+-]\d{2}(?::?\d{2})?)$/.exec(ts)
  const bad = () => new Error(`Unparseable date: "${ts}"`)
  if (!m) throw bad()
  const [y, mo, d, h, mi, s, ms] = m.slice(1, 8).map(Number)
  if (mo < 1 || mo > 12 || d < 1 || h > 23 || mi > 59 || s > 59) throw bad()
  const days = new Date(Date.UTC(y, mo, 0)).getUTCDate()
  if (d > days) throw bad()
  let offsetMin = 0
  if (m[8] !== 'Z') {
    const z = /^([+-])(\d{2}):?(\d{2})?$/.exec(m[8])!
    const hh = Number(z[2])
    const mm = Number(z[3] ?? '0')
    if (hh > 23 || mm > 59) throw bad()
    offsetMin = (z[1] === '-' ? -1 : 1) * (hh * 60 + mm)
  }
  return Date.UTC(y, mo - 1, d, h, mi, s, ms) - offsetMin * 60000
}

/** java.time.Duration.parse ('PnDTnHnMn.nS', signs allowed) in milliseconds. */
export function parseDuration(text: string): number {
  const m = /^([-+]?)P(?:([-+]?\d+)D)?(?:T(?:([-+]?\d+)H)?(?:([-+]?\d+)M)?(?:([-+]?)(\d+)(?:[.,](\d{0,9}))?S)?)?$/i.exec(text)
  if (!m || text.toUpperCase().endsWith('T') || (m[2] === undefined && m[3] === undefined && m[4] === undefined && m[6] === undefined)) {
    throw new Error('Text cannot be parsed to a Duration')
  }
  const n = (s: string | undefined) => (s === undefined ? 0 : Number(s))
  let secMs = n(m[6]) * 1000 + (m[7] ? Number((m[7] + '000').slice(0, 3)) : 0)
  if (m[5] === '-') secMs = -secMs
  const total = n(m[2]) * 86400000 + n(m[3]) * 3600000 + n(m[4]) * 60000 + secMs
  return m[1] === '-' ? -total : total
}

export interface PlanRow {
  group: string
  topic: string
  partition: number
  offset: number
}

/**
 * A reset plan CSV (what --export writes): "topic,partition,offset" lines for one group, or
 * "group,topic,partition,offset". Throws a one-line error naming the bad line.
 */
export function parseResetPlan(csv: string, singleGroup: string | undefined): PlanRow[] {
  const lines = csv.split(/\r?\n/).filter(l => l.trim() !== '')
  const out: PlanRow[] = []
  const oldFormat = singleGroup !== undefined && lines.length > 0 && lines[0].split(',').length === 3
  lines.forEach((line, i) => {
    const f = line.split(',').map(s => s.trim())
    const want = oldFormat ? 3 : 4
    if (f.length !== want) throw new Error(`Invalid reset plan line ${i + 1}: '${line}' (expected ${oldFormat ? 'topic,partition,offset' : 'group,topic,partition,offset'})`)
    const [group, topic, p, o] = oldFormat ? [singleGroup!, ...f] : f
    if (!/^\d+$/.test(p) || !/^-?\d+$/.test(o)) throw new Error(`Invalid reset plan line ${i + 1}: '${line}' (partition and offset must be numbers)`)
    out.push({group, topic, partition: Number(p), offset: Number(o)})
  })
  return out
}

/** Kafka's --members --verbose ASSIGNMENT: "(0,1), (2)" — partitions per topic, each list and the lists sorted as strings. */
export function assignmentString(assignment: {topic: string; partition: number}[]): string {
  if (assignment.length === 0) return '-'
  const byTopic = new Map<string, number[]>()
  for (const tp of assignment) {
    let l = byTopic.get(tp.topic)
    if (!l) byTopic.set(tp.topic, l = [])
    l.push(tp.partition)
  }
  return [...byTopic.values()].map(ps => '(' + ps.map(String).sort().join(',') + ')').sort().join(', ')
}

/** A log4j-style WARN line as Kafka's tool logs it to stderr. */
export function warnLine(message: string, now = new Date()): string {
  const p2 = (n: number) => String(n).padStart(2, '0')
  const ts = `${now.getFullYear()}-${p2(now.getMonth() + 1)}-${p2(now.getDate())} ${p2(now.getHours())}:${p2(now.getMinutes())}:${p2(now.getSeconds())},${String(now.getMilliseconds()).padStart(3, '0')}`
  return `[${ts}] WARN ${message} (org.apache.kafka.tools.consumer.group.ConsumerGroupCommand)\n`
}
