// The vertical slice with real clients: kcat (librdkafka) metadata / produce / consume,
// kafkajs admin + producer + consumer group with committed offsets.
import {test, before, after} from 'node:test'
import assert from 'node:assert/strict'
import {Kafka, logLevel} from 'kafkajs'
import {startApacheZooKeeper, startBrokerProc, exec, KCAT, type ApacheZooKeeper, type BrokerProc} from './helpers.js'
import {waitFor} from '../helpers/util.js'

let zk: ApacheZooKeeper
let broker: BrokerProc

before(async () => {
  zk = await startApacheZooKeeper()
  broker = await startBrokerProc(zk.connect)
})

after(async () => {
  await broker?.cleanup()
  await zk?.stop()
})

test('kcat -L lists the broker and auto-created topics; -P then -C round trip', async () => {
  const lines = Array.from({length: 500}, (_, i) => `line-${i}`)
  const produced = await exec(KCAT, ['-b', broker.bootstrap, '-P', '-t', 'kcat-topic'], {input: lines.join('\n') + '\n', timeoutMs: 30000})
  assert.equal(produced.code, 0, produced.stderr)
  const meta = await exec(KCAT, ['-b', broker.bootstrap, '-L'], {timeoutMs: 20000})
  assert.equal(meta.code, 0, meta.stderr)
  assert.match(meta.stdout, /1 brokers:\s+broker 0 at 127\.0\.0\.1:\d+ \(controller\)/)
  assert.match(meta.stdout, /topic "kcat-topic" with 1 partitions:\s+partition 0, leader 0, replicas: 0, isrs: 0/)
  const consumed = await exec(KCAT, ['-b', broker.bootstrap, '-C', '-t', 'kcat-topic', '-o', 'beginning', '-e', '-q'], {timeoutMs: 30000})
  assert.equal(consumed.code, 0, consumed.stderr)
  assert.deepEqual(consumed.stdout.trim().split('\n'), lines)
  // Offsets: -o -10 reads the last ten; end-of-partition offsets are right.
  const tail = await exec(KCAT, ['-b', broker.bootstrap, '-C', '-t', 'kcat-topic', '-o', '-10', '-e', '-q', '-f', '%o %s\\n'], {timeoutMs: 30000})
  assert.deepEqual(tail.stdout.trim().split('\n'), lines.slice(-10).map((l, i) => `${490 + i} ${l}`))
})

test('kafkajs: admin creates a topic, producer sends keyed messages, a group consumes and commits', async () => {
  const kafka = new Kafka({clientId: 'test-app', brokers: [broker.bootstrap], logLevel: logLevel.NOTHING, retry: {retries: 3}})
  const admin = kafka.admin()
  await admin.connect()
  try {
    assert.equal(await admin.createTopics({topics: [{topic: 'js-topic', numPartitions: 3}], waitForLeaders: true}), true)
    assert.ok((await admin.listTopics()).includes('js-topic'))
    const producer = kafka.producer()
    await producer.connect()
    const messages = Array.from({length: 300}, (_, i) => ({key: `k${i % 7}`, value: `v${i}`}))
    for (let i = 0; i < messages.length; i += 100) {
      const res = await producer.send({topic: 'js-topic', messages: messages.slice(i, i + 100)})
      assert.ok(res.every(r => r.errorCode === 0))
    }
    await producer.disconnect()
    const offsets = await admin.fetchTopicOffsets('js-topic')
    assert.equal(offsets.reduce((n, o) => n + Number(o.high), 0), 300)

    const consumer = kafka.consumer({groupId: 'js-group', sessionTimeout: 10000, heartbeatInterval: 500})
    await consumer.connect()
    await consumer.subscribe({topic: 'js-topic', fromBeginning: true})
    const seen: string[] = []
    await consumer.run({eachMessage: async ({message}) => { seen.push(message.value!.toString()) }})
    await waitFor(() => seen.length >= 300, 30000, `300 messages (got ${seen.length})`)
    assert.deepEqual([...seen].sort(), messages.map(m => m.value).sort())
    await consumer.commitOffsets([]).catch(() => {})
    await consumer.disconnect()
    const committed = await admin.fetchOffsets({groupId: 'js-group', topics: ['js-topic']})
    const total = committed[0].partitions.reduce((n, p) => n + Number(p.offset), 0)
    assert.equal(total, 300)
    const groups = await admin.listGroups()
    assert.ok(groups.groups.some(g => g.groupId === 'js-group' && g.protocolType === 'consumer'))
    const described = await admin.describeGroups(['js-group'])
    assert.equal(described.groups[0].state, 'Empty')
  } finally {
    await admin.disconnect()
  }
})
