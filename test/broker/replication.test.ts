// Replication across three kafkit brokers: followers fetch from the leader, the ISR holds
// all three, acks=all waits for the followers; kill -9 the leader: a new leader is elected
// from the ISR, clients carry on, and nothing acknowledged with acks=all is lost; the killed
// broker comes back as a follower and rejoins the ISR.
import {test, before, after} from 'node:test'
import assert from 'node:assert/strict'
import {Kafka, logLevel} from 'kafkajs'
import {spawn} from 'node:child_process'
import {join} from 'node:path'
import {startApacheZooKeeper, startBrokerProc, waitForStart, pyDir, PYTHON, type ApacheZooKeeper, type BrokerProc} from './helpers.js'
import {startCommand, waitFor} from '../helpers/util.js'
import {KafkaConnection} from '../../src/core/protocol/client.js'
import {Apis} from '../../src/core/protocol/messages.js'

let zk: ApacheZooKeeper
const brokers: BrokerProc[] = []
const overrides = (id: number) => [`broker.id=${id}`, 'zookeeper.session.timeout.ms=3000', 'replica.lag.time.max.ms=5000', 'default.replication.factor=3', 'offsets.topic.replication.factor=2', 'min.insync.replicas=2']

before(async () => {
  zk = await startApacheZooKeeper()
  for (const id of [1, 2, 3]) brokers.push(await startBrokerProc(zk.connect, overrides(id)))
})

after(async () => {
  for (const b of brokers) await b.cleanup()
  await zk?.stop()
})

test('RF=3: ISR of three, acks=all, leader killed, no acknowledged message lost, ISR grows back', {timeout: 150000}, async () => {
  const kafka = new Kafka({clientId: 'repl', brokers: brokers.map(b => b.bootstrap), logLevel: logLevel.NOTHING, retry: {retries: 10, initialRetryTime: 200, maxRetryTime: 2000}})
  const admin = kafka.admin()
  await admin.connect()
  const isrOf = async () => (await admin.fetchTopicMetadata({topics: ['replicated']})).topics[0].partitions[0]
  try {
    await waitFor(async () => (await admin.describeCluster()).brokers.length === 3, 15000, 'three brokers')
    await admin.createTopics({topics: [{topic: 'replicated', numPartitions: 1, replicationFactor: 3}], waitForLeaders: true})
    const p0 = await isrOf()
    assert.deepEqual([...p0.replicas].sort(), [1, 2, 3])
    const producer = kafka.producer()
    await producer.connect()
    const acked: string[] = []
    for (let i = 0; i < 10; i++) {
      const batch = Array.from({length: 50}, (_, j) => `r${i * 50 + j}`)
      await producer.send({topic: 'replicated', acks: -1, messages: batch.map(v => ({value: v}))})
      acked.push(...batch)
    }
    assert.deepEqual([...(await isrOf()).isr].sort(), [1, 2, 3], 'all three in sync')
    // Followers have the data: each broker's log end reaches 500 (the leader's HW needs them).
    const offsets = await admin.fetchTopicOffsets('replicated')
    assert.equal(offsets[0].high, '500')

    const leaderId = (await isrOf()).leader
    const victim = brokers.find(b => b.proc.output.includes(`[KafkaServer id=${leaderId}]`))!
    victim.proc.child.kill('SIGKILL')
    await victim.proc.exited
    await waitFor(async () => {
      const p = await isrOf().catch(() => undefined)
      return p && p.leader !== leaderId && p.leader >= 0
    }, 30000, 'a new leader')
    for (let i = 10; i < 16; i++) {
      const batch = Array.from({length: 50}, (_, j) => `r${i * 50 + j}`)
      await producer.send({topic: 'replicated', acks: -1, messages: batch.map(v => ({value: v}))})
      acked.push(...batch)
    }
    await producer.disconnect()

    const consumer = kafka.consumer({groupId: 'repl-reader', maxWaitTimeInMs: 200})
    const seen = new Set<string>()
    await consumer.connect()
    await consumer.subscribe({topic: 'replicated', fromBeginning: true})
    await consumer.run({eachMessage: async ({message}) => { seen.add(message.value!.toString()) }})
    await waitFor(() => seen.size >= acked.length, 40000, `${acked.length} messages (got ${seen.size})`)
    await consumer.disconnect()
    assert.deepEqual(acked.filter(v => !seen.has(v)), [])

    // The killed broker restarts, catches up as a follower and rejoins the ISR.
    victim.proc = startCommand('kafka-server-start', [victim.configFile, '--override', `listeners=PLAINTEXT://127.0.0.1:${victim.port}`, ...overrides(leaderId).flatMap(o => ['--override', o])])
    await waitForStart(victim.proc, 60000)
    await waitFor(async () => (await isrOf()).isr.length === 3, 40000, 'the ISR grows back to three')
    // Preferred leader election (ElectLeaders to the controller) moves leadership back to the first replica.
    const controller = (await admin.describeCluster()).controller!
    const ctl = brokers.find(b => b.proc.output.includes(`[KafkaServer id=${controller}]`))!
    const conn = await KafkaConnection.connect('127.0.0.1', ctl.port, {clientId: 'elect'})
    try {
      const r = await conn.send(Apis.ElectLeaders, 1, {electionType: 0, topicPartitions: [{topic: 'replicated', partitions: [0]}], timeoutMs: 10000})
      assert.equal(r.errorCode, 0)
      assert.ok([0, 84].includes(r.replicaElectionResults[0].partitionResult[0].errorCode), JSON.stringify(r))
    } finally {
      await conn.close()
    }
    await waitFor(async () => {
      const p = await isrOf()
      return p.leader === p.replicas[0]
    }, 20000, 'the preferred replica leads again')
  } catch (error) {
    for (const b of brokers) console.error(`---- broker on ${b.port}\n${b.proc.output.split('\n').slice(-30).join('\n')}`)
    throw error
  } finally {
    await admin.disconnect()
  }
})

