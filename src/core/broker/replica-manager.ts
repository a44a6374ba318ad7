// The partitions this broker holds: opens their logs when the cluster assigns them, keeps
// leadership / ISR / epochs from ZooKeeper's partition states, applies topic config
// changes, deletes logs of deleted topics, and looks partitions up on the hot path
// (topic -> array indexed by partition).
import {ErrorCode} from '../protocol/errors.js'
import type {LogConfig} from '../log/partition-log.js'
import type {LogManager} from '../log/log-manager.js'
import type {ClusterManager, PartitionState} from '../cluster/cluster.js'
import {topicConfigDefaults, type ServerConfig} from '../config/server-config.js'
import type {Logger} from '../util/log.js'
import {Partition} from './partition.js'
import {eachLimit} from '../util/fs.js'

/** Producer-state snapshots written at once at a clean shutdown. */
const SHUTDOWN_SNAPSHOT_CONCURRENCY = 16
import {codecId} from '../protocol/compression.js'
import {ReplicaFetcherManager, type FetcherSettings} from './replica-fetcher.js'
import {ReplicationThrottles} from './replication-quota.js'

/** FENCED_LEADER_EPOCH / UNKNOWN_LEADER_EPOCH when a client's epoch differs from ours (-1 = unchecked). */
export function checkLeaderEpoch(p: Partition, current: number | undefined): number {
  if (current === undefined || current < 0) return 0
  if (current < p.leaderEpoch) return ErrorCode.FENCED_LEADER_EPOCH
  if (current > p.leaderEpoch) return ErrorCode.UNKNOWN_LEADER_EPOCH
  return 0
}

function num(v: string | undefined, def: number): number {
  if (v === undefined || v === '') return def
  const n = Number(v)
  return Number.isFinite(n) ? n : def
}

/** The effective config of a topic (broker defaults + overrides) as the log wants it. */
export function logConfigFrom(effective: Record<string, string>): LogConfig {
  return {
    segmentBytes: num(effective['segment.bytes'], 1073741824),
    segmentMs: num(effective['segment.ms'], 604800000),
    segmentJitterMs: num(effective['segment.jitter.ms'], 0),
    retentionMs: num(effective['retention.ms'], 604800000),
    retentionBytes: num(effective['retention.bytes'], -1),
    indexIntervalBytes: num(effective['index.interval.bytes'], 4096),
    maxIndexSizeBytes: num(effective['segment.index.bytes'], 10485760),
    flushIntervalMessages: num(effective['flush.messages'], Number.MAX_SAFE_INTEGER),
    flushIntervalMs: num(effective['flush.ms'], Number.MAX_SAFE_INTEGER),
    fileDeleteDelayMs: num(effective['file.delete.delay.ms'], 60000),
    messageTimestampType: effective['message.timestamp.type'] === 'LogAppendTime' ? 'LogAppendTime' : 'CreateTime',
    maxMessageBytes: num(effective['max.message.bytes'], 1048588),
    cleanupPolicy: effective['cleanup.policy'] ?? 'delete',
    deleteRetentionMs: num(effective['delete.retention.ms'], 86400000),
    minCompactionLagMs: num(effective['min.compaction.lag.ms'], 0),
    minCleanableDirtyRatio: num(effective['min.cleanable.dirty.ratio'], 0.5),
  }
}

export class ReplicaManager {
  private readonly byTopic = new Map<string, Partition[]>()
  private readonly opening = new Map<string, Promise<Partition | undefined>>()
  private readonly topicWaiters = new Set<() => void>()
  /** Called with every partition this broker leads once its log is open (group coordinator loading). */
  onLeader: ((p: Partition) => void) | null = null
  /** Called with every transaction marker appended to a partition here (transactional offset commits). */
  onTxnCompleted: Partition['onTxnCompleted'] = null

  readonly fetchers: ReplicaFetcherManager
  /** leader/follower.replication.throttled.* (follower side enforced). */
  readonly throttles: ReplicationThrottles
  private isrTimer: NodeJS.Timeout | null = null

