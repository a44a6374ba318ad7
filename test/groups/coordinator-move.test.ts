// A group's members survive their coordinator moving: the broker that takes over its
// __consumer_offsets partition reads the group's last metadata record back with its members,
// so a consumer that heartbeats the new coordinator with its member id and generation goes
// on without a rebalance (Kafka's loadGroup), and a member that never comes back is removed
// after its session timeout, leaving the group Empty.
import {test, before, after} from 'node:test'
import assert from 'node:assert/strict'
import {startCluster, type Cluster} from '../../src/api/start-cluster.js'
import {KafkaConnection} from '../../src/core/protocol/client.js'
import {Apis} from '../../src/core/protocol/messages.js'
import {waitFor} from '../helpers/util.js'

let cluster: Cluster
const conns = new Map<number, KafkaConnection>()

before(async () => {
  cluster = await startCluster({brokers: 3, brokerConfig: {'offsets.topic.num.partitions': 1, 'group.min.session.timeout.ms': 1000}})
})

after(async () => {
  for (const c of conns.values()) await c.close().catch(() => {})
  await cluster?.stop()
})

async function connTo(id: number): Promise<KafkaConnection> {
  let c = conns.get(id)
  if (c) return c
  const [host, port] = cluster.bootstrapServers[id].split(':')
  c = await KafkaConnection.connect(host, Number(port), {clientId: 'coordinator-move', timeoutMs: 15000})
  await c.negotiate()
  conns.set(id, c)
  return c
}

/** The group's coordinator as a running broker other than `not` sees it. */
async function findCoordinator(groupId: string, not = -1): Promise<number> {
  const found = await waitFor(async () => {
    const asker = cluster.brokers.findIndex((b, i) => b !== null && i !== not)
    const r = await (await connTo(asker)).request(Apis.FindCoordinator, {key: groupId, keyType: 0, coordinatorKeys: [groupId]})
    const c = r.coordinators?.[0] ?? r
    return c.errorCode === 0 && c.nodeId !== not && cluster.brokers[c.nodeId] ? {id: c.nodeId as number} : undefined
  }, 30000, `a coordinator for ${groupId}`)
  return found!.id
}

async function joinAndSync(groupId: string, sessionTimeoutMs: number): Promise<{coordinator: number; memberId: string; generationId: number}> {
  const coordinator = await findCoordinator(groupId)
  const c = await connTo(coordinator)
  const join = (memberId: string) => c.request(Apis.JoinGroup, {
    groupId, sessionTimeoutMs, rebalanceTimeoutMs: 10000, memberId, groupInstanceId: null, protocolType: 'consumer',
    protocols: [{name: 'range', metadata: Buffer.from([0, 1, 0, 0, 0, 1, 0, 1, 116, 0, 0, 0, 0])}], reason: null,
  })
  let j = await join('')
  if (j.errorCode === 79) j = await join(j.memberId) // MEMBER_ID_REQUIRED
  assert.equal(j.errorCode, 0, `JoinGroup: ${j.errorCode}`)
  const s = await c.request(Apis.SyncGroup, {
    groupId, generationId: j.generationId, memberId: j.memberId, groupInstanceId: null, protocolType: 'consumer', protocolName: 'range',
    assignments: [{memberId: j.memberId, assignment: Buffer.from('assigned')}],
  })
  assert.equal(s.errorCode, 0, `SyncGroup: ${s.errorCode}`)
  return {coordinator, memberId: j.memberId, generationId: j.generationId}
}

async function describe(groupId: string, not: number): Promise<{state: string; members: number}> {
  const coordinator = await findCoordinator(groupId, not)
  const r = await (await connTo(coordinator)).request(Apis.DescribeGroups, {groups: [groupId], includeAuthorizedOperations: false})
  return {state: r.groups[0].groupState, members: r.groups[0].members.length}
}

test('members keep their id and generation when the coordinator broker dies; an absent member expires after its session', {timeout: 120000}, async () => {
  const live = await joinAndSync('moving-group', 30000)
  const gone = await joinAndSync('abandoned-group', 3000)
  // Both groups live on the one offsets partition, so they share a coordinator.
  assert.equal(gone.coordinator, live.coordinator)
  const ok = await (await connTo(live.coordinator)).request(Apis.Heartbeat, {groupId: 'moving-group', generationId: live.generationId, memberId: live.memberId, groupInstanceId: null})
  assert.equal(ok.errorCode, 0)

  const old = live.coordinator
  await conns.get(old)?.close().catch(() => {})
  conns.delete(old)
  await cluster.stopBroker(old)

  // The new coordinator knows the member: its heartbeat succeeds (not UNKNOWN_MEMBER_ID).
  const code = await waitFor(async () => {
    const coordinator = await findCoordinator('moving-group', old)
    const r = await (await connTo(coordinator)).request(Apis.Heartbeat, {groupId: 'moving-group', generationId: live.generationId, memberId: live.memberId, groupInstanceId: null})
    // NOT_COORDINATOR (16) and COORDINATOR_LOAD_IN_PROGRESS (14) are the move still under way.
    return r.errorCode === 16 || r.errorCode === 14 ? undefined : {code: r.errorCode}
  }, 30000, 'a heartbeat answered by the new coordinator')
  assert.equal(code!.code, 0, 'the member is known to the new coordinator')
  const moved = await describe('moving-group', old)
  assert.deepEqual(moved, {state: 'Stable', members: 1})

  // The abandoned group's member sends nothing: its session (3 s) ends on the new coordinator.
  await waitFor(async () => (await describe('abandoned-group', old)).state === 'Empty', 30000, 'the abandoned member expired')
  assert.deepEqual(await describe('abandoned-group', old), {state: 'Empty', members: 0})
})
