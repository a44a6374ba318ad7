// Incremental fetch sessions (KIP-227) at the wire level: epoch 0 opens a session, later
// epochs carry and return only what changed, forgotten partitions leave it, wrong epochs and
// unknown ids get Kafka's errors, epoch -1 closes it; names (v12) and topic ids (v13+).
import {test, before, after} from 'node:test'
import assert from 'node:assert/strict'
import {KafkaConnection} from '../../src/core/protocol/client.js'
import {Apis} from '../../src/core/protocol/messages.js'
import {buildBatch} from '../../src/core/protocol/record-batch.js'
import {ErrorCode} from '../../src/core/protocol/errors.js'
import {startApacheZooKeeper, startBrokerProc, type ApacheZooKeeper, type BrokerProc} from './helpers.js'

let zk: ApacheZooKeeper
let broker: BrokerProc
let conn: KafkaConnection

before(async () => {
  zk = await startApacheZooKeeper()
  broker = await startBrokerProc(zk.connect)
  conn = await KafkaConnection.connect('127.0.0.1', broker.port, {clientId: 'fetch-session-test', timeoutMs: 15000})
  const created = await conn.send(Apis.CreateTopics, 4, {topics: [{name: 'fs', numPartitions: 2, replicationFactor: 1, assignments: [], configs: []}], timeoutMs: 10000})
  assert.deepEqual(created.topics.map(t => t.errorCode), [0])
})

after(async () => {
  await conn?.close()
  await broker?.cleanup()
  await zk?.stop()
})

async function produce(partition: number, n: number): Promise<void> {
  const records = Array.from({length: n}, (_, i) => ({key: null, value: Buffer.from(`v${i}`)}))
  const r = await conn.send(Apis.Produce, 9, {acks: -1, timeoutMs: 5000, topicData: [{name: 'fs', partitionData: [{index: partition, records: buildBatch({records})}]}]})
  assert.equal(r.responses[0].partitionResponses[0].errorCode, 0)
}

type Part = {partition: number; fetchOffset: number}
const fetch = (version: number, sessionId: number, sessionEpoch: number, parts: Part[], forgotten: number[] = [], topicId = '') =>
  conn.send(Apis.Fetch, version, {
    replicaId: -1, maxWaitMs: 0, minBytes: 0, maxBytes: 1 << 20, isolationLevel: 0, sessionId, sessionEpoch, rackId: '',
    topics: parts.length === 0 ? [] : [{topic: 'fs', topicId, partitions: parts.map(p => ({partition: p.partition, fetchOffset: p.fetchOffset, partitionMaxBytes: 1 << 20, currentLeaderEpoch: -1, logStartOffset: -1, lastFetchedEpoch: -1}))}],
    forgottenTopicsData: forgotten.length === 0 ? [] : [{topic: 'fs', topicId, partitions: forgotten}],
  })

/** partition -> [highWatermark, bytes of records] for what a response carries. */
function carried(r: Awaited<ReturnType<typeof fetch>>): Record<number, [number, number]> {
  const out: Record<number, [number, number]> = {}
  for (const t of r.responses) for (const p of t.partitions) {
    const rec = p.records as Buffer | Buffer[] | null
    const bytes = rec === null ? 0 : Array.isArray(rec) ? rec.reduce((n, b) => n + b.length, 0) : rec.length
    out[p.partitionIndex] = [Number(p.highWatermark), bytes]
  }
  return out
}

for (const version of [12, 16]) {
  test(`Fetch v${version}: a session carries only what changed`, async () => {
    let topicId = ''
    if (version >= 13) {
      const md = await conn.send(Apis.Metadata, 12, {topics: [{name: 'fs', topicId: 'AAAAAAAAAAAAAAAAAAAAAA'}], allowAutoTopicCreation: false, includeTopicAuthorizedOperations: false})
      topicId = md.topics[0].topicId
    }
    const base0 = Number((await fetch(version, 0, -1, [{partition: 0, fetchOffset: 0}], [], topicId)).responses[0].partitions[0].highWatermark)
    const base1 = Number((await fetch(version, 0, -1, [{partition: 1, fetchOffset: 0}], [], topicId)).responses[0].partitions[0].highWatermark)

    // Epoch 0: a full fetch that opens a session with both partitions.
    const first = await fetch(version, 0, 0, [{partition: 0, fetchOffset: base0}, {partition: 1, fetchOffset: base1}], [], topicId)
    assert.equal(first.errorCode, 0)
    assert.ok(first.sessionId > 0, 'a session id is handed out')
    assert.deepEqual(carried(first), {0: [base0, 0], 1: [base1, 0]})
    const id = first.sessionId

    // Nothing changed: an incremental fetch with no partitions returns none.
    const quiet = await fetch(version, id, 1, [], [], topicId)
    assert.equal(quiet.errorCode, 0)
    assert.equal(quiet.sessionId, id)
    assert.deepEqual(carried(quiet), {})

    // New records on partition 0 only: only partition 0 comes back, with them.
    await produce(0, 3)
    const inc = await fetch(version, id, 2, [], [], topicId)
    const c = carried(inc)
    assert.deepEqual(Object.keys(c), ['0'])
    assert.equal(c[0][0], base0 + 3)
    assert.ok(c[0][1] > 0, 'the records are in the response')

    // The client moves its offset: nothing new, nothing returned.
    assert.deepEqual(carried(await fetch(version, id, 3, [{partition: 0, fetchOffset: base0 + 3}], [], topicId)), {})

    // Wrong epoch and unknown session: Kafka's errors, and the session survives the former.
    assert.equal((await fetch(version, id, 9, [], [], topicId)).errorCode, ErrorCode.INVALID_FETCH_SESSION_EPOCH)
    assert.equal((await fetch(version, id === 1 ? 2 : 1, 1, [], [], topicId)).errorCode, ErrorCode.FETCH_SESSION_ID_NOT_FOUND)

    // Partition 1 is forgotten: its new records no longer come back; partition 0's do.
    await produce(1, 2)
    assert.deepEqual(carried(await fetch(version, id, 4, [], [1], topicId)), {})
    await produce(0, 1)
    assert.deepEqual(Object.keys(carried(await fetch(version, id, 5, [], [], topicId))), ['0'])

    // Epoch -1 closes the session: a full fetch without one.
    const closed = await fetch(version, id, -1, [{partition: 1, fetchOffset: base1}], [], topicId)
    assert.equal(closed.sessionId, 0)
    assert.deepEqual(carried(closed)[1][0], base1 + 2)
    assert.equal((await fetch(version, id, 6, [], [], topicId)).errorCode, ErrorCode.FETCH_SESSION_ID_NOT_FOUND)
  })
}
