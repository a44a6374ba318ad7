// Two kafkit brokers on one ZooKeeper: partitions are spread over both, Metadata lists both,
// each broker serves only the partitions it leads, clients follow leadership and the group
// coordinator may live on either broker.
import {test, before, after} from 'node:test'
import assert from 'node:assert/strict'
import {Kafka, logLevel} from 'kafkajs'
import {startApacheZooKeeper, startBrokerProc, exec, KCAT, type ApacheZooKeeper, type BrokerProc} from './helpers.js'
import {waitFor} from '../helpers/util.js'

let zk: ApacheZooKeeper
const brokers: BrokerProc[] = []

before(async () => {
  zk = await startApacheZooKeeper()
  brokers.push(await startBrokerProc(zk.connect, ['broker.id=1']))
  brokers.push(await startBrokerProc(zk.connect, ['broker.id=2']))
})

after(async () => {
  for (const b of brokers) await b.cleanup()
  await zk?.stop()
})

test('a topic spread over two brokers is produced and consumed through both', {timeout: 90000}, async () => {
  const kafka = new Kafka({clientId: 'multi', brokers: [brokers[0].bootstrap], logLevel: logLevel.NOTHING})
  const admin = kafka.admin()
  await admin.connect()
  try {
    await waitFor(async () => (await admin.describeCluster()).brokers.length === 2, 10000, 'both brokers registered')
    await admin.createTopics({topics: [{topic: 'spread', numPartitions: 4, replicationFactor: 1}], waitForLeaders: true})
    const meta = await admin.fetchTopicMetadata({topics: ['spread']})
    const leaders = new Set(meta.topics[0].partitions.map(p => p.leader))
    assert.deepEqual([...leaders].sort(), [1, 2])
    const producer = kafka.producer()
    await producer.connect()
    const values = Array.from({length: 400}, (_, i) => `s${i}`)
    await producer.send({topic: 'spread', acks: -1, messages: values.map(v => ({key: v, value: v}))})
    await producer.disconnect()
    const offsets = await admin.fetchTopicOffsets('spread')
    assert.equal(offsets.reduce((n, o) => n + Number(o.high), 0), 400)
    const consumer = kafka.consumer({groupId: 'spread-group', maxWaitTimeInMs: 200})
    const seen: string[] = []
    await consumer.connect()
    await consumer.subscribe({topic: 'spread', fromBeginning: true})
    await consumer.run({eachMessage: async ({message}) => { seen.push(message.value!.toString()) }})
    await waitFor(() => seen.length >= 400, 30000, `400 messages (got ${seen.length})`)
    await consumer.disconnect()
    assert.deepEqual([...seen].sort(), [...values].sort())
    const committed = await admin.fetchOffsets({groupId: 'spread-group', topics: ['spread']})
    assert.equal(committed[0].partitions.reduce((n, p) => n + Number(p.offset), 0), 400)
  } finally {
    await admin.disconnect()
  }
  // librdkafka sees both brokers and reads every partition through its leader.
  const l = await exec(KCAT, ['-b', brokers[1].bootstrap, '-L', '-t', 'spread'])
  assert.match(l.stdout, /2 brokers:/)
  const c = await exec(KCAT, ['-b', brokers[1].bootstrap, '-C', '-t', 'spread', '-o', 'beginning', '-e', '-q'], {timeoutMs: 30000})
  assert.equal(c.stdout.trim().split('\n').length, 400)
})
