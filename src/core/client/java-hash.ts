// The iteration order of a java.util.HashMap / HashSet keyed by TopicPartition, for tools
// whose Java originals print such a map as it iterates (kafka-verifiable-consumer's
// records_consumed and offsets_committed events).

/** Java's String.hashCode (UTF-16 code units). */
export function javaStringHash(s: string): number {
  let h = 0
  for (let i = 0; i < s.length; i++) h = (Math.imul(31, h) + s.charCodeAt(i)) | 0
  return h
}

/** TopicPartition.hashCode(): 31 * (31 + partition) + topic.hashCode(). */
export function topicPartitionHash(topic: string, partition: number): number {
  return (Math.imul(31, 31 + partition) + javaStringHash(topic)) | 0
}

/**
 * Items in the order a HashMap (default capacity 16, load factor 0.75) that got them in this
 * order iterates them: by bucket, then by insertion within a bucket (trees of 8+ collisions
 * aside).
 */
export function javaHashMapOrder<T>(items: readonly T[], hash: (item: T) => number): T[] {
  let cap = 16
  while (items.length > cap * 0.75) cap *= 2
  return items
    .map((item, i) => {
      const h = hash(item)
      return {item, i, bucket: (h ^ (h >>> 16)) & (cap - 1)}
    })
    .sort((a, b) => a.bucket - b.bucket || a.i - b.i)
    .map(x => x.item)
}

/** TopicPartition-keyed items in HashMap order. */
export function topicPartitionOrder<T extends {topic: string; partition: number}>(items: readonly T[]): T[] {
  return javaHashMapOrder(items, t => topicPartitionHash(t.topic, t.partition))
}
