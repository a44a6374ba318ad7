// Transactions at the protocol level (kafkit's own client against an in-process broker):
// KIP-890 verification refuses a transactional write to a partition that is not in the
// transaction (a hanging transaction prevented), AddPartitionsToTxn v4 verifyOnly, the last
// stable offset in Fetch and ListOffsets read_committed, aborted transactions in Fetch, and
// the coordinator's answers to out-of-order calls.
import {test, before, after} from 'node:test'
import assert from 'node:assert/strict'
import {startCluster, type Cluster} from '../../src/api/start-cluster.js'
import {KafkaConnection} from '../../src/core/protocol/client.js'
import {Apis} from '../../src/core/protocol/messages.js'
import {ErrorCode} from '../../src/core/protocol/errors.js'
import {buildBatch} from '../../src/core/protocol/record-batch.js'
import {waitFor} from '../helpers/util.js'

let cluster: Cluster
let conn: KafkaConnection

before(async () => {
  cluster = await startCluster({brokers: 1, brokerConfig: {'transaction.state.log.num.partitions': 2, 'offsets.topic.num.partitions': 2}})
  const [host, port] = cluster.bootstrapServers[0].split(':')
  conn = await KafkaConnection.connect(host, Number(port))
  await conn.negotiate()
  const r = await conn.send(Apis.CreateTopics, 5, {topics: [{name: 'p', numPartitions: 2, replicationFactor: 1}], timeoutMs: 10000})
  assert.equal(r.topics[0].errorCode, 0)
})

after(async () => {
  await conn?.close()
  await cluster?.stop()
})

async function init(txid: string): Promise<{pid: number; epoch: number}> {
  let r
  await waitFor(async () => {
    const c = await conn.send(Apis.FindCoordinator, 4, {keyType: 1, coordinatorKeys: [txid]})
    if (c.coordinators[0].errorCode !== 0) return false
    r = await conn.send(Apis.InitProducerId, 4, {transactionalId: txid, transactionTimeoutMs: 60000, producerId: -1, producerEpoch: -1})
    return r.errorCode === 0
  }, 20000, 'InitProducerId')
  return {pid: r!.producerId, epoch: r!.producerEpoch}
}

function txnRecords(pid: number, epoch: number, seq: number, values: string[]): Buffer {
  return buildBatch({producerId: pid, producerEpoch: epoch, baseSequence: seq, isTransactional: true, records: values.map(v => ({key: null, value: Buffer.from(v)}))})
}

async function produce(txid: string, partition: number, records: Buffer): Promise<number> {
  const r = await conn.send(Apis.Produce, 9, {transactionalId: txid, acks: -1, timeoutMs: 5000, topicData: [{name: 'p', partitionData: [{index: partition, records}]}]})
  return r.responses[0].partitionResponses[0].errorCode
}

async function offsets(partition: number, isolationLevel: number): Promise<number> {
  const r = await conn.send(Apis.ListOffsets, 5, {replicaId: -1, isolationLevel, topics: [{name: 'p', partitions: [{partitionIndex: partition, timestamp: -1, currentLeaderEpoch: -1}]}]})
  return r.topics[0].partitions[0].offset
}