  constructor(readonly config: ServerConfig, readonly logs: LogManager, readonly cluster: ClusterManager, readonly logger: Logger, readonly brokerId: number, connect?: FetcherSettings['connect']) {
    this.throttles = new ReplicationThrottles(brokerId, key => {
      let v: string | undefined
      try { v = cluster.brokerConfigOverrides()[key] } catch { v = undefined }
      const n = Number(v ?? config.props?.get(key) ?? NaN)
      return Number.isFinite(n) && n >= 0 ? n : Number.MAX_SAFE_INTEGER
    })
    this.fetchers = new ReplicaFetcherManager({
      throttles: this.throttles,
      brokerId,
      maxWaitMs: config.replicaFetchWaitMaxMs,
      minBytes: config.replicaFetchMinBytes,
      maxBytes: config.replicaFetchResponseMaxBytes,
      partitionMaxBytes: config.replicaFetchMaxBytes,
      endpoint: leaderId => {
        const b = cluster.brokers().find(x => x.id === leaderId)
        if (!b) return undefined
        const ep = b.endpoints.find(e => e.listener === config.interBrokerListenerName) ?? b.endpoints[0]
        return ep ? {host: ep.host, port: ep.port} : {host: b.host, port: b.port}
      },
      connect,
    }, logger)
    // ISR shrink: followers that have not caught up within replica.lag.time.max.ms leave the ISR.
    const every = Math.max(100, Math.floor(config.replicaLagTimeMaxMs / 2))
    this.isrTimer = setInterval(() => this.shrinkIsrs(), every)
    this.isrTimer.unref()
    // producer.id.expiration.ms: idle producers without an open transaction leave the tables
    // (checked every 10 minutes, producer.id.expiration.check.interval.ms's default).
    this.expiryTimer = setInterval(() => {
      const now = Date.now()
      for (const p of this.all()) p.producers.expire(now, config.producerIdExpirationMs)
    }, 600000)
    this.expiryTimer.unref()
  }

  private expiryTimer: NodeJS.Timeout | null = null

  /** Leader: adds a caught-up follower to the ISR (in ZooKeeper, as Kafka's leader does). */
  expandIsr(p: Partition, replicaId: number): void {
    if (p.isrUpdatePending || !p.state || !p.isLeader() || p.isr.includes(replicaId)) return
    // Only a live broker joins (Kafka's isReplicaIsrEligible): a fetch from a follower that has
    // since died, handled after the controller took it out of the ISR, must not put it back, or
    // it could later be elected "cleanly" with none of the data written meanwhile.
    if (!this.cluster.brokers().some(b => b.id === replicaId)) return
    this.updateIsr(p, [...p.isr, replicaId].sort((a, b) => a - b), `Expanding ISR of ${p.topic}-${p.index} from ${p.isr.join(',')} to ${[...p.isr, replicaId].sort((a, b) => a - b).join(',')}`)
  }

  private shrinkIsrs(): void {
    const now = Date.now()
    const lag = this.config.replicaLagTimeMaxMs
    for (const p of this.all()) {
      if (!p.isLeader() || p.isrUpdatePending || !p.state || p.isr.length <= 1) continue
      const out = p.isr.filter(id => id !== this.brokerId && now - (p.followerCaughtUp.get(id) ?? 0) > lag)
      if (out.length === 0) continue
      const isr = p.isr.filter(id => !out.includes(id))
      this.updateIsr(p, isr, `Shrinking ISR of ${p.topic}-${p.index} from ${p.isr.join(',')} to ${isr.join(',')} (out of sync: ${out.join(',')})`)
    }
  }

  private updateIsr(p: Partition, isr: number[], why: string): void {
    p.isrUpdatePending = true
    this.logger.info(why)
    this.cluster.updateIsr(p.state!, isr).then(state => {
      p.isrUpdatePending = false
      p.state = state
      p.isr = [...state.isr]
      p.advanceHighWatermark()
    }, error => {
      p.isrUpdatePending = false
      this.logger.warn(`Failed to update the ISR of ${p.topic}-${p.index}: ${(error as Error).message}`)
    })
  }

  partitionsOf(topic: string): Partition[] | undefined {
    return this.byTopic.get(topic)
  }

  partition(topic: string, index: number): Partition | undefined {
    return this.byTopic.get(topic)?.[index]
  }

  all(): Partition[] {
    const out: Partition[] = []
    for (const ps of this.byTopic.values()) for (const p of ps) if (p) out.push(p)
    return out
  }

