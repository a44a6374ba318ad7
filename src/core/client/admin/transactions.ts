// The Admin client's transaction calls as Java's KafkaAdminClient makes them:
// listTransactions (ListTransactions to every broker), describeTransactions (DescribeTransactions
// to the transaction coordinator), describeProducers (DescribeProducers to the partition leader
// or a chosen broker) and abortTransaction (WriteTxnMarkers with an ABORT marker to the leader).
import {ListTransactions, DescribeTransactions, DescribeProducers, WriteTxnMarkers} from '../../protocol/messages.js'
import {errorName, errorMessage} from '../../protocol/errors.js'
import {AdminClient, RetriableCallError} from '../admin-client.js'
import {KafkaClientError, apiError, isRetriable} from '../kafka-errors.js'
import {javaHashMapOrder, javaStringHash} from '../format.js'

export interface TransactionListing {
  transactionalId: string
  producerId: number
  state: string
}

export interface TransactionDescription {
  coordinatorId: number
  state: string
  producerId: number
  producerEpoch: number
  transactionTimeoutMs: number
  /** -1 when there is no ongoing transaction. */
  transactionStartTimeMs: number
  /** "topic-partition" strings, in Java's HashSet<TopicPartition> order. */
  topicPartitions: string[]
}

export interface ProducerState {
  producerId: number
  producerEpoch: number
  lastSequence: number
  lastTimestamp: number
  coordinatorEpoch: number
  currentTxnStartOffset: number
}

export interface AbortSpec {
  topic: string
  partition: number
  producerId: number
  producerEpoch: number
  coordinatorEpoch: number
}

/** TopicPartition.hashCode(). */
export function topicPartitionHash(topic: string, partition: number): number {
  return (Math.imul(31, 31 + partition) + javaStringHash(topic)) | 0
}

/** Long.hashCode(). */
export function longHash(v: number): number {
  const b = BigInt.asUintN(64, BigInt(v))
  return Number(BigInt.asIntN(32, (b ^ (b >> 32n)) & 0xffffffffn))
}

export function abortSpecString(s: AbortSpec): string {
  return `AbortTransactionSpec(topicPartition=${s.topic}-${s.partition}, producerId=${s.producerId}, producerEpoch=${s.producerEpoch}, coordinatorEpoch=${s.coordinatorEpoch})`
}

/** ListTransactions on every broker: broker id -> listings (ascending ids, as Java's HashMap<Integer>). */
export async function listTransactions(client: AdminClient, opts: {producerIds?: number[]; durationFilterMs?: number} = {}): Promise<Map<number, TransactionListing[]>> {
  const md = await client.metadata([], undefined, 'listTransactions')
  const out = new Map<number, TransactionListing[]>()
  for (const id of md.brokers.map(b => b.nodeId).sort((a, b) => a - b)) {
    const listings = await client.call('listTransactions(api=LIST_TRANSACTIONS)', {kind: 'node', id}, ListTransactions, {stateFilters: [], producerIdFilters: opts.producerIds ?? [], durationFilter: opts.durationFilterMs ?? -1}, {
      minVersion: opts.durationFilterMs !== undefined && opts.durationFilterMs >= 0 ? 1 : 0,
      handle: res => {
        if (res.errorCode !== 0) {
          if (isRetriable(res.errorCode)) throw new RetriableCallError(errorName(res.errorCode), res.errorCode)
          throw apiError(res.errorCode)
        }
        return res.transactionStates.map(t => ({transactionalId: t.transactionalId, producerId: Number(t.producerId), state: t.transactionState}))
      },
    })
    out.set(id, listings)
  }
  return out
}

/** DescribeTransactions on the coordinator of transactionalId. */
export async function describeTransaction(client: AdminClient, transactionalId: string): Promise<TransactionDescription> {
  return client.call('describeTransactions(api=DESCRIBE_TRANSACTIONS)', {kind: 'coordinator', key: transactionalId, keyType: 1}, DescribeTransactions, {transactionalIds: [transactionalId]}, {
    handle: (res, node) => {
      const t = res.transactionStates.find(s => s.transactionalId === transactionalId)
      if (!t) throw new KafkaClientError('KafkaException', `The response did not contain a result for transactional id ${transactionalId}`)
      if (t.errorCode !== 0) {
        const name = errorName(t.errorCode)
        if (isRetriable(t.errorCode) || name === 'NOT_COORDINATOR' || name === 'COORDINATOR_NOT_AVAILABLE' || name === 'COORDINATOR_LOAD_IN_PROGRESS') throw new RetriableCallError(name, t.errorCode)
        if (name === 'TRANSACTIONAL_ID_NOT_FOUND') throw new KafkaClientError('TransactionalIdNotFoundException', `DescribeTransactions request for transactionalId \`${transactionalId}\` failed because the ID could not be found`, t.errorCode)
        if (name === 'TRANSACTIONAL_ID_AUTHORIZATION_FAILED') throw new KafkaClientError('TransactionalIdAuthorizationException', `DescribeTransactions request for transactionalId \`${transactionalId}\` failed due to authorization failure`, t.errorCode)
        throw apiError(t.errorCode)
      }
      const pairs = t.topics.flatMap(x => x.partitions.map(p => ({topic: x.topic, partition: p})))
      return {
        coordinatorId: 2147483647 - node, // AdminClient's coordinator connections use Integer.MAX_VALUE - id
        state: t.transactionState,
        producerId: Number(t.producerId),
        producerEpoch: t.producerEpoch,
        transactionTimeoutMs: t.transactionTimeoutMs,
        transactionStartTimeMs: Number(t.transactionStartTimeMs),
        topicPartitions: javaHashMapOrder(pairs, x => topicPartitionHash(x.topic, x.partition)).map(x => `${x.topic}-${x.partition}`),
      }
    },
  })
}

