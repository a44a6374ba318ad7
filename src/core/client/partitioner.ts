// Partitioning as Kafka 3.9's Java producer does it: a keyed record goes to
// toPositive(murmur2(key)) % partitions; a keyless record goes to the topic's current "sticky"
// partition, which changes once batch.size bytes were appended to it (up to twice that while
// its last batch is still filling), to a random partition among those with a leader, weighted
// towards shorter queues (adaptive partitioning, partitioner.adaptive.partitioning.enable).

/** Java's Utils.murmur2 over the key bytes (a signed 32-bit result). */
export function murmur2(data: Uint8Array): number {
  const length = data.length
  const m = 0x5bd1e995
  let h = (0x9747b28c ^ length) | 0
  const length4 = length >> 2
  for (let i = 0; i < length4; i++) {
    const i4 = i * 4
    let k = (data[i4] & 0xff) | ((data[i4 + 1] & 0xff) << 8) | ((data[i4 + 2] & 0xff) << 16) | ((data[i4 + 3] & 0xff) << 24)
    k = Math.imul(k, m)
    k ^= k >>> 24
    k = Math.imul(k, m)
    h = Math.imul(h, m)
    h ^= k
  }
  const tail = length & ~3
  const rest = length & 3
  if (rest === 3) h ^= (data[tail + 2] & 0xff) << 16
  if (rest >= 2) h ^= (data[tail + 1] & 0xff) << 8
  if (rest >= 1) {
    h ^= data[tail] & 0xff
    h = Math.imul(h, m)
  }
  h ^= h >>> 13
  h = Math.imul(h, m)
  h ^= h >>> 15
  return h | 0
}

/** Java's Utils.toPositive. */
export function toPositive(n: number): number {
  return n & 0x7fffffff
}

/** The partition of a keyed record: toPositive(murmur2(key)) % numPartitions. */
export function partitionForKey(key: Uint8Array, numPartitions: number): number {
  return toPositive(murmur2(key)) % numPartitions
}

/** Java's BuiltInPartitioner: the sticky partition of one topic. */
export class StickyPartitioner {
  private current = -1
  private producedBytes = 0
  /** Cumulative frequency table over partitionIds (adaptive partitioning), or undefined. */
  private cft: number[] | undefined
  private cftIds: number[] = []

  constructor(private readonly stickyBatchSize: number, private readonly random: () => number = () => Math.floor(Math.random() * 0x7fffffff)) {
    if (stickyBatchSize < 1) throw new Error(`stickyBatchSize must be >= 1 but got ${stickyBatchSize}`)
  }

  /**
   * The partition for the next keyless record. available: the partitions with a leader;
   * numPartitions: all partitions of the topic.
   */
  partition(available: readonly number[], numPartitions: number): number {
    if (this.current < 0 || this.current >= numPartitions) this.current = this.next(available, numPartitions)
    return this.current
  }

  private next(available: readonly number[], numPartitions: number): number {
    const random = this.random()
    if (this.cft && this.cft.length > 0) {
      const cft = this.cft
      const weighted = random % cft[cft.length - 1]
      // The first entry strictly greater than weighted.
      let lo = 0
      let hi = cft.length - 1
      while (lo < hi) {
        const mid = (lo + hi) >> 1
        if (cft[mid] > weighted) hi = mid
        else lo = mid + 1
      }
      return this.cftIds[lo]
    }
    if (available.length > 0) return available[random % available.length]
    return random % numPartitions
  }

  /**
   * After appendedBytes went to the current partition: switch once stickyBatchSize bytes were
   * produced to it (enableSwitch false while its last batch is not full: then at 2x).
   */
  appended(appendedBytes: number, available: readonly number[], numPartitions: number, enableSwitch: boolean): void {
    this.producedBytes += appendedBytes
    if ((this.producedBytes >= this.stickyBatchSize && enableSwitch) || this.producedBytes >= this.stickyBatchSize * 2) {
      this.current = this.next(available, numPartitions)
      this.producedBytes = 0
    }
  }

  /**
   * Queue sizes (batches waiting) of the partitions with a leader, as the sender saw them;
   * length is how many of them are usable. Builds Java's cumulative frequency table: shorter
   * queues are picked more often. Uniform when every queue has the same length.
   */
  updateLoadStats(queueSizes: number[], partitionIds: number[], numPartitions: number): void {
    const length = queueSizes.length
    if (length < 1 || numPartitions < 2) { this.cft = undefined; return }
    let maxPlus1 = queueSizes[0]
    let allEqual = true
    for (let i = 1; i < length; i++) {
      if (queueSizes[i] !== maxPlus1) allEqual = false
      if (queueSizes[i] > maxPlus1) maxPlus1 = queueSizes[i]
    }
    maxPlus1++
    if (allEqual && length === numPartitions) { this.cft = undefined; return }
    const cft = new Array<number>(length)
    cft[0] = maxPlus1 - queueSizes[0]
    for (let i = 1; i < length; i++) cft[i] = maxPlus1 - queueSizes[i] + cft[i - 1]
    this.cft = cft
    this.cftIds = partitionIds.slice(0, length)
  }
}
