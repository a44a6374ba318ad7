// Durability: a graceful restart keeps every message and every committed offset; a kill -9
// in the middle of a produce stream loses nothing that was acknowledged (acks=all).
import {test, before, after} from 'node:test'
import assert from 'node:assert/strict'
import {Kafka, logLevel} from 'kafkajs'
import {startApacheZooKeeper, startBrokerProc, waitForStart, type ApacheZooKeeper, type BrokerProc} from './helpers.js'
import {startCommand, waitFor} from '../helpers/util.js'
import {KafkaConnection} from '../../src/core/protocol/client.js'
import {Apis} from '../../src/core/protocol/messages.js'
import {buildBatch} from '../../src/core/protocol/record-batch.js'

let zk: ApacheZooKeeper
let broker: BrokerProc

before(async () => {
  zk = await startApacheZooKeeper()
  broker = await startBrokerProc(zk.connect, ['zookeeper.session.timeout.ms=3000', 'num.partitions=2'])
})

after(async () => {
  await broker?.cleanup()
  await zk?.stop()
})

const client = () => new Kafka({clientId: 'durability', brokers: [broker.bootstrap], logLevel: logLevel.NOTHING, retry: {retries: 2, initialRetryTime: 100, maxRetryTime: 500}})

async function readAll(topic: string, expected: number): Promise<string[]> {
  const kafka = client()
  const consumer = kafka.consumer({groupId: `reader-${topic}-${Date.now()}`, maxWaitTimeInMs: 200})
  const seen: string[] = []
  await consumer.connect()
  try {
    await consumer.subscribe({topic, fromBeginning: true})
    await consumer.run({eachMessage: async ({message}) => { seen.push(message.value!.toString()) }})
    await waitFor(() => seen.length >= expected, 30000, `${expected} messages from ${topic} (got ${seen.length})`)
  } finally {
    await consumer.disconnect()
  }
  return seen
}

test('a graceful restart keeps every message and the committed offsets', {timeout: 120000}, async () => {
  const kafka = client()
  const admin = kafka.admin()
  await admin.connect()
  await admin.createTopics({topics: [{topic: 'keep', numPartitions: 2}], waitForLeaders: true})
  const producer = kafka.producer()
  await producer.connect()
  const values = Array.from({length: 2000}, (_, i) => `keep-${i}`)
  for (let i = 0; i < values.length; i += 250) await producer.send({topic: 'keep', acks: -1, messages: values.slice(i, i + 250).map(v => ({key: v, value: v}))})
  await producer.disconnect()
  await admin.setOffsets({groupId: 'kept-group', topic: 'keep', partitions: [{partition: 0, offset: '7'}, {partition: 1, offset: '11'}]})
  await admin.disconnect()

  await broker.restart()
  assert.match(broker.proc.output, /started \(kafka\.server\.KafkaServer\)/)

  const admin2 = client().admin()
  await admin2.connect()
  try {
    const offsets = await admin2.fetchTopicOffsets('keep')
    assert.equal(offsets.reduce((n, o) => n + Number(o.high), 0), 2000)
    const committed = await admin2.fetchOffsets({groupId: 'kept-group', topics: ['keep']})
    assert.deepEqual(committed[0].partitions.map(p => [p.partition, p.offset]).sort(), [[0, '7'], [1, '11']])
  } finally {
    await admin2.disconnect()
  }
  const seen = await readAll('keep', 2000)
  assert.deepEqual([...seen].sort(), [...values].sort())
})

test('kill -9 during a produce stream: every acknowledged message is there after restart', {timeout: 120000}, async () => {
  const kafka = client()
  const admin = kafka.admin()
  await admin.connect()
  await admin.createTopics({topics: [{topic: 'crash', numPartitions: 1}], waitForLeaders: true})
  await admin.disconnect()
  const producer = kafka.producer({retry: {retries: 0}})
  await producer.connect()
  const acked: string[] = []
  let n = 0
  let stop = false
  const stream = (async () => {
    while (!stop) {
      const batch = Array.from({length: 50}, () => `crash-${n++}`)
      try {
        await producer.send({topic: 'crash', acks: -1, messages: batch.map(v => ({value: v}))})
        acked.push(...batch)
      } catch {
        return
      }
    }
  })()
  await waitFor(() => acked.length >= 1000, 30000, '1000 acknowledged messages')
  broker.proc.child.kill('SIGKILL')
  await broker.proc.exited
  stop = true
  await stream
  await producer.disconnect().catch(() => {})
  const before = acked.length
  // Restart on the same port and log dir (the old ZooKeeper session must expire first).
  broker.proc = startCommand('kafka-server-start', [broker.configFile, '--override', `listeners=PLAINTEXT://127.0.0.1:${broker.port}`, '--override', 'zookeeper.session.timeout.ms=3000', '--override', 'num.partitions=2'])
  await waitForStart(broker.proc, 60000)
  const seen = new Set(await readAll('crash', before))
  const missing = acked.filter(v => !seen.has(v))
  assert.deepEqual(missing, [], `${missing.length} of ${before} acknowledged messages lost`)
})

test('idempotent-producer state is rebuilt from the log after a restart', {timeout: 60000}, async () => {
  const connect = () => KafkaConnection.connect('127.0.0.1', broker.port, {clientId: 'idem-restart', timeoutMs: 15000})
  let conn = await connect()
  const batch = (seq: number, v: string) => buildBatch({records: [{key: null, value: Buffer.from(v)}], producerId: pid, producerEpoch: 0, baseSequence: seq})
  const produce = async (records: Buffer) => (await conn.send(Apis.Produce, 9, {acks: -1, timeoutMs: 5000, topicData: [{name: 'idem', partitionData: [{index: 0, records}]}]})).responses[0].partitionResponses[0]
  assert.equal((await conn.send(Apis.CreateTopics, 4, {topics: [{name: 'idem', numPartitions: 1, replicationFactor: 1, assignments: [], configs: []}], timeoutMs: 10000})).topics[0].errorCode, 0)
  const pid = (await conn.send(Apis.InitProducerId, 4, {transactionalId: null, transactionTimeoutMs: 60000})).producerId
  assert.equal((await produce(batch(0, 'a'))).baseOffset, 0)
  assert.equal((await produce(batch(1, 'b'))).baseOffset, 1)
  await conn.close()
  await broker.restart()
  conn = await connect()
  try {
    const dup = await produce(batch(1, 'b'))
    assert.equal(dup.errorCode, 0)
    assert.equal(dup.baseOffset, 1, 'the retried batch keeps its first offset')
    assert.equal((await produce(batch(5, 'gap'))).errorCode, 45, 'a gap is still detected after the restart')
    const next = await produce(batch(2, 'c'))
    assert.equal(next.errorCode, 0)
    assert.equal(next.baseOffset, 2)
  } finally {
    await conn.close()
  }
})
