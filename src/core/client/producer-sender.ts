// The producer's sender (Java's Sender): per leader node one Produce request holds at most
// one batch per partition, up to max.request.size, with at most
// max.in.flight.requests.per.connection requests in flight; responses complete, retry
// (after the backoff, in sequence order with idempotence) or fail the batches; batches whose
// delivery.timeout.ms ran out expire.
import {Produce, type ProduceResponse} from '../protocol/messages.js'
import {errorName} from '../protocol/errors.js'
import {ConnectionError, RequestTimeoutError, type KafkaConnection} from '../protocol/client.js'
import {setProducerFields} from './records.js'
import {KafkaClientError, apiError, isInvalidMetadata, isRetriable, timeoutError} from './kafka-errors.js'
import {Loggers} from './log.js'
import {INT_MAX} from './producer-config.js'
import type {PartitionQueue, ProducerBatch} from './producer-batch.js'
import type {Producer} from './producer.js'

export class Sender {
  private scheduled = false
  timer: NodeJS.Timeout | undefined
  private timerAt = Infinity
  private drainStart = 0

  constructor(private readonly p: Producer) {}

  /** Runs the sender soon (coalesced). */
  wake(): void {
    if (this.scheduled || this.p.closed) return
    this.scheduled = true
    setImmediate(() => {
      this.scheduled = false
      this.runOnce()
    })
  }

  armTimer(at: number): void {
    if (this.p.closed || at >= this.timerAt) return
    if (this.timer) clearTimeout(this.timer)
    this.timerAt = at
    this.timer = setTimeout(() => {
      this.timer = undefined
      this.timerAt = Infinity
      this.runOnce()
    }, Math.max(0, at - Date.now()))
  }

  runOnce(): void {
    if (this.p.closed) return
    const now = Date.now()
    let nextWake = Infinity
    if (this.p.settings.idempotence && !this.p.fatal) {
      this.p.idem.resolveSequences()
      this.p.idem.maybeBumpEpoch()
      if (this.p.idem.producerId < 0) {
        this.p.idem.ensureProducerId()
        this.expireBatches(now)
        return
      }
    }
    this.expireBatches(now)
    // Which partitions have a batch to send, grouped by their leader.
    const byNode = new Map<number, PartitionQueue[]>()
    let unknownLeader = false
    const loads = new Map<string, {sizes: number[]; ids: number[]}>()
    for (const q of this.p.queues) {
      if (q.deque.length === 0) continue
      const leader = this.p.net.leaderFor(q.topic, q.partition)
      if (leader < 0) { unknownLeader = true; continue }
      if (this.p.settings.adaptivePartitioning) {
        let l = loads.get(q.topic)
        if (!l) loads.set(q.topic, l = {sizes: [], ids: []})
        l.sizes.push(q.deque.length)
        l.ids.push(q.partition)
      }
      const first = q.deque[0]
      let readyAt: number
      if (first.retry) readyAt = first.retryAt
      else if (first.full || q.deque.length > 1 || this.p.flushing > 0 || this.p.closing) readyAt = now
      else readyAt = first.createdMs + this.p.settings.lingerMs
      if (readyAt > now) { nextWake = Math.min(nextWake, readyAt); continue }
      let list = byNode.get(leader)
      if (!list) byNode.set(leader, list = [])
      list.push(q)
    }
    if (unknownLeader) this.p.net.requestUpdate()
    for (const [topic, l] of loads) {
      const t = this.p.topics.get(topic)
      const n = this.p.net.topics.get(topic)?.partitions.length ?? 0
      if (t) t.sticky.updateLoadStats(l.sizes, l.ids, n)
    }
    for (const [node, qs] of byNode) {
      const conn = this.p.net.ready(node)
      if (!conn) {
        const d = this.p.net.connectionDelay(node)
        if (d > 0) nextWake = Math.min(nextWake, now + d)
        continue
      }
      while (conn.inFlight < this.p.settings.maxInFlight && !conn.closed) {
        const batches = this.drain(qs, now)
        if (batches.length === 0) break
        this.sendProduce(node, conn, batches, now)
        if (this.p.settings.acks === 0) break
      }
    }
    // The earliest expiry of a waiting batch.
    for (const q of this.p.queues) if (q.deque.length > 0) nextWake = Math.min(nextWake, q.deque[0].createdMs + this.p.settings.deliveryTimeoutMs)
    if (nextWake < Infinity) this.armTimer(nextWake)
  }