/** DescribeProducers for one partition, on its leader or on brokerId. */
export async function describeProducers(client: AdminClient, topic: string, partition: number, brokerId?: number): Promise<ProducerState[]> {
  const target = brokerId === undefined ? {kind: 'leader' as const, topic, partition} : {kind: 'node' as const, id: brokerId}
  return client.call('describeProducers(api=DESCRIBE_PRODUCERS)', target, DescribeProducers, {topics: [{name: topic, partitionIndexes: [partition]}]}, {
    handle: res => {
      const p = res.topics.find(t => t.name === topic)?.partitions.find(x => x.partitionIndex === partition)
      if (!p) throw new KafkaClientError('KafkaException', `The response did not contain a result for partition ${topic}-${partition}`)
      if (p.errorCode !== 0) {
        const name = errorName(p.errorCode)
        if (brokerId === undefined && (name === 'NOT_LEADER_OR_FOLLOWER' || name === 'UNKNOWN_TOPIC_OR_PARTITION')) throw new RetriableCallError(name, p.errorCode)
        if (name === 'TOPIC_AUTHORIZATION_FAILED') throw new KafkaClientError('TopicAuthorizationException', `Failed to describe active producers for partition ${topic}-${partition} due to authorization failure on topic \`${topic}\``, p.errorCode)
        if (name === 'INVALID_TOPIC_EXCEPTION') throw new KafkaClientError('InvalidTopicException', `Failed to fetch metadata for partition ${topic}-${partition} due to invalid topic \`${topic}\``, p.errorCode)
        throw apiError(p.errorCode, p.errorMessage)
      }
      return p.activeProducers.map(s => ({
        producerId: Number(s.producerId), producerEpoch: s.producerEpoch, lastSequence: s.lastSequence,
        lastTimestamp: Number(s.lastTimestamp), coordinatorEpoch: s.coordinatorEpoch, currentTxnStartOffset: Number(s.currentTxnStartOffset),
      }))
    },
  })
}

/** Writes an ABORT marker for a producer's transaction on one partition (WriteTxnMarkers to the leader). */
export async function abortTransaction(client: AdminClient, spec: AbortSpec): Promise<void> {
  const s = abortSpecString(spec)
  await client.call('abortTransaction(api=WRITE_TXN_MARKERS)', {kind: 'leader', topic: spec.topic, partition: spec.partition}, WriteTxnMarkers, {
    markers: [{producerId: spec.producerId, producerEpoch: spec.producerEpoch, transactionResult: false, coordinatorEpoch: spec.coordinatorEpoch, topics: [{name: spec.topic, partitionIndexes: [spec.partition]}]}],
  }, {
    handle: res => {
      const p = res.markers[0]?.topics.find(t => t.name === spec.topic)?.partitions.find(x => x.partitionIndex === spec.partition)
      if (!p) throw new KafkaClientError('KafkaException', `WriteTxnMarkers response for ${s} has no result for the partition`)
      if (p.errorCode === 0) return
      const name = errorName(p.errorCode)
      switch (name) {
        case 'CLUSTER_AUTHORIZATION_FAILED': throw new KafkaClientError('ClusterAuthorizationException', `WriteTxnMarkers request with ${s} failed due to cluster authorization error`, p.errorCode)
        case 'INVALID_PRODUCER_EPOCH': throw new KafkaClientError('InvalidProducerEpochException', `WriteTxnMarkers request with ${s} failed due an invalid producer epoch`, p.errorCode)
        case 'TRANSACTION_COORDINATOR_FENCED': throw new KafkaClientError('TransactionCoordinatorFencedException', `WriteTxnMarkers request with ${s} failed since the provided coordinator epoch ${spec.coordinatorEpoch} has been fenced by the active coordinator`, p.errorCode)
        case 'NOT_LEADER_OR_FOLLOWER': case 'REPLICA_NOT_AVAILABLE': case 'BROKER_NOT_AVAILABLE': case 'UNKNOWN_TOPIC_OR_PARTITION':
          throw new RetriableCallError(name, p.errorCode)
        default: throw new KafkaClientError(apiError(p.errorCode).exceptionClass, `WriteTxnMarkers request with ${s} failed due to unexpected error: ${errorMessage(p.errorCode)}`, p.errorCode)
      }
    },
  })
}
