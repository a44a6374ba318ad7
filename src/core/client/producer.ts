// The client core's producer, with the Java producer's semantics and defaults (Kafka 3.9):
//
// - Records are appended in place into one batch per partition (RecordAccumulator): a batch
//   is sent when it holds batch.size bytes, when linger.ms has passed since its first record,
//   or on flush/close. buffer.memory bounds what waits; send() then blocks (max.block.ms).
// - Keyed records go to murmur2(key) % partitions; keyless ones to the sticky partition.
// - Sender: per leader node one Produce request holds at most one batch per partition, up to
//   max.request.size, with at most max.in.flight.requests.per.connection requests in flight.
// - Retries (Sender.completeBatch/canRetry): a retriable error or a lost connection sends the
//   batch again after retry.backoff.ms (doubling to retry.backoff.max.ms, jitter), up to
//   `retries` attempts, until delivery.timeout.ms has passed since the batch was created.
//   Only produce responses count as attempts: while a leader cannot be reached its batches
//   wait (and the metadata is refreshed) until delivery.timeout.ms runs out.
// - Idempotence, on by default (enable.idempotence; off silently when acks != all, retries=0
//   or max.in.flight > 5 were set without asking for it): InitProducerId, a sequence number per
//   partition assigned when a batch is first sent and kept across retries (the broker answers a
//   retried batch it already has with its original offset: nothing is written twice), retried
//   batches go out in sequence order, the first one alone; OUT_OF_ORDER_SEQUENCE_NUMBER and
//   UNKNOWN_PRODUCER_ID are handled as Java's TransactionManager does (retry; bump the epoch and
//   restart the partition's sequences at 0 when the gap is real).
// - A record that finally fails is reported once, through its callback, with Java's exception
//   (e.g. TimeoutException: Expiring 1 record(s) for t-0:120000 ms has passed since batch
//   creation).
//
// Extension points for a transactional producer: `transactionalId` in the Produce request,
// ProducerIdState (pid/epoch, per-partition sequences), and the batch `transactional` flag.
import {Produce, InitProducerId, type ProduceResponse} from '../protocol/messages.js'
import {errorName} from '../protocol/errors.js'
import {ConnectionError, RequestTimeoutError, type KafkaConnection} from '../protocol/client.js'
import {ClientConfig, ConfigError} from './config.js'
import {NetworkClient, networkSettings} from './network.js'
import {BatchBuilder, setProducerFields, recordSize, type RecordHeader} from './records.js'
import {codecId} from './compression.js'
import {StickyPartitioner, partitionForKey} from './partitioner.js'
import {KafkaClientError, apiError, isInvalidMetadata, isRetriable, timeoutError} from './kafka-errors.js'
import {retryBackoff, type ExponentialBackoff} from './backoff.js'
import {Loggers} from './log.js'

export type SendCallback = (error: KafkaClientError | null, partition: number, offset: number, timestamp: number, token: number) => void

export interface ProducerSettings {
  acks: number
  batchSize: number
  lingerMs: number
  bufferMemory: number
  maxBlockMs: number
  maxRequestSize: number
  maxInFlight: number
  retries: number
  deliveryTimeoutMs: number
  compression: number
  idempotence: boolean
  partitionerIgnoreKeys: boolean
  adaptivePartitioning: boolean
}

const INT_MAX = 2147483647
const MAX_EPOCH = 32767

