// Transactions with the Java client (Kafka 3.9) and Apache Kafka 3.9's own tools against a
// kafkit broker: commit/abort with both isolation levels, a fenced zombie, read-process-write
// with sendOffsetsToTransaction (offsets committed only with the transaction), kafka-transactions
// list / describe / describe-producers / find-hanging, kafka-console-consumer
// --isolation-level read_committed, and kafka-dump-log reading __transaction_state, the
// .txnindex and the producer .snapshot files kafkit writes, and a broker killed -9 in the middle
// of a Java producer's transaction.
import {test, before, after} from 'node:test'
import assert from 'node:assert/strict'
import {existsSync, readdirSync, writeFileSync} from 'node:fs'
import {join} from 'node:path'
import {runCommand, waitFor} from '../helpers/util.js'
import {KafkaConnection} from '../../src/core/protocol/client.js'
import {Apis} from '../../src/core/protocol/messages.js'
import {ErrorCode} from '../../src/core/protocol/errors.js'
import {buildBatch} from '../../src/core/protocol/record-batch.js'
import {apacheTool, exec, javaTxn, requireApacheKafka, startTxnCluster, type TxnCluster} from './helpers.js'

let cluster: TxnCluster

before(async () => {
  requireApacheKafka()
  cluster = await startTxnCluster(1)
})

after(async () => {
  await cluster?.stop()
})

async function createTopic(name: string, partitions = 1): Promise<void> {
  const r = await runCommand('kafka-topics', ['--bootstrap-server', cluster.bootstrap, '--create', '--topic', name, '--partitions', String(partitions), '--replication-factor', '1'])
  assert.equal(r.code, 0, r.stdout + r.stderr)
}

const lines = (s: string) => s.split('\n').filter(l => l !== '' && !l.startsWith('log4j:'))

async function tool(name: string, args: string[]) {
  const r = await exec(apacheTool(name), ['--bootstrap-server', cluster.bootstrap, ...args], {timeoutMs: 60000})
  return r
}

test('Java client: commit and abort, read_committed and read_uncommitted', {timeout: 120000}, async () => {
  await createTopic('java-ca')
  const r = await javaTxn(['commit-abort', cluster.bootstrap, 'java-ca'])
  assert.equal(r.code, 0, r.stderr)
  assert.deepEqual(lines(r.stdout), ['read_committed=c0,c1,c2,c3,c4', 'read_uncommitted=c0,c1,c2,a0,a1,c3,c4'])
  // Apache's console consumer with --isolation-level read_committed shows the committed records only.
  const c = await tool('kafka-console-consumer', ['--topic', 'java-ca', '--from-beginning', '--isolation-level', 'read_committed', '--max-messages', '5', '--timeout-ms', '20000'])
  assert.equal(c.code, 0, c.stderr)
  assert.deepEqual(lines(c.stdout), ['c0', 'c1', 'c2', 'c3', 'c4'])
})

test('Java client: a fenced zombie producer is rejected', {timeout: 120000}, async () => {
  await createTopic('java-fence')
  const r = await javaTxn(['fence', cluster.bootstrap, 'java-fence'])
  assert.equal(r.code, 0, r.stderr)
  assert.deepEqual(lines(r.stdout), ['zombie=InvalidProducerEpochException, then ProducerFencedException', 'read_committed=fresh'])
})

