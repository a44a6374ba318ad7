// Producer state recovery of an open transaction from a .snapshot: a topic with tiny segments
// (segment.bytes) rolls in the middle of an open transaction, so its first offset lives only in
// the producer state snapshot written at the roll; the broker is killed -9 and restarted. The
// last stable offset must come back at the open transaction's first offset, read_committed
// fetches must stop there, and the transaction can then be committed by its producer, or is
// aborted by the coordinator once transaction.timeout.ms has passed.
import {test, before, after} from 'node:test'
import assert from 'node:assert/strict'
import {readdirSync} from 'node:fs'
import {join} from 'node:path'
import {KafkaConnection} from '../../src/core/protocol/client.js'
import {Apis} from '../../src/core/protocol/messages.js'
import {ErrorCode} from '../../src/core/protocol/errors.js'
import {buildBatch} from '../../src/core/protocol/record-batch.js'
import {waitFor} from '../helpers/util.js'
import {startTxnCluster, type TxnCluster} from './helpers.js'

const TOPIC = 'snap'
let cluster: TxnCluster
let conn: KafkaConnection | undefined

before(async () => {
  cluster = await startTxnCluster(1)
})

after(async () => {
  await conn?.close().catch(() => {})
  await cluster?.stop()
})

async function connect(): Promise<KafkaConnection> {
  await conn?.close().catch(() => {})
  conn = await KafkaConnection.connect('127.0.0.1', cluster.brokers[0].port)
  await conn.negotiate()
  return conn
}

async function init(txid: string, timeoutMs: number): Promise<{pid: number; epoch: number}> {
  let r: any
  await waitFor(async () => {
    const c = await conn!.send(Apis.FindCoordinator, 4, {keyType: 1, coordinatorKeys: [txid]})
    if (c.coordinators[0].errorCode !== 0) return false
    r = await conn!.send(Apis.InitProducerId, 4, {transactionalId: txid, transactionTimeoutMs: timeoutMs, producerId: -1, producerEpoch: -1})
    return r.errorCode === 0
  }, 60000, `InitProducerId ${txid}`)
  return {pid: r.producerId, epoch: r.producerEpoch}
}

async function addPartition(txid: string, p: {pid: number; epoch: number}, partition: number): Promise<void> {
  await waitFor(async () => {
    const r = await conn!.send(Apis.AddPartitionsToTxn, 3, {v3AndBelowTransactionalId: txid, v3AndBelowProducerId: p.pid, v3AndBelowProducerEpoch: p.epoch, v3AndBelowTopics: [{name: TOPIC, partitions: [partition]}]})
    return r.resultsByTopicV3AndBelow[0].resultsByPartition[0].partitionErrorCode === 0
  }, 30000, 'AddPartitionsToTxn')
}

/** One transactional batch of `n` records of 600 bytes (each batch is larger than a segment, so each starts one). */
async function produce(txid: string, p: {pid: number; epoch: number}, partition: number, seq: number, n: number): Promise<number> {
  const records = buildBatch({producerId: p.pid, producerEpoch: p.epoch, baseSequence: seq, isTransactional: true, records: Array.from({length: n}, (_, i) => ({key: null, value: Buffer.alloc(600, 48 + ((seq + i) % 10))}))})
  const r = await conn!.send(Apis.Produce, 9, {transactionalId: txid, acks: -1, timeoutMs: 10000, topicData: [{name: TOPIC, partitionData: [{index: partition, records}]}]})
  const pr = r.responses[0].partitionResponses[0]
  assert.equal(pr.errorCode, 0)
  return Number(pr.baseOffset)
}

async function endTxn(txid: string, p: {pid: number; epoch: number}, committed: boolean): Promise<void> {
  const r = await conn!.send(Apis.EndTxn, 3, {transactionalId: txid, producerId: p.pid, producerEpoch: p.epoch, committed})
  assert.equal(r.errorCode, 0)
}

/** ListOffsets latest: read_uncommitted (0) gives the log end, read_committed (1) the last stable offset; null while the broker cannot answer. */
async function latest(partition: number, isolationLevel: number): Promise<number | null> {
  const r = await conn!.send(Apis.ListOffsets, 5, {replicaId: -1, isolationLevel, topics: [{name: TOPIC, partitions: [{partitionIndex: partition, timestamp: -1, currentLeaderEpoch: -1}]}]})
  const p = r.topics[0].partitions[0]
  return p.errorCode === 0 ? Number(p.offset) : null
}

/**
 * read_committed Fetches from offset 0 up to the last stable offset (a fetch answers from one
 * segment at most): the last stable offset, the offsets of the data records returned, the
 * aborted transactions named.
 */