/** Reads the producer's settings from Java property names, with Java's defaults and checks. */
export function producerSettings(cfg: ClientConfig): ProducerSettings {
  const acksText = cfg.oneOf('acks', 'all', ['all', '-1', '0', '1'])
  const acks = acksText === 'all' ? -1 : Number(acksText)
  const compressionName = cfg.oneOf('compression.type', 'none', ['none', 'gzip', 'snappy', 'lz4', 'zstd'], true)
  const lingerMs = cfg.long('linger.ms', 0, 0)
  const requestTimeoutMs = cfg.int('request.timeout.ms', 30000, 0)
  const maxInFlight = cfg.int('max.in.flight.requests.per.connection', 5, 1)
  const retries = cfg.int('retries', INT_MAX, 0)
  let deliveryTimeoutMs = cfg.int('delivery.timeout.ms', 120000, 0)
  if (deliveryTimeoutMs < lingerMs + requestTimeoutMs) {
    if (cfg.has('delivery.timeout.ms')) throw new ConfigError('delivery.timeout.ms should be equal to or larger than linger.ms + request.timeout.ms')
    deliveryTimeoutMs = lingerMs + requestTimeoutMs
  }
  const userIdempotence = cfg.has('enable.idempotence')
  let idempotence = cfg.bool('enable.idempotence', true)
  if (idempotence) {
    const conflict = maxInFlight > 5
      ? `To use the idempotent producer, max.in.flight.requests.per.connection must be set to at most 5. Current value is ${maxInFlight}.`
      : retries === 0 ? 'Must set retries to non-zero when using the idempotent producer.'
        : acks !== -1 ? 'Must set acks to all in order to use the idempotent producer. Otherwise we cannot guarantee idempotence.' : undefined
    if (conflict) {
      if (userIdempotence) throw new ConfigError(conflict)
      idempotence = false
    }
  }
  if (cfg.get('transactional.id')) throw new ConfigError('transactional.id is not supported yet: kafkit\'s producer has no transactions')
  return {
    acks,
    batchSize: cfg.int('batch.size', 16384, 0),
    lingerMs,
    bufferMemory: cfg.long('buffer.memory', 33554432, 0),
    maxBlockMs: cfg.long('max.block.ms', 60000, 0),
    maxRequestSize: cfg.int('max.request.size', 1048576, 0),
    maxInFlight,
    retries,
    deliveryTimeoutMs,
    compression: codecId(compressionName),
    idempotence,
    partitionerIgnoreKeys: cfg.bool('partitioner.ignore.keys', false),
    adaptivePartitioning: cfg.bool('partitioner.adaptive.partitioning.enable', true),
  }
}

/** One partition's queue of batches and its idempotence state. */
interface PartitionQueue {
  topic: string
  partition: number
  /** "topic-partition", as Java prints a TopicPartition. */
  name: string
  deque: ProducerBatch[]
  nextSequence: number
  lastAckedSequence: number
  /** Batches with a sequence, not yet completed (sent, or waiting for a retry), by sequence. */
  inflight: ProducerBatch[]
  /** Producer id and epoch the partition's sequences belong to. */
  producerId: number
  epoch: number
  /** Batches of this partition on the wire right now. */
  onWire: number
  needsRewrite: boolean
  /** After a sent batch expired: the sequence after it, until the partition's in-flight batches resolve. */
  unresolved: number | undefined
}

interface TopicQueues {
  partitions: PartitionQueue[]
  sticky: StickyPartitioner
}

class ProducerBatch {
  builder: BatchBuilder | undefined
  sealed: Buffer | undefined
  attempts = 0
  lastAttemptMs = 0
  /** When a batch put back for a retry may go again (its backoff, drawn once). */
  retryAt = 0
  retry = false
  full = false
  done = false
  onWire = false
  baseSequence = -1
  producerId = -1
  epoch = -1
  count = 0
  readonly callbacks: (SendCallback | undefined)[] = []
  readonly tokens: number[] = []
  readonly timestamps: number[] = []

  constructor(readonly q: PartitionQueue, capacity: number, readonly createdMs: number, readonly reservedBytes: number) {
    this.builder = new BatchBuilder(capacity)
  }

  get size(): number {
    return this.sealed ? this.sealed.length : this.builder!.size
  }

  get lastSequence(): number {
    return this.baseSequence + this.count - 1
  }
}

export interface ProducerStats {
  recordsSent: number
  batchesSent: number
  retries: number
  errors: number
}

export class Producer {
  readonly net: NetworkClient
  readonly settings: ProducerSettings
  readonly clientId: string
  private readonly topics = new Map<string, TopicQueues>()
  private readonly queues: PartitionQueue[] = []
  private readonly retryBackoff: ExponentialBackoff
  private bufferedBytes = 0
  private memoryWaiters: (() => void)[] = []
  private scheduled = false
  private timer: NodeJS.Timeout | undefined
  private timerAt = Infinity
  private flushing = 0
  private closing = false
  private closed = false
  private outstanding = 0
  private idleWaiters: (() => void)[] = []
  private blocked: Promise<void> | undefined
  private drainStart = 0
  // idempotence
  private producerId = -1
  private epoch = -1
  private initInProgress = false
  private initAttempts = 0
  private initNotBefore = 0
  private epochBumpRequired = false
  private fatal: KafkaClientError | undefined
  readonly stats: ProducerStats = {recordsSent: 0, batchesSent: 0, retries: 0, errors: 0}

