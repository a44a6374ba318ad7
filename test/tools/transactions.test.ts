// kafka-transactions against Apache Kafka 3.9's kafka-transactions.sh on the same kafkit broker,
// with transactions written by the Java client (a committed one, an aborted one, one left open):
// list, describe, describe-producers print the same tables (all but the clock-dependent
// TransactionDurationMs cell exactly); abort --start-offset ends the open transaction on a
// partition as Apache's does; find-hanging; errors as one stderr line and exit 1.
import {test, before, after} from 'node:test'
import assert from 'node:assert/strict'
import {runCommand, waitFor} from '../helpers/util.js'
import {KafkaConnection} from '../../src/core/protocol/client.js'
import {Apis} from '../../src/core/protocol/messages.js'
import {buildBatch} from '../../src/core/protocol/record-batch.js'
import {startApacheZooKeeper, type ApacheZooKeeper} from '../broker/helpers.js'
import {startSecureBroker, apacheTool, apacheSkip, type SecureBroker} from '../security/helpers.js'
import {javaTxn} from '../txn/helpers.js'

const skip = apacheSkip()
let zk: ApacheZooKeeper
let broker: SecureBroker

before(async () => {
  if (skip) return
  zk = await startApacheZooKeeper()
  broker = await startSecureBroker(zk.connect, {PLAINTEXT: 'PLAINTEXT'}, [
    'transaction.state.log.replication.factor=1', 'transaction.state.log.min.isr=1', 'transaction.state.log.num.partitions=3',
    // The open transaction stays open for the test (no abort on timeout).
    'transaction.abort.timed.out.transaction.cleanup.interval.ms=600000',
    // So that a producer the coordinator never heard of can leave a hanging transaction.
    'transaction.partition.verification.enable=false',
  ])
  const t = await runCommand('kafka-topics', ['--bootstrap-server', broker.bootstrap, '--create', '--topic', 'txt', '--partitions', '2'])
  assert.equal(t.code, 0, t.stderr)
  const ca = await javaTxn(['commit-abort', broker.bootstrap, 'txca'])
  assert.equal(ca.code, 0, ca.stderr)
  const open = await javaTxn(['open', broker.bootstrap, 'txt', 'tx-open', '4'])
  assert.match(open.stdout, /produced/, open.stderr)
})

after(async () => {
  await broker?.cleanup()
  await zk?.stop()
})

const kafkit = (args: string[]) => runCommand('kafka-transactions', ['--bootstrap-server', broker.bootstrap, ...args])
const apache = (args: string[]) => apacheTool('kafka-transactions', ['--bootstrap-server', broker.bootstrap, ...args])

/** Table cells, trimmed; the given columns blanked. */
function cells(out: string, blank: string[] = []): string[][] {
  const rows = out.split('\n').filter(l => l !== '').map(l => l.split('\t').map(c => c.trim()))
  const idx = blank.map(b => rows[0].indexOf(b))
  return rows.map((r, i) => r.map((c, j) => (i > 0 && idx.includes(j) ? '' : c)))
}

test('list, describe and describe-producers print Apache\'s tables', {skip}, async () => {
  for (const args of [['list'], ['describe', '--transactional-id', 'java-ca'], ['describe-producers', '--topic', 'txca', '--partition', '0'], ['describe-producers', '--topic', 'txt', '--partition', '1']]) {
    const k = await kafkit(args)
    const a = await apache(args)
    assert.equal(k.code, 0, k.stderr)
    assert.equal(a.code, 0, a.stderr)
    if (args[0] === 'describe') assert.deepEqual(cells(k.stdout, ['TransactionDurationMs']), cells(a.stdout, ['TransactionDurationMs']))
    else assert.equal(k.stdout, a.stdout, args.join(' '))
    assert.equal(k.stderr, '')
  }
  const list = await kafkit(['list'])
  assert.match(list.stdout, /^TransactionalId\tCoordinator\tProducerId\tTransactionState\t\n/)
  assert.match(list.stdout, /\njava-ca +\t0 +\t\d+ +\tCompleteCommit +\t\n/)
  assert.match(list.stdout, /\ntx-open +\t0 +\t\d+ +\tOngoing +\t\n/)
  // kafkit addition: the same table as JSON, the same rows.
  const listJson = await kafkit(['list', '--output', 'json'])
  assert.equal(listJson.code, 0, listJson.stderr)
  const objects = JSON.parse(listJson.stdout) as Record<string, string>[]
  assert.deepEqual(objects.map(o => [o.TransactionalId, o.Coordinator, o.ProducerId, o.TransactionState]), cells(list.stdout).slice(1).map(r => r.slice(0, 4)))
  const k = await kafkit(['describe', '--transactional-id', 'tx-open'])
  const a = await apache(['describe', '--transactional-id', 'tx-open'])
  assert.equal(k.code, 0, k.stderr)
  assert.deepEqual(cells(k.stdout, ['TransactionDurationMs']), cells(a.stdout, ['TransactionDurationMs']))
  const row = cells(k.stdout)[1]
  assert.equal(row[4], 'Ongoing')
  assert.equal(row[8], 'txt-0,txt-1')
  assert.ok(Number(row[7]) >= 0 && Number(row[7]) < 600000, row[7])
  const p = await kafkit(['describe-producers', '--topic', 'txt', '--partition', '0'])
  assert.match(p.stdout, /\n\d+ *\t0 *\t-?\d+ *\t1 *\t\d+ *\t0 *\t\n$/) // two records, an open transaction from offset 0
})