test('librdkafka idempotent producer across a leader kill: nothing acknowledged is lost, nothing duplicated', {timeout: 150000}, async () => {
  const kafka = new Kafka({clientId: 'repl2', brokers: brokers.map(b => b.bootstrap), logLevel: logLevel.NOTHING})
  const admin = kafka.admin()
  await admin.connect()
  let leaderId = -1
  try {
    await waitFor(async () => (await admin.describeCluster()).brokers.length === 3, 30000, 'three brokers')
    await admin.createTopics({topics: [{topic: 'failover', numPartitions: 1, replicationFactor: 3}], waitForLeaders: true})
    await waitFor(async () => (await admin.fetchTopicMetadata({topics: ['failover']})).topics[0].partitions[0].isr.length === 3, 20000, 'ISR of three')
    leaderId = (await admin.fetchTopicMetadata({topics: ['failover']})).topics[0].partitions[0].leader
  } finally {
    await admin.disconnect()
  }
  const child = spawn(PYTHON, [join(pyDir, 'confluent_failover.py'), brokers.map(b => b.bootstrap).join(','), 'failover', '8000'], {stdio: ['ignore', 'pipe', 'pipe']})
  let out = ''
  let err = ''
  child.stdout.on('data', d => { out += d })
  child.stderr.on('data', d => { err += d })
  const exited = new Promise<number | null>(r => child.on('exit', r))
  await waitFor(() => out.includes('acked 500'), 30000, 'the first 500 records acknowledged before the kill')
  const victim = brokers.find(b => b.proc.output.includes(`[KafkaServer id=${leaderId}]`))!
  victim.proc.child.kill('SIGKILL')
  const code = await exited
  assert.equal(code, 0, err.slice(-2000))
  const s = JSON.parse(out.trim().split('\n').pop()!)
  assert.ok(s.delivered > 0)
  assert.equal(s.missing, 0, `acknowledged but not read back: ${JSON.stringify(s)}`)
  assert.equal(s.duplicates, 0, `duplicates: ${JSON.stringify(s)}`)
  assert.equal(s.delivered, 8000, `every record delivered after fail-over: ${JSON.stringify(s)}`)
})