  constructor(bootstrap: string, config: ClientConfig, defaultClientId = 'producer-1') {
    this.settings = producerSettings(config)
    const net = networkSettings(config, defaultClientId)
    this.clientId = net.clientId
    this.net = new NetworkClient(bootstrap, net, `[Producer clientId=${net.clientId}]`)
    this.net.allowAutoTopicCreation = true
    this.net.onChange(() => this.wake())
    this.retryBackoff = retryBackoff(net.retryBackoffMs, net.retryBackoffMaxMs)
    this.net.maybeUpdate()
  }

  get idempotent(): boolean {
    return this.settings.idempotence
  }

  // ---------------------------------------------------------------------------------------
  // Appending

  /** True when the topic's partition count is known (send() appends without waiting). */
  hasMetadata(topic: string): boolean {
    const t = this.net.topics.get(topic)
    return !!t && t.partitions.length > 0
  }

  /**
   * Waits (up to max.block.ms) until the topic's partitions are known, as KafkaProducer.send()
   * does before appending; rejects with Java's TimeoutException or the topic's error.
   */
  async waitOnMetadata(topic: string, partition = -1, maxBlockMs = this.settings.maxBlockMs): Promise<number> {
    this.net.want([topic])
    const deadline = Date.now() + maxBlockMs
    for (;;) {
      const t = this.net.topics.get(topic)
      if (t && t.partitions.length > 0 && (partition < 0 || partition < t.partitions.length)) return t.partitions.length
      this.net.maybeThrowAuthenticationError()
      if (t && t.errorCode !== 0 && !isRetriable(t.errorCode)) {
        const name = errorName(t.errorCode)
        if (name === 'INVALID_TOPIC_EXCEPTION') throw new KafkaClientError('InvalidTopicException', `Invalid topics: [${topic}]`, t.errorCode)
        if (name === 'TOPIC_AUTHORIZATION_FAILED') throw new KafkaClientError('TopicAuthorizationException', `Not authorized to access topics: [${topic}]`, t.errorCode)
        throw apiError(t.errorCode)
      }
      if (this.closed) throw new KafkaClientError('KafkaException', 'Producer closed while send in progress')
      if (Date.now() >= deadline) {
        if (t && t.partitions.length > 0 && partition >= 0) throw timeoutError(`Partition ${partition} of topic ${topic} with partition count ${t.partitions.length} is not present in metadata after ${maxBlockMs} ms.`)
        throw timeoutError(`Topic ${topic} not present in metadata after ${maxBlockMs} ms.`)
      }
      await this.net.awaitUpdate(deadline).catch(() => {})
    }
  }

  /**
   * Sends one record (partition -1: chosen by key or sticky; timestamp -1: now). The callback
   * gets the outcome once. Returns undefined when the record was appended at once, or a
   * promise when send() had to wait (topic metadata, buffer.memory): await it before the next
   * send to keep records in order. Java's ApiExceptions go to the callback (as KafkaProducer's
   * do); programming errors throw.
   */
  send(topic: string, partition: number, key: Buffer | null, value: Buffer | null, headers: readonly RecordHeader[] | null, timestamp: number, callback?: SendCallback, token = 0): Promise<void> | undefined {
    if (this.closing) throw new KafkaClientError('IllegalStateException', 'Cannot perform operation after producer has been closed')
    if (this.blocked || !this.hasMetadata(topic) || this.bufferedBytes >= this.settings.bufferMemory) {
      const prev = this.blocked ?? Promise.resolve()
      const p = prev.then(() => this.sendBlocking(topic, partition, key, value, headers, timestamp, callback, token))
      this.blocked = p
      p.finally(() => { if (this.blocked === p) this.blocked = undefined }).catch(() => {})
      return p
    }
    this.append(topic, partition, key, value, headers, timestamp, callback, token)
    return undefined
  }

  private async sendBlocking(topic: string, partition: number, key: Buffer | null, value: Buffer | null, headers: readonly RecordHeader[] | null, timestamp: number, callback: SendCallback | undefined, token: number): Promise<void> {
    const start = Date.now()
    try {
      if (!this.hasMetadata(topic) || partition >= 0) await this.waitOnMetadata(topic, partition)
      const remaining = this.settings.maxBlockMs - (Date.now() - start)
      if (this.bufferedBytes >= this.settings.bufferMemory) await this.waitForMemory(remaining)
    } catch (error) {
      const e = error instanceof KafkaClientError ? error : new KafkaClientError('KafkaException', (error as Error).message)
      this.stats.errors++
      callback?.(e, partition, -1, -1, token)
      return
    }
    this.append(topic, partition, key, value, headers, timestamp, callback, token)
  }

