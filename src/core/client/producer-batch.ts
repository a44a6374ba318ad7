// The producer's record accumulator data: one queue of batches per partition (with its
// idempotence state), the topic's sticky partitioner, and the batch being built in place.
import {BatchBuilder} from './records.js'
import type {StickyPartitioner} from './partitioner.js'
import type {SendCallback} from './producer-config.js'

/** One partition's queue of batches and its idempotence state. */
export interface PartitionQueue {
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

export interface TopicQueues {
  partitions: PartitionQueue[]
  sticky: StickyPartitioner
}

export class ProducerBatch {
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

  /** The buffer the batch was built in, given back to the producer's pool once acknowledged. */
  readonly initialBuffer: Buffer

  constructor(readonly q: PartitionQueue, capacity: number, readonly createdMs: number, readonly reservedBytes: number, buf?: Buffer) {
    this.builder = new BatchBuilder(capacity, buf)
    this.initialBuffer = this.builder.buf
  }

  get size(): number {
    return this.sealed ? this.sealed.length : this.builder!.size
  }

  get lastSequence(): number {
    return this.baseSequence + this.count - 1
  }
}
