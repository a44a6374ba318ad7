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
// the idempotence state (pid/epoch, per-partition sequences), and the batch `transactional` flag.
//
// The parts: producer-config.ts (settings), producer-batch.ts (the accumulator's queues and
// batches), producer-sender.ts (draining, Produce requests, retries, expiry),
// producer-idempotence.ts (producer id, epoch, sequences). This class appends records
// (the accumulator) and holds the state the parts share; flush() and close().
import {errorName} from '../protocol/errors.js'
import {ClientConfig} from './config.js'
import {NetworkClient, networkSettings} from './network.js'
import {recordSize, type RecordHeader} from './records.js'
import {StickyPartitioner, partitionForKey} from './partitioner.js'
import {KafkaClientError, apiError, isRetriable, timeoutError} from './kafka-errors.js'
import {retryBackoff, type ExponentialBackoff} from './backoff.js'
import {producerSettings, type ProducerSettings, type ProducerStats, type SendCallback} from './producer-config.js'
import {ProducerBatch, type PartitionQueue, type TopicQueues} from './producer-batch.js'
import {BufferPool} from './buffer-pool.js'
import {Sender} from './producer-sender.js'
import {IdempotenceState} from './producer-idempotence.js'

export {producerSettings, type ProducerSettings, type ProducerStats, type SendCallback} from './producer-config.js'

export class Producer {
  readonly net: NetworkClient
  readonly settings: ProducerSettings
  readonly clientId: string
  // Shared with the parts (internal): the accumulator's queues, the memory it holds, the
  // records without an outcome yet, and the state of flush/close.
  readonly topics = new Map<string, TopicQueues>()
  readonly queues: PartitionQueue[] = []
  readonly retryBackoff: ExponentialBackoff
  bufferedBytes = 0
  memoryWaiters: (() => void)[] = []
  flushing = 0
  closing = false
  closed = false
  outstanding = 0
  idleWaiters: (() => void)[] = []
  private blocked: Promise<void> | undefined
  fatal: KafkaClientError | undefined
  readonly stats: ProducerStats = {recordsSent: 0, batchesSent: 0, retries: 0, errors: 0}
  readonly sender = new Sender(this)
  readonly idem = new IdempotenceState(this)
  /** Reused batch.size buffers (Java's BufferPool). */
  readonly pool: BufferPool

  constructor(bootstrap: string, config: ClientConfig, defaultClientId = 'producer-1') {
    this.settings = producerSettings(config)
    this.pool = new BufferPool(Math.max(this.settings.batchSize, 1), this.settings.bufferMemory)
    const net = networkSettings(config, defaultClientId)
    this.clientId = net.clientId
    this.net = new NetworkClient(bootstrap, net, `[Producer clientId=${net.clientId}]`)
    this.net.allowAutoTopicCreation = true
    this.net.onChange(() => this.sender.wake())
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

  /** Partitions with a leader, per topic metadata object (a metadata update replaces the object). */
  private readonly available = new WeakMap<object, number[]>()

  private availablePartitions(topic: string): readonly number[] {
    const info = this.net.topics.get(topic)
    if (!info) return []
    let out = this.available.get(info)
    if (out === undefined) {
      out = []
      for (const p of info.partitions) if (p && p.leader >= 0) out.push(p.partition)
      this.available.set(info, out)
    }
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
      last = new ProducerBatch(q, capacity, now, capacity, capacity === this.settings.batchSize ? this.pool.allocate(capacity) : undefined)
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
    if (b.full || q.deque.length > 1 || this.settings.lingerMs === 0 || this.flushing > 0) this.sender.wake()
    else this.sender.armTimer(b.createdMs + this.settings.lingerMs)
  }


  // ---------------------------------------------------------------------------------------
  // Flush and close

  /** Sends everything appended so far and resolves once each record has its outcome. */
  async flush(): Promise<void> {
    this.flushing++
    try {
      if (this.blocked) await this.blocked.catch(() => {})
      this.sender.wake()
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
    if (this.outstanding > 0) this.sender.failAll(new KafkaClientError('KafkaException', 'Producer is closed forcefully.'))
    this.closed = true
    if (this.sender.timer) clearTimeout(this.sender.timer)
    this.net.close()
  }
}
