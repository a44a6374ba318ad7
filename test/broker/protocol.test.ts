// Produce / Fetch / ListOffsets semantics at the wire level (kafkit's own protocol client):
// idempotent-producer duplicates, gaps and fenced epochs; CRC, acks and size checks;
// min.insync.replicas; fetch long-polling woken by an append; offsets; acks=0 ordering.
import {test, before, after} from 'node:test'
import assert from 'node:assert/strict'
import {KafkaConnection} from '../../src/core/protocol/client.js'
import {Apis} from '../../src/core/protocol/messages.js'
import {buildBatch} from '../../src/core/protocol/record-batch.js'
import {startApacheZooKeeper, startBrokerProc, type ApacheZooKeeper, type BrokerProc} from './helpers.js'

let zk: ApacheZooKeeper
let broker: BrokerProc
let conn: KafkaConnection

before(async () => {
  zk = await startApacheZooKeeper()
  broker = await startBrokerProc(zk.connect)
  conn = await KafkaConnection.connect('127.0.0.1', broker.port, {clientId: 'protocol-test', timeoutMs: 15000})
  const created = await conn.send(Apis.CreateTopics, 4, {topics: [
    {name: 'p1', numPartitions: 1, replicationFactor: 1, assignments: [], configs: []},
    {name: 'small', numPartitions: 1, replicationFactor: 1, assignments: [], configs: [{name: 'max.message.bytes', value: '1000'}]},
    {name: 'isr2', numPartitions: 1, replicationFactor: 1, assignments: [], configs: [{name: 'min.insync.replicas', value: '2'}]},
  ], timeoutMs: 10000})
  assert.deepEqual(created.topics.map(t => t.errorCode), [0, 0, 0])
})

after(async () => {
  await conn?.close()
  await broker?.cleanup()
  await zk?.stop()
})

const rec = (v: string) => ({key: null, value: Buffer.from(v)})

async function produce(topic: string, records: Buffer | null, acks = -1, version = 9) {
  const r = await conn.send(Apis.Produce, version, {acks, timeoutMs: 5000, topicData: [{name: topic, partitionData: [{index: 0, records}]}]})
  return r.responses[0].partitionResponses[0]
}

async function latest(topic: string): Promise<number> {
  const r = await conn.send(Apis.ListOffsets, 7, {replicaId: -1, topics: [{name: topic, partitions: [{partitionIndex: 0, timestamp: -1}]}]})
  return r.topics[0].partitions[0].offset
}

test('idempotent producer: duplicates return the first offset, gaps and old epochs are refused', async () => {
  const init = await conn.send(Apis.InitProducerId, 4, {transactionalId: null, transactionTimeoutMs: 60000})
  assert.equal(init.errorCode, 0)
  const pid = init.producerId
  assert.ok(pid >= 0)
  const b0 = () => buildBatch({records: [rec('a'), rec('b')], producerId: pid, producerEpoch: 0, baseSequence: 0})
  const first = await produce('p1', b0())
  assert.equal(first.errorCode, 0)
  assert.equal(first.baseOffset, 0)
  const again = await produce('p1', b0())
  assert.equal(again.errorCode, 0)
  assert.equal(again.baseOffset, 0)
  assert.equal(await latest('p1'), 2, 'the duplicate was not written')
  const next = await produce('p1', buildBatch({records: [rec('c')], producerId: pid, producerEpoch: 0, baseSequence: 2}))
  assert.equal(next.errorCode, 0)
  assert.equal(next.baseOffset, 2)
  const gap = await produce('p1', buildBatch({records: [rec('x')], producerId: pid, producerEpoch: 0, baseSequence: 7}))
  assert.equal(gap.errorCode, 45, 'OUT_OF_ORDER_SEQUENCE_NUMBER')
  const bumped = await produce('p1', buildBatch({records: [rec('d')], producerId: pid, producerEpoch: 1, baseSequence: 0}))
  assert.equal(bumped.errorCode, 0)
  const fenced = await produce('p1', buildBatch({records: [rec('e')], producerId: pid, producerEpoch: 0, baseSequence: 3}))
  assert.equal(fenced.errorCode, 47, 'INVALID_PRODUCER_EPOCH')
  assert.equal(await latest('p1'), 4)
})

