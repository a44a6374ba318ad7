// The ClusterManager suite, run against any ZooKeeper backend (Apache ZooKeeper 3.8 in
// cluster.test.ts, kafkit's own server in cluster-kafkit-zk.test.ts): the znodes Kafka
// writes, several brokers, topic creation/deletion/partitions/configs, controller fail-over,
// session expiry, elections and chroot.
import {test, before, after} from 'node:test'
import assert from 'node:assert/strict'
import {ClusterManager, type PartitionState} from '../../src/core/cluster/cluster.js'
import {ZkClient} from '../../src/core/cluster/zk.js'
import {assignReplicasToBrokers, assignReplicasToBrokersRackAware} from '../../src/core/cluster/assignment.js'
import {serverConfigFromProps} from '../../src/core/config/server-config.js'
import {KafkaError, ErrorCode} from '../../src/core/protocol/errors.js'
import {Logger, setLogSink} from '../../src/core/util/log.js'
import {waitFor, freePort} from '../helpers/util.js'
import {createServer, connect, type Socket} from 'node:net'

/**
 * A TCP proxy between a broker and ZooKeeper that the test can cut: a network partition.
 * Cut long enough, the server expires the session; restored, the client learns it.
 */
async function startProxy(target: string): Promise<{port: number; cut(): void; restore(): void; close(): Promise<void>}> {
  const [host, port] = target.split(':')
  let isCut = false
  const sockets = new Set<Socket>()
  const server = createServer(client => {
    if (isCut) { client.destroy(); return }
    const upstream = connect(Number(port), host)
    sockets.add(client)
    sockets.add(upstream)
    client.pipe(upstream)
    upstream.pipe(client)
    const end = () => { client.destroy(); upstream.destroy(); sockets.delete(client); sockets.delete(upstream) }
    client.on('error', end)
    upstream.on('error', end)
    client.on('close', end)
    upstream.on('close', end)
  })
  await new Promise<void>(r => server.listen(0, '127.0.0.1', () => r()))
  return {
    port: (server.address() as {port: number}).port,
    cut() { isCut = true; for (const s of sockets) s.destroy() },
    restore() { isCut = false },
    close() { for (const s of sockets) s.destroy(); return new Promise(r => server.close(() => r())) },
  }
}

const logLines: string[] = []
setLogSink(line => { logLines.push(line) })

export interface ZkBackend {
  name: string
  start(): Promise<{connect: string; stop(): Promise<void>; restart?(): Promise<void>}>
}

