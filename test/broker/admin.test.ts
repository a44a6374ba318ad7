// Admin APIs through kafkajs and kafkit's protocol client: DescribeConfigs (topic and broker,
// sources, synonyms), AlterConfigs, IncrementalAlterConfigs, CreatePartitions, DeleteRecords,
// DeleteTopics, DescribeCluster, Metadata auto-creation rules.
import {test, before, after} from 'node:test'
import assert from 'node:assert/strict'
import {Kafka, logLevel} from 'kafkajs'

// kafkajs's ConfigResourceTypes (a CommonJS export ESM cannot import by name).
const ConfigResourceTypes = {TOPIC: 2, BROKER: 4} as const
import {KafkaConnection} from '../../src/core/protocol/client.js'
import {Apis} from '../../src/core/protocol/messages.js'
import {startApacheZooKeeper, startBrokerProc, type ApacheZooKeeper, type BrokerProc} from './helpers.js'
import {waitFor} from '../helpers/util.js'

let zk: ApacheZooKeeper
let broker: BrokerProc
let kafka: Kafka

before(async () => {
  zk = await startApacheZooKeeper()
  broker = await startBrokerProc(zk.connect, ['log.retention.hours=100', 'auto.create.topics.enable=false'])
  kafka = new Kafka({clientId: 'admin-test', brokers: [broker.bootstrap], logLevel: logLevel.NOTHING})
})

after(async () => {
  await broker?.cleanup()
  await zk?.stop()
})

test('configs: describe shows sources, alter replaces, incremental alter edits', async () => {
  const admin = kafka.admin()
  await admin.connect()
  try {
    await admin.createTopics({topics: [{topic: 'cfg', numPartitions: 1, configEntries: [{name: 'retention.ms', value: '12345'}]}]})
    const d = await admin.describeConfigs({includeSynonyms: true, resources: [{type: ConfigResourceTypes.TOPIC, name: 'cfg'}]})
    const entries = new Map(d.resources[0].configEntries.map(e => [e.configName, e]))
    assert.equal(entries.get('retention.ms')!.configValue, '12345')
    assert.equal(entries.get('retention.ms')!.isDefault, false)
    assert.equal(entries.get('segment.bytes')!.isDefault, true)
    assert.equal(entries.get('cleanup.policy')!.configValue, 'delete')
    assert.ok(entries.get('retention.ms')!.configSynonyms.some(s => s.configName === 'log.retention.ms' || s.configName === 'retention.ms'))

    await admin.alterConfigs({validateOnly: false, resources: [{type: ConfigResourceTypes.TOPIC, name: 'cfg', configEntries: [{name: 'segment.ms', value: '600000'}]}]})
    const d2 = await admin.describeConfigs({includeSynonyms: false, resources: [{type: ConfigResourceTypes.TOPIC, name: 'cfg', configNames: ['retention.ms', 'segment.ms']}]})
    const e2 = new Map(d2.resources[0].configEntries.map(e => [e.configName, e.configValue]))
    assert.equal(e2.get('segment.ms'), '600000')
    assert.equal(e2.get('retention.ms'), String(100 * 3600000), 'AlterConfigs replaced the whole set: back to the broker default')

    const bad = await admin.alterConfigs({validateOnly: false, resources: [{type: ConfigResourceTypes.TOPIC, name: 'cfg', configEntries: [{name: 'no.such.config', value: '1'}]}]}).then(() => null, e => e)
    assert.ok(bad, 'an unknown config is refused')

    const broker0 = await admin.describeConfigs({includeSynonyms: false, resources: [{type: ConfigResourceTypes.BROKER, name: '0'}]})
    const be = new Map(broker0.resources[0].configEntries.map(e => [e.configName, e]))
    assert.equal(be.get('log.retention.hours')!.configValue, '100')
    assert.equal(be.get('zookeeper.connect')!.configValue, zk.connect)
  } finally {
    await admin.disconnect()
  }
  const conn = await KafkaConnection.connect('127.0.0.1', broker.port, {clientId: 'incremental'})
  try {
    const r = await conn.send(Apis.IncrementalAlterConfigs, 1, {validateOnly: false, resources: [{resourceType: 2, resourceName: 'cfg', configs: [
      {name: 'retention.ms', configOperation: 0, value: '999'},
      {name: 'segment.ms', configOperation: 1, value: null},
      {name: 'cleanup.policy', configOperation: 2, value: 'compact'},
    ]}]})
    assert.equal(r.responses[0].errorCode, 0, r.responses[0].errorMessage ?? '')
    const d = await conn.send(Apis.DescribeConfigs, 4, {resources: [{resourceType: 2, resourceName: 'cfg', configurationKeys: ['retention.ms', 'segment.ms', 'cleanup.policy']}], includeSynonyms: false, includeDocumentation: false})
    const m = new Map(d.results[0].configs.map(c => [c.name, c]))
    assert.equal(m.get('retention.ms')!.value, '999')
    assert.equal(m.get('retention.ms')!.configSource, 1)
    assert.equal(m.get('segment.ms')!.value, '604800000')
    assert.equal(m.get('segment.ms')!.configSource, 5)
    assert.equal(m.get('cleanup.policy')!.value, 'delete,compact')
  } finally {
    await conn.close()
  }
})