test('abort --start-offset ends the open transaction on a partition, as Apache\'s abort does on the other', {skip}, async () => {
  const k = await kafkit(['abort', '--topic', 'txt', '--partition', '0', '--start-offset', '0'])
  assert.equal(k.code, 0, k.stderr)
  assert.equal(k.stdout, '')
  const a = await apache(['abort', '--topic', 'txt', '--partition', '1', '--start-offset', '0'])
  assert.equal(a.code, 0, a.stderr)
  for (const partition of ['0', '1']) {
    const d = await kafkit(['describe-producers', '--topic', 'txt', '--partition', partition])
    assert.match(d.stdout, /\tNone +\t\n$/, `partition ${partition}: ${d.stdout}`)
  }
  const again = await kafkit(['abort', '--topic', 'txt', '--partition', '0', '--start-offset', '0'])
  const againA = await apache(['abort', '--topic', 'txt', '--partition', '0', '--start-offset', '0'])
  assert.equal(again.code, 1)
  assert.equal(again.stderr, 'Could not find any open transactions starting at offset 0 on partition txt-0\n')
  assert.equal(againA.stderr.split('\n')[0], again.stderr.trim())
  // find-hanging: nothing hangs (the coordinator still owns the transaction's partitions).
  for (const args of [['find-hanging', '--broker-id', '0', '--max-transaction-timeout', '0'], ['find-hanging', '--topic', 'txt']]) {
    const fk = await kafkit(args)
    const fa = await apache(args)
    assert.equal(fk.code, 0, fk.stderr)
    assert.equal(fk.stdout, fa.stdout)
    assert.equal(fk.stdout, 'Topic\tPartition\tProducerId\tProducerEpoch\tCoordinatorEpoch\tStartOffset\tLastTimestamp\tDuration(min)\t\n')
  }
})

test('errors: an unknown transactional id, a missing scope or offset, bad arguments: one line on stderr, exit 1', {skip}, async () => {
  for (const args of [
    ['describe', '--transactional-id', 'nope'],
    ['find-hanging'],
    ['find-hanging', '--partition', '0', '--broker-id', '0'],
    ['abort', '--topic', 'txt', '--partition', '0'],
    ['abort', '--topic', 'txt', '--partition', '0', '--producer-id', '5'],
  ]) {
    const k = await kafkit(args)
    const a = await apache(args)
    assert.equal(k.code, 1, `${args.join(' ')}: ${k.stderr}`)
    assert.equal(a.code, 1, `Apache ${args.join(' ')}: ${a.stderr}`)
    assert.equal(k.stdout, '')
    assert.equal(k.stderr.trim().split('\n').length, 1, k.stderr)
    assert.equal(k.stderr.trim(), a.stderr.trim().split('\n').pop(), args.join(' '))
  }
  for (const args of [['describe'], ['bogus'], ['list', '--transactional-id', 'x']]) {
    const k = await kafkit(args)
    assert.equal(k.code, 1, args.join(' '))
    assert.match(k.stderr, /^kafka-transactions\.sh: error: /)
    const a = await apache(args)
    assert.notEqual(a.code, 0)
  }
  const d = await kafkit(['describe'])
  assert.equal(d.stderr, 'kafka-transactions.sh: error: argument --transactional-id is required\n')
})