async function fetchCommitted(partition: number): Promise<{lso: number; offsets: number[]; aborted: {producerId: number; firstOffset: number}[]}> {
  const offsets: number[] = []
  const aborted: {producerId: number; firstOffset: number}[] = []
  let lso = -1
  for (let next = 0, rounds = 0; lso < 0 || next < lso; rounds++) {
    assert.ok(rounds < 100, `fetch stuck at ${next}`)
    const f = await conn!.send(Apis.Fetch, 12, {replicaId: -1, maxWaitMs: 0, minBytes: 0, maxBytes: 1 << 20, isolationLevel: 1, sessionId: 0, sessionEpoch: -1, topics: [{topic: TOPIC, partitions: [{partition, fetchOffset: next, currentLeaderEpoch: -1, lastFetchedEpoch: -1, logStartOffset: -1, partitionMaxBytes: 1 << 20}]}], forgottenTopicsData: [], rackId: ''})
    const pr = f.responses[0].partitions[0]
    assert.equal(pr.errorCode, 0)
    lso = Number(pr.lastStableOffset)
    for (const a of pr.abortedTransactions ?? []) if (!aborted.some(x => x.producerId === Number(a.producerId) && x.firstOffset === Number(a.firstOffset))) aborted.push({producerId: Number(a.producerId), firstOffset: Number(a.firstOffset)})
    const buf: Buffer = pr.records ?? Buffer.alloc(0)
    // Batch headers: baseOffset (8), length (4), ... attributes at 21, lastOffsetDelta at 23.
    for (let at = 0; at + 61 <= buf.length;) {
      const base = Number(buf.readBigInt64BE(at))
      const size = buf.readInt32BE(at + 8) + 12
      if (at + size > buf.length) break
      const last = base + buf.readInt32BE(at + 23)
      if ((buf.readInt16BE(at + 21) & 0x20) === 0) for (let o = base; o <= last; o++) offsets.push(o)
      next = last + 1
      at += size
    }
    if (buf.length === 0 && next < lso) throw new Error(`an empty fetch at ${next} below the last stable offset ${lso}`)
  }
  return {lso, offsets, aborted}
}

test('an open transaction across a segment roll survives kill -9: the LSO, read_committed, then commit or timeout abort', {timeout: 300000}, async () => {
  await connect()
  const created = await conn!.send(Apis.CreateTopics, 5, {topics: [{name: TOPIC, numPartitions: 2, replicationFactor: 1, configs: [{name: 'segment.bytes', value: '1024'}]}], timeoutMs: 10000})
  assert.equal(created.topics[0].errorCode, 0)
  await waitFor(async () => (await latest(0, 0)) === 0 && (await latest(1, 0)) === 0, 30000, 'the partitions to have a leader')

  // Partition 0: a committed transaction (offsets 0-2, marker 3), then one left open from offset 4
  // across several segments.
  const a = await init('snap-committed', 60000)
  await addPartition('snap-committed', a, 0)
  assert.equal(await produce('snap-committed', a, 0, 0, 3), 0)
  await endTxn('snap-committed', a, true)
  await waitFor(async () => (await latest(0, 1)) === 4, 30000, 'the commit marker')
  const b = await init('snap-open', 600000)
  await addPartition('snap-open', b, 0)
  let seq = 0
  for (let i = 0; i < 4; i++) { await produce('snap-open', b, 0, seq, 2); seq += 2 }
  const end0 = (await latest(0, 0))!
  assert.equal(end0, 12)
  assert.equal(await latest(0, 1), 4)

  // Partition 1: a transaction with a short timeout, open across segments too, from offset 0.
  const c = await init('snap-timeout', 20000)
  await addPartition('snap-timeout', c, 1)
  for (let i = 0; i < 3; i++) await produce('snap-timeout', c, 1, i * 2, 2)
  assert.equal(await latest(1, 1), 0)

  // The rolls wrote .snapshot files; the open transaction's first offset (4) is in an older segment
  // than the active one, so after the restart only the snapshot can tell it.
  const dir0 = join(cluster.dir, 'broker-0', `${TOPIC}-0`)
  const files = readdirSync(dir0)
  assert.ok(files.filter(f => f.endsWith('.log')).length >= 4, files.join(' '))
  assert.ok(files.some(f => f.endsWith('.snapshot') && Number(f.slice(0, 20)) > 4), files.join(' '))

  await cluster.brokers[0].stop('SIGKILL')
  await cluster.brokers[0].start()
  await connect()

  // Partition 0: the open transaction holds the last stable offset at 4 again; read_committed
  // fetches return the committed records 0-2 and nothing of it.
  await waitFor(async () => (await latest(0, 0)) === end0, 60000, 'partition 0 to be back')
  assert.equal(await latest(0, 1), 4)
  const before = await fetchCommitted(0)
  assert.equal(before.lso, 4)
  assert.deepEqual(before.offsets, [0, 1, 2])

  // The producer commits it (its coordinator state came back from __transaction_state).
  await waitFor(async () => {
    const r = await conn!.send(Apis.EndTxn, 3, {transactionalId: 'snap-open', producerId: b.pid, producerEpoch: b.epoch, committed: true})
    if (r.errorCode === ErrorCode.COORDINATOR_LOAD_IN_PROGRESS || r.errorCode === ErrorCode.NOT_COORDINATOR || r.errorCode === ErrorCode.CONCURRENT_TRANSACTIONS) return false
    assert.equal(r.errorCode, 0)
    return true
  }, 60000, 'EndTxn after the restart')
  await waitFor(async () => (await latest(0, 1)) === end0 + 1, 30000, 'the commit marker after the restart')
  const after = await fetchCommitted(0)
  assert.deepEqual(after.offsets, [0, 1, 2, 4, 5, 6, 7, 8, 9, 10, 11])
  assert.deepEqual(after.aborted, [])

  // Partition 1: the coordinator aborts the timed-out transaction; read_committed learns that
  // its records (0-5) are aborted.
  await waitFor(async () => (await latest(1, 1)) === 7, 120000, 'the coordinator to abort the timed-out transaction')
  const aborted = await fetchCommitted(1)
  assert.equal(aborted.lso, 7)
  assert.deepEqual(aborted.aborted, [{producerId: c.pid, firstOffset: 0}])
})