test('a transactional write to a partition outside the transaction is refused (KIP-890); inside it is accepted', async () => {
  const {pid, epoch} = await init('verify-me')
  assert.equal(await produce('verify-me', 0, txnRecords(pid, epoch, 0, ['x'])), ErrorCode.INVALID_TXN_STATE)
  const add = await conn.send(Apis.AddPartitionsToTxn, 3, {v3AndBelowTransactionalId: 'verify-me', v3AndBelowProducerId: pid, v3AndBelowProducerEpoch: epoch, v3AndBelowTopics: [{name: 'p', partitions: [0]}]})
  assert.equal(add.resultsByTopicV3AndBelow[0].resultsByPartition[0].partitionErrorCode, 0)
  // verifyOnly (v4, the brokers' form): partition 0 is in the transaction, partition 1 is not.
  const v = await conn.send(Apis.AddPartitionsToTxn, 4, {transactions: [{transactionalId: 'verify-me', producerId: pid, producerEpoch: epoch, verifyOnly: true, topics: [{name: 'p', partitions: [0, 1]}]}]})
  assert.deepEqual(v.resultsByTransaction[0].topicResults[0].resultsByPartition.map(x => x.partitionErrorCode), [0, ErrorCode.INVALID_TXN_STATE])
  assert.equal(await produce('verify-me', 0, txnRecords(pid, epoch, 0, ['a', 'b'])), 0)
  // The open transaction holds the last stable offset at its first offset.
  assert.equal(await offsets(0, 0), 2)
  assert.equal(await offsets(0, 1), 0)
  // An older epoch of the producer is fenced.
  const stale = await conn.send(Apis.EndTxn, 3, {transactionalId: 'verify-me', producerId: pid, producerEpoch: epoch - 1, committed: true})
  assert.equal(stale.errorCode, ErrorCode.PRODUCER_FENCED)
  const end = await conn.send(Apis.EndTxn, 3, {transactionalId: 'verify-me', producerId: pid, producerEpoch: epoch, committed: false})
  assert.equal(end.errorCode, 0)
  // The abort marker moves the last stable offset past it; read_committed fetches name the aborted transaction.
  await waitFor(async () => (await offsets(0, 1)) === 3, 10000, 'the marker')
  const f = await conn.send(Apis.Fetch, 12, {replicaId: -1, maxWaitMs: 0, minBytes: 0, maxBytes: 1 << 20, isolationLevel: 1, sessionId: 0, sessionEpoch: -1, topics: [{topic: 'p', partitions: [{partition: 0, fetchOffset: 0, currentLeaderEpoch: -1, lastFetchedEpoch: -1, logStartOffset: -1, partitionMaxBytes: 1 << 20}]}], forgottenTopicsData: [], rackId: ''})
  const pr = f.responses[0].partitions[0]
  assert.equal(pr.lastStableOffset, 3)
  assert.deepEqual(pr.abortedTransactions, [{producerId: pid, firstOffset: 0}])
  // Committing after the abort is refused; aborting again is answered as done.
  assert.equal((await conn.send(Apis.EndTxn, 3, {transactionalId: 'verify-me', producerId: pid, producerEpoch: epoch, committed: true})).errorCode, ErrorCode.INVALID_TXN_STATE)
  assert.equal((await conn.send(Apis.EndTxn, 3, {transactionalId: 'verify-me', producerId: pid, producerEpoch: epoch, committed: false})).errorCode, 0)
})

test('coordinator answers: unknown producer id mapping, invalid timeout, DescribeTransactions of an unknown id', async () => {
  const {pid, epoch} = await init('answers')
  const wrong = await conn.send(Apis.AddPartitionsToTxn, 3, {v3AndBelowTransactionalId: 'answers', v3AndBelowProducerId: pid + 1000, v3AndBelowProducerEpoch: epoch, v3AndBelowTopics: [{name: 'p', partitions: [1]}]})
  assert.equal(wrong.resultsByTopicV3AndBelow[0].resultsByPartition[0].partitionErrorCode, ErrorCode.INVALID_PRODUCER_ID_MAPPING)
  const unknownTopic = await conn.send(Apis.AddPartitionsToTxn, 3, {v3AndBelowTransactionalId: 'answers', v3AndBelowProducerId: pid, v3AndBelowProducerEpoch: epoch, v3AndBelowTopics: [{name: 'p', partitions: [1]}, {name: 'nope', partitions: [0]}]})
  assert.deepEqual(unknownTopic.resultsByTopicV3AndBelow.map(t => t.resultsByPartition[0].partitionErrorCode), [ErrorCode.OPERATION_NOT_ATTEMPTED, ErrorCode.UNKNOWN_TOPIC_OR_PARTITION])
  const timeout = await conn.send(Apis.InitProducerId, 4, {transactionalId: 'answers', transactionTimeoutMs: 900001, producerId: -1, producerEpoch: -1})
  assert.equal(timeout.errorCode, ErrorCode.INVALID_TRANSACTION_TIMEOUT)
  const d = await conn.send(Apis.DescribeTransactions, 0, {transactionalIds: ['answers', 'never-seen']})
  assert.deepEqual(d.transactionStates.map(s => [s.transactionalId, s.errorCode, s.transactionState]), [['answers', 0, 'Empty'], ['never-seen', ErrorCode.TRANSACTIONAL_ID_NOT_FOUND, '']])
})
