// Partition assignors of the classic consumer group protocol, as Kafka's Java consumer
// implements them (the group leader runs the one the group agreed on): "range"
// (org.apache.kafka.clients.consumer.RangeAssignor, the first of Java 3.9's defaults) and
// "roundrobin" (RoundRobinAssignor). Eager protocol: every member gives up its partitions
// before a rebalance. Pure functions.

export interface MemberSubscription {
  memberId: string
  groupInstanceId: string | null
  topics: string[]
}

export type Assignment = Map<string, Map<string, number[]>> // member -> topic -> partitions

export interface Assignor {
  name: string
  assign(partitionsPerTopic: Map<string, number>, members: MemberSubscription[]): Assignment
}

/** Members ordered as Java orders them: by group instance id when set (static), else member id. */
function memberOrder(a: MemberSubscription, b: MemberSubscription): number {
  const ka = a.groupInstanceId ?? a.memberId
  const kb = b.groupInstanceId ?? b.memberId
  if (a.groupInstanceId !== null && b.groupInstanceId === null) return -1
  if (a.groupInstanceId === null && b.groupInstanceId !== null) return 1
  return ka < kb ? -1 : ka > kb ? 1 : 0
}

function emptyAssignment(members: MemberSubscription[]): Assignment {
  const out: Assignment = new Map()
  for (const m of members) out.set(m.memberId, new Map())
  return out
}

function add(out: Assignment, member: string, topic: string, partition: number): void {
  const m = out.get(member)!
  let ps = m.get(topic)
  if (!ps) m.set(topic, ps = [])
  ps.push(partition)
}

/** RangeAssignor: per topic, consecutive ranges of partitions to the members subscribed to it. */
export const rangeAssignor: Assignor = {
  name: 'range',
  assign(partitionsPerTopic, members) {
    const out = emptyAssignment(members)
    const topics = [...new Set(members.flatMap(m => m.topics))].sort()
    for (const topic of topics) {
      const n = partitionsPerTopic.get(topic)
      if (n === undefined || n <= 0) continue
      const consumers = members.filter(m => m.topics.includes(topic)).sort(memberOrder)
      const per = Math.floor(n / consumers.length)
      const extra = n % consumers.length
      consumers.forEach((c, i) => {
        const start = per * i + Math.min(i, extra)
        const length = per + (i + 1 > extra ? 0 : 1)
        for (let p = start; p < start + length; p++) add(out, c.memberId, topic, p)
      })
    }
    return out
  },
}

/** RoundRobinAssignor: every topic-partition in order, dealt to the members in turn. */
export const roundRobinAssignor: Assignor = {
  name: 'roundrobin',
  assign(partitionsPerTopic, members) {
    const out = emptyAssignment(members)
    const sorted = [...members].sort(memberOrder)
    const topics = [...new Set(members.flatMap(m => m.topics))].sort()
    let i = 0
    for (const topic of topics) {
      const n = partitionsPerTopic.get(topic) ?? 0
      for (let p = 0; p < n; p++) {
        // The next member (in turn) subscribed to this topic.
        for (let k = 0; k < sorted.length; k++) {
          const m = sorted[(i + k) % sorted.length]
          if (m.topics.includes(topic)) {
            add(out, m.memberId, topic, p)
            i = (i + k + 1) % sorted.length
            break
          }
        }
      }
    }
    return out
  },
}

const BY_CLASS: Record<string, Assignor> = {
  'org.apache.kafka.clients.consumer.RangeAssignor': rangeAssignor,
  'org.apache.kafka.clients.consumer.RoundRobinAssignor': roundRobinAssignor,
  range: rangeAssignor,
  roundrobin: roundRobinAssignor,
}

/** Java assignor class names (partition.assignment.strategy) that kafkit does not implement. */
const SKIPPED = new Set(['org.apache.kafka.clients.consumer.CooperativeStickyAssignor', 'org.apache.kafka.clients.consumer.StickyAssignor', 'cooperative-sticky', 'sticky'])

/**
 * The assignors for partition.assignment.strategy. Java 3.9's default is [RangeAssignor,
 * CooperativeStickyAssignor]; kafkit speaks the eager protocol only, so sticky assignors are
 * left out while another one remains (the group then agrees on range, as Java's would).
 */
export function assignorsFor(classes: string[]): Assignor[] {
  const out: Assignor[] = []
  const unknown: string[] = []
  for (const c of classes) {
    const a = BY_CLASS[c]
    if (a) { if (!out.includes(a)) out.push(a) } else if (!SKIPPED.has(c)) unknown.push(c)
  }
  if (unknown.length > 0) throw new Error(`Invalid value ${unknown[0]} for configuration partition.assignment.strategy: Class ${unknown[0]} cannot be found`)
  if (out.length === 0) throw new Error(`partition.assignment.strategy ${classes.join(',')}: kafkit implements org.apache.kafka.clients.consumer.RangeAssignor and RoundRobinAssignor only`)
  return out
}