  effectiveConfig(topic: string): Record<string, string> {
    const meta = this.cluster.topic(topic)
    let dynamic: Record<string, string> = {}
    try { dynamic = this.cluster.brokerConfigOverrides?.() ?? {} } catch { /* none */ }
    return {...topicConfigDefaults(this.config, dynamic), ...(meta?.configs ?? {})}
  }

  /** Opens / updates every partition of every known topic that this broker replicates. */
  async syncAll(): Promise<void> {
    const states: PartitionState[] = []
    for (const meta of this.cluster.topics().values()) states.push(...meta.partitions)
    await this.applyStates(states)
  }

  async applyStates(states: PartitionState[]): Promise<void> {
    await Promise.all(states.map(s => this.applyState(s)))
    for (const w of [...this.topicWaiters]) w()
  }

  private async applyState(s: PartitionState): Promise<void> {
    if (!s.replicas.includes(this.brokerId)) return
    const meta = this.cluster.topic(s.topic)
    if (!meta || meta.markedForDeletion) return
    let p = this.partition(s.topic, s.partition)
    if (p === undefined) {
      const key = `${s.topic}\u0000${s.partition}`
      let pending = this.opening.get(key)
      if (!pending) {
        pending = (async () => {
          try {
            const effective = this.effectiveConfig(s.topic)
            const log = await this.logs.getOrCreateLog(s.topic, s.partition, logConfigFrom(effective))
            const part = new Partition(s.topic, s.partition, meta.topicId, log, this.brokerId, this.logs.storedHighWatermark(s.topic, s.partition))
            part.onTxnCompleted = (q, t) => this.onTxnCompleted?.(q, t)
            await part.loadProducerState()
            this.applyTopicConfig(part, effective)
            let arr = this.byTopic.get(s.topic)
            if (!arr) {
              arr = []
              this.byTopic.set(s.topic, arr)
            }
            arr[s.partition] = part
            return part
          } catch (error) {
            this.logger.error(`Failed to open the log of ${s.topic}-${s.partition}: ${(error as Error).message}`)
            return undefined
          } finally {
            this.opening.delete(key)
          }
        })()
        this.opening.set(key, pending)
      }
      p = await pending
      if (p === undefined) return
    }
    const wasLeader = p.isLeader()
    const newEpoch = p.leaderEpoch !== s.leaderEpoch || p.leader !== s.leader
    p.topicId = meta.topicId
    p.state = s
    p.leader = s.leader
    p.leaderEpoch = s.leaderEpoch
    p.isr = [...s.isr]
    p.replicas = s.replicas
    if (p.isLeader()) {
      this.fetchers.unfollow(p)
      if (!wasLeader || newEpoch) {
        // A new term: followers report their positions afresh; they get a lag window to do so.
        p.followerEnds.clear()
        const now = Date.now()
        for (const id of p.isr) p.followerCaughtUp.set(id, now)
      }
      p.advanceHighWatermark()
      if (!wasLeader) {
        this.logger.debug(`Partition ${s.topic}-${s.partition}: leader at epoch ${s.leaderEpoch}`)
        this.onLeader?.(p)
      }
    } else {
      if (wasLeader) p.wake(0)
      if (s.leader >= 0) {
        // The fetcher first truncates what diverges from the new leader (leader epochs).
        this.fetchers.follow(p, newEpoch)
      } else {
        this.fetchers.unfollow(p)
      }
    }
  }

  private applyTopicConfig(p: Partition, effective: Record<string, string>): void {
    this.throttles.configure(p, effective)
    p.minInsyncReplicas = num(effective['min.insync.replicas'], 1)
    p.maxMessageBytes = num(effective['max.message.bytes'], 1048588)
    // compression.type: 'producer' keeps what the client sent; otherwise batches in another codec are recompressed.
    const ct = effective['compression.type'] ?? 'producer'
    p.compressionTarget = ct === 'producer' ? -1 : ct === 'uncompressed' ? 0 : codecId(ct)
  }

  topicConfigChanged(topic: string): void {
    const parts = this.byTopic.get(topic)
    if (!parts) return
    const effective = this.effectiveConfig(topic)
    const lc = logConfigFrom(effective)
    for (const p of parts) {
      if (!p) continue
      this.applyTopicConfig(p, effective)
      p.log.updateConfig(lc)
    }
  }

