// Follower replication: one fetcher per leader broker pulls the partitions this broker
// follows with Fetch (replica id = this broker), appends the batches as they are (offsets
// assigned by the leader) and takes the leader's high watermark. The leader learns each
// follower's log end from its fetch offset (see Fetch and Partition.recordFollowerFetch).
import {KafkaConnection, type ConnectOptions} from '../protocol/client.js'
import {Apis} from '../protocol/messages.js'
import {ErrorCode} from '../protocol/errors.js'
import type {Logger} from '../util/log.js'
import type {Partition} from './partition.js'
import type {ReplicationThrottles} from './replication-quota.js'

export interface LeaderEndpoint {
  host: string
  port: number
}

export interface FetcherSettings {
  brokerId: number
  maxWaitMs: number
  minBytes: number
  maxBytes: number
  partitionMaxBytes: number
  endpoint(leaderId: number): LeaderEndpoint | undefined
  /** Connects over the inter-broker listener with its security (TLS, SASL); plain TCP when absent. */
  connect?(host: string, port: number, opts: ConnectOptions): Promise<KafkaConnection>
  /** Replication throttles (follower side: throttled replicas out of the ISR wait while the quota is used up). */
  throttles?: ReplicationThrottles
}

const FETCH_VERSION = 12

class LeaderFetcher {
  readonly partitions = new Set<Partition>()
  /** Partitions that must find where their log diverges from the leader's before fetching. */
  readonly unchecked = new Set<Partition>()
  private conn: KafkaConnection | null = null
  private running = false
  private stopped = false

  constructor(readonly leaderId: number, readonly settings: FetcherSettings, readonly logger: Logger) {}

  start(): void {
    if (this.running || this.stopped) return
    this.running = true
    void this.loop().finally(() => {
      this.running = false
      // A partition may have been added while the loop was finishing.
      if (!this.stopped && this.partitions.size > 0) this.start()
    })
  }

  async stop(): Promise<void> {
    this.stopped = true
    await this.conn?.close().catch(() => {})
    this.conn = null
  }

  private async loop(): Promise<void> {
    let backoff = 0
    while (!this.stopped && this.partitions.size > 0) {
      if (backoff > 0) {
        await new Promise(r => setTimeout(r, backoff))
        if (this.stopped) return
      }
      try {
        if (!this.conn) {
          const ep = this.settings.endpoint(this.leaderId)
          if (!ep) {
            backoff = 500
            continue
          }
          const opts = {clientId: `broker-${this.settings.brokerId}-fetcher-${this.leaderId}`, timeoutMs: this.settings.maxWaitMs + 30000}
          this.conn = await (this.settings.connect?.(ep.host, ep.port, opts) ?? KafkaConnection.connect(ep.host, ep.port, opts))
        }
        backoff = (await this.fetchOnce(this.conn)) ? 0 : 200
      } catch (error) {
        if (!this.stopped) this.logger.debug(`Error fetching from leader ${this.leaderId}: ${(error as Error).message}`)
        await this.conn?.close().catch(() => {})
        this.conn = null
        backoff = 1000
      }
    }
  }

