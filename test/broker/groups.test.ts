// Consumer groups: members of one group share the partitions (each message to one member),
// another group gets everything; a member that stops heartbeating is expired after its
// session timeout; DeleteGroups on an empty group; kcat's balanced consumer.
import {test, before, after} from 'node:test'
import assert from 'node:assert/strict'
import {Kafka, logLevel, type Consumer} from 'kafkajs'
import {startApacheZooKeeper, startBrokerProc, exec, KCAT, type ApacheZooKeeper, type BrokerProc} from './helpers.js'
import {waitFor} from '../helpers/util.js'
import {KafkaConnection} from '../../src/core/protocol/client.js'
import {Apis} from '../../src/core/protocol/messages.js'

let zk: ApacheZooKeeper
let broker: BrokerProc
let kafka: Kafka

before(async () => {
  zk = await startApacheZooKeeper()
  broker = await startBrokerProc(zk.connect, ['group.min.session.timeout.ms=1000', 'group.initial.rebalance.delay.ms=1000'])
  kafka = new Kafka({clientId: 'groups-test', brokers: [broker.bootstrap], logLevel: logLevel.NOTHING})
})

after(async () => {
  await broker?.cleanup()
  await zk?.stop()
})

test('two members split the partitions, a second group sees everything', {timeout: 120000}, async () => {
  const admin = kafka.admin()
  await admin.connect()
  await admin.createTopics({topics: [{topic: 'g-topic', numPartitions: 4}], waitForLeaders: true})
  const producer = kafka.producer()
  await producer.connect()
  await producer.send({topic: 'g-topic', messages: Array.from({length: 400}, (_, i) => ({key: `k${i}`, value: `m${i}`}))})

  const got = new Map<string, string[]>()
  const consumers: Consumer[] = []
  const start = async (name: string, groupId: string) => {
    const c = kafka.consumer({groupId, sessionTimeout: 10000, heartbeatInterval: 300, rebalanceTimeout: 10000, maxWaitTimeInMs: 500})
    consumers.push(c)
    got.set(name, [])
    await c.connect()
    await c.subscribe({topic: 'g-topic', fromBeginning: true})
    await c.run({eachMessage: async ({message}) => { got.get(name)!.push(message.value!.toString()) }})
    return c
  }
  try {
    await start('a1', 'group-a')
    await start('a2', 'group-a')
    await start('b1', 'group-b')
    await waitFor(() => got.get('a1')!.length + got.get('a2')!.length >= 400 && got.get('b1')!.length >= 400, 40000, 'both groups consumed everything')
    const a = [...got.get('a1')!, ...got.get('a2')!]
    assert.equal(new Set(a).size, 400)
    assert.equal(got.get('b1')!.length, 400)
    const described = await waitFor(async () => {
      const g = (await admin.describeGroups(['group-a'])).groups[0]
      return g.state === 'Stable' && g.members.length === 2 ? g : undefined
    }, 15000, 'group-a Stable with 2 members')
    assert.deepEqual(described!.members.map(m => m.clientId), ['groups-test', 'groups-test'])

    // A late batch goes to the group's current members exactly once.
    await producer.send({topic: 'g-topic', messages: Array.from({length: 40}, (_, i) => ({key: `late${i}`, value: `late${i}`}))})
    await waitFor(() => got.get('a1')!.length + got.get('a2')!.length >= 440, 30000, 'late messages consumed by group-a')
    assert.equal(new Set([...got.get('a1')!, ...got.get('a2')!]).size, 440)
  } finally {
    for (const c of consumers) await c.disconnect().catch(() => {})
    await producer.disconnect()
  }
  // Everyone left: the group is Empty and can be deleted.
  await waitFor(async () => (await admin.describeGroups(['group-b'])).groups[0].state === 'Empty', 10000, 'group-b empty')
  await admin.deleteGroups(['group-b'])
  const list = await admin.listGroups()
  assert.ok(!list.groups.some(g => g.groupId === 'group-b'))
  await admin.disconnect()
})

test('kcat balanced consumer (-G) joins a group and commits', {timeout: 60000}, async () => {
  const lines = Array.from({length: 50}, (_, i) => `kg-${i}`)
  const p = await exec(KCAT, ['-b', broker.bootstrap, '-P', '-t', 'kg-topic'], {input: lines.join('\n') + '\n'})
  assert.equal(p.code, 0, p.stderr)
  const c = await exec(KCAT, ['-b', broker.bootstrap, '-G', 'kcat-group', '-o', 'beginning', '-e', '-q', '-X', 'enable.partition.eof=true', 'kg-topic'], {timeoutMs: 45000})
  assert.equal(c.code, 0, c.stderr)
  assert.deepEqual(c.stdout.trim().split('\n'), lines)
  const admin = kafka.admin()
  await admin.connect()
  try {
    const offsets = await admin.fetchOffsets({groupId: 'kcat-group', topics: ['kg-topic']})
    assert.equal(Number(offsets[0].partitions[0].offset), 50)
  } finally {
    await admin.disconnect()
  }
})