  private waitForMemory(maxMs: number): Promise<void> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        const i = this.memoryWaiters.indexOf(done)
        if (i >= 0) this.memoryWaiters.splice(i, 1)
        const total = this.settings.bufferMemory
        reject(timeoutError(`Failed to allocate ${this.settings.batchSize} bytes within the configured max blocking time ${this.settings.maxBlockMs} ms. Total memory: ${total} bytes. Available memory: ${Math.max(0, total - this.bufferedBytes)} bytes. Poolable size: ${this.settings.batchSize} bytes`))
      }, Math.max(0, maxMs))
      const done = () => { clearTimeout(timer); resolve() }
      this.memoryWaiters.push(done)
    })
  }

  private topicQueues(topic: string): TopicQueues {
    let t = this.topics.get(topic)
    if (!t) {
      t = {partitions: [], sticky: new StickyPartitioner(Math.max(1, this.settings.batchSize))}
      this.topics.set(topic, t)
    }
    return t
  }

  private queue(t: TopicQueues, topic: string, partition: number): PartitionQueue {
    let q = t.partitions[partition]
    if (!q) {
      q = {topic, partition, name: `${topic}-${partition}`, deque: [], nextSequence: 0, lastAckedSequence: -1, inflight: [], producerId: -1, epoch: -1, onWire: 0, needsRewrite: false, unresolved: undefined}
      t.partitions[partition] = q
      this.queues.push(q)
    }
    return q
  }

  private availablePartitions(topic: string): number[] {
    const info = this.net.topics.get(topic)
    const out: number[] = []
    if (info) for (const p of info.partitions) if (p && p.leader >= 0) out.push(p.partition)
    return out
  }

  private append(topic: string, partition: number, key: Buffer | null, value: Buffer | null, headers: readonly RecordHeader[] | null, timestamp: number, callback: SendCallback | undefined, token: number): void {
    const now = Date.now()
    const ts = timestamp < 0 ? now : timestamp
    const size = recordSize(0, 0, key, value, headers) + 61
    if (size > this.settings.maxRequestSize || size > this.settings.bufferMemory) {
      const which = size > this.settings.maxRequestSize ? ['max.request.size', this.settings.maxRequestSize] : ['buffer.memory', this.settings.bufferMemory]
      this.stats.errors++
      callback?.(new KafkaClientError('RecordTooLargeException', `The message is ${size} bytes when serialized which is larger than ${which[1]}, which is the value of the ${which[0]} configuration.`, 10), partition, -1, -1, token)
      return
    }
    const info = this.net.topics.get(topic)!
    const numPartitions = info.partitions.length
    const t = this.topicQueues(topic)
    let p = partition
    let sticky = false
    if (p < 0) {
      if (key !== null && !this.settings.partitionerIgnoreKeys) p = partitionForKey(key, numPartitions)
      else {
        p = t.sticky.partition(this.availablePartitions(topic), numPartitions)
        sticky = true
      }
    }
    const q = this.queue(t, topic, p)
    let last = q.deque.length > 0 ? q.deque[q.deque.length - 1] : undefined
    let appended = 0
    if (last && !last.full && last.builder && !last.retry) {
      appended = last.builder.tryAppend(ts, key, value, headers, this.settings.batchSize)
      if (appended === 0) last.full = true
    }
    if (appended === 0) {
      const capacity = Math.max(this.settings.batchSize, size)
      last = new ProducerBatch(q, capacity, now, capacity)
      this.bufferedBytes += capacity
      this.outstanding++
      q.deque.push(last)
      appended = last.builder!.tryAppend(ts, key, value, headers, Math.max(this.settings.batchSize, size))
    }
    const b = last!
    b.callbacks.push(callback)
    b.tokens.push(token)
    b.timestamps.push(ts)
    b.count++
    if (b.builder!.size >= this.settings.batchSize) b.full = true
    if (sticky) t.sticky.appended(appended, this.availablePartitions(topic), numPartitions, b.full)
    if (b.full || q.deque.length > 1 || this.settings.lingerMs === 0 || this.flushing > 0) this.wake()
    else this.armTimer(b.createdMs + this.settings.lingerMs)
  }

  // ---------------------------------------------------------------------------------------
  // Sending

  /** Runs the sender soon (coalesced). */
  private wake(): void {
    if (this.scheduled || this.closed) return
    this.scheduled = true
    setImmediate(() => {
      this.scheduled = false
      this.runOnce()
    })
  }

  private armTimer(at: number): void {
    if (this.closed || at >= this.timerAt) return
    if (this.timer) clearTimeout(this.timer)
    this.timerAt = at
    this.timer = setTimeout(() => {
      this.timer = undefined
      this.timerAt = Infinity
      this.runOnce()
    }, Math.max(0, at - Date.now()))
  }

  private ensureProducerId(): void {
    if (this.initInProgress || this.closed || Date.now() < this.initNotBefore) {
      if (!this.initInProgress) this.armTimer(this.initNotBefore)
      return
    }
    this.initInProgress = true
    const run = async () => {
      const node = await this.net.anyNode(Date.now() + this.settings.maxBlockMs)
      const res = await this.net.send(node, InitProducerId, {transactionalId: null, transactionTimeoutMs: INT_MAX, producerId: -1, producerEpoch: -1})
      if (res.errorCode !== 0) throw apiError(res.errorCode)
      this.producerId = res.producerId
      this.epoch = res.producerEpoch
      this.initAttempts = 0
    }
    run().catch((error: Error) => {
      if (error instanceof KafkaClientError && !error.retriable && !(error instanceof ConnectionError) && error.exceptionClass !== 'TimeoutException') {
        this.fatal = error
        this.failAll(error)
      }
      this.initNotBefore = Date.now() + this.retryBackoff.backoff(this.initAttempts++)
    }).finally(() => {
      this.initInProgress = false
      this.wake()
    })
  }

  /** Bumps the epoch locally (Java's idempotent producer) and restarts the marked partitions' sequences. */
  private maybeBumpEpoch(): void {
    if (!this.epochBumpRequired || this.producerId < 0) return
    // Wait until no batch of a partition to rewrite is on the wire.
    for (const q of this.queues) if (q.needsRewrite && q.onWire > 0) return
    if (this.epoch >= MAX_EPOCH) {
      // A new producer id: every partition starts again.
      this.producerId = -1
      this.epoch = -1
      for (const q of this.queues) if (q.inflight.length > 0) q.needsRewrite = true
      this.epochBumpRequired = false
      return
    }
    this.epoch++
    this.epochBumpRequired = false
    for (const q of this.queues) if (q.needsRewrite) this.restartSequences(q)
  }

  private restartSequences(q: PartitionQueue): void {
    q.needsRewrite = false
    q.unresolved = undefined
    q.producerId = this.producerId
    q.epoch = this.epoch
    q.lastAckedSequence = -1
    let seq = 0
    for (const b of q.inflight) {
      b.baseSequence = seq
      b.producerId = this.producerId
      b.epoch = this.epoch
      seq += b.count
      if (b.sealed) setProducerFields(b.sealed, b.producerId, b.epoch, b.baseSequence)
    }
    q.nextSequence = seq
  }

  private requestEpochBump(q: PartitionQueue): void {
    this.epochBumpRequired = true
    q.needsRewrite = true
  }

  /** Java's maybeResolveSequences: a partition whose in-flight batches all resolved. */
  private resolveSequences(): void {
    for (const q of this.queues) {
      if (q.unresolved === undefined || q.inflight.length > 0) continue
      if (q.lastAckedSequence + 1 !== q.nextSequence) this.requestEpochBump(q)
      q.unresolved = undefined
    }
  }

  private runOnce(): void {
    if (this.closed) return
    const now = Date.now()
    let nextWake = Infinity
    if (this.settings.idempotence && !this.fatal) {
      this.resolveSequences()
      this.maybeBumpEpoch()
      if (this.producerId < 0) {
        this.ensureProducerId()
        this.expireBatches(now)
        return
      }
    }
    this.expireBatches(now)
    // Which partitions have a batch to send, grouped by their leader.
    const byNode = new Map<number, PartitionQueue[]>()
    let unknownLeader = false
    const loads = new Map<string, {sizes: number[]; ids: number[]}>()
    for (const q of this.queues) {
      if (q.deque.length === 0) continue
      const leader = this.net.leaderFor(q.topic, q.partition)
      if (leader < 0) { unknownLeader = true; continue }
      if (this.settings.adaptivePartitioning) {
        let l = loads.get(q.topic)
        if (!l) loads.set(q.topic, l = {sizes: [], ids: []})
        l.sizes.push(q.deque.length)
        l.ids.push(q.partition)
      }
      const first = q.deque[0]
      let readyAt: number
      if (first.retry) readyAt = first.retryAt
      else if (first.full || q.deque.length > 1 || this.flushing > 0 || this.closing) readyAt = now
      else readyAt = first.createdMs + this.settings.lingerMs
      if (readyAt > now) { nextWake = Math.min(nextWake, readyAt); continue }
      let list = byNode.get(leader)
      if (!list) byNode.set(leader, list = [])
      list.push(q)
    }
    if (unknownLeader) this.net.requestUpdate()
    for (const [topic, l] of loads) {
      const t = this.topics.get(topic)
      const n = this.net.topics.get(topic)?.partitions.length ?? 0
      if (t) t.sticky.updateLoadStats(l.sizes, l.ids, n)
    }
    for (const [node, qs] of byNode) {
      const conn = this.net.ready(node)
      if (!conn) {
        const d = this.net.connectionDelay(node)
        if (d > 0) nextWake = Math.min(nextWake, now + d)
        continue
      }
      while (conn.inFlight < this.settings.maxInFlight && !conn.closed) {
        const batches = this.drain(qs, now)
        if (batches.length === 0) break
        this.sendProduce(node, conn, batches, now)
        if (this.settings.acks === 0) break
      }
    }
    // The earliest expiry of a waiting batch.
    for (const q of this.queues) if (q.deque.length > 0) nextWake = Math.min(nextWake, q.deque[0].createdMs + this.settings.deliveryTimeoutMs)
    if (nextWake < Infinity) this.armTimer(nextWake)
  }

  /** Java's shouldStopDrainBatchesForPartition for the idempotent producer. */
  private mayDrain(q: PartitionQueue, first: ProducerBatch): boolean {
    if (!this.settings.idempotence) return !(this.settings.maxInFlight === 1 && q.onWire > 0)
    if (this.producerId < 0 || q.needsRewrite) return false
    if (first.baseSequence < 0) {
      if (q.unresolved !== undefined) return false
      if (q.producerId !== this.producerId || q.epoch !== this.epoch) {
        if (q.inflight.length > 0) return false
        // Stale and idle: the partition's sequences start again under the current epoch.
        q.producerId = this.producerId
        q.epoch = this.epoch
        q.nextSequence = 0
        q.lastAckedSequence = -1
      }
      return true
    }
    // A retry goes out alone, in sequence order.
    return q.inflight.length > 0 && q.inflight[0] === first && q.onWire === 0
  }

  /** One request's worth of batches for a node: at most one per partition, up to max.request.size. */
  private drain(qs: PartitionQueue[], now: number): ProducerBatch[] {
    const out: ProducerBatch[] = []
    let bytes = 0
    const n = qs.length
    const start = this.drainStart++ % n
    for (let i = 0; i < n; i++) {
      const q = qs[(start + i) % n]
      const first = q.deque[0]
      if (!first) continue
      if (first.retry && now < first.retryAt) continue
      if (!this.mayDrain(q, first)) continue
      if (!first.sealed) {
        first.sealed = first.builder!.seal(this.settings.compression)
        first.builder = undefined
      }
      const size = first.sealed.length
      if (out.length > 0 && bytes + size > this.settings.maxRequestSize) break
      q.deque.shift()
      if (this.settings.idempotence) {
        if (first.baseSequence < 0) {
          first.baseSequence = q.nextSequence
          first.producerId = this.producerId
          first.epoch = this.epoch
          q.nextSequence = (q.nextSequence + first.count) % (INT_MAX + 1)
          q.inflight.push(first)
        }
        setProducerFields(first.sealed, first.producerId, first.epoch, first.baseSequence)
      } else {
        setProducerFields(first.sealed, -1, -1, -1)
      }
      bytes += size
      out.push(first)
    }
    return out
  }

  private sendProduce(node: number, conn: KafkaConnection, batches: ProducerBatch[], now: number): void {
    const byTopic = new Map<string, {index: number; records: Buffer}[]>()
    for (const b of batches) {
      b.lastAttemptMs = now
      b.onWire = true
      b.q.onWire++
      let l = byTopic.get(b.q.topic)
      if (!l) byTopic.set(b.q.topic, l = [])
      l.push({index: b.q.partition, records: b.sealed!})
    }
    this.stats.batchesSent += batches.length
    const correlationId = conn.nextCorrelationId
    const requestTimeoutMs = this.net.settings.requestTimeoutMs
    const body = {transactionalId: null, acks: this.settings.acks, timeoutMs: requestTimeoutMs, topicData: [...byTopic].map(([name, partitionData]) => ({name, partitionData}))}
    this.net.send(node, Produce, body, {timeoutMs: requestTimeoutMs}).then(
      res => this.handleResponse(node, correlationId, batches, res, undefined),
      (error: Error) => this.handleResponse(node, correlationId, batches, undefined, error),
    )
  }

  private handleResponse(node: number, correlationId: number, batches: ProducerBatch[], res: ProduceResponse | undefined, error: Error | undefined): void {
    const now = Date.now()
    let partitionResults: Map<string, {errorCode: number; baseOffset: number; logAppendTimeMs: number; logStartOffset: number; errorMessage: string | null}> | undefined
    if (res) {
      partitionResults = new Map()
      for (const t of res.responses) for (const p of t.partitionResponses) partitionResults.set(`${t.name}\0${p.index}`, p)
    }
    for (const b of batches) {
      b.onWire = false
      b.q.onWire--
      if (b.done) continue
      let code = 0
      let message: string | null = null
      let baseOffset = -1
      let logAppendTime = -1
      let logStartOffset = -1
      if (error) {
        const timedOut = error instanceof RequestTimeoutError
        if (error instanceof ConnectionError) {
          code = timedOut ? 7 : 13
          message = timedOut ? `Disconnected from node ${node} due to timeout` : `Disconnected from node ${node}`
        } else if (error instanceof KafkaClientError) {
          code = error.code
          message = error.message
        } else {
          code = -1
          message = error.message
        }
      } else if (res === undefined) {
        code = 0 // acks=0: done once written
      } else {
        const p = partitionResults!.get(`${b.q.topic}\0${b.q.partition}`)
        if (!p) { code = -1; message = 'The produce response holds no result for this partition' } else {
          code = p.errorCode
          message = p.errorMessage
          baseOffset = p.baseOffset
          logAppendTime = p.logAppendTimeMs
          logStartOffset = p.logStartOffset
        }
      }
      if (code === 0) {
        this.completeBatch(b, baseOffset, logAppendTime)
        continue
      }
      const name = errorName(code)
      if (this.canRetry(b, code, logStartOffset, now)) {
        this.stats.retries++
        this.net.log.warn(Loggers.sender, `Got error produce response with correlation id ${correlationId} on topic-partition ${b.q.name}, retrying (${this.settings.retries - b.attempts - 1} attempts left). Error: ${name}${message ? `. Error Message: ${message}` : ''}`)
        this.reenqueue(b, now)
      } else if (name === 'DUPLICATE_SEQUENCE_NUMBER') {
        this.completeBatch(b, -1, -1)
      } else {
        this.failBatch(b, apiError(code, message), b.attempts < this.settings.retries)
      }
      if (isInvalidMetadata(code)) {
        if (name === 'UNKNOWN_TOPIC_OR_PARTITION') {
          this.net.log.warn(Loggers.sender, `Received unknown topic or partition error in produce request on partition ${b.q.name}. The topic-partition may not exist or the user may not have Describe access to it`)
        } else {
          this.net.log.warn(Loggers.sender, `Received invalid metadata error in produce request on partition ${b.q.name} due to ${apiError(code, message).toString()} Going to request metadata update now`)
        }
        this.net.requestUpdate()
      }
    }
    this.wake()
  }

  private canRetry(b: ProducerBatch, code: number, logStartOffset: number, now: number): boolean {
    if (now - b.createdMs >= this.settings.deliveryTimeoutMs || b.attempts >= this.settings.retries || b.done) return false
    if (!this.settings.idempotence) return isRetriable(code)
    const q = b.q
    const name = errorName(code)
    if (name === 'UNKNOWN_PRODUCER_ID') {
      if (logStartOffset === -1) return true
      this.requestEpochBump(q)
      return true
    }
    if (name === 'OUT_OF_ORDER_SEQUENCE_NUMBER') {
      // Not the next batch after the last acknowledged one: an earlier batch failed; retry.
      if (q.unresolved === undefined && b.baseSequence !== q.lastAckedSequence + 1) return true
      // A real gap (or the batch right after one that expired): restart the sequences.
      if (q.unresolved === undefined || b.baseSequence === q.unresolved) this.requestEpochBump(q)
      return true
    }
    return isRetriable(code)
  }

  /** Puts a batch back, in sequence order (idempotence) or at the front. */
  private reenqueue(b: ProducerBatch, now: number): void {
    b.attempts++
    b.retry = true
    b.lastAttemptMs = now
    b.retryAt = now + this.retryBackoff.backoff(b.attempts - 1)
    const dq = b.q.deque
    if (this.settings.idempotence && b.baseSequence >= 0) {
      let i = 0
      while (i < dq.length && dq[i].baseSequence >= 0 && dq[i].baseSequence < b.baseSequence) i++
      dq.splice(i, 0, b)
    } else {
      dq.unshift(b)
    }
  }

  private removeInflight(b: ProducerBatch): void {
    const l = b.q.inflight
    const i = l.indexOf(b)
    if (i >= 0) l.splice(i, 1)
  }

  private completeBatch(b: ProducerBatch, baseOffset: number, logAppendTime: number): void {
    if (this.settings.idempotence && b.baseSequence >= 0) {
      if (b.lastSequence > b.q.lastAckedSequence) b.q.lastAckedSequence = b.lastSequence
      this.removeInflight(b)
    }
    this.stats.recordsSent += b.count
    this.finish(b)
    for (let i = 0; i < b.count; i++) {
      const cb = b.callbacks[i]
      if (cb) cb(null, b.q.partition, baseOffset < 0 ? -1 : baseOffset + i, logAppendTime >= 0 ? logAppendTime : b.timestamps[i], b.tokens[i])
    }
  }

  private failBatch(b: ProducerBatch, error: KafkaClientError, adjustSequences: boolean): void {
    if (this.settings.idempotence && b.baseSequence >= 0) {
      this.removeInflight(b)
      // The broker may or may not have the batch: the partition's sequences start again.
      if (adjustSequences || error.exceptionClass === 'OutOfOrderSequenceException') this.requestEpochBump(b.q)
    }
    this.stats.errors += b.count
    this.finish(b)
    for (let i = 0; i < b.count; i++) {
      const cb = b.callbacks[i]
      if (cb) cb(error, b.q.partition, -1, -1, b.tokens[i])
    }
  }

  private finish(b: ProducerBatch): void {
    b.done = true
    b.builder = undefined
    this.bufferedBytes -= b.reservedBytes
    this.outstanding--
    if (this.memoryWaiters.length > 0 && this.bufferedBytes < this.settings.bufferMemory) {
      const ws = this.memoryWaiters.splice(0)
      for (const w of ws) w()
    }
    if (this.outstanding === 0) for (const w of this.idleWaiters.splice(0)) w()
  }

  /** Fails queued batches whose delivery.timeout.ms has run out (Java's expiredBatches). */
  private expireBatches(now: number): void {
    for (const q of this.queues) {
      while (q.deque.length > 0) {
        const b = q.deque[0]
        if (now - b.createdMs < this.settings.deliveryTimeoutMs) break
        q.deque.shift()
        // A batch sent before may be in the log or not: no new batch of the partition goes
        // out until its in-flight batches resolve (Java's unresolved sequences).
        if (this.settings.idempotence && b.baseSequence >= 0) q.unresolved = b.lastSequence + 1
        this.failBatch(b, timeoutError(`Expiring ${b.count} record(s) for ${q.name}:${now - b.createdMs} ms has passed since batch creation`), false)
      }
    }
  }

  private failAll(error: KafkaClientError): void {
    for (const q of this.queues) for (const b of q.deque.splice(0)) this.failBatch(b, error, false)
  }

  // ---------------------------------------------------------------------------------------
  // Flush and close

  /** Sends everything appended so far and resolves once each record has its outcome. */
  async flush(): Promise<void> {
    this.flushing++
    try {
      if (this.blocked) await this.blocked.catch(() => {})
      this.wake()
      if (this.outstanding > 0) await new Promise<void>(res => this.idleWaiters.push(res))
    } finally {
      this.flushing--
    }
  }

  /** Records appended and not yet acknowledged or failed. */
  get pending(): number {
    return this.outstanding
  }

  /**
   * Flushes (every record gets its outcome, within delivery.timeout.ms) and closes the
   * connections. timeoutMs bounds the wait; what is still pending then fails.
   */
  async close(timeoutMs = Infinity): Promise<void> {
    if (this.closed) return
    this.closing = true
    const flushed = this.flush()
    if (Number.isFinite(timeoutMs)) {
      let timer: NodeJS.Timeout | undefined
      await Promise.race([flushed, new Promise(res => { timer = setTimeout(res, timeoutMs) })])
      if (timer) clearTimeout(timer)
    } else {
      await flushed
    }
    if (this.outstanding > 0) this.failAll(new KafkaClientError('KafkaException', 'Producer is closed forcefully.'))
    this.closed = true
    if (this.timer) clearTimeout(this.timer)
    this.net.close()
  }
}