test('bad CRC, bad acks, oversize batches, unknown partitions, min.insync.replicas', async () => {
  const corrupt = buildBatch({records: [rec('hello')]})
  corrupt[corrupt.length - 1] ^= 0xff
  assert.equal((await produce('p1', corrupt)).errorCode, 2, 'CORRUPT_MESSAGE')
  assert.equal((await produce('p1', buildBatch({records: [rec('x')]}), 5)).errorCode, 21, 'INVALID_REQUIRED_ACKS')
  assert.equal((await produce('small', buildBatch({records: [rec('y'.repeat(2000))]}))).errorCode, 10, 'MESSAGE_TOO_LARGE')
  assert.equal((await produce('small', buildBatch({records: [rec('fits')]}))).errorCode, 0)
  const r = await conn.send(Apis.Produce, 9, {acks: 1, timeoutMs: 5000, topicData: [{name: 'p1', partitionData: [{index: 9, records: buildBatch({records: [rec('x')]})}]}]})
  assert.equal(r.responses[0].partitionResponses[0].errorCode, 3, 'UNKNOWN_TOPIC_OR_PARTITION')
  assert.equal((await produce('isr2', buildBatch({records: [rec('z')]}), -1)).errorCode, 19, 'NOT_ENOUGH_REPLICAS')
  assert.equal((await produce('isr2', buildBatch({records: [rec('z')]}), 1)).errorCode, 0, 'acks=1 ignores min.insync.replicas')
})

test('a waiting fetch is woken by an append, not by its timeout', async () => {
  const end = await latest('p1')
  const other = await KafkaConnection.connect('127.0.0.1', broker.port, {clientId: 'fetcher'})
  try {
    const started = Date.now()
    const pending = other.send(Apis.Fetch, 11, {replicaId: -1, maxWaitMs: 10000, minBytes: 1, maxBytes: 1 << 20, isolationLevel: 0, sessionId: 0, sessionEpoch: -1, topics: [{topic: 'p1', partitions: [{partition: 0, fetchOffset: end, partitionMaxBytes: 1 << 20, currentLeaderEpoch: -1, logStartOffset: -1}]}], forgottenTopicsData: [], rackId: ''})
    // The fetch is on the wire before the produce is sent; were the produce to reach the broker
    // first, the fetch would find the record at once (took would be small either way), but a
    // fetch that waits and is not woken takes its whole 10 s.
    await new Promise(r => setImmediate(r))
    await produce('p1', buildBatch({records: [rec('wake-up')]}), 1)
    const res = await pending
    const took = Date.now() - started
    const part = res.responses[0].partitions[0]
    assert.equal(part.errorCode, 0)
    assert.equal(part.highWatermark, end + 1)
    assert.ok(part.records && part.records.length > 0)
    assert.ok(took < 3000, `fetch returned after ${took} ms`)
  } finally {
    await other.close()
  }
})

test('fetch out of range, list offsets earliest/latest/by time, topic ids on Fetch v13+', async () => {
  const out = await conn.send(Apis.Fetch, 11, {replicaId: -1, maxWaitMs: 0, minBytes: 0, maxBytes: 1 << 20, isolationLevel: 0, sessionId: 0, sessionEpoch: -1, topics: [{topic: 'p1', partitions: [{partition: 0, fetchOffset: 9999, partitionMaxBytes: 1 << 20, currentLeaderEpoch: -1, logStartOffset: -1}]}], forgottenTopicsData: [], rackId: ''})
  assert.equal(out.responses[0].partitions[0].errorCode, 1, 'OFFSET_OUT_OF_RANGE')
  const lo = await conn.send(Apis.ListOffsets, 7, {replicaId: -1, topics: [{name: 'p1', partitions: [{partitionIndex: 0, timestamp: -2}, {partitionIndex: 0, timestamp: 0}, {partitionIndex: 0, timestamp: Date.now() + 3600000}]}]})
  const [earliest, byTime, future] = lo.topics[0].partitions
  assert.equal(earliest.offset, 0)
  assert.equal(byTime.offset, 0)
  assert.equal(future.offset, -1)
  const meta = await conn.send(Apis.Metadata, 12, {topics: [{name: 'p1', topicId: 'AAAAAAAAAAAAAAAAAAAAAA'}], allowAutoTopicCreation: false, includeTopicAuthorizedOperations: false})
  const topicId = meta.topics[0].topicId
  assert.equal(topicId.length, 22)
  const f = await conn.send(Apis.Fetch, 16, {replicaId: -1, maxWaitMs: 0, minBytes: 0, maxBytes: 1 << 20, isolationLevel: 1, sessionId: 0, sessionEpoch: -1, topics: [{topicId, partitions: [{partition: 0, fetchOffset: 0, partitionMaxBytes: 1 << 20, currentLeaderEpoch: -1, logStartOffset: -1, lastFetchedEpoch: -1}]}], forgottenTopicsData: [], rackId: ''})
  assert.equal(f.sessionId, 0)
  assert.equal(f.responses[0].topicId, topicId)
  assert.equal(f.responses[0].partitions[0].errorCode, 0)
  assert.ok((f.responses[0].partitions[0].records?.length ?? 0) > 0)
})