test('a member that stops heartbeating is expired after its session timeout', {timeout: 30000}, async () => {
  const conn = await KafkaConnection.connect('127.0.0.1', broker.port, {clientId: 'silent'})
  try {
    const fc = await conn.send(Apis.FindCoordinator, 2, {key: 'expiry-group', keyType: 0})
    assert.equal(fc.errorCode, 0)
    const join = (memberId: string) => conn.send(Apis.JoinGroup, 5, {groupId: 'expiry-group', sessionTimeoutMs: 1500, rebalanceTimeoutMs: 3000, memberId, groupInstanceId: null, protocolType: 'consumer', protocols: [{name: 'range', metadata: Buffer.from([0, 0, 0, 0, 0, 0, 0, 0, 0, 0])}]})
    const first = await join('')
    assert.equal(first.errorCode, 79, 'MEMBER_ID_REQUIRED')
    const joined = await join(first.memberId)
    assert.equal(joined.errorCode, 0)
    assert.equal(joined.leader, first.memberId)
    const sync = await conn.send(Apis.SyncGroup, 3, {groupId: 'expiry-group', generationId: joined.generationId, memberId: first.memberId, groupInstanceId: null, assignments: [{memberId: first.memberId, assignment: Buffer.from('x')}]})
    assert.equal(sync.errorCode, 0)
    assert.equal(sync.assignment.toString(), 'x')
    const hb = await conn.send(Apis.Heartbeat, 3, {groupId: 'expiry-group', generationId: joined.generationId, memberId: first.memberId, groupInstanceId: null})
    assert.equal(hb.errorCode, 0)
    const state = async () => (await conn.send(Apis.DescribeGroups, 5, {groups: ['expiry-group'], includeAuthorizedOperations: false})).groups[0]
    assert.equal((await state()).groupState, 'Stable')
    const started = Date.now()
    await waitFor(async () => (await state()).groupState === 'Empty', 10000, 'the silent member expired')
    assert.ok(Date.now() - started >= 500, 'not before the session timeout')
    const late = await conn.send(Apis.Heartbeat, 3, {groupId: 'expiry-group', generationId: joined.generationId, memberId: first.memberId, groupInstanceId: null})
    assert.equal(late.errorCode, 25, 'UNKNOWN_MEMBER_ID')
  } finally {
    await conn.close()
  }
})

test('the first join of an empty group waits group.initial.rebalance.delay.ms', {timeout: 30000}, async () => {
  const conn = await KafkaConnection.connect('127.0.0.1', broker.port, {clientId: 'delayed'})
  try {
    assert.equal((await conn.send(Apis.FindCoordinator, 2, {key: 'delay-group', keyType: 0})).errorCode, 0)
    const join = (memberId: string) => conn.send(Apis.JoinGroup, 5, {groupId: 'delay-group', sessionTimeoutMs: 10000, rebalanceTimeoutMs: 20000, memberId, groupInstanceId: null, protocolType: 'consumer', protocols: [{name: 'range', metadata: Buffer.alloc(0)}]})
    const first = await join('')
    const started = Date.now()
    const joined = await join(first.memberId)
    const took = Date.now() - started
    assert.equal(joined.errorCode, 0)
    assert.equal(joined.generationId, 1)
    assert.ok(took >= 900 && took < 3000, `join took ${took} ms (delay 1000 ms)`)
  } finally {
    await conn.close()
  }
})

test('static membership: a rejoin with the same group.instance.id takes over without a rebalance', {timeout: 30000}, async () => {
  const conn = await KafkaConnection.connect('127.0.0.1', broker.port, {clientId: 'static'})
  try {
    assert.equal((await conn.send(Apis.FindCoordinator, 2, {key: 'static-group', keyType: 0})).errorCode, 0)
    const join = (memberId: string) => conn.send(Apis.JoinGroup, 7, {groupId: 'static-group', sessionTimeoutMs: 10000, rebalanceTimeoutMs: 20000, memberId, groupInstanceId: 'instance-1', protocolType: 'consumer', protocols: [{name: 'range', metadata: Buffer.from('m')}]})
    const first = await join('')
    assert.equal(first.errorCode, 0, 'static members need no MEMBER_ID_REQUIRED round')
    const sync = await conn.send(Apis.SyncGroup, 5, {groupId: 'static-group', generationId: first.generationId, memberId: first.memberId, groupInstanceId: 'instance-1', protocolType: 'consumer', protocolName: 'range', assignments: [{memberId: first.memberId, assignment: Buffer.from('a')}]})
    assert.equal(sync.errorCode, 0)
    const again = await join('')
    assert.equal(again.errorCode, 0)
    assert.notEqual(again.memberId, first.memberId)
    assert.equal(again.generationId, first.generationId, 'no rebalance')
    const hb = (memberId: string) => conn.send(Apis.Heartbeat, 4, {groupId: 'static-group', generationId: first.generationId, memberId, groupInstanceId: 'instance-1'})
    assert.equal((await hb(first.memberId)).errorCode, 82, 'FENCED_INSTANCE_ID for the old member id')
    assert.equal((await hb(again.memberId)).errorCode, 0)
    const d = (await conn.send(Apis.DescribeGroups, 5, {groups: ['static-group'], includeAuthorizedOperations: false})).groups[0]
    assert.equal(d.groupState, 'Stable')
    assert.deepEqual(d.members.map(m => [m.memberId, m.groupInstanceId]), [[again.memberId, 'instance-1']])
    const leave = await conn.send(Apis.LeaveGroup, 4, {groupId: 'static-group', members: [{memberId: '', groupInstanceId: 'instance-1'}]})
    assert.equal(leave.members[0].errorCode, 0)
  } finally {
    await conn.close()
  }
})