  /** One request's worth of batches for a node: at most one per partition, up to max.request.size. */
  drain(qs: PartitionQueue[], now: number): ProducerBatch[] {
    const out: ProducerBatch[] = []
    let bytes = 0
    const n = qs.length
    const start = this.drainStart++ % n
    for (let i = 0; i < n; i++) {
      const q = qs[(start + i) % n]
      const first = q.deque[0]
      if (!first) continue
      if (first.retry && now < first.retryAt) continue
      if (!this.p.idem.mayDrain(q, first)) continue
      if (!first.sealed) {
        first.sealed = first.builder!.seal(this.p.settings.compression)
        first.builder = undefined
      }
      const size = first.sealed.length
      if (out.length > 0 && bytes + size > this.p.settings.maxRequestSize) break
      q.deque.shift()
      if (this.p.settings.idempotence) {
        if (first.baseSequence < 0) {
          first.baseSequence = q.nextSequence
          first.producerId = this.p.idem.producerId
          first.epoch = this.p.idem.epoch
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

  sendProduce(node: number, conn: KafkaConnection, batches: ProducerBatch[], now: number): void {
    const byTopic = new Map<string, {index: number; records: Buffer}[]>()
    for (const b of batches) {
      b.lastAttemptMs = now
      b.onWire = true
      b.q.onWire++
      let l = byTopic.get(b.q.topic)
      if (!l) byTopic.set(b.q.topic, l = [])
      l.push({index: b.q.partition, records: b.sealed!})
    }
    this.p.stats.batchesSent += batches.length
    const correlationId = conn.nextCorrelationId
    const requestTimeoutMs = this.p.net.settings.requestTimeoutMs
    const body = {transactionalId: null, acks: this.p.settings.acks, timeoutMs: requestTimeoutMs, topicData: [...byTopic].map(([name, partitionData]) => ({name, partitionData}))}
    this.p.net.send(node, Produce, body, {timeoutMs: requestTimeoutMs}).then(
      res => this.handleResponse(node, correlationId, batches, res, undefined),
      (error: Error) => this.handleResponse(node, correlationId, batches, undefined, error),
    )
  }

  handleResponse(node: number, correlationId: number, batches: ProducerBatch[], res: ProduceResponse | undefined, error: Error | undefined): void {
    const now = Date.now()
    let partitionResults: Map<string, {errorCode: number; baseOffset: number; logAppendTimeMs: number; logStartOffset: number; errorMessage: string | null; recordErrors?: Array<{batchIndex: number; batchIndexErrorMessage: string | null}>}> | undefined
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
      let recordErrors: Array<{batchIndex: number; batchIndexErrorMessage: string | null}> | undefined
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
          recordErrors = p.recordErrors
        }
      }
      if (code === 0) {
        this.completeBatch(b, baseOffset, logAppendTime)
        continue
      }
      const name = errorName(code)
      if (this.canRetry(b, code, logStartOffset, now)) {
        this.p.stats.retries++
        this.p.net.log.warn(Loggers.sender, `Got error produce response with correlation id ${correlationId} on topic-partition ${b.q.name}, retrying (${this.p.settings.retries - b.attempts - 1} attempts left). Error: ${name}${message ? `. Error Message: ${message}` : ''}`)
        this.reenqueue(b, now)
      } else if (name === 'DUPLICATE_SEQUENCE_NUMBER') {
        this.completeBatch(b, -1, -1)
      } else if (name === 'INVALID_RECORD' && recordErrors !== undefined && recordErrors.length > 0) {
        this.failBatch(b, apiError(code, message), b.attempts < this.p.settings.retries, recordFailures(code, message, recordErrors))
      } else {
        this.failBatch(b, apiError(code, message), b.attempts < this.p.settings.retries)
      }
      if (isInvalidMetadata(code)) {
        if (name === 'UNKNOWN_TOPIC_OR_PARTITION') {
          this.p.net.log.warn(Loggers.sender, `Received unknown topic or partition error in produce request on partition ${b.q.name}. The topic-partition may not exist or the user may not have Describe access to it`)
        } else {
          this.p.net.log.warn(Loggers.sender, `Received invalid metadata error in produce request on partition ${b.q.name} due to ${apiError(code, message).toString()} Going to request metadata update now`)
        }
        this.p.net.requestUpdate()
      }
    }
    this.wake()
  }

  canRetry(b: ProducerBatch, code: number, logStartOffset: number, now: number): boolean {
    if (now - b.createdMs >= this.p.settings.deliveryTimeoutMs || b.attempts >= this.p.settings.retries || b.done) return false
    if (!this.p.settings.idempotence) return isRetriable(code)
    const q = b.q
    const name = errorName(code)
    if (name === 'UNKNOWN_PRODUCER_ID') {
      if (logStartOffset === -1) return true
      this.p.idem.requestEpochBump(q)
      return true
    }
    if (name === 'OUT_OF_ORDER_SEQUENCE_NUMBER') {
      // Not the next batch after the last acknowledged one: an earlier batch failed; retry.
      if (q.unresolved === undefined && b.baseSequence !== q.lastAckedSequence + 1) return true
      // A real gap (or the batch right after one that expired): restart the sequences.
      if (q.unresolved === undefined || b.baseSequence === q.unresolved) this.p.idem.requestEpochBump(q)
      return true
    }
    return isRetriable(code)
  }

  /** Puts a batch back, in sequence order (idempotence) or at the front. */
  reenqueue(b: ProducerBatch, now: number): void {
    b.attempts++
    b.retry = true
    b.lastAttemptMs = now
    b.retryAt = now + this.p.retryBackoff.backoff(b.attempts - 1)
    const dq = b.q.deque
    if (this.p.settings.idempotence && b.baseSequence >= 0) {
      let i = 0
      while (i < dq.length && dq[i].baseSequence >= 0 && dq[i].baseSequence < b.baseSequence) i++
      dq.splice(i, 0, b)
    } else {
      dq.unshift(b)
    }
  }

  removeInflight(b: ProducerBatch): void {
    const l = b.q.inflight
    const i = l.indexOf(b)
    if (i >= 0) l.splice(i, 1)
  }

  completeBatch(b: ProducerBatch, baseOffset: number, logAppendTime: number): void {
    if (this.p.settings.idempotence && b.baseSequence >= 0) {
      if (b.lastSequence > b.q.lastAckedSequence) b.q.lastAckedSequence = b.lastSequence
      this.removeInflight(b)
    }
    this.p.stats.recordsSent += b.count
    this.finish(b)
    // Answered by the broker: its request was written whole, nothing holds the batch's bytes.
    // (With acks=0 there is no answer: the socket may still be writing them.)
    if (this.p.settings.acks !== 0) this.p.pool.release(b.initialBuffer)
    for (let i = 0; i < b.count; i++) {
      const cb = b.callbacks[i]
      if (cb) cb(null, b.q.partition, baseOffset < 0 ? -1 : baseOffset + i, logAppendTime >= 0 ? logAppendTime : b.timestamps[i], b.tokens[i])
    }
  }

  /** Fails every record of b with error, or with perRecord(index) when the broker refused records one by one. */
  failBatch(b: ProducerBatch, error: KafkaClientError, adjustSequences: boolean, perRecord?: (index: number) => KafkaClientError): void {
    if (this.p.settings.idempotence && b.baseSequence >= 0) {
      this.removeInflight(b)
      // The broker may or may not have the batch: the partition's sequences start again.
      if (adjustSequences || error.exceptionClass === 'OutOfOrderSequenceException') this.p.idem.requestEpochBump(b.q)
    }
    this.p.stats.errors += b.count
    this.finish(b)
    for (let i = 0; i < b.count; i++) {
      const cb = b.callbacks[i]
      if (cb) cb(perRecord ? perRecord(i) : error, b.q.partition, -1, -1, b.tokens[i])
    }
  }

  finish(b: ProducerBatch): void {
    b.done = true
    b.builder = undefined
    this.p.bufferedBytes -= b.reservedBytes
    this.p.outstanding--
    if (this.p.memoryWaiters.length > 0 && this.p.bufferedBytes < this.p.settings.bufferMemory) {
      const ws = this.p.memoryWaiters.splice(0)
      for (const w of ws) w()
    }
    if (this.p.outstanding === 0) for (const w of this.p.idleWaiters.splice(0)) w()
  }

  /** Fails queued batches whose delivery.timeout.ms has run out (Java's expiredBatches). */
  expireBatches(now: number): void {
    for (const q of this.p.queues) {
      while (q.deque.length > 0) {
        const b = q.deque[0]
        if (now - b.createdMs < this.p.settings.deliveryTimeoutMs) break
        q.deque.shift()
        // A batch sent before may be in the log or not: no new batch of the partition goes
        // out until its in-flight batches resolve (Java's unresolved sequences).
        if (this.p.settings.idempotence && b.baseSequence >= 0) q.unresolved = b.lastSequence + 1
        this.failBatch(b, timeoutError(`Expiring ${b.count} record(s) for ${q.name}:${now - b.createdMs} ms has passed since batch creation`), false)
      }
    }
  }

  failAll(error: KafkaClientError): void {
    for (const q of this.p.queues) for (const b of q.deque.splice(0)) this.failBatch(b, error, false)
  }
}

/**
 * The Java producer's reading of a Produce answer's record_errors (Sender.completeBatch): each
 * refused record gets the record error's message (else the partition's, else the code's); with
 * a single record error the code's own exception, with several InvalidRecordException; the
 * other records of the batch fail as "part of a batch which had one more more invalid records"
 * (Java's words, typo included).
 */
function recordFailures(code: number, message: string | null, errors: Array<{batchIndex: number; batchIndexErrorMessage: string | null}>): (index: number) => KafkaClientError {
  const byIndex = new Map<number, KafkaClientError>()
  for (const e of errors) {
    const text = e.batchIndexErrorMessage ?? message ?? undefined
    byIndex.set(e.batchIndex, errors.length === 1 ? apiError(code, text) : new KafkaClientError('InvalidRecordException', text ?? '', code))
  }
  const rest = new KafkaClientError('KafkaException', 'Failed to append record because it was part of a batch which had one more more invalid records', code)
  return i => byIndex.get(i) ?? rest
}
