// The producer's idempotence state (Java's TransactionManager for an idempotent producer):
// the producer id and epoch from InitProducerId, the per-partition sequences, the local
// epoch bump that restarts a partition's sequences after a real gap, and which batches may
// go out (retries alone and in sequence order).
import {InitProducerId} from '../protocol/messages.js'
import {ConnectionError} from '../protocol/client.js'
import {setProducerFields} from './records.js'
import {KafkaClientError, apiError} from './kafka-errors.js'
import {INT_MAX, MAX_EPOCH} from './producer-config.js'
import type {PartitionQueue, ProducerBatch} from './producer-batch.js'
import type {Producer} from './producer.js'

export class IdempotenceState {
  producerId = -1
  epoch = -1
  private initInProgress = false
  private initAttempts = 0
  private initNotBefore = 0
  private epochBumpRequired = false

  constructor(private readonly p: Producer) {}

  ensureProducerId(): void {
    if (this.initInProgress || this.p.closed || Date.now() < this.initNotBefore) {
      if (!this.initInProgress) this.p.sender.armTimer(this.initNotBefore)
      return
    }
    this.initInProgress = true
    const run = async () => {
      const node = await this.p.net.anyNode(Date.now() + this.p.settings.maxBlockMs)
      const res = await this.p.net.send(node, InitProducerId, {transactionalId: null, transactionTimeoutMs: INT_MAX, producerId: -1, producerEpoch: -1})
      if (res.errorCode !== 0) throw apiError(res.errorCode)
      this.producerId = res.producerId
      this.epoch = res.producerEpoch
      this.initAttempts = 0
    }
    run().catch((error: Error) => {
      if (error instanceof KafkaClientError && !error.retriable && !(error instanceof ConnectionError) && error.exceptionClass !== 'TimeoutException') {
        this.p.fatal = error
        this.p.sender.failAll(error)
      }
      this.initNotBefore = Date.now() + this.p.retryBackoff.backoff(this.initAttempts++)
    }).finally(() => {
      this.initInProgress = false
      this.p.sender.wake()
    })
  }

  /** Bumps the epoch locally (Java's idempotent producer) and restarts the marked partitions' sequences. */
  maybeBumpEpoch(): void {
    if (!this.epochBumpRequired || this.producerId < 0) return
    // Wait until no batch of a partition to rewrite is on the wire.
    for (const q of this.p.queues) if (q.needsRewrite && q.onWire > 0) return
    if (this.epoch >= MAX_EPOCH) {
      // A new producer id: every partition starts again.
      this.producerId = -1
      this.epoch = -1
      for (const q of this.p.queues) if (q.inflight.length > 0) q.needsRewrite = true
      this.epochBumpRequired = false
      return
    }
    this.epoch++
    this.epochBumpRequired = false
    for (const q of this.p.queues) if (q.needsRewrite) this.restartSequences(q)
  }

  restartSequences(q: PartitionQueue): void {
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

  requestEpochBump(q: PartitionQueue): void {
    this.epochBumpRequired = true
    q.needsRewrite = true
  }

  /** Java's maybeResolveSequences: a partition whose in-flight batches all resolved. */
  resolveSequences(): void {
    for (const q of this.p.queues) {
      if (q.unresolved === undefined || q.inflight.length > 0) continue
      if (q.lastAckedSequence + 1 !== q.nextSequence) this.requestEpochBump(q)
      q.unresolved = undefined
    }
  }

  /** Java's shouldStopDrainBatchesForPartition for the idempotent producer. */
  mayDrain(q: PartitionQueue, first: ProducerBatch): boolean {
    if (!this.p.settings.idempotence) return !(this.p.settings.maxInFlight === 1 && q.onWire > 0)
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
}