test('Java client: read-process-write with sendOffsetsToTransaction; kafka-consumer-groups shows the committed offsets', {timeout: 120000}, async () => {
  await createTopic('java-in')
  await createTopic('java-out')
  const input = Array.from({length: 50}, (_, i) => `k${i}:v${i}`).join('\n') + '\n'
  const p = await exec(apacheTool('kafka-console-producer'), ['--bootstrap-server', cluster.bootstrap, '--topic', 'java-in', '--property', 'parse.key=true', '--property', 'key.separator=:'], {input, timeoutMs: 60000})
  assert.equal(p.code, 0, p.stderr)
  const r = await javaTxn(['consume-transform', cluster.bootstrap, 'java-in', 'java-out', 'java-ct', '50'])
  assert.equal(r.code, 0, r.stderr)
  assert.deepEqual(lines(r.stdout), ['transformed=50'])
  const out = await javaTxn(['read', cluster.bootstrap, 'java-out', 'read_committed', '50'])
  assert.equal(lines(out.stdout)[0], Array.from({length: 50}, (_, i) => `V${i}`).join(','))
  const g = await tool('kafka-consumer-groups', ['--describe', '--group', 'java-ct'])
  assert.equal(g.code, 0, g.stderr)
  const row = lines(g.stdout).find(l => l.startsWith('java-ct '))
  assert.ok(row, g.stdout)
  assert.deepEqual(row!.trim().split(/\s+/).slice(1, 6), ['java-in', '0', '50', '50', '0'])
  // kafkit's own kafka-consumer-groups shows the same committed offsets.
  const own = await runCommand('kafka-consumer-groups', ['--bootstrap-server', cluster.bootstrap, '--describe', '--group', 'java-ct'])
  const ownRow = own.stdout.split('\n').find(l => l.startsWith('java-ct '))
  assert.deepEqual(ownRow?.trim().split(/\s+/).slice(1, 6), ['java-in', '0', '50', '50', '0'], own.stdout + own.stderr)
})

test('Apache kafka-transactions list, describe, describe-producers and find-hanging', {timeout: 120000}, async () => {
  const list = await tool('kafka-transactions', ['list'])
  assert.equal(list.code, 0, list.stderr)
  const rows = lines(list.stdout)
  assert.equal(rows[0], 'TransactionalId\tCoordinator\tProducerId\tTransactionState\t')
  const byId = new Map(rows.slice(1).map(l => {
    const cols = l.split('\t').map(c => c.trim())
    return [cols[0], cols] as const
  }))
  assert.deepEqual(byId.get('java-ca')?.slice(1, 2), ['0'])
  assert.equal(byId.get('java-ca')?.[3], 'CompleteCommit')
  assert.equal(byId.get('java-ct-java-ct')?.[3], 'CompleteCommit')
  const d = await tool('kafka-transactions', ['describe', '--transactional-id', 'java-fence'])
  assert.equal(d.code, 0, d.stderr)
  const [head, row] = lines(d.stdout)
  assert.equal(head, 'CoordinatorId\tTransactionalId\tProducerId\tProducerEpoch\tTransactionState\tTransactionTimeoutMs\tCurrentTransactionStartTimeMs\tTransactionDurationMs\tTopicPartitions\t')
  const cols = row.split('\t').map(c => c.trim())
  assert.deepEqual([cols[0], cols[1], cols[3], cols[4], cols[5]], ['0', 'java-fence', '2', 'CompleteCommit', '10000'])
  const dp = await tool('kafka-transactions', ['describe-producers', '--topic', 'java-out', '--partition', '0'])
  assert.equal(dp.code, 0, dp.stderr)
  const prow = lines(dp.stdout)[1].split('\t').map(c => c.trim())
  assert.equal(lines(dp.stdout)[0], 'ProducerId\tProducerEpoch\tLatestCoordinatorEpoch\tLastSequence\tLastTimestamp\tCurrentTransactionStartOffset\t')
  assert.deepEqual([prow[1], prow[2], prow[3], prow[5]], ['0', '0', '49', 'None'])
  const fh = await tool('kafka-transactions', ['find-hanging', '--broker-id', '0'])
  assert.equal(fh.code, 0, fh.stderr)
  assert.deepEqual(lines(fh.stdout), ['Topic\tPartition\tProducerId\tProducerEpoch\tCoordinatorEpoch\tStartOffset\tLastTimestamp\tDuration(min)\t'])
})