export function clusterTests(backend: ZkBackend): void {
// On failure, the error carries the last log lines of the brokers (the log goes to a buffer).
const t = (name: string, fn: () => Promise<void> | void) => test(`${name} [${backend.name}]`, async () => {
  const mark = logLines.length
  try {
    await fn()
  } catch (error) {
    if (error instanceof Error) error.message += `\n--- broker log:\n${logLines.slice(Math.max(mark, logLines.length - 40)).join('\n')}`
    throw error
  }
})
let zk: {connect: string; stop(): Promise<void>}
let chrootN = 0
const managers: ClusterManager[] = []
const clients: ZkClient[] = []

before(async () => { zk = await backend.start() })
after(async () => {
  for (const m of managers) await m.stop().catch(() => {})
  for (const c of clients) await c.close().catch(() => {})
  await zk?.stop()
})

/** Each test uses its own chroot on the shared ZooKeeper, so tests don't see each other. */
function newChroot(): string {
  return `/t${++chrootN}`
}

function config(chroot: string, id: number, extra: Record<string, string> = {}) {
  return serverConfigFromProps({
    'broker.id': String(id),
    'zookeeper.connect': zk.connect + chroot,
    'listeners': `PLAINTEXT://127.0.0.1:${19092 + id}`,
    'zookeeper.session.timeout.ms': '4000',
    ...extra,
  }, `broker-${id}`)
}

async function startBroker(chroot: string, id: number, extra: Record<string, string> = {}): Promise<ClusterManager> {
  const m = new ClusterManager(config(chroot, id, extra), new Logger('kafka.cluster', `[Broker id=${id}]`), {metadataWaitMs: 15000})
  await m.start()
  managers.push(m)
  return m
}

async function rawClient(chroot: string): Promise<ZkClient> {
  const c = await ZkClient.connect(zk.connect + chroot, {sessionTimeoutMs: 10000, connectionTimeoutMs: 10000})
  clients.push(c)
  return c
}

async function json(c: ZkClient, path: string): Promise<Record<string, unknown>> {
  const r = await c.get(path)
  assert.ok(r, `${path} exists`)
  return JSON.parse(r.data.toString())
}

function expectKafkaError(code: number, msg?: RegExp) {
  return (e: unknown) => {
    assert.ok(e instanceof KafkaError, `expected KafkaError, got ${String(e)}`)
    assert.equal(e.code, code, e.message)
    if (msg) assert.match(e.message, msg)
    return true
  }
}

t('a broker registers itself, becomes controller and creates Kafka\'s znodes under the chroot', async () => {
  const chroot = newChroot()
  const m = await startBroker(chroot, 0)
  const c = await rawClient(chroot)
  const reg = await json(c, '/brokers/ids/0')
  assert.deepEqual(Object.keys(reg).sort(), ['endpoints', 'features', 'host', 'jmx_port', 'listener_security_protocol_map', 'port', 'timestamp', 'version'])
  assert.equal(reg.version, 5)
  assert.equal(reg.host, '127.0.0.1')
  assert.equal(reg.port, 19092)
  assert.deepEqual(reg.endpoints, ['PLAINTEXT://127.0.0.1:19092'])
  assert.deepEqual(reg.listener_security_protocol_map, {PLAINTEXT: 'PLAINTEXT'})
  assert.equal(reg.jmx_port, -1)
  assert.match(String(reg.timestamp), /^\d+$/)
  const regStat = (await c.get('/brokers/ids/0'))!.stat
  assert.notEqual(regStat.ephemeralOwner, '0000000000000000', 'registration is ephemeral')

  const ctl = await json(c, '/controller')
  assert.equal(ctl.brokerid, 0)
  assert.equal(ctl.version, 2)
  assert.equal(ctl.kraftControllerEpoch, -1)
  assert.equal((await c.get('/controller_epoch'))!.data.toString(), '1')
  const cid = await json(c, '/cluster/id')
  assert.equal(cid.version, '1')
  assert.match(String(cid.id), /^[A-Za-z0-9_-]{22}$/)
  assert.equal(m.clusterId, cid.id)
  assert.deepEqual(await json(c, '/feature'), {features: {}, version: 2, status: 1})
  for (const p of ['/consumers', '/brokers/topics', '/brokers/seqid', '/config/changes', '/config/topics', '/config/brokers', '/config/clients', '/config/users', '/config/ips', '/admin/delete_topics', '/isr_change_notification', '/latest_producer_id_block', '/log_dir_event_notification']) {
    assert.ok(await c.exists(p), `${p} exists`)
  }
  // Nothing leaked outside the chroot.
  const root = await rawClient('')
  assert.deepEqual((await root.getChildren('/'))!.filter(x => x === 'brokers'), [])
  assert.equal(m.isController(), true)
  assert.equal(m.controllerId(), 0)
  assert.deepEqual(m.brokers().map(b => [b.id, b.host, b.port]), [[0, '127.0.0.1', 19092]])

  await m.stop()
  assert.equal(await c.exists('/brokers/ids/0'), undefined)
  assert.equal(await c.exists('/controller'), undefined)
})

t('createTopic writes exactly Kafka\'s znodes; a second broker sees the topic', async () => {
  const chroot = newChroot()
  const b0 = await startBroker(chroot, 0)
  const changes: PartitionState[][] = []
  b0.on('partitionsChanged', s => changes.push(s))
  const meta = await b0.createTopic('orders', {numPartitions: 3, replicationFactor: 1, configs: {'retention.ms': '1000'}})
  assert.match(meta.topicId, /^[A-Za-z0-9_-]{22}$/)
  assert.equal(meta.partitions.length, 3)
  assert.deepEqual(meta.partitions.map(p => [p.leader, p.leaderEpoch, p.isr, p.replicas]), [[0, 0, [0], [0]], [0, 0, [0], [0]], [0, 0, [0], [0]]])
  const c = await rawClient(chroot)
  assert.deepEqual(await json(c, '/brokers/topics/orders'), {partitions: {0: [0], 1: [0], 2: [0]}, topic_id: meta.topicId, adding_replicas: {}, removing_replicas: {}, version: 3})
  for (let p = 0; p < 3; p++) assert.deepEqual(await json(c, `/brokers/topics/orders/partitions/${p}/state`), {controller_epoch: 1, leader: 0, version: 1, leader_epoch: 0, isr: [0]})
  assert.deepEqual(await json(c, '/config/topics/orders'), {version: 1, config: {'retention.ms': '1000'}})
  assert.ok(changes.flat().some(s => s.topic === 'orders'), 'partitionsChanged emitted')

  const b1 = await startBroker(chroot, 1)
  assert.equal(b1.isController(), false)
  assert.equal(b1.controllerId(), 0)
  const seen = b1.topic('orders')
  assert.ok(seen)
  assert.equal(seen.topicId, meta.topicId)
  assert.deepEqual(seen.configs, {'retention.ms': '1000'})
  assert.equal(b1.topicById(meta.topicId)?.name, 'orders')
  await waitFor(() => b0.brokers().length === 2, 10000, 'broker 0 sees broker 1')

  // A topic created through the non-controller gets its partition states from the controller.
  const m2 = await b1.createTopic('events', {numPartitions: 4, replicationFactor: 2, configs: {}})
  assert.equal(m2.partitions.length, 4)
  for (const p of m2.partitions) {
    assert.equal(p.replicas.length, 2)
    assert.equal(p.leader, p.replicas[0])
    assert.deepEqual(p.isr, p.replicas)
  }
  assert.deepEqual(await json(c, '/config/topics/events'), {version: 1, config: {}})
  await waitFor(() => b0.topic('events')?.partitions.every(p => p.leader >= 0), 10000, 'controller sees events')

  // Errors, as Kafka names them.
  await assert.rejects(b0.createTopic('orders', {numPartitions: 1, replicationFactor: 1, configs: {}}), expectKafkaError(ErrorCode.TOPIC_ALREADY_EXISTS, /Topic 'orders' already exists\./))
  await assert.rejects(b0.createTopic('bad/name', {numPartitions: 1, replicationFactor: 1, configs: {}}), expectKafkaError(ErrorCode.INVALID_TOPIC_EXCEPTION))
  await assert.rejects(b0.createTopic('..', {numPartitions: 1, replicationFactor: 1, configs: {}}), expectKafkaError(ErrorCode.INVALID_TOPIC_EXCEPTION))
  await assert.rejects(b0.createTopic('x'.repeat(250), {numPartitions: 1, replicationFactor: 1, configs: {}}), expectKafkaError(ErrorCode.INVALID_TOPIC_EXCEPTION))
  await assert.rejects(b0.createTopic('t3', {numPartitions: 1, replicationFactor: 3, configs: {}}), expectKafkaError(ErrorCode.INVALID_REPLICATION_FACTOR, /^Replication factor: 3 larger than available brokers: 2\.$/))
  await assert.rejects(b0.createTopic('t0', {numPartitions: 0, replicationFactor: 1, configs: {}}), expectKafkaError(ErrorCode.INVALID_PARTITIONS))
  await assert.rejects(b0.createTopic('tc', {numPartitions: 1, replicationFactor: 1, configs: {'nope': '1'}}), expectKafkaError(ErrorCode.INVALID_CONFIG, /Unknown topic config name: nope/))
  await assert.rejects(b0.createTopic('ta', {numPartitions: -1, replicationFactor: -1, assignment: {0: [0, 7]}, configs: {}}), expectKafkaError(ErrorCode.INVALID_REPLICA_ASSIGNMENT, /Unknown broker/))
  const manual = await b0.createTopic('manual', {numPartitions: -1, replicationFactor: -1, assignment: {0: [1, 0], 1: [0, 1]}, configs: {}})
  assert.deepEqual(manual.partitions.map(p => [p.leader, p.replicas]), [[1, [1, 0]], [0, [0, 1]]])
  const dry = await b0.createTopic('dry', {numPartitions: 2, replicationFactor: 1, configs: {}, validateOnly: true})
  assert.equal(dry.partitions.length, 2)
  assert.equal(await c.exists('/brokers/topics/dry'), undefined)
  // -1 picks num.partitions / default.replication.factor
  const defaults = await b0.createTopic('defaults', {numPartitions: -1, replicationFactor: -1, configs: {}})
  assert.equal(defaults.partitions.length, 1)
  assert.equal(defaults.partitions[0].replicas.length, 1)
  await b1.stop()
  await b0.stop()
})

t('deleteTopic: the request znode, the controller completes, every broker gets topicDeleted', async () => {
  const chroot = newChroot()
  const b0 = await startBroker(chroot, 0)
  const b1 = await startBroker(chroot, 1)
  await b0.createTopic('gone', {numPartitions: 2, replicationFactor: 2, configs: {'segment.bytes': '100000'}})
  await waitFor(() => b1.topic('gone')?.partitions.every(p => p.leader >= 0), 10000, 'b1 sees topic')
  const deleted: string[] = []
  b0.on('topicDeleted', n => deleted.push(`b0:${n}`))
  b1.on('topicDeleted', n => deleted.push(`b1:${n}`))
  await b1.deleteTopic('gone') // through the non-controller
  await waitFor(() => deleted.length === 2, 10000, 'both brokers see the deletion')
  assert.deepEqual(deleted.sort(), ['b0:gone', 'b1:gone'])
  const c = await rawClient(chroot)
  assert.equal(await c.exists('/brokers/topics/gone'), undefined)
  assert.equal(await c.exists('/config/topics/gone'), undefined)
  await waitFor(async () => (await c.getChildren('/admin/delete_topics'))!.length === 0, 5000, 'request node removed')
  await assert.rejects(b0.deleteTopic('gone'), expectKafkaError(ErrorCode.UNKNOWN_TOPIC_OR_PARTITION))
  // Re-creating gives a new topic id.
  const again = await b0.createTopic('gone', {numPartitions: 1, replicationFactor: 1, configs: {}})
  assert.equal(again.partitions.length, 1)
  await waitFor(() => b1.topic('gone')?.topicId === again.topicId && b1.topic('gone')!.partitions[0].leader >= 0, 10000, 'b1 sees the new incarnation')
  // Deleted and re-created in one step (no moment without the name): brokers still see a new topic.
  const oldId = again.topicId
  const newId = 'AAAAAAAAAAAAAAAAAAAAAQ'
  await c.multi([
    {op: 'delete', path: '/brokers/topics/gone/partitions/0/state'},
    {op: 'delete', path: '/brokers/topics/gone/partitions/0'},
    {op: 'delete', path: '/brokers/topics/gone/partitions'},
    {op: 'delete', path: '/brokers/topics/gone'},
    {op: 'create', path: '/brokers/topics/gone', data: JSON.stringify({partitions: {0: [1], 1: [1]}, topic_id: newId, adding_replicas: {}, removing_replicas: {}, version: 3})},
  ])
  deleted.length = 0
  await waitFor(() => b1.topic('gone')?.topicId === newId && b1.topic('gone')!.partitions.length === 2 && b1.topic('gone')!.partitions.every(p => p.leader === 1), 10000, 'new incarnation online')
  assert.ok(deleted.includes('b1:gone'), 'old incarnation reported deleted')
  assert.equal(b1.topicById(oldId), undefined)
  await b1.stop()
  await b0.stop()

  const chroot2 = newChroot()
  const nd = await startBroker(chroot2, 0, {'delete.topic.enable': 'false'})
  await nd.createTopic('keep', {numPartitions: 1, replicationFactor: 1, configs: {}})
  await assert.rejects(nd.deleteTopic('keep'), expectKafkaError(ErrorCode.TOPIC_DELETION_DISABLED))
  await nd.stop()
})

t('createPartitions, alterTopicConfigs, producer id blocks, updateIsr', async () => {
  const chroot = newChroot()
  const b0 = await startBroker(chroot, 0)
  const b1 = await startBroker(chroot, 1)
  const c = await rawClient(chroot)
  const meta = await b0.createTopic('grow', {numPartitions: 2, replicationFactor: 1, configs: {}})
  await b1.createPartitions('grow', 5)
  const t = b1.topic('grow')!
  assert.equal(t.partitions.length, 5)
  assert.ok(t.partitions.every(p => p.leader >= 0))
  const znode = await json(c, '/brokers/topics/grow')
  assert.equal(Object.keys(znode.partitions as object).length, 5)
  assert.equal(znode.topic_id, meta.topicId)
  await waitFor(() => b0.topic('grow')?.partitions.length === 5, 5000, 'b0 sees new partitions')
  await assert.rejects(b0.createPartitions('grow', 5), expectKafkaError(ErrorCode.INVALID_PARTITIONS, /Topic already has 5 partitions\./))
  await assert.rejects(b0.createPartitions('grow', 3), expectKafkaError(ErrorCode.INVALID_PARTITIONS, /currently has 5 partitions, which is higher than the requested 3/))
  await assert.rejects(b0.createPartitions('nope', 3), expectKafkaError(ErrorCode.UNKNOWN_TOPIC_OR_PARTITION))
  await b0.createPartitions('grow', 6, [[1]])
  assert.deepEqual(b0.topic('grow')!.partitions[5].replicas, [1])

  const changed: string[] = []
  b0.on('topicConfigChanged', n => changed.push(`b0:${n}`))
  b1.on('topicConfigChanged', n => changed.push(`b1:${n}`))
  await b1.alterTopicConfigs('grow', {'retention.ms': '5000', 'cleanup.policy': 'compact'}, [])
  await b1.alterTopicConfigs('grow', {}, ['cleanup.policy'])
  assert.deepEqual(await json(c, '/config/topics/grow'), {version: 1, config: {'retention.ms': '5000'}})
  const notes = (await c.getChildren('/config/changes'))!.sort()
  assert.ok(notes.length >= 2 && notes.every(n => /^config_change_\d{10}$/.test(n)))
  assert.deepEqual(await json(c, `/config/changes/${notes[notes.length - 1]}`), {version: 2, entity_path: 'topics/grow'})
  await waitFor(() => b0.topic('grow')!.configs['retention.ms'] === '5000' && !('cleanup.policy' in b0.topic('grow')!.configs), 5000, 'b0 sees config')
  assert.ok(changed.includes('b0:grow'))
  await assert.rejects(b0.alterTopicConfigs('grow', {'retention.ms': 'x'}, []), expectKafkaError(ErrorCode.INVALID_CONFIG, /Not a number of type LONG/))

  // Dynamic broker configs: per broker and cluster default, followed by every broker.
  await b1.alterBrokerConfigs('<default>', {'log.retention.ms': '123'}, [])
  await b1.alterBrokerConfigs('0', {'log.segment.bytes': '2048'}, [])
  assert.deepEqual(await json(c, '/config/brokers/<default>'), {version: 1, config: {'log.retention.ms': '123'}})
  await waitFor(() => b0.brokerConfigOverrides()['log.segment.bytes'] === '2048' && b0.brokerConfigOverrides()['log.retention.ms'] === '123', 5000, 'b0 sees dynamic configs')
  assert.deepEqual(b1.brokerConfigOverrides(), {'log.retention.ms': '123'})
  await assert.rejects(b0.alterBrokerConfigs('0', {'broker.id': '5'}, []), expectKafkaError(ErrorCode.INVALID_CONFIG, /Cannot update these configs dynamically/))
  await assert.rejects(b0.alterBrokerConfigs('0', {'log.retention.ms': 'x'}, []), expectKafkaError(ErrorCode.INVALID_CONFIG, /Invalid value x for configuration log.retention.ms/))
  await b1.alterBrokerConfigs('<default>', {}, ['log.retention.ms'])
  await waitFor(() => !('log.retention.ms' in b0.brokerConfigOverrides()), 5000, 'b0 sees removal')

  assert.deepEqual(await b0.nextProducerIdBlock(), {start: 0, length: 1000})
  assert.deepEqual(await b1.nextProducerIdBlock(), {start: 1000, length: 1000})
  assert.deepEqual(await json(c, '/latest_producer_id_block'), {version: 1, broker: 1, block_start: '1000', block_end: '1999'})
  // Concurrent allocations never hand out the same block.
  const blocks = await Promise.all([b0, b1, b0, b1, b0, b1].map(b => b.nextProducerIdBlock()))
  assert.deepEqual(blocks.map(x => x.start).sort((a, b) => a - b), [2000, 3000, 4000, 5000, 6000, 7000])

  // ISR shrink by the leader; the other broker sees it through the state znode.
  const rt = await b0.createTopic('isr', {numPartitions: -1, replicationFactor: -1, assignment: {0: [0, 1]}, configs: {}})
  const st = rt.partitions[0]
  assert.deepEqual(st.isr, [0, 1])
  // The state createTopic returned is current: the leader's conditional update succeeds at once.
  const shrunk = await b0.updateIsr(b0.topic('isr')!.partitions[0], [0])
  assert.deepEqual(shrunk.isr, [0])
  assert.equal(shrunk.leaderEpoch, 0)
  await waitFor(() => b1.topic('isr')!.partitions[0].isr.length === 1, 5000, 'b1 sees ISR shrink')
  assert.ok((await c.getChildren('/isr_change_notification')) !== undefined)
  await b1.stop()
  await b0.stop()
})

t('replica assignment matches Kafka\'s layout', () => {
  // Kafka's documented example: 5 brokers, 10 partitions, RF 3, start index 0.
  const a = assignReplicasToBrokers([4, 2, 0, 3, 1], 10, 3, 0, 0)
  assert.deepEqual(a, [
    [0, 1, 2], [1, 2, 3], [2, 3, 4], [3, 4, 0], [4, 0, 1],
    [0, 2, 3], [1, 3, 4], [2, 4, 0], [3, 0, 1], [4, 1, 2],
  ])
  // 3 brokers, 6 partitions, RF 2, fixed start index 1.
  assert.deepEqual(assignReplicasToBrokers([0, 1, 2], 6, 2, 1, 0), [[1, 0], [2, 1], [0, 2], [1, 2], [2, 0], [0, 1]])
  // Rack-aware: racks a:{0,1} b:{2,3} c:{4,5} -> alternated list 0,2,4,1,3,5; each partition spans 3 racks.
  const racks = new Map([[0, 'a'], [1, 'a'], [2, 'b'], [3, 'b'], [4, 'c'], [5, 'c']])
  const ra = assignReplicasToBrokersRackAware(racks, 6, 3, 0, 0)
  assert.deepEqual(ra.map(r => r[0]), [0, 2, 4, 1, 3, 5])
  for (const r of ra) assert.equal(new Set(r.map(b => racks.get(b))).size, 3, `replicas ${r} span every rack`)
  assert.deepEqual(ra.slice(0, 2), [[0, 2, 4], [2, 4, 1]])
  // Every replica set has distinct brokers, leaders spread evenly.
  const r = assignReplicasToBrokers([0, 1, 2], 30, 3)
  assert.ok(r.every(x => new Set(x).size === 3))
  const leaders = [0, 1, 2].map(b => r.filter(x => x[0] === b).length)
  assert.deepEqual(leaders, [10, 10, 10])
})

t('3 brokers: controller fail-over elects new leaders with bumped epochs', async () => {
  const chroot = newChroot()
  const b0 = await startBroker(chroot, 0)
  const b1 = await startBroker(chroot, 1)
  const b2 = await startBroker(chroot, 2)
  await waitFor(() => b0.brokers().length === 3, 10000, 'controller sees 3 brokers')
  const meta = await b0.createTopic('ha', {numPartitions: -1, replicationFactor: -1, assignment: {0: [0, 1, 2], 1: [1, 2, 0], 2: [2, 0, 1]}, configs: {}})
  assert.deepEqual(meta.partitions.map(p => p.leader), [0, 1, 2])
  const c = await rawClient(chroot)
  const seen: PartitionState[] = []
  b1.on('partitionsChanged', (s: PartitionState[]) => seen.push(...s.map(x => ({...x}))))

  // Kill broker 0's session abruptly (no controlled shutdown): close its ZooKeeper client.
  await b0.zkClient.close()
  await waitFor(() => b1.isController() || b2.isController(), 15000, 'a new controller')
  const ctl = await json(c, '/controller')
  assert.ok(ctl.brokerid === 1 || ctl.brokerid === 2)
  assert.equal((await c.get('/controller_epoch'))!.data.toString(), '2')
  await waitFor(() => b1.topic('ha')!.partitions[0].leader === 1 && b2.topic('ha')!.partitions[0].leader === 1, 15000, 'partition 0 led by broker 1')
  const s0 = await json(c, '/brokers/topics/ha/partitions/0/state')
  assert.deepEqual(s0, {controller_epoch: 2, leader: 1, version: 1, leader_epoch: 1, isr: [1, 2]})
  // Partitions led by live brokers: broker 0 leaves the ISR, leader stays, epoch bumps.
  await waitFor(async () => ((await json(c, '/brokers/topics/ha/partitions/1/state')).isr as number[]).length === 2, 10000, 'isr shrink')
  const s1 = await json(c, '/brokers/topics/ha/partitions/1/state')
  assert.equal(s1.leader, 1)
  assert.deepEqual(s1.isr, [1, 2])
  assert.equal(s1.leader_epoch, 1)
  assert.ok(seen.some(s => s.partition === 0 && s.leader === 1 && s.leaderEpoch === 1), 'broker 1 told it leads partition 0')
  managers.splice(managers.indexOf(b0), 1)

  // The last ISR member dies: no leader (-1), the ISR keeps it; when it comes back it leads again.
  await b2.stop()
  managers.splice(managers.indexOf(b2), 1)
  await waitFor(async () => ((await json(c, '/brokers/topics/ha/partitions/0/state')).isr as number[]).join() === '1', 15000, 'isr [1]')
  const b2b = await startBroker(chroot, 2)
  await waitFor(() => b2b.brokers().length === 2, 10000, 'b2 back')
  await b1.zkClient.close()
  managers.splice(managers.indexOf(b1), 1)
  await waitFor(async () => (await json(c, '/brokers/topics/ha/partitions/0/state')).leader === -1, 15000, 'partition 0 offline')
  const off = await json(c, '/brokers/topics/ha/partitions/0/state')
  assert.deepEqual(off.isr, [1])
  assert.equal(b2b.isController(), true)
  assert.equal(b2b.topic('ha')!.partitions[0].leader, -1)
  const epochBefore = off.leader_epoch as number
  const b1b = await startBroker(chroot, 1)
  await waitFor(async () => (await json(c, '/brokers/topics/ha/partitions/0/state')).leader === 1, 15000, 'broker 1 leads again')
  assert.equal((await json(c, '/brokers/topics/ha/partitions/0/state')).leader_epoch, epochBefore + 1)
  await waitFor(() => b1b.topic('ha')!.partitions[0].leader === 1, 5000, 'b1 sees itself as leader')
  await b1b.stop()
  await b2b.stop()
})

t('unreachable ZooKeeper: Kafka\'s timeout message', async () => {
  const port = await freePort()
  const m = new ClusterManager(serverConfigFromProps({'broker.id': '0', 'zookeeper.connect': `127.0.0.1:${port}`, 'zookeeper.connection.timeout.ms': '1000'}), new Logger('kafka.cluster'))
  await assert.rejects(m.start(), /^ZkError: Timed out waiting for connection while in state: CONNECTING$|Timed out waiting for connection while in state: CONNECTING/)
})

t('a second broker with the same id refuses to start', async () => {
  const chroot = newChroot()
  const b0 = await startBroker(chroot, 0)
  const dup = new ClusterManager(config(chroot, 0, {'zookeeper.session.timeout.ms': '2000'}), new Logger('kafka.cluster'))
  const t0 = Date.now()
  const wrong = new ClusterManager(config(chroot, 7), new Logger('kafka.cluster'), {storedClusterId: 'AAAAAAAAAAAAAAAAAAAAAA'})
  await assert.rejects(wrong.start(), /^Error: The Cluster ID [\w-]{22} doesn't match stored clusterId Some\(AAAAAAAAAAAAAAAAAAAAAA\) in meta.properties/)
  await assert.rejects(dup.start(), /Error while creating ephemeral at \/brokers\/ids\/0, node already exists and owner '\d+' does not match current session '\d+'/)
  assert.ok(Date.now() - t0 >= 2000, 'waited for a possible stale registration to expire')
  await b0.stop()
})

t('broker.id=-1 is generated from /brokers/seqid above reserved.broker.max.id', async () => {
  const chroot = newChroot()
  const a = await startBroker(chroot, -1)
  const b = await startBroker(chroot, -1)
  assert.equal(a.brokerId, 1001)
  assert.equal(b.brokerId, 1002)
  await b.stop()
  await a.stop()
})

t('session expiry: the broker re-registers, becomes controller again and keeps working', async () => {
  const chroot = newChroot()
  // Broker 0 reaches ZooKeeper through a proxy; cutting it long enough expires its session.
  const proxy = await startProxy(zk.connect)
  const b0 = new ClusterManager(serverConfigFromProps({'broker.id': '0', 'zookeeper.connect': `127.0.0.1:${proxy.port}${chroot}`, 'zookeeper.session.timeout.ms': '2000', 'listeners': 'PLAINTEXT://127.0.0.1:19092'}), new Logger('kafka.cluster', '[Broker id=0]'))
  await b0.start()
  managers.push(b0)
  await b0.createTopic('before', {numPartitions: 1, replicationFactor: 1, configs: {}})
  const c = await rawClient(chroot)
  const owner = (await c.get('/brokers/ids/0'))!.stat.ephemeralOwner
  proxy.cut()
  await waitFor(async () => !(await c.exists('/brokers/ids/0')), 20000, 'the server expires the partitioned session')
  proxy.restore()
  await waitFor(async () => {
    const r = await c.get('/brokers/ids/0')
    return r && r.stat.ephemeralOwner !== owner
  }, 20000, 're-registration under a new session')
  await waitFor(async () => (await c.get('/controller_epoch'))!.data.toString() === '2' && b0.isController(), 20000, 'controller again with epoch 2')
  assert.deepEqual((await json(c, '/controller')).brokerid, 0)
  const after = await b0.createTopic('after', {numPartitions: 2, replicationFactor: 1, configs: {}})
  assert.ok(after.partitions.every(p => p.leader === 0))
  // Watches were re-established: a config change made by someone else is seen.
  const other = await startBroker(chroot, 1)
  await other.alterTopicConfigs('before', {'retention.ms': '77'}, [])
  await waitFor(() => b0.topic('before')!.configs['retention.ms'] === '77', 10000, 'config change seen after expiry')
  await other.stop()
  await b0.stop()
  await proxy.close()
})

t('preferred and unclean leader election', async () => {
  const chroot = newChroot()
  const b0 = await startBroker(chroot, 0)
  const b1 = await startBroker(chroot, 1)
  await waitFor(() => b0.brokers().length === 2, 10000, 'two brokers')
  const c = await rawClient(chroot)
  await b0.createTopic('pref', {numPartitions: -1, replicationFactor: -1, assignment: {0: [0, 1]}, configs: {}})
  await b0.createTopic('dirty', {numPartitions: -1, replicationFactor: -1, assignment: {0: [0, 1]}, configs: {'unclean.leader.election.enable': 'true'}})
  await b0.createTopic('clean', {numPartitions: -1, replicationFactor: -1, assignment: {0: [0, 1]}, configs: {}})
  // Broker 1 fell out of the ISR of dirty and clean.
  await b0.updateIsr(b0.topic('dirty')!.partitions[0], [0])
  await b0.updateIsr(b0.topic('clean')!.partitions[0], [0])
  await b0.zkClient.close() // broker 0 dies
  managers.splice(managers.indexOf(b0), 1)
  await waitFor(() => b1.isController() && b1.topic('pref')!.partitions[0].leader === 1, 15000, 'broker 1 leads pref')
  await waitFor(() => b1.topic('dirty')!.partitions[0].leader === 1, 15000, 'unclean election for dirty')
  assert.deepEqual(b1.topic('dirty')!.partitions[0].isr, [1])
  await waitFor(() => b1.topic('clean')!.partitions[0].leader === -1, 15000, 'clean stays offline')
  assert.deepEqual(b1.topic('clean')!.partitions[0].isr, [0])
  // ElectLeaders (unclean) on the controller brings clean online.
  const unclean = await b1.electLeaders(false, [{topic: 'clean', partition: 0}])
  assert.deepEqual(unclean.map(r => r.errorCode), [ErrorCode.NONE])
  assert.equal(b1.topic('clean')!.partitions[0].leader, 1)

  // Broker 0 returns, catches up (the leader expands the ISR); preferred election moves leadership back.
  const b0b = await startBroker(chroot, 0)
  assert.equal(b0b.isController(), false)
  assert.deepEqual((await b0b.electLeaders(true, [{topic: 'pref', partition: 0}])).map(r => r.errorCode), [ErrorCode.NOT_CONTROLLER])
  const pref = b1.topic('pref')!.partitions[0]
  assert.deepEqual((await b1.electLeaders(true, [{topic: 'pref', partition: 0}])).map(r => r.errorCode), [ErrorCode.PREFERRED_LEADER_NOT_AVAILABLE])
  await b1.updateIsr(pref, [1, 0])
  const epoch = b1.topic('pref')!.partitions[0].leaderEpoch
  assert.deepEqual((await b1.electLeaders(true, [{topic: 'pref', partition: 0}])).map(r => r.errorCode), [ErrorCode.NONE])
  assert.equal(b1.topic('pref')!.partitions[0].leader, 0)
  assert.equal(b1.topic('pref')!.partitions[0].leaderEpoch, epoch + 1)
  await waitFor(() => b0b.topic('pref')!.partitions[0].leader === 0, 10000, 'broker 0 learns it leads pref')
  assert.deepEqual((await b1.electLeaders(true, [{topic: 'pref', partition: 0}])).map(r => r.errorCode), [ErrorCode.ELECTION_NOT_NEEDED])
  // The znode request, as kafka-preferred-replica-election wrote it.
  const clean = b1.topic('clean')!.partitions[0]
  await b1.updateIsr(clean, [1, 0])
  await c.create('/admin/preferred_replica_election', JSON.stringify({version: 1, partitions: [{topic: 'clean', partition: 0}]}))
  await waitFor(() => b0b.topic('clean')!.partitions[0].leader === 0, 10000, 'preferred election through the znode')
  await waitFor(async () => !(await c.exists('/admin/preferred_replica_election')), 10000, 'request removed')
  await b0b.stop()
  await b1.stop()
})

t('stop() does not hang when ZooKeeper is gone', async () => {
  const own = await backend.start()
  const m = new ClusterManager(serverConfigFromProps({'broker.id': '0', 'zookeeper.connect': own.connect, 'zookeeper.session.timeout.ms': '4000', 'listeners': 'PLAINTEXT://127.0.0.1:19092'}), new Logger('kafka.cluster'))
  await m.start()
  await own.stop()
  await waitFor(() => !m.zkClient.connected, 10000, 'client notices the server is gone')
  const t0 = Date.now()
  await m.stop()
  assert.ok(Date.now() - t0 < 5000, `stop took ${Date.now() - t0} ms`)
})

t('rack-aware placement when every broker has broker.rack; refused when only some do', async () => {
  const chroot = newChroot()
  const b0 = await startBroker(chroot, 0, {'broker.rack': 'r1'})
  const b1 = await startBroker(chroot, 1, {'broker.rack': 'r2'})
  await waitFor(() => b0.brokers().length === 2, 10000, 'two brokers')
  assert.equal(b1.brokers().find(b => b.id === 0)!.rack, 'r1')
  const c = await rawClient(chroot)
  assert.equal((await json(c, '/brokers/ids/0')).rack, 'r1')
  const m = await b0.createTopic('racked', {numPartitions: 4, replicationFactor: 2, configs: {}})
  for (const p of m.partitions) assert.deepEqual([...p.replicas].sort(), [0, 1])
  const b2 = await startBroker(chroot, 2)
  await waitFor(() => b0.brokers().length === 3, 10000, 'three brokers')
  await assert.rejects(b0.createTopic('mixed', {numPartitions: 1, replicationFactor: 2, configs: {}}), expectKafkaError(ErrorCode.INVALID_REPLICA_ASSIGNMENT, /Not all brokers have rack information/))
  await b2.stop()
  await b1.stop()
  await b0.stop()
})

t('ZooKeeper crashes and comes back: the broker reconnects (or re-registers) and keeps following changes', async () => {
  const own = await backend.start()
  assert.ok(own.restart, `${backend.name} backend can restart`)
  const cfg = (id: number) => serverConfigFromProps({'broker.id': String(id), 'zookeeper.connect': own.connect + '/kafka', 'zookeeper.session.timeout.ms': '10000', 'listeners': `PLAINTEXT://127.0.0.1:${19092 + id}`})
  const b0 = new ClusterManager(cfg(0), new Logger('kafka.cluster', '[0]'))
  const b1 = new ClusterManager(cfg(1), new Logger('kafka.cluster', '[1]'))
  try {
    await b0.start()
    await b1.start()
    await b0.createTopic('survivor', {numPartitions: 2, replicationFactor: 2, configs: {}})
    await own.restart!()
    await waitFor(() => b0.zkClient.connected && b1.zkClient.connected, 30000, 'both reconnected')
    await waitFor(() => b0.brokers().length === 2 && b1.brokers().length === 2 && (b0.isController() || b1.isController()), 30000, 'cluster whole again')
    assert.equal(b1.topic('survivor')!.partitions.length, 2)
    const ctl = b0.isController() ? b0 : b1
    const other = ctl === b0 ? b1 : b0
    await other.createTopic('after-crash', {numPartitions: 1, replicationFactor: 2, configs: {}})
    await waitFor(() => ctl.topic('after-crash')?.partitions[0].leader !== undefined && ctl.topic('after-crash')!.partitions[0].leader >= 0, 10000, 'controller sees the new topic')
    await other.alterTopicConfigs('survivor', {'retention.ms': '5'}, [])
    await waitFor(() => ctl.topic('survivor')!.configs['retention.ms'] === '5', 10000, 'config change seen after the crash')
  } finally {
    await b1.stop()
    await b0.stop()
    await own.stop()
  }
})

t('hundreds of partitions elected at once: fenced multis of many states; a fenced controller writes none; every broker learns them all', async () => {
  const chroot = newChroot()
  const b0 = await startBroker(chroot, 0)
  const b1 = await startBroker(chroot, 1)
  const b2 = await startBroker(chroot, 2)
  await waitFor(() => b0.brokers().length === 3 && b2.brokers().length === 3, 10000, 'three brokers')
  assert.equal(b0.isController(), true)
  const n = 450 // more than one multi's worth of states
  const assignment: Record<number, number[]> = {}
  for (let p = 0; p < n; p++) assignment[p] = [1, 2, 0]
  await b0.createTopic('many', {numPartitions: -1, replicationFactor: -1, assignment, configs: {}})
  await waitFor(() => b2.topic('many')?.partitions.length === n && b2.topic('many')!.partitions.every(p => p.leader === 1), 15000, 'broker 2 sees every partition led by broker 1')
  const c = await rawClient(chroot)
  // Another controller took over meanwhile (the epoch moved on): broker 0's writes must all be refused.
  const ep = (await c.get('/controller_epoch'))!
  await c.set('/controller_epoch', String(Number(ep.data.toString()) + 1), ep.stat.version)
  const mark = logLines.length
  await b1.zkClient.close() // broker 1 dies: broker 0 elects with a stale epoch
  await waitFor(() => logLines.slice(mark).some(l => /450 of 450 partition state writes refused/.test(l)), 15000, 'the stale controller refused')
  for (const p of [0, 199, 200, 449]) assert.equal((await json(c, `/brokers/topics/many/partitions/${p}/state`)).leader, 1, `partition ${p} untouched`)
  // Broker 0 goes: broker 2 becomes the controller and elects all 450 in a few multis.
  managers.splice(managers.indexOf(b1), 1)
  await b0.zkClient.close()
  managers.splice(managers.indexOf(b0), 1)
  await waitFor(() => b2.isController(), 15000, 'broker 2 controller')
  await waitFor(() => b2.topic('many')!.partitions.every(p => p.leader === 2 && p.isr.join() === '2'), 15000, 'broker 2 leads every partition')
  assert.ok(logLines.slice(mark).some(l => /Leader election: new states for 450 partitions in 3 fenced multis/.test(l)), 'one summary line for the batch')
  for (const p of [0, 199, 200, 449]) assert.deepEqual(await json(c, `/brokers/topics/many/partitions/${p}/state`), {controller_epoch: Number(ep.data.toString()) + 2, leader: 2, version: 1, leader_epoch: 1, isr: [2]})
  await b2.stop()
})

t('controlled shutdown: leadership moves to another ISR member before stop() returns', async () => {
  const chroot = newChroot()
  const b0 = await startBroker(chroot, 0)
  const b1 = await startBroker(chroot, 1)
  await waitFor(() => b0.brokers().length === 2, 10000, 'two brokers')
  await b0.createTopic('handoff', {numPartitions: -1, replicationFactor: -1, assignment: {0: [0, 1], 1: [1, 0]}, configs: {}})
  await waitFor(() => b1.topic('handoff')?.partitions.every(p => p.leader >= 0), 10000, 'b1 sees the topic')
  assert.equal(b0.isController(), true)
  await b0.stop() // the controller itself, leading partition 0
  managers.splice(managers.indexOf(b0), 1)
  // By the time stop() returned, broker 1 already leads both partitions.
  assert.deepEqual(b0.topic('handoff')!.partitions.map(p => p.leader), [1, 1])
  await waitFor(() => b1.isController() && b1.topic('handoff')!.partitions.every(p => p.leader === 1), 5000, 'b1 controller and leader')
  await b1.stop()
})

t('a broker that restarted between two looks (new registration, same id) loses leadership like a failed one', async () => {
  const chroot = newChroot()
  const b0 = await startBroker(chroot, 0)
  const b1 = await startBroker(chroot, 1)
  await waitFor(() => b0.brokers().length === 2, 10000, 'two brokers')
  assert.equal(b0.isController(), true)
  await b0.createTopic('bounce', {numPartitions: -1, replicationFactor: -1, assignment: {0: [1, 0]}, configs: {}})
  assert.equal(b0.topic('bounce')!.partitions[0].leader, 1)
  // Broker 1's registration replaced in one step (as a fast restart looks to a slow watcher).
  const c = await rawClient(chroot)
  const reg = (await c.get('/brokers/ids/1'))!.data
  await c.multi([{op: 'delete', path: '/brokers/ids/1'}, {op: 'create', path: '/brokers/ids/1', data: reg, ephemeral: true}])
  await waitFor(() => b0.topic('bounce')!.partitions[0].leader === 0, 10000, 'leadership moved off the restarted broker')
  const st = await json(c, '/brokers/topics/bounce/partitions/0/state')
  assert.deepEqual(st.isr, [0])
  assert.equal(st.leader_epoch, 1)
  assert.ok(logLines.some(l => l.includes('(restarted: 1)')), 'seen as a restart')
  await b1.stop()
  await b0.stop()
})

t('the controller and leader restarts before anyone handled its failure: the new controller moves leadership off it (KIP-380)', async () => {
  const chroot = newChroot()
  // Broker 0 reaches ZooKeeper through a proxy: cut, it can neither act nor close its session.
  const proxy = await startProxy(zk.connect)
  const b0 = new ClusterManager(serverConfigFromProps({'broker.id': '0', 'zookeeper.connect': `127.0.0.1:${proxy.port}${chroot}`, 'zookeeper.session.timeout.ms': '4000', 'listeners': 'PLAINTEXT://127.0.0.1:19092'}), new Logger('kafka.cluster', '[Broker id=0]'))
  await b0.start()
  const b1 = await startBroker(chroot, 1)
  const b2 = await startBroker(chroot, 2)
  await waitFor(() => b0.brokers().length === 3 && b1.brokers().length === 3 && b2.brokers().length === 3, 10000, 'three brokers')
  assert.equal(b0.isController(), true)
  await b0.createTopic('bounced', {numPartitions: -1, replicationFactor: -1, assignment: {0: [0, 1, 2], 1: [1, 0, 2]}, configs: {}})
  await waitFor(() => b1.topic('bounced')?.partitions[0]?.leader === 0 && b2.topic('bounced')?.partitions[1]?.leader === 1, 10000, 'states seen')
  proxy.cut()
  // What the others see when broker 0 died and its next incarnation registered before any of
  // them looked: /controller gone and /brokers/ids/0 replaced, in one step.
  const c = await rawClient(chroot)
  const reg = (await c.get('/brokers/ids/0'))!.data
  // (The broker change comes first, so the others see the new registration before they
  // become controller: the new controller must not take it for a broker that never left.)
  await c.multi([{op: 'delete', path: '/brokers/ids/0'}, {op: 'create', path: '/brokers/ids/0', data: reg, ephemeral: true}, {op: 'delete', path: '/controller'}])
  await waitFor(() => b1.isController() || b2.isController(), 10000, 'a new controller')
  await waitFor(async () => (await json(c, '/brokers/topics/bounced/partitions/0/state')).leader === 1, 10000, 'partition 0 led by broker 1, not by the restarted broker 0')
  const s0 = await json(c, '/brokers/topics/bounced/partitions/0/state')
  assert.deepEqual(s0.isr, [1, 2], 'the restarted broker leaves the ISR until it catches up')
  assert.equal(s0.leader_epoch, 1)
  // Partition 1's leader did not restart: it keeps leading; broker 0 leaves its ISR.
  await waitFor(async () => ((await json(c, '/brokers/topics/bounced/partitions/1/state')).isr as number[]).join() === '1,2', 10000, 'partition 1 ISR without broker 0')
  assert.equal((await json(c, '/brokers/topics/bounced/partitions/1/state')).leader, 1)
  await b0.stop()
  await proxy.close()
  await b1.stop()
  await b2.stop()
})

t('partition reassignment: adding/removing replicas in the topic znode, completion once the target is in sync, cancel', async () => {
  const chroot = newChroot()
  const b0 = await startBroker(chroot, 0)
  const b1 = await startBroker(chroot, 1)
  const b2 = await startBroker(chroot, 2)
  await waitFor(() => b0.brokers().length === 3, 10000, 'three brokers')
  assert.equal(b0.isController(), true)
  const c = await rawClient(chroot)
  await b0.createTopic('move', {numPartitions: -1, replicationFactor: -1, assignment: {0: [0, 1], 1: [0, 1]}, configs: {}})
  const told: PartitionState[] = []
  b2.on('partitionsChanged', (s: PartitionState[]) => told.push(...s))
  const removed: string[] = []
  b0.on('partitionsRemoved', (l: {topic: string; partition: number}[]) => removed.push(...l.map(x => `${x.topic}-${x.partition}`)))

  assert.deepEqual((await b1.reassignPartitions([{topic: 'move', partition: 0, replicas: [1, 2]}])).map(r => r.errorCode), [ErrorCode.NOT_CONTROLLER])
  const res = await b0.reassignPartitions([{topic: 'move', partition: 0, replicas: [1, 2]}, {topic: 'move', partition: 1, replicas: [2, 1]}, {topic: 'nope', partition: 0, replicas: [1]}, {topic: 'move', partition: 0, replicas: [7]}])
  assert.deepEqual(res.map(r => [r.topic, r.partition, r.errorCode]), [['move', 0, ErrorCode.INVALID_REPLICA_ASSIGNMENT], ['move', 1, ErrorCode.NONE], ['nope', 0, ErrorCode.UNKNOWN_TOPIC_OR_PARTITION]])
  assert.deepEqual((await b0.reassignPartitions([{topic: 'move', partition: 0, replicas: [1, 2]}])).map(r => r.errorCode), [ErrorCode.NONE])
  const znode = await json(c, '/brokers/topics/move')
  assert.deepEqual(znode.partitions, {0: [1, 2, 0], 1: [2, 1, 0]})
  assert.deepEqual(znode.adding_replicas, {0: [2], 1: [2]})
  assert.deepEqual(znode.removing_replicas, {0: [0], 1: [0]})
  assert.equal((await json(c, '/brokers/topics/move/partitions/0/state')).leader_epoch, 1)
  assert.deepEqual(b0.listPartitionReassignments().map(r => [r.partition, r.replicas, r.addingReplicas, r.removingReplicas]), [[0, [1, 2, 0], [2], [0]], [1, [2, 1, 0], [2], [0]]])
  await waitFor(() => told.some(s => s.topic === 'move' && s.partition === 0 && s.replicas.includes(2)), 10000, 'the new replica is told to follow')
  await assert.rejects(b0.createPartitions('move', 3), expectKafkaError(ErrorCode.REASSIGNMENT_IN_PROGRESS))

  // Cancel partition 1: back to the original replicas (Kafka: replicas minus adding, in that order).
  assert.deepEqual((await b0.reassignPartitions([{topic: 'move', partition: 1, replicas: null}])).map(r => r.errorCode), [ErrorCode.NONE])
  assert.deepEqual((await json(c, '/brokers/topics/move')).partitions, {0: [1, 2, 0], 1: [1, 0]})
  assert.deepEqual((await b0.reassignPartitions([{topic: 'move', partition: 1, replicas: null}])).map(r => r.errorCode), [ErrorCode.NO_REASSIGNMENT_IN_PROGRESS])

  // The leader (broker 0) sees broker 2 catch up and adds it to the ISR: the controller completes.
  await b0.updateIsr(b0.topic('move')!.partitions[0], [0, 1, 2])
  await waitFor(async () => Object.keys((await json(c, '/brokers/topics/move')).adding_replicas as object).length === 0, 10000, 'reassignment completed')
  assert.deepEqual(await json(c, '/brokers/topics/move'), {partitions: {0: [1, 2], 1: [1, 0]}, topic_id: b0.topic('move')!.topicId, adding_replicas: {}, removing_replicas: {}, version: 3})
  const st = await json(c, '/brokers/topics/move/partitions/0/state')
  assert.equal(st.leader, 1)
  assert.deepEqual(st.isr, [1, 2])
  assert.equal(st.leader_epoch, 2)
  await waitFor(() => removed.includes('move-0'), 10000, 'broker 0 told to drop its replica')
  await waitFor(() => b2.topic('move')!.partitions[0].leader === 1, 10000, 'b2 sees the new leader')
  assert.deepEqual(b0.listPartitionReassignments(), [])
  await b2.stop()
  await b1.stop()
  await b0.stop()
})

t('auto leader rebalance moves leadership back to the preferred replica once it is in the ISR', async () => {
  const chroot = newChroot()
  const fast = {'leader.imbalance.check.interval.seconds': '1'}
  const b0 = await startBroker(chroot, 0, fast)
  const b1 = await startBroker(chroot, 1, fast)
  await waitFor(() => b0.brokers().length === 2, 10000, 'two brokers')
  await b0.createTopic('pref2', {numPartitions: -1, replicationFactor: -1, assignment: {0: [1, 0]}, configs: {}})
  assert.equal(b0.topic('pref2')!.partitions[0].leader, 1)
  await b1.zkClient.close() // broker 1 (preferred leader) dies: broker 0 leads
  managers.splice(managers.indexOf(b1), 1)
  await waitFor(() => b0.topic('pref2')!.partitions[0].leader === 0, 10000, 'broker 0 leads')
  const b1b = await startBroker(chroot, 1, fast)
  await b0.updateIsr(b0.topic('pref2')!.partitions[0], [0, 1]) // broker 1 caught up
  await waitFor(() => b1b.topic('pref2')!.partitions[0].leader === 1, 10000, 'leadership back on the preferred replica')
  await b1b.stop()
  await b0.stop()
})
}
