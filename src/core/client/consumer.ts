// The client core's consumer, with the Java consumer's semantics and defaults (Kafka 3.9,
// classic group protocol):
//
// - assign(partitions) or subscribe(topics | pattern) with a group.id: FindCoordinator,
//   JoinGroup (MEMBER_ID_REQUIRED handled), the leader runs the agreed assignor (range or
//   roundrobin), SyncGroup, then Heartbeat every heartbeat.interval.ms. A moved or dead
//   coordinator (NOT_COORDINATOR, COORDINATOR_NOT_AVAILABLE, a lost connection, a timeout) is
//   looked up again and the member carries on, rejoining when the coordinator asks
//   (REBALANCE_IN_PROGRESS, UNKNOWN_MEMBER_ID, ILLEGAL_GENERATION). Eager rebalancing: offsets
//   are committed and partitions given up before a rejoin. LeaveGroup on close.
// - Positions: the group's committed offsets (OffsetFetch), else auto.offset.reset (earliest,
//   latest; none fails with NoOffsetForPartitionException) through ListOffsets at the leader.
// - Fetching: one Fetch in flight per leader node, for the assigned partitions that have no
//   data waiting to be polled; read_committed drops aborted transactions. A partition whose
//   leader moved (NOT_LEADER_OR_FOLLOWER, ...) or whose node is unreachable gets fresh
//   metadata and is fetched from the new leader: the consumer never gives up because a broker
//   went away. OFFSET_OUT_OF_RANGE resets by auto.offset.reset.
// - enable.auto.commit (default true with a group): positions are committed every
//   auto.commit.interval.ms from poll(), before a rebalance and on close.
//
// The parts: consumer-config.ts (settings, shared types), consumer-group.ts (group
// membership), consumer-offsets.ts (committed offsets, position resets, commits),
// consumer-fetcher.ts (fetching and the buffered data poll() drains). This class holds the
// assignment and positions they share, and the public API.
import {ClientConfig} from './config.js'
import {NetworkClient, networkSettings} from './network.js'
import type {RecordHeader} from './records.js'
import {KafkaClientError} from './kafka-errors.js'
import {retryBackoff, sleep, type ExponentialBackoff} from './backoff.js'
import {Loggers} from './log.js'
import {consumerSettings, EARLIEST, LATEST, type ConsumerSettings, type ConsumerRecord, type TopicPartition, type PartitionState, type RebalanceListener} from './consumer-config.js'
import {GroupMembership} from './consumer-group.js'
import {OffsetManager} from './consumer-offsets.js'
import {Fetcher} from './consumer-fetcher.js'

export {consumerSettings, type ConsumerSettings, type ConsumerRecord, type TopicPartition, type RebalanceListener} from './consumer-config.js'

export class Consumer {
  readonly net: NetworkClient
  readonly settings: ConsumerSettings
  readonly clientId: string
  // Shared with the parts (internal): the assignment with each partition's position, the
  // subscription, and the state poll() reports.
  readonly assigned = new Map<string, PartitionState>()
  readonly retryBackoff: ExponentialBackoff
  subscription: {topics: Set<string>} | {pattern: RegExp} | undefined
  matchedTopics: string[] = []
  manual = false
  closed = false
  fatal: Error | undefined
  private dataWaiters: (() => void)[] = []
  listener: RebalanceListener = {}
  readonly group = new GroupMembership(this)
  readonly offsets = new OffsetManager(this)
  readonly fetcher = new Fetcher(this)

  constructor(bootstrap: string, config: ClientConfig, defaultClientId = 'consumer') {
    this.settings = consumerSettings(config)
    const net = networkSettings(config, defaultClientId)
    this.clientId = net.clientId
    const prefix = this.settings.groupId !== undefined ? `[Consumer clientId=${net.clientId}, groupId=${this.settings.groupId}]` : `[Consumer clientId=${net.clientId}, groupId=null]`
    this.net = new NetworkClient(bootstrap, net, prefix)
    this.net.allowAutoTopicCreation = this.settings.allowAutoCreateTopics
    this.retryBackoff = retryBackoff(net.retryBackoffMs, net.retryBackoffMaxMs)
    this.net.onChange(() => {
      // A failed authentication ends the next poll (Java's AuthenticationException).
      if (this.net.authenticationError && !this.fatal) { this.fatal = this.net.authenticationError; this.signalData() }
      this.group.onMetadataOrConnection()
      this.fetcher.schedulePump()
    })
    this.net.maybeUpdate()
  }

