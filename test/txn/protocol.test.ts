// Transactions at the protocol level (kafkit's own client against an in-process broker):
// KIP-890 verification refuses a transactional write to a partition that is not in the
// transaction (a hanging transaction prevented), AddPartitionsToTxn v4 verifyOnly, the last
// stable offset in Fetch and ListOffsets read_committed, aborted transactions in Fetch, and
// the coordinator's answers to out-of-order calls, and offsets committed in a transaction staying
// invisible until its commit (beside Apache Kafka 3.9 when installed).
import {test, before, after} from 'node:test'
import assert from 'node:assert/strict'
import {startCluster, type Cluster} from '../../src/api/start-cluster.js'
import {KafkaConnection} from '../../src/core/protocol/client.js'
import {Apis} from '../../src/core/protocol/messages.js'
import {ErrorCode} from '../../src/core/protocol/errors.js'
import {buildBatch} from '../../src/core/protocol/record-batch.js'
import {runCommand, waitFor} from '../helpers/util.js'
import {apacheKafkaHome, runApacheMain, startCluster as startApacheCluster} from '../tools/apache-kafka.js'

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

// Offsets committed in a transaction (TxnOffsetCommit) stay invisible until the commit: OffsetFetch
// with requireStable answers UNSTABLE_OFFSET_COMMIT, without it the old offset, and so does
// kafka-consumer-groups --describe (kafkit's and Apache's, which both ask without requireStable);
// an abort keeps the old offset, a commit shows the new one. Run against kafkit and, when it is
// installed, against Apache Kafka 3.9 itself, so that both answer alike.
async function txnOffsetsScenario(c: KafkaConnection, bootstrap: string): Promise<void> {
  const group = 'txn-offsets-group'
  const txid = 'txn-offsets'
  const topic = 'o'
  await waitFor(async () => {
    const r = await c.send(Apis.CreateTopics, 5, {topics: [{name: topic, numPartitions: 1, replicationFactor: 1}], timeoutMs: 10000})
    return r.topics[0].errorCode === 0 || r.topics[0].errorCode === ErrorCode.TOPIC_ALREADY_EXISTS
  }, 30000, 'topic o')
  // The group's offset before any transaction: 5.
  await waitFor(async () => {
    const f = await c.send(Apis.FindCoordinator, 4, {keyType: 0, coordinatorKeys: [group]})
    if (f.coordinators[0].errorCode !== 0) return false
    const r = await c.send(Apis.OffsetCommit, 8, {groupId: group, generationIdOrMemberEpoch: -1, memberId: '', groupInstanceId: null, topics: [{name: topic, partitions: [{partitionIndex: 0, committedOffset: 5, committedLeaderEpoch: -1, committedMetadata: ''}]}]})
    return r.topics[0].partitions[0].errorCode === 0
  }, 60000, 'OffsetCommit')
  const fetch = async (requireStable: boolean, version = 7): Promise<[number, number]> => {
    const r = version >= 8
      ? (await c.send(Apis.OffsetFetch, 8, {groups: [{groupId: group, topics: [{name: topic, partitionIndexes: [0]}]}], requireStable})).groups[0]
      : await c.send(Apis.OffsetFetch, 7, {groupId: group, topics: [{name: topic, partitionIndexes: [0]}], requireStable})
    const p = r.topics[0].partitions[0]
    return [p.errorCode, Number(p.committedOffset)]
  }
  const describeKafkit = async (): Promise<string> => {
    const r = await runCommand('kafka-consumer-groups', ['--bootstrap-server', bootstrap, '--describe', '--group', group], {timeoutMs: 60000})
    assert.equal(r.code, 0, `${r.stdout}\n${r.stderr}`)
    return r.stdout
  }
  const describeApache = async (): Promise<string | undefined> => {
    if (!apacheKafkaHome()) return undefined
    const r = await runApacheMain('org.apache.kafka.tools.consumer.group.ConsumerGroupCommand', ['--bootstrap-server', bootstrap, '--describe', '--group', group], {timeoutMs: 90000})
    assert.equal(r.code, 0, `${r.stdout}\n${r.stderr}`)
    return r.stdout
  }
  // The CURRENT-OFFSET column of the describe table's row for partition 0 of topic o.
  const current = (out: string): string => {
    const lines = out.split('\n').map(l => l.trim().split(/\s+/))
    const head = lines.find(l => l.includes('CURRENT-OFFSET'))!
    const row = lines.find(l => l[head.indexOf('TOPIC')] === topic && l[head.indexOf('PARTITION')] === '0')
    assert.ok(row, out)
    return row[head.indexOf('CURRENT-OFFSET')]
  }

  // The producer's id, then the group and a pending offset in its transaction.
  let pid = -1
  let epoch = -1
  await waitFor(async () => {
    const f = await c.send(Apis.FindCoordinator, 4, {keyType: 1, coordinatorKeys: [txid]})
    if (f.coordinators[0].errorCode !== 0) return false
    const r = await c.send(Apis.InitProducerId, 4, {transactionalId: txid, transactionTimeoutMs: 60000, producerId: -1, producerEpoch: -1})
    pid = r.producerId
    epoch = r.producerEpoch
    return r.errorCode === 0
  }, 60000, 'InitProducerId')
  const pending = async (offset: number): Promise<void> => {
    await waitFor(async () => (await c.send(Apis.AddOffsetsToTxn, 3, {transactionalId: txid, producerId: pid, producerEpoch: epoch, groupId: group})).errorCode === 0, 30000, 'AddOffsetsToTxn')
    await waitFor(async () => {
      const r = await c.send(Apis.TxnOffsetCommit, 3, {transactionalId: txid, groupId: group, producerId: pid, producerEpoch: epoch, generationId: -1, memberId: '', groupInstanceId: null, topics: [{name: topic, partitions: [{partitionIndex: 0, committedOffset: offset, committedLeaderEpoch: -1, committedMetadata: ''}]}]})
      return r.topics[0].partitions[0].errorCode === 0
    }, 30000, 'TxnOffsetCommit')
  }
  const endTxn = async (committed: boolean): Promise<void> => {
    await waitFor(async () => (await c.send(Apis.EndTxn, 3, {transactionalId: txid, producerId: pid, producerEpoch: epoch, committed})).errorCode === 0, 30000, 'EndTxn')
  }

  await pending(10)
  assert.deepEqual(await fetch(true), [ErrorCode.UNSTABLE_OFFSET_COMMIT, -1])
  assert.deepEqual(await fetch(true, 8), [ErrorCode.UNSTABLE_OFFSET_COMMIT, -1])
  assert.deepEqual(await fetch(false), [0, 5])
  assert.deepEqual(await fetch(false, 8), [0, 5])
  assert.equal(current(await describeKafkit()), '5')
  const apacheOut = await describeApache()
  if (apacheOut !== undefined) assert.equal(current(apacheOut), '5')

  // Aborted: the old offset stays, and is stable again once the marker is in.
  await endTxn(false)
  await waitFor(async () => (await fetch(true))[0] === 0, 30000, 'a stable offset after the abort')
  assert.deepEqual(await fetch(true), [0, 5])
  assert.deepEqual(await fetch(false), [0, 5])

  // Committed: the new offset.
  await pending(20)
  assert.deepEqual(await fetch(true), [ErrorCode.UNSTABLE_OFFSET_COMMIT, -1])
  assert.deepEqual(await fetch(false), [0, 5])
  await endTxn(true)
  await waitFor(async () => (await fetch(true))[0] === 0, 30000, 'a stable offset after the commit')
  assert.deepEqual(await fetch(true), [0, 20])
  assert.deepEqual(await fetch(false), [0, 20])
  assert.equal(current(await describeKafkit()), '20')
}

test('offsets committed in a transaction are visible only after the commit (kafkit)', async () => {
  await txnOffsetsScenario(conn, cluster.bootstrapServers[0])
})

test('offsets committed in a transaction: Apache Kafka 3.9 answers alike', {skip: apacheKafkaHome() ? false : 'Apache Kafka 3.9 not installed'}, async () => {
  const apache = await startApacheCluster('apache', {'offsets.topic.num.partitions': '1', 'transaction.state.log.num.partitions': '1'})
  let c: KafkaConnection | undefined
  try {
    c = await KafkaConnection.connect('127.0.0.1', apache.port)
    await c.negotiate()
    await txnOffsetsScenario(c, apache.bootstrap)
  } finally {
    await c?.close()
    await apache.stop()
  }
})
