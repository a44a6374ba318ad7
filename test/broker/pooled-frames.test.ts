// Reused buffers on the produce path lose and mix nothing. The broker receives Produce frames
// that span socket chunks into buffers it reuses once the request is answered
// (socket-server.ts), and kafkit's producer builds batches in batch.size buffers it reuses once
// a batch is acknowledged (client/buffer-pool.ts). A buffer given back too early would show here
// as records of one request inside another's batch, or a batch whose CRC no longer matches.
import {test, before, after} from 'node:test'
import assert from 'node:assert/strict'
import {startCluster, type Cluster} from '../../src/api/start-cluster.js'
import {KafkaConnection} from '../../src/core/protocol/client.js'
import {Apis} from '../../src/core/protocol/messages.js'
import {buildBatch, decodeRecords, readBatchHeader, LOG_OVERHEAD} from '../../src/core/protocol/record-batch.js'
import {crc32c} from '../../src/core/util/crc32c.js'
import {Producer} from '../../src/core/client/producer.js'
import {ClientConfig} from '../../src/core/client/config.js'
import {waitFor} from '../helpers/util.js'

let cluster: Cluster
let port = 0

before(async () => {
  cluster = await startCluster({brokers: 1, brokerConfig: {'auto.create.topics.enable': 'true', 'num.partitions': '1', 'message.max.bytes': '4000000'}})
  port = Number(cluster.bootstrapServers[0].split(':')[1])
})

after(async () => {
  await cluster?.stop()
})

/** The value of record i of request r on connection c: its own bytes, `size` long. */
function valueOf(c: number, r: number, i: number, size: number): Buffer {
  const b = Buffer.alloc(size, (c * 31 + r * 7 + i) & 0xff)
  b.write(`c${c}r${r}i${i};`, 0)
  return b
}

/** Every batch of a topic-partition from offset 0 to `end`, CRCs checked, records decoded. */
async function readAll(conn: KafkaConnection, topic: string, end: number): Promise<Array<{key: string; value: Buffer}>> {
  const out: Array<{key: string; value: Buffer}> = []
  let offset = 0
  while (offset < end) {
    const res = await conn.send(Apis.Fetch, 11, {replicaId: -1, maxWaitMs: 100, minBytes: 1, maxBytes: 8 << 20, isolationLevel: 0, sessionId: 0, sessionEpoch: -1,
      topics: [{topic, partitions: [{partition: 0, currentLeaderEpoch: -1, fetchOffset: offset, logStartOffset: -1, partitionMaxBytes: 8 << 20}]}], forgottenTopicsData: [], rackId: ''})
    const p = res.responses[0].partitions[0]
    assert.equal(p.errorCode, 0)
    const buf = p.records as Buffer
    let pos = 0
    while (pos + LOG_OVERHEAD + 49 <= buf.length) {
      const h = readBatchHeader(buf, pos)
      const size = h.batchLength + LOG_OVERHEAD
      if (pos + size > buf.length) break
      assert.equal(crc32c(buf, pos + 21, pos + size), h.crc, `the CRC of the batch at offset ${h.baseOffset}`)
      for (const r of decodeRecords(buf, pos)) {
        if (r.offset < offset) continue
        out.push({key: String(r.key), value: Buffer.from(r.value!)})
        offset = r.offset + 1
      }
      pos += size
    }
  }
  return out
}

test('Produce frames over many chunks, three connections at once, acks 0/1/all, 70 KiB to 1.5 MiB: every record back as sent', async () => {
  const topic = 'pooled-frames'
  const conns = await Promise.all([0, 1, 2].map(() => KafkaConnection.connect('127.0.0.1', port, {clientId: 'pooled'})))
  try {
    // Create the topic (auto-creation) and wait for its leader.
    await waitFor(async () => {
      const m = await conns[0].send(Apis.Metadata, 9, {topics: [{name: topic}], allowAutoTopicCreation: true, includeClusterAuthorizedOperations: false, includeTopicAuthorizedOperations: false})
      return m.topics[0].errorCode === 0 && m.topics[0].partitions[0]?.leaderId >= 0
    }, 5000, 'the topic to have a leader')
    // Sizes below the pooled threshold (a chunk holds them whole), above it, and above 1 MiB
    // (the large-frame budget's path); each connection pipelines all its requests.
    const plan = [{records: 70, size: 1000}, {records: 400, size: 1000}, {records: 3, size: 100}, {records: 1500, size: 1000}, {records: 200, size: 4000}]
    const expected = new Map<string, Buffer>()
    let total = 0
    await Promise.all(conns.map(async (conn, c) => {
      const pending: Promise<unknown>[] = []
      for (let r = 0; r < 24; r++) {
        const {records, size} = plan[(r + c) % plan.length]
        const recs = []
        for (let i = 0; i < records; i++) {
          const key = `c${c}r${r}i${i}`
          const value = valueOf(c, r, i, size)
          expected.set(key, value)
          recs.push({key: Buffer.from(key), value})
        }
        total += records
        const acks = [0, 1, -1][r % 3]
        pending.push(conn.send(Apis.Produce, 8, {transactionalId: null, acks, timeoutMs: 30000,
          topicData: [{name: topic, partitionData: [{index: 0, records: buildBatch({records: recs})}]}]}).then(res => {
          if (res) assert.equal(res.responses[0].partitionResponses[0].errorCode, 0)
        }))
      }
      await Promise.all(pending)
    }))
    // acks=0 requests have no answer: wait until the log has every record.
    await waitFor(async () => {
      const lo = await conns[0].send(Apis.ListOffsets, 5, {replicaId: -1, isolationLevel: 0, topics: [{name: topic, partitions: [{partitionIndex: 0, currentLeaderEpoch: -1, timestamp: -1}]}]})
      return lo.topics[0].partitions[0].offset >= total
    }, 30000, `the log to reach ${total} records`)
    const got = await readAll(conns[0], topic, total)
    assert.equal(got.length, total)
    const seen = new Set<string>()
    for (const {key, value} of got) {
      assert.ok(!seen.has(key), `record ${key} appears once`)
      seen.add(key)
      assert.ok(expected.get(key)?.equals(value), `record ${key} has the value it was sent with`)
    }
  } finally {
    for (const c of conns) c.close()
  }
})

test("kafkit's producer reuses its batch buffers and every record arrives as sent", async () => {
  const topic = 'pooled-producer'
  const producer = new Producer(cluster.bootstrapServers.join(','), new ClientConfig({'batch.size': 262144, 'linger.ms': 2, acks: 'all', 'enable.idempotence': 'true'}), 'pooled-producer')
  const n = 24000
  const errors: string[] = []
  try {
    for (let i = 0; i < n; i++) {
      const p = producer.send(topic, 0, Buffer.from(`k${i}`), valueOf(9, 0, i, 1000), null, -1, e => { if (e) errors.push(e.message) })
      if (p) await p
    }
    await producer.flush()
    assert.deepEqual(errors, [])
    assert.ok(producer.pool.freeCount > 0, 'acknowledged batches gave their buffers back')
  } finally {
    await producer.close()
  }
  const conn = await KafkaConnection.connect('127.0.0.1', port, {clientId: 'pooled-check'})
  try {
    const got = await readAll(conn, topic, n)
    assert.equal(got.length, n)
    got.forEach(({key, value}, i) => {
      assert.equal(key, `k${i}`)
      assert.ok(value.equals(valueOf(9, 0, i, 1000)), `record ${i} has the value it was sent with`)
    })
  } finally {
    conn.close()
  }
})
