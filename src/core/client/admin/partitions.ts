// Calls that go to each partition's leader (ListOffsets, DeleteRecords), as Java's
// KafkaAdminClient makes them: the partitions are grouped by their leader from a Metadata
// answer, one request per leader; a partition whose answer is a retriable error (not leader,
// leader not available, unknown partition while metadata settles, a lost connection) is looked
// up again and retried until default.api.timeout.ms; any other error is that partition's result.
import {AdminClient, AdminTimeoutError, RetriableCallError} from '../admin-client.js'
import {KafkaClientError, apiError, isRetriable} from '../kafka-errors.js'
import {ConnectionError} from '../../protocol/client.js'
import {retryBackoff, sleep} from '../backoff.js'
import {javaStringHash} from '../format.js'

export interface TopicPartition {
  topic: string
  partition: number
}

/** Java's TopicPartition.toString(): "topic-partition". */
export const tpString = (tp: TopicPartition): string => `${tp.topic}-${tp.partition}`

/** Sorts as Java's TreeMap with Comparator.comparing(TopicPartition::toString). */
export function byTpString<T extends TopicPartition>(list: T[]): T[] {
  return [...list].sort((a, b) => {
    const x = tpString(a)
    const y = tpString(b)
    return x < y ? -1 : x > y ? 1 : 0
  })
}

/** What a leader answered for one partition: a value, or the error code (and message). */
export type PartitionAnswer<R> = {value: R} | {code: number; message?: string | null}

/** One partition's outcome: its value, or the Java exception it failed with. */
export type PartitionOutcome<R> = {tp: TopicPartition; value?: R; error?: KafkaClientError}

/**
 * Sends one request per leader for the given partitions. send(leader, partitions) returns
 * each partition's answer (keyed by tpString). Outcomes keep the order of `partitions`.
 */
export async function perLeader<R>(admin: AdminClient, callName: string, partitions: TopicPartition[],
  send: (leader: number, partitions: TopicPartition[]) => Promise<Map<string, PartitionAnswer<R>>>): Promise<PartitionOutcome<R>[]> {
  const deadline = Date.now() + admin.defaultApiTimeoutMs
  const backoff = retryBackoff(admin.net.settings.retryBackoffMs, admin.net.settings.retryBackoffMaxMs)
  const done = new Map<string, PartitionOutcome<R>>()
  let pending = partitions
  let attempts = 0
  for (let attempt = 0; pending.length > 0; attempt++) {
    attempts = attempt + 1
    if (attempt > 0) {
      const wait = backoff.backoff(attempt - 1)
      if (Date.now() + wait >= deadline) break
      await sleep(wait)
    }
    const topics = [...new Set(pending.map(p => p.topic))]
    let md
    try {
      md = await admin.metadata(topics, deadline, `${callName}(api=METADATA)`)
    } catch (error) {
      // No metadata within the deadline: every partition left fails with the lookup's timeout.
      if (!(error instanceof AdminTimeoutError)) throw error
      for (const tp of pending) done.set(tpString(tp), {tp, error})
      pending = []
      break
    }
    const groups = new Map<number, TopicPartition[]>()
    const retry: TopicPartition[] = []
    for (const tp of pending) {
      const t = md.topics.find(x => x.name === tp.topic)
      const p = t?.partitions.find(x => x.partitionIndex === tp.partition)
      if (!t || (t.errorCode !== 0 && !isRetriable(t.errorCode))) {
        done.set(tpString(tp), {tp, error: apiError(t ? t.errorCode : 3)})
        continue
      }
      if (!p) {
        // Java: a partition the metadata does not list is an unknown partition.
        if (t.errorCode === 0) done.set(tpString(tp), {tp, error: apiError(3, 'This server does not host this topic-partition.')})
        else retry.push(tp)
        continue
      }
      if (p.leaderId < 0) {
        retry.push(tp)
        continue
      }
      groups.set(p.leaderId, [...(groups.get(p.leaderId) ?? []), tp])
    }
    await Promise.all([...groups].map(async ([leader, tps]) => {
      let answers: Map<string, PartitionAnswer<R>>
      try {
        answers = await send(leader, tps)
      } catch (error) {
        const e = error as Error
        if (e instanceof ConnectionError || e instanceof RetriableCallError || (e instanceof KafkaClientError && e.retriable)) {
          retry.push(...tps)
          return
        }
        const ke = e instanceof KafkaClientError ? e : new KafkaClientError('KafkaException', e.message)
        for (const tp of tps) done.set(tpString(tp), {tp, error: ke})
        return
      }
      for (const tp of tps) {
        const a = answers.get(tpString(tp))
        if (!a) { done.set(tpString(tp), {tp, error: new KafkaClientError('KafkaException', `The response did not include ${tpString(tp)}`)}); continue }
        if ('value' in a) { done.set(tpString(tp), {tp, value: a.value}); continue }
        if (isRetriable(a.code)) { retry.push(tp); continue }
        done.set(tpString(tp), {tp, error: apiError(a.code, a.message)})
      }
    }))
    pending = retry
  }
  // Java's message for a call that ran out of default.api.timeout.ms.
  const now = Date.now()
  for (const tp of pending) {
    done.set(tpString(tp), {tp, error: new KafkaClientError('TimeoutException', `Call(callName=${callName}(api=METADATA), deadlineMs=${deadline}, tries=${attempts}, nextAllowedTryMs=${now + admin.net.settings.retryBackoffMs}) timed out at ${now} after ${attempts} attempt(s)`, 7, true)})
  }
  return partitions.map(tp => done.get(tpString(tp))!)
}

/** Java's TopicPartition.hashCode(). */
export function tpHash(tp: TopicPartition): number {
  return (Math.imul(31, (31 + tp.partition) | 0) + javaStringHash(tp.topic)) | 0
}

/**
 * The order a java.util.HashMap (created with `new HashMap<>()`, or `new HashMap<>(initialCapacity)`,
 * filled in this order) iterates its keys: by bucket at the final table size, then in insertion order.
 */
export function javaHashOrder<T>(items: T[], hash: (t: T) => number, initialCapacity?: number): T[] {
  let cap = 1
  if (initialCapacity === undefined) cap = 16
  else while (cap < initialCapacity) cap *= 2
  while (items.length > Math.floor(cap * 0.75)) cap *= 2
  return items
    .map((t, i) => {
      const h = hash(t)
      return {t, i, b: (h ^ (h >>> 16)) & (cap - 1)}
    })
    .sort((a, b) => a.b - b.b || a.i - b.i)
    .map(x => x.t)
}