  get groupId(): string | undefined {
    return this.settings.groupId
  }

  /** The partitions assigned now. */
  assignment(): TopicPartition[] {
    return [...this.assigned.values()].map(p => ({topic: p.topic, partition: p.partition}))
  }

  // ---------------------------------------------------------------------------------------
  // Subscription and assignment

  subscribe(topics: string[] | RegExp): void {
    if (this.settings.groupId === undefined) throw new KafkaClientError('InvalidGroupIdException', 'To use the group management or offset commit APIs, you must provide a valid group.id in the consumer configuration.')
    if (this.manual) throw new KafkaClientError('IllegalStateException', 'Subscription to topics, partitions and pattern are mutually exclusive')
    if (topics instanceof RegExp) {
      this.subscription = {pattern: topics}
      this.net.allTopics = true
      this.net.requestUpdate()
    } else {
      this.subscription = {topics: new Set(topics)}
      this.matchedTopics = [...topics].sort()
      this.net.want(topics)
    }
    this.group.needsJoin = true
    this.group.startGroupTask()
  }

  assign(partitions: TopicPartition[]): void {
    if (this.subscription) throw new KafkaClientError('IllegalStateException', 'Subscription to topics, partitions and pattern are mutually exclusive')
    this.manual = true
    this.setAssignment(partitions)
    this.net.want(partitions.map(p => p.topic))
    // With a group.id, the coordinator is looked up only when it is needed: committed
    // offsets for a partition that was not sought, or a commit.
    this.fetcher.schedulePump()
  }

  /** Sets the next offset to fetch for an assigned partition. */
  seek(topic: string, partition: number, offset: number): void {
    const ps = this.assigned.get(`${topic}-${partition}`)
    if (!ps) throw new KafkaClientError('IllegalStateException', `No current assignment for partition ${topic}-${partition}`)
    ps.position = offset
    ps.awaitingCommitted = false
    ps.resetTo = undefined
    ps.buffered = undefined
    this.fetcher.schedulePump()
  }

  seekToBeginning(partitions: TopicPartition[]): void {
    for (const tp of partitions) this.requestReset(tp, EARLIEST)
  }

  seekToEnd(partitions: TopicPartition[]): void {
    for (const tp of partitions) this.requestReset(tp, LATEST)
  }

  private requestReset(tp: TopicPartition, to: number): void {
    const ps = this.assigned.get(`${tp.topic}-${tp.partition}`)
    if (!ps) throw new KafkaClientError('IllegalStateException', `No current assignment for partition ${tp.topic}-${tp.partition}`)
    ps.position = null
    ps.awaitingCommitted = false
    ps.resetTo = to
    ps.buffered = undefined
    this.fetcher.schedulePump()
  }

  /** Positions of the partitions given up in the last rebalance. */
  revokedPositions = new Map<string, number>()

  setAssignment(partitions: TopicPartition[]): void {
    const next = new Map<string, PartitionState>()
    for (const tp of partitions) {
      const name = `${tp.topic}-${tp.partition}`
      next.set(name, this.assigned.get(name) ?? {
        topic: tp.topic, partition: tp.partition, name, position: null, awaitingCommitted: this.settings.groupId !== undefined,
        resetTo: undefined, resetInFlight: false, resetNotBefore: 0, resetFailures: 0, buffered: undefined, committed: undefined, keptPosition: this.revokedPositions.get(name), highWatermark: -1, leaderEpoch: -1,
      })
    }
    this.assigned.clear()
    for (const [k, v] of next) this.assigned.set(k, v)
  }

  /**
   * Commits the current positions, or the given offsets of assigned partitions, and waits for
   * the result (retrying until default.api.timeout.ms).
   */
  async commitSync(offsets?: (TopicPartition & {offset: number})[]): Promise<void> {
    await this.offsets.commitPositions(true, false, offsets)
  }
  signalData(): void {
    const ws = this.dataWaiters
    this.dataWaiters = []
    for (const w of ws) w()
  }