test('kafka-dump-log reads __transaction_state, .txnindex and .snapshot files as Apache Kafka writes them', {timeout: 120000}, async () => {
  // A clean restart leaves a producer state snapshot at each log end.
  await cluster.brokers[0].stop('SIGTERM')
  await cluster.brokers[0].start()
  const logDir = join(cluster.dir, 'broker-0')
  const txnLogs = readdirSync(logDir).filter(d => d.startsWith('__transaction_state-')).map(d => join(logDir, d, '00000000000000000000.log'))
  const dumped = await exec(apacheTool('kafka-dump-log'), ['--files', txnLogs.join(','), '--transaction-log-decoder', '--print-data-log'], {timeoutMs: 60000})
  assert.equal(dumped.code, 0, dumped.stderr)
  assert.match(dumped.stdout, /key: transaction_metadata::transactionalId=java-ca payload: producerId:\d+,producerEpoch:0,state=PrepareCommit,partitions=\[java-ca-0\],txnLastUpdateTimestamp=\d+,txnTimeoutMs=10000/)
  assert.match(dumped.stdout, /key: transaction_metadata::transactionalId=java-ca payload: producerId:\d+,producerEpoch:0,state=CompleteCommit,partitions=\[\],/)
  const part = join(logDir, 'java-ca-0')
  const idx = await exec(apacheTool('kafka-dump-log'), ['--files', join(part, '00000000000000000000.txnindex')], {timeoutMs: 60000})
  assert.match(idx.stdout, /version: 0 producerId: \d+ firstOffset: 4 lastOffset: 6 lastStableOffset: 7/)
  const snaps = readdirSync(part).filter(n => n.endsWith('.snapshot'))
  assert.deepEqual(snaps, ['00000000000000000010.snapshot'])
  const snap = await exec(apacheTool('kafka-dump-log'), ['--files', join(part, snaps[0])], {timeoutMs: 60000})
  // The last batch holds sequences 5-6, or 6 alone when the Java producer sent the last two
  // records in two batches (its batching depends on timing).
  assert.match(snap.stdout, /producerId: \d+ producerEpoch: 0 coordinatorEpoch: 0 currentTxnFirstOffset: OptionalLong.empty lastTimestamp: \d+ firstSequence: (?:5 lastSequence: 6 lastOffset: 8 offsetDelta: 1|6 lastSequence: 6 lastOffset: 8 offsetDelta: 0) timestamp: \d+/)
})

test('Java client: a transaction left open by a halted producer is aborted after transaction.timeout.ms', {timeout: 120000}, async () => {
  await createTopic('java-open')
  const o = await javaTxn(['open', cluster.bootstrap, 'java-open', 'java-open-txn', '3'])
  assert.deepEqual(lines(o.stdout), ['produced'])
  const d = await tool('kafka-transactions', ['describe', '--transactional-id', 'java-open-txn'])
  assert.match(lines(d.stdout)[1], /\tOngoing\s*\t10000\s*\t\d+\s*\t\d+\s*\tjava-open-0\s*\t$/)
  const r = await javaTxn(['commit-abort', cluster.bootstrap, 'java-open'])
  assert.equal(r.code, 0, r.stderr)
  assert.deepEqual(lines(r.stdout)[0], 'read_committed=c0,c1,c2,c3,c4')
  const after = await tool('kafka-transactions', ['describe', '--transactional-id', 'java-open-txn'])
  assert.match(lines(after.stdout)[1], /\tCompleteAbort\s*\t/)
})

