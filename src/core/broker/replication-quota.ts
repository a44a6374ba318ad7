// Replication throttles, as Kafka sets them for a reassignment (kafka-reassign-partitions
// --throttle): the topic configs leader.replication.throttled.replicas and
// follower.replication.throttled.replicas list "partition:broker" pairs (or "*"), and the
// broker configs leader.replication.throttled.rate / follower.replication.throttled.rate cap
// the bytes per second those replicas may move. kafkit enforces the follower side as Kafka's
// ReplicaFetcherThread does: a throttled partition that is not in the ISR is left out of the
// follower's Fetch while the bytes fetched for throttled partitions over the last
// replication.quota.window.num (11) one-second windows exceed the rate. The leader side is
// accepted and not enforced (the follower's throttle alone bounds the traffic of a move).
import type {Partition} from './partition.js'

const WINDOW_MS = 1000
const WINDOWS = 11

/** Bytes per second over sliding one-second samples (Kafka's Rate over replication.quota.window.*). */
export class ReplicationQuota {
  private readonly samples: {start: number; bytes: number}[] = []

  constructor(private readonly rateBytesPerSec: () => number) {}

  private prune(now: number): void {
    while (this.samples.length && this.samples[0].start <= now - WINDOW_MS * WINDOWS) this.samples.shift()
  }

  record(bytes: number, now = Date.now()): void {
    this.prune(now)
    const last = this.samples[this.samples.length - 1]
    if (last && now - last.start < WINDOW_MS) last.bytes += bytes
    else this.samples.push({start: now, bytes})
  }

  /** The measured rate: bytes in the kept samples over the time they span, at least ten windows (as Kafka's Rate). */
  rate(now = Date.now()): number {
    this.prune(now)
    if (this.samples.length === 0) return 0
    const total = this.samples.reduce((s, x) => s + x.bytes, 0)
    const elapsed = Math.max(now - this.samples[0].start, WINDOW_MS * (WINDOWS - 1))
    return total / (elapsed / 1000)
  }

  isExceeded(now = Date.now()): boolean {
    const limit = this.rateBytesPerSec()
    return Number.isFinite(limit) && limit < Number.MAX_SAFE_INTEGER && this.rate(now) > limit
  }
}

/** True when a throttled-replicas list ("*" or "p:b,p:b") names this partition on this broker. */
export function listsReplica(value: string | undefined, partition: number, brokerId: number): boolean {
  if (!value) return false
  const v = value.trim()
  if (v === '*') return true
  const want = `${partition}:${brokerId}`
  return v.split(',').some(item => item.trim() === want)
}

/** A broker's replication throttles: which of its partitions are throttled, and the follower quota. */
export class ReplicationThrottles {
  private readonly followerThrottled = new WeakSet<Partition>()
  readonly follower: ReplicationQuota

  constructor(readonly brokerId: number, rate: (key: string) => number) {
    this.follower = new ReplicationQuota(() => rate('follower.replication.throttled.rate'))
  }

  /** Called with a partition's effective topic config whenever it is opened or its config changes. */
  configure(p: Partition, effective: Record<string, string>): void {
    if (listsReplica(effective['follower.replication.throttled.replicas'], p.index, this.brokerId)) this.followerThrottled.add(p)
    else this.followerThrottled.delete(p)
  }

  /** Follower side: leave p out of this Fetch (a throttled replica catching up while the quota is used up). */
  shouldThrottleFollower(p: Partition): boolean {
    return this.followerThrottled.has(p) && !p.isr.includes(this.brokerId) && this.follower.isExceeded()
  }

  /** Follower side: bytes fetched for p count against the quota when p is throttled. */
  recordFollower(p: Partition, bytes: number): void {
    if (this.followerThrottled.has(p)) this.follower.record(bytes)
  }
}
