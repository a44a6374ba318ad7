// No ZooKeeper event may be lost: many topics created at once through every broker, partitions
// added and replicas reassigned while more topics arrive, and then every partition has a leader
// that serves it, on every broker's view: the leader holds it open as leader at the leader
// epoch ZooKeeper has, its followers follow that leader, and an acks=all produce succeeds.
import {test, before, after} from 'node:test'
import assert from 'node:assert/strict'
import {startCluster, type Cluster} from '../../src/api/start-cluster.js'
import {KafkaConnection} from '../../src/core/protocol/client.js'
import {Apis} from '../../src/core/protocol/messages.js'
import {buildBatch} from '../../src/core/protocol/record-batch.js'
import {waitFor} from '../helpers/util.js'

const TOPICS = 60
const PARTITIONS = 4
let cluster: Cluster
const conns: KafkaConnection[] = []

before(async () => {
  cluster = await startCluster({brokers: 3})
  for (const b of cluster.bootstrapServers) {
    const [host, port] = b.split(':')
    const c = await KafkaConnection.connect(host, Number(port), {clientId: 'concurrent-topics', timeoutMs: 30000})
    await c.negotiate()
    conns.push(c)
  }
})

after(async () => {
  for (const c of conns) await c.close()
  await cluster?.stop()
})

const name = (i: number) => `concurrent-${i}`

test('topics created concurrently through every broker, with partitions added and replicas moved meanwhile, all get a serving leader everywhere', {timeout: 180000}, async () => {
  // Creation: each broker gets a third of the topics, two topics per request, all requests in flight at once.
  const creations: Promise<unknown>[] = []
  for (let i = 0; i < TOPICS; i += 2) {
    const c = conns[(i / 2) % conns.length]
    creations.push(c.request(Apis.CreateTopics, {timeoutMs: 30000, validateOnly: false, topics: [i, i + 1].map(j => ({
      name: name(j), numPartitions: PARTITIONS, replicationFactor: 3, assignments: [], configs: [],
    }))}).then(r => {
      for (const t of r.topics) assert.equal(t.errorCode, 0, `${t.name}: ${t.errorMessage}`)
    }))
  }
  // Meanwhile: as soon as the first topics exist, grow some and reassign some of their replicas.
  const controller = () => cluster.brokers.find(b => b?.cluster.isController())!
  const growAndMove = (async () => {
    await waitFor(() => [0, 1, 2, 3].every(i => controller()?.cluster.topic(name(i))?.partitions.every(p => p.zkVersion >= 0)), 30000, 'first topics online')
    const grow = conns[1].request(Apis.CreatePartitions, {timeoutMs: 30000, validateOnly: false, topics: [0, 1, 2].map(i => ({name: name(i), count: PARTITIONS * 2, assignments: null}))})
    const move = controller().cluster.reassignPartitions([
      {topic: name(3), partition: 0, replicas: [2, 0, 1]},
      {topic: name(3), partition: 1, replicas: [0, 2, 1]},
    ])
    const [g] = await Promise.all([grow, move])
    for (const t of g.results) assert.equal(t.errorCode, 0, `${t.name}: ${t.errorMessage}`)
  })()
  await Promise.all([...creations, growAndMove])

  const expected = new Map<string, number>()
  for (let i = 0; i < TOPICS; i++) expected.set(name(i), i < 3 ? PARTITIONS * 2 : PARTITIONS)
  // Every broker's view agrees with ZooKeeper's state, and the replicas act on it.
  const problems = (): string[] => {
    const out: string[] = []
    const brokers = cluster.brokers.filter(b => b !== null)
    for (const [topic, count] of expected) {
      for (let p = 0; p < count; p++) {
        const states = brokers.map(b => b!.cluster.topic(topic)?.partitions[p])
        const s = states[0]
        if (!s || s.zkVersion < 0 || s.leader < 0) { out.push(`${topic}-${p}: no leader in broker ${brokers[0]!.brokerId}'s view`); continue }
        if (states.some(x => !x || x.leader !== s.leader || x.leaderEpoch !== s.leaderEpoch)) { out.push(`${topic}-${p}: brokers disagree on the leader`); continue }
        for (const b of brokers) {
          if (!s.replicas.includes(b!.brokerId)) continue
          const part = b!.replicas.partition(topic, p)
          if (!part) out.push(`${topic}-${p}: broker ${b!.brokerId} has not opened its replica`)
          else if (part.leader !== s.leader || part.leaderEpoch !== s.leaderEpoch) out.push(`${topic}-${p}: broker ${b!.brokerId} acts on leader ${part.leader} epoch ${part.leaderEpoch}, ZooKeeper says ${s.leader} epoch ${s.leaderEpoch}`)
          else if (b!.brokerId === s.leader && !part.isLeader()) out.push(`${topic}-${p}: broker ${b!.brokerId} does not lead it`)
        }
      }
    }
    return out
  }
  await waitFor(() => problems().length === 0, 60000, 'every partition to have a serving leader').catch(error => {
    throw new Error(`${(error as Error).message}: ${problems().slice(0, 10).join('; ')}`)
  })

  // And each leader takes an acks=all write for each of its partitions.
  const byLeader = new Map<number, {topic: string; partition: number}[]>()
  const any = cluster.brokers.find(b => b !== null)!
  for (const [topic, count] of expected) {
    for (let p = 0; p < count; p++) {
      const leader = any.cluster.topic(topic)!.partitions[p].leader
      const list = byLeader.get(leader) ?? []
      list.push({topic, partition: p})
      byLeader.set(leader, list)
    }
  }
  for (const [leader, parts] of byLeader) {
    const conn = conns[cluster.brokers.findIndex(b => b?.brokerId === leader)]
    const topics = new Map<string, {index: number; records: Buffer}[]>()
    for (const {topic, partition} of parts) {
      const list = topics.get(topic) ?? []
      list.push({index: partition, records: buildBatch({records: [{key: null, value: Buffer.from(`${topic}-${partition}`)}]})})
      topics.set(topic, list)
    }
    const r = await conn.request(Apis.Produce, {acks: -1, timeoutMs: 30000, transactionalId: null, topicData: [...topics].map(([n, partitionData]) => ({name: n, partitionData}))})
    for (const t of r.responses) for (const p of t.partitionResponses) assert.equal(p.errorCode, 0, `produce to ${t.name}-${p.index} on broker ${leader}`)
  }
})