test('Apache kafka-transactions find-hanging and abort clear a hanging transaction (written with verification off)', {timeout: 120000}, async () => {
  const other = await startTxnCluster(1, {'transaction.partition.verification.enable': 'false'})
  const conn = await KafkaConnection.connect('127.0.0.1', other.brokers[0].port)
  try {
    const r = await runCommand('kafka-topics', ['--bootstrap-server', other.bootstrap, '--create', '--topic', 'hang', '--partitions', '1', '--replication-factor', '1'])
    assert.equal(r.code, 0, r.stderr)
    // Without a transactional id, transactional records are refused, as Kafka does.
    const batch = () => buildBatch({producerId: 4242, producerEpoch: 0, baseSequence: 0, isTransactional: true, records: [{key: null, value: Buffer.from('stuck')}]})
    const anon = await conn.send(Apis.Produce, 9, {transactionalId: null, acks: -1, timeoutMs: 5000, topicData: [{name: 'hang', partitionData: [{index: 0, records: batch()}]}]})
    assert.equal(anon.responses[0].partitionResponses[0].errorCode, ErrorCode.TRANSACTIONAL_ID_AUTHORIZATION_FAILED)
    // A producer the coordinator never heard of writes transactional data: nothing will ever end it.
    const p = await conn.send(Apis.Produce, 9, {transactionalId: 'ghost', acks: -1, timeoutMs: 5000, topicData: [{name: 'hang', partitionData: [{index: 0, records: batch()}]}]})
    assert.equal(p.responses[0].partitionResponses[0].errorCode, 0)
    const run = (args: string[]) => exec(apacheTool('kafka-transactions'), ['--bootstrap-server', other.bootstrap, ...args], {timeoutMs: 60000})
    let found = ''
    await waitFor(async () => {
      found = (await run(['find-hanging', '--broker-id', '0', '--max-transaction-timeout', '0'])).stdout
      return /\nhang\s*\t0\s*\t4242\s*\t0\s*\t-1\s*\t0\s*\t/.test(found)
    }, 60000, `find-hanging to list the transaction (last output: ${found})`)
    const a = await run(['abort', '--topic', 'hang', '--partition', '0', '--start-offset', '0'])
    assert.equal(a.code, 0, a.stderr)
    const end = await conn.send(Apis.ListOffsets, 5, {replicaId: -1, isolationLevel: 1, topics: [{name: 'hang', partitions: [{partitionIndex: 0, timestamp: -1, currentLeaderEpoch: -1}]}]})
    assert.equal(end.topics[0].partitions[0].offset, 2, 'the abort marker ends the transaction: the last stable offset moves past it')
    assert.deepEqual(lines((await run(['find-hanging', '--broker-id', '0', '--max-transaction-timeout', '0'])).stdout).slice(1), [])
  } finally {
    await conn.close()
    await other.stop()
  }
})

test('Java client: a broker killed -9 mid-transaction recovers it: still open after the restart, then committed', {timeout: 240000}, async () => {
  await createTopic('java-restart')
  const ready = join(cluster.dir, 'java-ready')
  const go = join(cluster.dir, 'java-go')
  const run = javaTxn(['resume', cluster.bootstrap, 'java-restart', ready, go], 200000)
  await waitFor(() => existsSync(ready), 90000, 'the Java producer to be inside its transaction')
  await cluster.brokers[0].stop('SIGKILL')
  await cluster.brokers[0].start()
  // The open transaction still holds back read_committed readers after recovery: the last
  // stable offset is back at its first offset (0) below the log end (2).
  const conn = await KafkaConnection.connect('127.0.0.1', cluster.brokers[0].port)
  try {
    await conn.negotiate()
    const latest = async (isolationLevel: number) => {
      const r = await conn.send(Apis.ListOffsets, 5, {replicaId: -1, isolationLevel, topics: [{name: 'java-restart', partitions: [{partitionIndex: 0, timestamp: -1, currentLeaderEpoch: -1}]}]})
      const p = r.topics[0].partitions[0]
      return p.errorCode === 0 ? Number(p.offset) : null
    }
    await waitFor(async () => (await latest(0)) === 2, 60000, 'the partition to be back')
    assert.equal(await latest(1), 0)
  } finally {
    await conn.close()
  }
  const uncommitted = await javaTxn(['read', cluster.bootstrap, 'java-restart', 'read_uncommitted', '2', '60000'])
  assert.equal(uncommitted.code, 0, uncommitted.stderr)
  assert.deepEqual(lines(uncommitted.stdout), ['r0,r1'])
  const committed = await javaTxn(['read', cluster.bootstrap, 'java-restart', 'read_committed', '1', '3000'])
  assert.equal(committed.code, 0, committed.stderr)
  assert.deepEqual(lines(committed.stdout), [])
  writeFileSync(go, '')
  const r = await run
  assert.equal(r.code, 0, r.stderr)
  assert.deepEqual(lines(r.stdout), ['read_committed=r0,r1,r2'])
})
