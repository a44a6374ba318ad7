// startCluster, the programmatic test API, used as a Node test suite would use it: imported
// from the package, a 3-broker cluster, kafkajs producing with acks=all to a replicated
// topic and consuming in a group, a broker stopped and started again.
import {test} from 'node:test'
import assert from 'node:assert/strict'
import {existsSync} from 'node:fs'
import {Kafka, logLevel} from 'kafkajs'
import {startCluster} from 'kafkit'

async function until<T>(fn: () => Promise<T | undefined>, ms: number, what: string): Promise<T> {
  const deadline = Date.now() + ms
  for (;;) {
    const v = await fn().catch(() => undefined)
    if (v !== undefined) return v
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`)
    await new Promise(r => setTimeout(r, 50))
  }
}

test('startCluster({brokers: 3}): replicated topic, acks=all, a group consumer, a broker stopped and back', async () => {
  const cluster = await startCluster({brokers: 3})
  const dir = (cluster.brokers[0]!.config as unknown as {logDirs: string[]}).logDirs[0]
  const kafka = new Kafka({clientId: 'api-test', brokers: cluster.bootstrapServers, logLevel: logLevel.NOTHING, retry: {retries: 10, initialRetryTime: 100}})
  const admin = kafka.admin()
  const producer = kafka.producer({idempotent: true, maxInFlightRequests: 1})
  const consumer = kafka.consumer({groupId: 'g1', sessionTimeout: 10000, heartbeatInterval: 500})
  try {
    assert.equal(cluster.bootstrapServers.length, 3)
    assert.match(cluster.zookeeperConnect, /^127\.0\.0\.1:\d+$/)
    await admin.connect()
    assert.equal(await admin.createTopics({topics: [{topic: 't', numPartitions: 3, replicationFactor: 3}], waitForLeaders: true}), true)
    const meta = await admin.fetchTopicMetadata({topics: ['t']})
    for (const p of meta.topics[0].partitions) assert.equal(p.isr.length, 3, `partition ${p.partitionId} has all three replicas in sync`)
    await producer.connect()
    for (let i = 0; i < 50; i++) await producer.send({topic: 't', acks: -1, messages: [{key: `k${i}`, value: `v${i}`}]})
    const seen = new Set<string>()
    await consumer.connect()
    await consumer.subscribe({topic: 't', fromBeginning: true})
    await consumer.run({eachMessage: async ({message}) => { seen.add(String(message.value)) }})
    await until(async () => seen.size === 50 ? true : undefined, 30000, 'the first 50 messages consumed')

    // Stop the leader of partition 0: producer and consumer carry on through the others.
    const leader = meta.topics[0].partitions.find(p => p.partitionId === 0)!.leader
    await cluster.stopBroker(leader)
    assert.equal(cluster.brokers[leader], null)
    for (let i = 50; i < 100; i++) await producer.send({topic: 't', acks: -1, messages: [{key: `k${i}`, value: `v${i}`}]})
    await until(async () => seen.size === 100 ? true : undefined, 30000, 'all 100 messages consumed')

    // The stopped broker comes back on its port and rejoins every ISR.
    await cluster.startBroker(leader)
    await until(async () => {
      const m = await admin.fetchTopicMetadata({topics: ['t']})
      return m.topics[0].partitions.every(p => p.isr.length === 3) ? true : undefined
    }, 30000, 'the ISR to grow back to 3')
  } finally {
    await consumer.disconnect().catch(() => {})
    await producer.disconnect().catch(() => {})
    await admin.disconnect().catch(() => {})
    await cluster.stop()
  }
  assert.equal(existsSync(dir), false, 'stop() removes the temporary directory')
})

test('startCluster: bad options get a clear error', async () => {
  await assert.rejects(startCluster({brokers: 0}), /brokers must be a positive integer/)
})