test('partitions, records deletion, topic deletion, cluster description', async () => {
  const admin = kafka.admin()
  await admin.connect()
  try {
    await admin.createTopics({topics: [{topic: 'grow', numPartitions: 1}], waitForLeaders: true})
    await admin.createPartitions({topicPartitions: [{topic: 'grow', count: 3}]})
    const meta = await admin.fetchTopicMetadata({topics: ['grow']})
    assert.equal(meta.topics[0].partitions.length, 3)
    const producer = kafka.producer()
    await producer.connect()
    await producer.send({topic: 'grow', messages: Array.from({length: 10}, (_, i) => ({value: `r${i}`, partition: 2}))})
    await producer.disconnect()
    await admin.deleteTopicRecords({topic: 'grow', partitions: [{partition: 2, offset: '6'}]})
    const offsets = await admin.fetchTopicOffsets('grow')
    const p2 = offsets.find(o => o.partition === 2)!
    assert.equal(p2.low, '6')
    assert.equal(p2.high, '10')
    const cluster = await admin.describeCluster()
    assert.equal(cluster.brokers.length, 1)
    assert.equal(cluster.controller, 0)
    assert.ok(cluster.clusterId.length > 0)
    await admin.deleteTopics({topics: ['grow'], timeout: 10000})
    await waitFor(async () => !(await admin.listTopics()).includes('grow'), 10000, 'grow deleted')
  } finally {
    await admin.disconnect()
  }
})

test('Metadata does not create topics when auto.create.topics.enable=false; invalid names are refused', async () => {
  const conn = await KafkaConnection.connect('127.0.0.1', broker.port, {clientId: 'meta'})
  try {
    const r = await conn.send(Apis.Metadata, 9, {topics: [{name: 'nope'}, {name: 'bad name!'}], allowAutoTopicCreation: true, includeTopicAuthorizedOperations: true})
    assert.deepEqual(r.topics.map(t => [t.name, t.errorCode]), [['nope', 3], ['bad name!', 17]])
    assert.equal(r.controllerId, 0)
    const all = await conn.send(Apis.Metadata, 1, {topics: null})
    assert.ok(all.topics.every(t => t.name !== 'nope'))
    const dup = await conn.send(Apis.CreateTopics, 5, {topics: [{name: 'twice', numPartitions: 1, replicationFactor: 1, assignments: [], configs: []}, {name: 'twice', numPartitions: 1, replicationFactor: 1, assignments: [], configs: []}], timeoutMs: 5000})
    assert.deepEqual(dup.topics.map(t => t.errorCode), [42, 42])
    const exists = await conn.send(Apis.CreateTopics, 5, {topics: [{name: 'cfg', numPartitions: 1, replicationFactor: 1, assignments: [], configs: []}], timeoutMs: 5000})
    assert.equal(exists.topics[0].errorCode, 36)
  } finally {
    await conn.close()
  }
})

test('OffsetDelete removes committed offsets of an empty group', async () => {
  const admin = kafka.admin()
  await admin.connect()
  const conn = await KafkaConnection.connect('127.0.0.1', broker.port, {clientId: 'offset-delete'})
  try {
    await admin.createTopics({topics: [{topic: 'od-topic', numPartitions: 2}], waitForLeaders: true})
    await admin.setOffsets({groupId: 'od-group', topic: 'od-topic', partitions: [{partition: 0, offset: '3'}, {partition: 1, offset: '4'}]})
    const r = await conn.send(Apis.OffsetDelete, 0, {groupId: 'od-group', topics: [{name: 'od-topic', partitions: [{partitionIndex: 0}]}]})
    assert.equal(r.errorCode, 0)
    assert.equal(r.topics[0].partitions[0].errorCode, 0)
    const left = await admin.fetchOffsets({groupId: 'od-group', topics: ['od-topic']})
    assert.deepEqual(left[0].partitions.map(p => [p.partition, p.offset]).sort(), [[0, '-1'], [1, '4']])
    const missing = await conn.send(Apis.OffsetDelete, 0, {groupId: 'no-such-group', topics: [{name: 'od-topic', partitions: [{partitionIndex: 0}]}]})
    assert.equal(missing.errorCode, 69, 'GROUP_ID_NOT_FOUND')
  } finally {
    await conn.close()
    await admin.disconnect()
  }
})

test('DescribeLogDirs lists partitions with their sizes', async () => {
  const admin = kafka.admin()
  await admin.connect()
  const conn = await KafkaConnection.connect('127.0.0.1', broker.port, {clientId: 'log-dirs'})
  try {
    await admin.createTopics({topics: [{topic: 'sized', numPartitions: 1}], waitForLeaders: true})
    const producer = kafka.producer()
    await producer.connect()
    await producer.send({topic: 'sized', messages: [{value: 'x'.repeat(5000)}]})
    await producer.disconnect()
    const r = await conn.send(Apis.DescribeLogDirs, 4, {topics: [{topic: 'sized', partitions: [0]}]})
    assert.equal(r.results.length, 1)
    assert.equal(r.results[0].errorCode, 0)
    const part = r.results[0].topics.find(t => t.name === 'sized')!.partitions[0]
    assert.ok(part.partitionSize > 5000, `size ${part.partitionSize}`)
    assert.ok(r.results[0].totalBytes > 0 && r.results[0].usableBytes > 0)
  } finally {
    await conn.close()
    await admin.disconnect()
  }
})