  /**
   * Leader-epoch truncation (as Kafka's followers do since KIP-101): ask the leader where
   * our last epoch ends in its log and drop anything of ours beyond that. Falls back to the
   * high watermark when the leader cannot say.
   */
  private async truncateDiverged(conn: KafkaConnection): Promise<void> {
    const parts = [...this.unchecked].filter(p => this.partitions.has(p))
    this.unchecked.clear()
    const byTopic = new Map<string, {p: Partition; epoch: number}[]>()
    const fallback = (p: Partition, why: string) => {
      if (p.logEndOffset > p.highWatermark) {
        this.logger.info(`Truncating ${p.topic}-${p.index} to the high watermark ${p.highWatermark} (${why})`)
        truncations.push(p.truncateTo(p.highWatermark))
      }
    }
    const truncations: Promise<void>[] = []
    for (const p of parts) {
      const epochs = p.log.leaderEpochs
      if (p.logEndOffset === p.logStartOffset) continue
      if (epochs.length === 0) {
        fallback(p, 'no leader epochs in the log')
        continue
      }
      let list = byTopic.get(p.topic)
      if (!list) byTopic.set(p.topic, list = [])
      list.push({p, epoch: epochs[epochs.length - 1].epoch})
    }
    await Promise.all(truncations)
    if (byTopic.size === 0) return
    const res = await conn.send(Apis.OffsetForLeaderEpoch, 3, {replicaId: this.settings.brokerId, topics: [...byTopic].map(([topic, list]) => ({topic, partitions: list.map(x => ({partition: x.p.index, currentLeaderEpoch: x.p.leaderEpoch, leaderEpoch: x.epoch}))}))})
    for (const t of res.topics) {
      for (const r of t.partitions) {
        const x = byTopic.get(t.topic)?.find(y => y.p.index === r.partition)
        if (!x) continue
        const p = x.p
        if (r.errorCode === ErrorCode.NOT_LEADER_OR_FOLLOWER || r.errorCode === ErrorCode.FENCED_LEADER_EPOCH || r.errorCode === ErrorCode.UNKNOWN_LEADER_EPOCH) {
          // The leader has not taken over yet (or we are behind on metadata): ask again shortly.
          this.unchecked.add(p)
          continue
        }
        if (r.errorCode !== 0 || r.endOffset < 0 || r.leaderEpoch < 0) {
          fallback(p, `the leader has no end offset for epoch ${x.epoch}`)
          continue
        }
        let target = r.endOffset
        if (r.leaderEpoch !== x.epoch) target = Math.min(target, p.log.endOffsetForEpoch(r.leaderEpoch).endOffset)
        if (target >= 0 && target < p.logEndOffset) {
          this.logger.info(`Truncating ${p.topic}-${p.index} to ${target}: the leader's epoch ${r.leaderEpoch} ends there`)
          await p.truncateTo(Math.max(target, p.logStartOffset))
          if (p.highWatermark > p.logEndOffset) p.setFollowerHighWatermark(p.logEndOffset)
        }
      }
    }
    await Promise.all(truncations)
  }

  /** One Fetch round; false when nothing could be fetched (errors), to back off a little. */
  private async fetchOnce(conn: KafkaConnection): Promise<boolean> {
    if (this.unchecked.size > 0) await this.truncateDiverged(conn)
    const throttles = this.settings.throttles
    const parts = [...this.partitions].filter(p => !this.unchecked.has(p) && !throttles?.shouldThrottleFollower(p))
    if (parts.length === 0) return false
    const byTopic = new Map<string, Partition[]>()
    for (const p of parts) {
      let list = byTopic.get(p.topic)
      if (!list) byTopic.set(p.topic, list = [])
      list.push(p)
    }
    const res = await conn.send(Apis.Fetch, FETCH_VERSION, {
      replicaId: this.settings.brokerId,
      maxWaitMs: this.settings.maxWaitMs,
      minBytes: this.settings.minBytes,
      maxBytes: this.settings.maxBytes,
      isolationLevel: 0,
      sessionId: 0,
      sessionEpoch: -1,
      topics: [...byTopic].map(([topic, ps]) => ({topic, partitions: ps.map(p => ({partition: p.index, currentLeaderEpoch: p.leaderEpoch, fetchOffset: p.logEndOffset, lastFetchedEpoch: -1, logStartOffset: p.logStartOffset, partitionMaxBytes: this.settings.partitionMaxBytes}))})),
      forgottenTopicsData: [],
      rackId: '',
    })
    let ok = true
    // This round's writes: the next fetch (whose offset tells the leader what is replicated) waits for them.
    let writes: Promise<void>[] | null = null
    for (const t of res.responses) {
      const list = byTopic.get(t.topic) ?? []
      for (const pd of t.partitions) {
        const p = list.find(x => x.index === pd.partitionIndex)
        if (!p || !this.partitions.has(p)) continue
        if (pd.errorCode === ErrorCode.OFFSET_OUT_OF_RANGE) {
          ok = false
          await this.resetOutOfRange(conn, p)
          continue
        }
        if (pd.errorCode !== 0) {
          ok = false
          continue
        }
        const records = pd.records as Buffer | null
        if (records && records.length > 0) {
          try {
            const w = p.appendAsFollower(records)
            if (w !== null) (writes ??= []).push(w.catch(error => this.logger.warn(`Follower write to ${p.topic}-${p.index} failed: ${(error as Error).message}`)))
            throttles?.recordFollower(p, records.length)
          } catch (error) {
            ok = false
            this.logger.warn(`Follower append to ${p.topic}-${p.index} failed: ${(error as Error).message}`)
            continue
          }
        }
        if (pd.logStartOffset > p.logStartOffset && pd.logStartOffset <= p.logEndOffset) p.log.deleteRecordsBefore(pd.logStartOffset)
        p.setFollowerHighWatermark(pd.highWatermark)
      }
    }
    if (writes !== null) await Promise.all(writes)
    return ok
  }