test('kafka-console-consumer --isolation-level (and isolation.level as --consumer-property): read_committed drops aborted records and stops at the last stable offset', {skip}, async () => {
  const consume = (args: string[]) => runCommand('kafka-console-consumer', ['--bootstrap-server', broker.bootstrap, '--from-beginning', '--timeout-ms', '4000', ...args])
  const committed = await consume(['--topic', 'txca', '--isolation-level', 'read_committed'])
  assert.equal(committed.stdout, 'c0\nc1\nc2\nc3\nc4\n', committed.stderr)
  const asProperty = await consume(['--topic', 'txca', '--consumer-property', 'isolation.level=read_committed'])
  assert.equal(asProperty.stdout, 'c0\nc1\nc2\nc3\nc4\n', asProperty.stderr)
  const all = await consume(['--topic', 'txca', '--isolation-level', 'read_uncommitted'])
  assert.equal(all.stdout, 'c0\nc1\nc2\na0\na1\nc3\nc4\n', all.stderr)
  const apacheCommitted = await apacheTool('kafka-console-consumer', ['--bootstrap-server', broker.bootstrap, '--topic', 'txca', '--from-beginning', '--isolation-level', 'read_committed', '--max-messages', '5', '--timeout-ms', '20000'])
  assert.equal(apacheCommitted.stdout, committed.stdout)
  // Records before an open transaction, the transaction (left open), records after it.
  const topic = 'lso-topic'
  const before = await runCommand('kafka-console-producer', ['--bootstrap-server', broker.bootstrap, '--topic', topic], {input: 'b0\nb1\n'})
  assert.equal(before.code, 0, before.stderr)
  const open = await javaTxn(['open', broker.bootstrap, topic, 'tx-lso', '3'])
  assert.match(open.stdout, /produced/, open.stderr)
  const after = await runCommand('kafka-console-producer', ['--bootstrap-server', broker.bootstrap, '--topic', topic], {input: 'a0\na1\n'})
  assert.equal(after.code, 0, after.stderr)
  const rc = await consume(['--topic', topic, '--isolation-level', 'read_committed'])
  assert.equal(rc.stdout, 'b0\nb1\n', rc.stderr)
  const ru = await consume(['--topic', topic])
  assert.equal(ru.stdout, 'b0\nb1\nopen-0\nopen-1\nopen-2\na0\na1\n', ru.stderr)
  // Once the transaction is aborted (kafka-transactions abort), read_committed reads past it.
  const ab = await kafkit(['abort', '--topic', topic, '--partition', '0', '--start-offset', '2'])
  assert.equal(ab.code, 0, ab.stderr)
  const rc2 = await consume(['--topic', topic, '--isolation-level', 'read_committed'])
  assert.equal(rc2.stdout, 'b0\nb1\na0\na1\n', rc2.stderr)
  const bad = await consume(['--topic', topic, '--isolation-level', 'serializable'])
  assert.equal(bad.code, 1)
  assert.match(bad.stderr, /Invalid value serializable for configuration isolation\.level: String must be one of: read_committed, read_uncommitted/)
})

test('find-hanging lists a transaction no coordinator will end, as Apache\'s does; abort --start-offset clears it', {skip}, async () => {
  const t = await runCommand('kafka-topics', ['--bootstrap-server', broker.bootstrap, '--create', '--topic', 'hang'])
  assert.equal(t.code, 0, t.stderr)
  const conn = await KafkaConnection.connect('127.0.0.1', broker.port)
  try {
    const records = buildBatch({producerId: 4242, producerEpoch: 0, baseSequence: 0, isTransactional: true, records: [{key: null, value: Buffer.from('stuck')}]})
    const p = await conn.send(Apis.Produce, 9, {transactionalId: 'ghost', acks: -1, timeoutMs: 5000, topicData: [{name: 'hang', partitionData: [{index: 0, records}]}]})
    assert.equal(p.responses[0].partitionResponses[0].errorCode, 0)
  } finally {
    await conn.close()
  }
  const args = ['find-hanging', '--broker-id', '0', '--max-transaction-timeout', '0']
  let k = await kafkit(args)
  await waitFor(async () => { k = await kafkit(args); return /\nhang\s*\t0\s*\t4242\s*\t0\s*\t-1\s*\t0\s*\t\d+\s*\t0\s*\t\n/.test(k.stdout) }, 30000, 'find-hanging to list the ghost transaction')
  const a = await apache(args)
  assert.equal(a.code, 0, a.stderr)
  assert.deepEqual(cells(k.stdout, ['Duration(min)']), cells(a.stdout, ['Duration(min)']))
  const byTopic = await kafkit(['find-hanging', '--topic', 'hang', '--max-transaction-timeout', '0'])
  assert.equal(byTopic.stdout, k.stdout)
  const ab = await kafkit(['abort', '--topic', 'hang', '--partition', '0', '--start-offset', '0'])
  assert.equal(ab.code, 0, ab.stderr)
  const after = await kafkit(args)
  assert.equal(after.stdout, 'Topic\tPartition\tProducerId\tProducerEpoch\tCoordinatorEpoch\tStartOffset\tLastTimestamp\tDuration(min)\t\n')
})
