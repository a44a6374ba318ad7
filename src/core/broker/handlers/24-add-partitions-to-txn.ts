// AddPartitionsToTxn (24): v0-3 from producers (one transaction), v4+ batched from brokers,
// where verifyOnly asks whether the partitions are already in the transaction (KIP-890).
// Partitions of unknown topics fail with UNKNOWN_TOPIC_OR_PARTITION and the others of that
// request with OPERATION_NOT_ATTEMPTED, as Kafka answers.
import {ErrorCode} from '../../protocol/errors.js'
import {defineHandler} from '../handler.js'
import {Apis} from '../../protocol/messages.js'
import type {KafkaBroker} from '../broker.js'

interface Topic {name: string; partitions: number[]}
type Results = {name: string; resultsByPartition: {partitionIndex: number; partitionErrorCode: number}[]}[]

function resultsAll(topics: Topic[], code: (t: string, p: number) => number): Results {
  return topics.map(t => ({name: t.name, resultsByPartition: t.partitions.map(p => ({partitionIndex: p, partitionErrorCode: code(t.name, p)}))}))
}

async function addOne(broker: KafkaBroker, id: string, pid: number, epoch: number, topics: Topic[], verifyOnly: boolean): Promise<Results> {
  if (verifyOnly) return resultsAll(topics, (t, p) => broker.txns.verifyPartition(id, pid, epoch, t, p))
  const unknown = (t: string, p: number) => {
    const meta = broker.cluster.topic(t)
    return !meta || p < 0 || p >= meta.partitions.length
  }
  if (topics.some(t => t.partitions.some(p => unknown(t.name, p)))) {
    return resultsAll(topics, (t, p) => (unknown(t, p) ? ErrorCode.UNKNOWN_TOPIC_OR_PARTITION : ErrorCode.OPERATION_NOT_ATTEMPTED))
  }
  const code = await broker.txns.addPartitions(id, pid, epoch, topics.flatMap(t => t.partitions.map(partition => ({topic: t.name, partition}))))
  return resultsAll(topics, () => code)
}

export const addPartitionsToTxn = defineHandler(Apis.AddPartitionsToTxn, {
  minVersion: 0,
  maxVersion: 5,
  async handle(ctx, req, version) {
    const broker = ctx.broker
    if (version <= 3) {
      const results = await addOne(broker, req.v3AndBelowTransactionalId, req.v3AndBelowProducerId, req.v3AndBelowProducerEpoch, req.v3AndBelowTopics, false)
      // Older clients know INVALID_PRODUCER_EPOCH, not PRODUCER_FENCED.
      if (version < 2) for (const t of results) for (const r of t.resultsByPartition) if (r.partitionErrorCode === ErrorCode.PRODUCER_FENCED) r.partitionErrorCode = ErrorCode.INVALID_PRODUCER_EPOCH
      return {throttleTimeMs: 0, errorCode: 0, resultsByTransaction: [], resultsByTopicV3AndBelow: results}
    }
    const resultsByTransaction = await Promise.all(req.transactions.map(async (t: any) => ({
      transactionalId: t.transactionalId,
      topicResults: await addOne(broker, t.transactionalId, t.producerId, t.producerEpoch, t.topics, t.verifyOnly),
    })))
    return {throttleTimeMs: 0, errorCode: 0, resultsByTransaction, resultsByTopicV3AndBelow: []}
  },
})
