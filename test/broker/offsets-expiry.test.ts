// offsets.retention.minutes: committed offsets of an Empty group expire after the retention
// period (tombstones in __consumer_offsets, kept across a restart); younger ones stay. The
// clock is passed to expireOffsets, so the test needs no waiting.
import {test} from 'node:test'
import assert from 'node:assert/strict'
import {join} from 'node:path'
import {Kafka, logLevel} from 'kafkajs'
import {startApacheZooKeeper} from './helpers.js'
import {freePort, tempDir, removeDir} from '../helpers/util.js'
import {startBroker} from '../../src/core/broker/index.js'

test('offsets of an empty group expire after offsets.retention.minutes and stay expired after a restart', {timeout: 120000}, async () => {
  const zk = await startApacheZooKeeper()
  const dir = tempDir()
  const port = await freePort()
  const props = {
    'broker.id': 0, listeners: `PLAINTEXT://127.0.0.1:${port}`, 'log.dirs': join(dir, 'logs'), 'zookeeper.connect': zk.connect,
    'offsets.topic.replication.factor': 1, 'offsets.topic.num.partitions': 3, 'group.initial.rebalance.delay.ms': 0,
    'offsets.retention.minutes': 60, 'offsets.retention.check.interval.ms': 3600000,
  }
  let broker = await startBroker(props)
  const kafka = new Kafka({clientId: 'expiry-test', brokers: [`127.0.0.1:${port}`], logLevel: logLevel.NOTHING})
  try {
    const admin = kafka.admin()
    await admin.connect()
    await admin.createTopics({topics: [{topic: 'exp-topic', numPartitions: 2}], waitForLeaders: true})
    await admin.setOffsets({groupId: 'idle-group', topic: 'exp-topic', partitions: [{partition: 0, offset: '5'}, {partition: 1, offset: '7'}]})
    const committed = async () => (await admin.fetchOffsets({groupId: 'idle-group', topics: ['exp-topic']}))[0].partitions.map(p => p.offset).sort()
    assert.deepEqual(await committed(), ['5', '7'])
    const now = Date.now()
    assert.equal(broker.groups.expireOffsets(now + 59 * 60000), 0, 'younger than the retention: kept')
    assert.deepEqual(await committed(), ['5', '7'])
    assert.equal(broker.groups.expireOffsets(now + 61 * 60000), 2, 'older than the retention: expired')
    assert.deepEqual(await committed(), ['-1', '-1'])
    assert.ok(!(await admin.listGroups()).groups.some(g => g.groupId === 'idle-group'), 'the empty group without offsets is gone')
    await admin.disconnect()

    await broker.stop()
    broker = await startBroker(props)
    const admin2 = kafka.admin()
    await admin2.connect()
    const after = (await admin2.fetchOffsets({groupId: 'idle-group', topics: ['exp-topic']}))[0].partitions.map(p => p.offset)
    assert.deepEqual(after, ['-1', '-1'], 'tombstones replayed on load')
    await admin2.disconnect()
  } finally {
    await broker.stop()
    await zk.stop()
    removeDir(dir)
  }
})