  /** The leader does not have our fetch offset: start again from its log start or truncate to its end. */
  private async resetOutOfRange(conn: KafkaConnection, p: Partition): Promise<void> {
    const r = await conn.send(Apis.ListOffsets, 2, {replicaId: this.settings.brokerId, isolationLevel: 0, topics: [{name: p.topic, partitions: [{partitionIndex: p.index, timestamp: -1}, {partitionIndex: p.index, timestamp: -2}]}]})
    const [latest, earliest] = r.topics[0]?.partitions ?? []
    if (!latest || latest.errorCode !== 0 || !earliest || earliest.errorCode !== 0) return
    if (p.logEndOffset > latest.offset) {
      this.logger.info(`Truncating ${p.topic}-${p.index} to ${latest.offset}: the leader's log ends there`)
      await p.truncateTo(latest.offset)
    } else if (p.logEndOffset < earliest.offset) {
      this.logger.info(`Restarting ${p.topic}-${p.index} at ${earliest.offset}: the leader's log starts there`)
      await p.truncateFullyAndStartAt(earliest.offset)
    }
    p.setFollowerHighWatermark(Math.min(p.highWatermark, p.logEndOffset))
  }
}

export class ReplicaFetcherManager {
  private readonly fetchers = new Map<number, LeaderFetcher>()
  private readonly assigned = new Map<Partition, number>()

  constructor(readonly settings: FetcherSettings, readonly logger: Logger) {}

  /** Follows `p` from its current leader (moving it from another fetcher when the leader changed). */
  follow(p: Partition, newEpoch: boolean): void {
    const current = this.assigned.get(p)
    if (current === p.leader) {
      if (newEpoch) this.fetchers.get(current)?.unchecked.add(p)
      return
    }
    if (current !== undefined) this.fetchers.get(current)?.partitions.delete(p)
    this.assigned.set(p, p.leader)
    let f = this.fetchers.get(p.leader)
    if (!f) {
      f = new LeaderFetcher(p.leader, this.settings, this.logger)
      this.fetchers.set(p.leader, f)
    }
    f.partitions.add(p)
    f.unchecked.add(p)
    f.start()
  }

  unfollow(p: Partition): void {
    const current = this.assigned.get(p)
    if (current === undefined) return
    this.assigned.delete(p)
    this.fetchers.get(current)?.partitions.delete(p)
  }

  async stop(): Promise<void> {
    await Promise.all([...this.fetchers.values()].map(f => f.stop()))
    this.fetchers.clear()
    this.assigned.clear()
  }
}