  async topicDeleted(topic: string): Promise<void> {
    const parts = this.byTopic.get(topic)
    this.byTopic.delete(topic)
    if (!parts) return
    for (const p of parts) {
      if (!p) continue
      this.fetchers.unfollow(p)
      for (const w of [...p.waiters]) w.onData(p, 0)
      try {
        await this.logs.deleteLog(topic, p.index)
      } catch (error) {
        this.logger.error(`Failed to delete the log of ${topic}-${p.index}: ${(error as Error).message}`)
      }
    }
    this.logger.info(`Deleted the logs of topic ${topic}`)
  }

  /**
   * A reassignment moved these partitions off this broker (Kafka's StopReplica with deletion):
   * the fetcher stops, waiting fetches are answered, and the log is deleted.
   */
  async removePartitions(list: {topic: string; partition: number}[]): Promise<void> {
    for (const {topic, partition} of list) {
      // Still (or again) assigned here: keep it.
      if (this.cluster.topic(topic)?.partitions[partition]?.replicas.includes(this.brokerId)) continue
      const parts = this.byTopic.get(topic)
      const p = parts?.[partition]
      if (!p) continue
      this.fetchers.unfollow(p)
      delete parts![partition]
      for (const w of [...p.waiters]) w.onData(p, 0)
      try {
        await this.logs.deleteLog(topic, partition)
        this.logger.info(`Deleted the log of ${topic}-${partition}: its replica moved off this broker`)
      } catch (error) {
        this.logger.error(`Failed to delete the log of ${topic}-${partition}: ${(error as Error).message}`)
      }
    }
  }

  /**
   * At start-up: logs on disk of partitions that a reassignment moved off this broker while it
   * was down (the topic and partition exist, this broker is not among their replicas) are
   * deleted, as Kafka's controller has a returning broker delete them.
   */
  async removeStrayLogs(): Promise<void> {
    const stray = this.logs.existingPartitions().filter(({topic, partition}) => {
      const ps = this.cluster.topic(topic)?.partitions[partition]
      return ps !== undefined && ps.zkVersion >= 0 && !ps.replicas.includes(this.brokerId) && !this.partition(topic, partition)
    })
    for (const {topic, partition} of stray) {
      try {
        await this.logs.deleteLog(topic, partition)
        this.logger.info(`Deleted the log of ${topic}-${partition}: its replica moved off this broker while it was down`)
      } catch (error) {
        this.logger.error(`Failed to delete the log of ${topic}-${partition}: ${(error as Error).message}`)
      }
    }
  }

  /** Resolves once every partition of the topic that this broker replicates is open (or after timeoutMs). */
  waitForTopic(topic: string, timeoutMs: number): Promise<boolean> {
    const ready = () => {
      const meta = this.cluster.topic(topic)
      if (!meta) return false
      for (const s of meta.partitions) {
        if (!s.replicas.includes(this.brokerId)) continue
        const p = this.partition(topic, s.partition)
        if (!p || p.leader !== s.leader) return false
      }
      return true
    }
    if (ready()) return Promise.resolve(true)
    // Our own cluster cache may already know the topic before the event fires: open now.
    const meta = this.cluster.topic(topic)
    if (meta) void this.applyStates(meta.partitions)
    return new Promise(resolve => {
      const check = () => {
        if (ready()) finish(true)
      }
      const finish = (ok: boolean) => {
        clearTimeout(timer)
        this.topicWaiters.delete(check)
        resolve(ok)
      }
      const timer = setTimeout(() => finish(ready()), timeoutMs)
      this.topicWaiters.add(check)
    })
  }

  async close(): Promise<void> {
    if (this.isrTimer) clearInterval(this.isrTimer)
    if (this.expiryTimer) clearInterval(this.expiryTimer)
    await this.fetchers.stop()
    // A clean shutdown leaves a producer state snapshot at each log end: the next start reads no batch.
    // (written and fsynced several at once, as Kafka's log manager closes logs on several threads)
    await eachLimit(this.all(), SHUTDOWN_SNAPSHOT_CONCURRENCY, p => p.takeShutdownSnapshot())
    for (const p of this.all()) for (const w of [...p.waiters]) w.onData(p, 0)
    this.byTopic.clear()
  }
}