test('acks=0 gets no response and does not disturb the order of later responses', async () => {
  const before = await latest('p1')
  await conn.send(Apis.Produce, 9, {acks: 0, timeoutMs: 5000, topicData: [{name: 'p1', partitionData: [{index: 0, records: buildBatch({records: [rec('fire-and-forget')]})}]}]})
  assert.equal(await latest('p1'), before + 1)
})

test('a topic\'s compression.type recompresses batches sent in another codec; consumers read the same records', async () => {
  const created = await conn.send(Apis.CreateTopics, 4, {topics: [
    {name: 'as-zstd', numPartitions: 1, replicationFactor: 1, assignments: [], configs: [{name: 'compression.type', value: 'zstd'}]},
    {name: 'as-plain', numPartitions: 1, replicationFactor: 1, assignments: [], configs: [{name: 'compression.type', value: 'uncompressed'}]},
  ], timeoutMs: 10000})
  assert.deepEqual(created.topics.map(t => t.errorCode), [0, 0])
  const values = Array.from({length: 50}, (_, i) => `value ${i} ${'x'.repeat(100)}`)
  const fetchBatch = async (topic: string) => {
    const r = await conn.send(Apis.Fetch, 11, {replicaId: -1, maxWaitMs: 0, minBytes: 1, maxBytes: 1 << 20, isolationLevel: 0, sessionId: 0, sessionEpoch: -1, topics: [{topic, partitions: [{partition: 0, fetchOffset: 0, partitionMaxBytes: 1 << 20, currentLeaderEpoch: -1, logStartOffset: -1}]}], forgottenTopicsData: [], rackId: ''})
    return r.responses[0].partitions[0].records as Buffer
  }
  // Uncompressed in, zstd stored.
  assert.equal((await produce('as-zstd', buildBatch({records: values.map(rec)}), 1)).errorCode, 0)
  const z = await fetchBatch('as-zstd')
  assert.equal(z.readInt16BE(21) & 7, 4, 'stored as zstd')
  assert.ok(z.length < 50 * 100, `smaller than the records (${z.length} bytes)`)
  const {readRecords} = await import('../../src/core/client/records.js')
  const valuesOf = (buf: Buffer) => {
    const out: string[] = []
    readRecords(buf, 0, 1000, undefined, 'test', true, r => out.push(r.value!.toString()))
    return out
  }
  assert.deepEqual(valuesOf(z), values)
  // gzip in, uncompressed stored.
  const {compress} = await import('../../src/core/protocol/compression.js')
  const plain = buildBatch({records: values.map(rec)})
  const gz = Buffer.concat([plain.subarray(0, 61), compress(1, plain.subarray(61))])
  gz.writeInt32BE(gz.length - 12, 8)
  gz.writeInt16BE(1, 21)
  const {updateCrc} = await import('../../src/core/protocol/record-batch.js')
  updateCrc(gz, 0)
  assert.equal((await produce('as-plain', gz, 1)).errorCode, 0)
  const p = await fetchBatch('as-plain')
  assert.equal(p.readInt16BE(21) & 7, 0, 'stored uncompressed')
  assert.deepEqual(valuesOf(p), values)
})
