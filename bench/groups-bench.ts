// `npm run bench:groups`: the group coordinator of kafkit's broker beside Apache Kafka 3.9's
// (when installed): how long 10 kafkajs members take to form a Stable group over 10
// partitions, how long the rebalance takes when one leaves, and how many offset commits per
// second one pipelined connection gets acknowledged (OffsetCommit, 64 in flight, 5 s).
// Not a test: it prints figures and ratios.
import kafkajs from 'kafkajs'
import {tempDir, removeDir, waitFor} from '../test/helpers/util.js'
import {KafkaConnection} from '../src/core/protocol/client.js'
import {Apis} from '../src/core/protocol/messages.js'
import {GroupAdmin} from '../src/core/client/groups.js'
import {apacheInstalled, printTable, startApacheBroker, startKafkitBroker, startZooKeeper, type Started} from './servers.js'

const {Kafka, logLevel} = kafkajs
const MEMBERS = Number(process.env.BENCH_MEMBERS ?? 10)
const COMMIT_SECONDS = Number(process.env.BENCH_COMMIT_SECONDS ?? 5)

interface Figures {joinMs: number; leaveRebalanceMs: number; commitsPerSec: number}

async function stableWith(admin: GroupAdmin, group: string, members: number): Promise<void> {
  await waitFor(async () => {
    const d = await admin.describeGroup(group)
    return d.state === 'Stable' && d.members.length === members
  }, 120000, `group ${group} Stable with ${members} members`, 10)
}

async function measure(broker: Started): Promise<Figures> {
  const boot = `127.0.0.1:${broker.port}`
  const kafka = new Kafka({brokers: [boot], clientId: 'groups-bench', logLevel: logLevel.NOTHING})
  const admin = kafka.admin()
  await admin.connect()
  await admin.createTopics({topics: [{topic: 'gbench', numPartitions: MEMBERS, replicationFactor: 1}], waitForLeaders: true})
  await admin.disconnect()
  const gadmin = new GroupAdmin(boot, {timeoutMs: 60000})
  // Warm-up: the first FindCoordinator creates __consumer_offsets; that is not the rebalance.
  await gadmin.describeGroup('g-bench')
  const consumers = Array.from({length: MEMBERS}, () => kafka.consumer({groupId: 'g-bench', sessionTimeout: 10000, heartbeatInterval: 500, rebalanceTimeout: 30000, maxWaitTimeInMs: 100}))
  const t0 = performance.now()
  await Promise.all(consumers.map(async c => {
    await c.connect()
    await c.subscribe({topics: ['gbench'], fromBeginning: true})
    await c.run({eachMessage: async () => {}})
  }))
  await stableWith(gadmin, 'g-bench', MEMBERS)
  const joinMs = performance.now() - t0
  const t1 = performance.now()
  await consumers.pop()!.disconnect()
  await stableWith(gadmin, 'g-bench', MEMBERS - 1)
  const leaveRebalanceMs = performance.now() - t1
  await Promise.all(consumers.map(c => c.disconnect()))
  gadmin.close()

  // Offset commits: one connection to the coordinator, 64 requests in flight.
  const group = 'commit-bench'
  let conn = await KafkaConnection.bootstrap(boot, {clientId: 'groups-bench', timeoutMs: 30000})
  await conn.negotiate()
  const fc = await conn.request(Apis.FindCoordinator, {key: group, keyType: 0, coordinatorKeys: [group]})
  const node = fc.coordinators?.[0] ?? {host: fc.host, port: fc.port}
  await conn.close()
  conn = await KafkaConnection.connect(node.host, node.port, {clientId: 'groups-bench', timeoutMs: 30000})
  await conn.negotiate()
  let done = 0
  let failed = 0
  let offset = 0
  const end = performance.now() + COMMIT_SECONDS * 1000
  const worker = async () => {
    while (performance.now() < end) {
      const res = await conn.request(Apis.OffsetCommit, {
        groupId: group, generationIdOrMemberEpoch: -1, memberId: '', groupInstanceId: null, retentionTimeMs: -1,
        topics: [{name: 'gbench', partitions: [{partitionIndex: offset % MEMBERS, committedOffset: offset++, committedLeaderEpoch: -1, commitTimestamp: -1, committedMetadata: ''}]}],
      })
      if (res.topics[0]?.partitions[0]?.errorCode === 0) done++
      else failed++
    }
  }
  const t2 = performance.now()
  await Promise.all(Array.from({length: 64}, worker))
  const commitsPerSec = done / ((performance.now() - t2) / 1000)
  if (failed) console.error(`${broker.name}: ${failed} offset commits failed`)
  await conn.close()
  await broker.stop()
  return {joinMs, leaveRebalanceMs, commitsPerSec}
}

async function main(): Promise<void> {
  const names: string[] = []
  const figures: Figures[] = []
  const dir = tempDir('kafkit-gbench-')
  try {
    const zk = await startZooKeeper(dir)
    try {
      const extra = ['group.initial.rebalance.delay.ms=0']
      names.push('kafkit')
      figures.push(await measure(await startKafkitBroker(dir, zk.port, extra)))
      if (apacheInstalled()) {
        names.push('apache-kafka-3.9')
        figures.push(await measure(await startApacheBroker(dir, zk.port, extra)))
      }
    } finally {
      await zk.stop()
    }
  } finally {
    removeDir(dir)
  }
  console.log(`\nkafkit group coordinator benchmark: ${MEMBERS} kafkajs members (heartbeat 500 ms, fetch wait 100 ms), offset commits on one connection with 64 in flight\n`)
  printTable(names, [
    [`${MEMBERS} members join, until Stable (ms)`, figures.map(f => f.joinMs)],
    ['rebalance after one leaves (ms)', figures.map(f => f.leaveRebalanceMs)],
    ['offset commits/s', figures.map(f => f.commitsPerSec)],
  ], {[`${MEMBERS} members join, until Stable (ms)`]: 0, 'rebalance after one leaves (ms)': 0, 'offset commits/s': 0})
}

main().then(() => process.exit(0), error => {
  console.error(`bench failed: ${error.message}`)
  process.exit(1)
})