  private async pollInternal(timeoutMs: number, max: number, out: ConsumerRecord[] | undefined): Promise<{count: number; bytes: number}> {
    if (this.closed) throw new KafkaClientError('IllegalStateException', 'This consumer has already been closed.')
    const deadline = Date.now() + Math.max(0, timeoutMs)
    const counts = {count: 0, bytes: 0}
    for (;;) {
      if (this.fatal) {
        const e = this.fatal
        this.fatal = undefined
        throw e
      }
      this.offsets.maybeAutoCommit(Date.now())
      this.fetcher.drainBuffered(max, out, counts)
      this.fetcher.schedulePump()
      if (counts.count > 0) return counts
      const wait = deadline - Date.now()
      if (wait <= 0 || this.closed) return counts
      await new Promise<void>(res => {
        const t = setTimeout(done, Math.min(wait, this.settings.autoCommitIntervalMs))
        function done() { clearTimeout(t); res() }
        this.dataWaiters.push(done)
      })
    }
  }

  /** Waits up to timeoutMs for records; returns at most max.poll.records (or max). */
  async poll(timeoutMs: number, max = this.settings.maxPollRecords): Promise<ConsumerRecord[]> {
    const out: ConsumerRecord[] = []
    await this.pollInternal(timeoutMs, max, out)
    return out
  }

  /** As poll(), counting records and their key+value bytes without building records. */
  pollCount(timeoutMs: number, max = this.settings.maxPollRecords): Promise<{count: number; bytes: number}> {
    return this.pollInternal(timeoutMs, max, undefined)
  }

  /** Wakes a poll() that is waiting (it returns what it has, possibly nothing). */
  wakeup(): void {
    this.signalData()
  }

  /**
   * Waits until the consumer has an assignment (a group member once joined; assign() at once)
   * whose positions are all known; false at the deadline. Fetching goes on meanwhile.
   */
  async awaitPositions(timeoutMs: number): Promise<boolean> {
    const deadline = Date.now() + timeoutMs
    for (;;) {
      if (this.fatal) {
        const e = this.fatal
        this.fatal = undefined
        throw e
      }
      const ready = (this.manual || (this.group.joined && !this.group.needsJoin)) && this.assigned.size > 0 && [...this.assigned.values()].every(p => p.position !== null)
      if (ready) return true
      if (Date.now() >= deadline || this.closed) return false
      this.fetcher.schedulePump()
      await sleep(Math.min(20, Math.max(1, deadline - Date.now())))
    }
  }

  /** The next offset poll() returns for a partition (null until known). */
  position(topic: string, partition: number): number | null {
    return this.assigned.get(`${topic}-${partition}`)?.position ?? null
  }

  // ---------------------------------------------------------------------------------------
  // Close

  /** Commits (enable.auto.commit), leaves the group and closes the connections. */
  async close(timeoutMs = 30000): Promise<void> {
    if (this.closed) return
    const deadline = Date.now() + timeoutMs
    const bounded = <T>(p: Promise<T>) => Promise.race([p, sleep(Math.max(0, deadline - Date.now()), true)])
    try {
      if (this.settings.groupId !== undefined && this.settings.enableAutoCommit) {
        if (this.offsets.autoCommitInFlight) await bounded(this.offsets.autoCommitInFlight)
        await bounded(this.offsets.commitPositions(true, true).catch(error => {
          this.net.log.warn(Loggers.coordinator, `Synchronous auto-commit of offsets ${this.offsets.lastCommitOffsets} failed: ${(error as Error).message}`)
        }))
      }
      // Java's onLeavePrepare: the rebalance listener gives the partitions up.
      if (!this.manual && this.assigned.size > 0) {
        const revoked = this.assignment()
        this.setAssignment([])
        this.listener.onRevoked?.(revoked)
      }
      await this.group.leave(bounded, deadline)
    } finally {
      this.closed = true
      this.group.groupWake?.()
      if (this.fetcher.pumpTimer) clearTimeout(this.fetcher.pumpTimer)
      this.signalData()
      this.net.close()
    }
  }
}

export type {RecordHeader}
