// The transaction coordinator's side of WriteTxnMarkers: once a transaction is decided
// (PrepareCommit / PrepareAbort written), a COMMIT or ABORT marker goes to the leader of every
// partition in it. Partitions are grouped by leader; this broker's own partitions are written
// directly, other leaders get a WriteTxnMarkers request over a small broker-to-broker client
// (one KafkaConnection per broker on the inter-broker listener). Retriable failures (no leader,
// moved leader, lost connection, timeouts) are retried with a short backoff until every
// partition has its marker, the topic is deleted, or the coordinator gives the transaction up.
import {KafkaConnection, type ConnectOptions} from '../protocol/client.js'
import {Apis, type ApiSpec, type DeepPartial} from '../protocol/messages.js'
import {ErrorCode} from '../protocol/errors.js'
import type {Logger} from '../util/log.js'

export interface MarkerRequest {
  producerId: number
  producerEpoch: number
  coordinatorEpoch: number
  commit: boolean
  /** topic -> partitions */
  partitions: Map<string, Set<number>>
}

export interface MarkerTarget {
  topic: string
  partition: number
}

export interface MarkerSenderDeps {
  brokerId: number
  /** Leader of a partition from the metadata cache, -1 when unknown; undefined when the topic does not exist. */
  leaderOf(topic: string, partition: number): number | undefined
  /** Inter-broker endpoint of a live broker. */
  endpoint(brokerId: number): {host: string; port: number} | undefined
  /** Writes markers to partitions this broker leads; resolves with an error code per partition. */
  writeLocal(req: MarkerRequest, targets: MarkerTarget[]): Promise<number[]>
  /** Connects over the inter-broker listener with its security (TLS, SASL); plain TCP when absent. */
  connect?(host: string, port: number, opts: ConnectOptions): Promise<KafkaConnection>
}

const RETRIABLE = new Set<number>([
  ErrorCode.NOT_LEADER_OR_FOLLOWER, ErrorCode.NOT_ENOUGH_REPLICAS, ErrorCode.NOT_ENOUGH_REPLICAS_AFTER_APPEND, ErrorCode.REQUEST_TIMED_OUT,
  ErrorCode.KAFKA_STORAGE_ERROR, ErrorCode.LEADER_NOT_AVAILABLE, ErrorCode.UNKNOWN_LEADER_EPOCH, ErrorCode.FENCED_LEADER_EPOCH, ErrorCode.COORDINATOR_LOAD_IN_PROGRESS,
])

export class TxnMarkerSender {
  private readonly conns = new Map<number, Promise<KafkaConnection>>()
  private stopped = false

  constructor(readonly deps: MarkerSenderDeps, readonly logger: Logger, readonly requestTimeoutMs = 30000) {}

  /**
   * Writes the markers of one transaction; true once every partition has its marker (or its
   * topic is gone), false when `stillValid` turns false (coordinator moved) or on shutdown.
   */
  async send(req: MarkerRequest, stillValid: () => boolean): Promise<boolean> {
    let pending: MarkerTarget[] = []
    for (const [topic, ps] of req.partitions) for (const partition of ps) pending.push({topic, partition})
    let backoff = 0
    while (pending.length > 0) {
      if (backoff > 0) await new Promise(r => setTimeout(r, backoff))
      if (this.stopped || !stillValid()) return false
      const byLeader = new Map<number, MarkerTarget[]>()
      const retry: MarkerTarget[] = []
      for (const t of pending) {
        const leader = this.deps.leaderOf(t.topic, t.partition)
        if (leader === undefined) continue // the topic was deleted
        if (leader < 0) {
          retry.push(t)
          continue
        }
        let list = byLeader.get(leader)
        if (!list) byLeader.set(leader, list = [])
        list.push(t)
      }
      await Promise.all([...byLeader].map(async ([leader, targets]) => {
        let codes: number[]
        try {
          codes = leader === this.deps.brokerId ? await this.deps.writeLocal(req, targets) : await this.writeRemote(leader, req, targets)
        } catch (error) {
          this.logger.debug(`Sending transaction markers for producer ${req.producerId} to broker ${leader} failed: ${(error as Error).message}`)
          retry.push(...targets)
          return
        }
        targets.forEach((t, i) => {
          const code = codes[i]
          if (code === ErrorCode.NONE || code === ErrorCode.UNKNOWN_TOPIC_OR_PARTITION && this.deps.leaderOf(t.topic, t.partition) === undefined) return
          if (RETRIABLE.has(code) || code === ErrorCode.UNKNOWN_TOPIC_OR_PARTITION) {
            retry.push(t)
            return
          }
          // INVALID_PRODUCER_EPOCH / TRANSACTION_COORDINATOR_FENCED: a newer epoch has written there; nothing to add.
          this.logger.warn(`Transaction marker for producer ${req.producerId} on ${t.topic}-${t.partition} was refused with error ${code}; not retrying`)
        })
      }))
      pending = retry
      backoff = 100
    }
    return true
  }

  private connection(brokerId: number): Promise<KafkaConnection> {
    let c = this.conns.get(brokerId)
    if (!c) {
      const ep = this.deps.endpoint(brokerId)
      if (!ep) return Promise.reject(new Error(`broker ${brokerId} is not alive`))
      const opts = {clientId: `broker-${this.deps.brokerId}-txn-marker-sender`, timeoutMs: this.requestTimeoutMs}
      c = this.deps.connect?.(ep.host, ep.port, opts) ?? KafkaConnection.connect(ep.host, ep.port, opts)
      c.catch(() => this.conns.delete(brokerId))
      this.conns.set(brokerId, c)
    }
    return c
  }

  /** One request to another broker over the inter-broker connection (KIP-890 verification too). */
  async request<Req, Res>(brokerId: number, api: ApiSpec<Req, Res>, version: number, body: DeepPartial<Req>, timeoutMs = this.requestTimeoutMs): Promise<Res> {
    const conn = await this.connection(brokerId)
    if (conn.closed) {
      this.conns.delete(brokerId)
      throw new Error(`connection to broker ${brokerId} closed`)
    }
    try {
      return await conn.send(api, version, body, timeoutMs)
    } catch (error) {
      this.conns.delete(brokerId)
      await conn.close().catch(() => {})
      throw error
    }
  }

  private async writeRemote(brokerId: number, req: MarkerRequest, targets: MarkerTarget[]): Promise<number[]> {
    const byTopic = new Map<string, number[]>()
    for (const t of targets) {
      let l = byTopic.get(t.topic)
      if (!l) byTopic.set(t.topic, l = [])
      l.push(t.partition)
    }
    const res = await this.request(brokerId, Apis.WriteTxnMarkers, 1, {
      markers: [{producerId: req.producerId, producerEpoch: req.producerEpoch, transactionResult: req.commit, coordinatorEpoch: req.coordinatorEpoch, topics: [...byTopic].map(([name, partitionIndexes]) => ({name, partitionIndexes}))}],
    })
    const codes = new Map<string, number>()
    for (const m of res.markers) for (const t of m.topics) for (const p of t.partitions) codes.set(`${t.name}\u0000${p.partitionIndex}`, p.errorCode)
    return targets.map(t => codes.get(`${t.topic}\u0000${t.partition}`) ?? ErrorCode.UNKNOWN_SERVER_ERROR)
  }

  async stop(): Promise<void> {
    this.stopped = true
    const all = [...this.conns.values()]
    this.conns.clear()
    await Promise.all(all.map(p => p.then(c => c.close(), () => undefined)))
  }
}
