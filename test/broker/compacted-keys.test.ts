// A compacted topic refuses records without a key, as Kafka 3.9's LogValidator does: the
// partition answers INVALID_RECORD with one record error per keyless record (its index in the
// batch) and Kafka's message quoting the first three; compressed batches are looked into; a
// keyed batch and a delete-policy topic are accepted. The same raw requests go to a kafkit broker
// and to Apache Kafka 3.9's, and the answers must match.
import {test, before, after} from 'node:test'
import assert from 'node:assert/strict'
import {removeDir, runCommand, waitFor} from '../helpers/util.js'
import {startApacheZooKeeper, type ApacheZooKeeper} from './helpers.js'
import {startSecureBroker, startApacheBroker, apacheSkip, apacheTool, scratch, type SecureBroker, type ApacheBroker} from '../security/helpers.js'
import {RawConn, requestFrame, decodeResponse} from '../security/raw.js'
import {buildBatch} from '../../src/core/protocol/record-batch.js'
import {recompressBatch} from '../../src/core/log/cleaner.js'

const skip = apacheSkip()
let zk: ApacheZooKeeper
let kafkit: SecureBroker
let apache: ApacheBroker
let dir: string

before(async () => {
  if (skip) return
  dir = scratch()
  zk = await startApacheZooKeeper()
  kafkit = await startSecureBroker(`${zk.connect}/kafkit`, {PLAINTEXT: 'PLAINTEXT'}, [])
  apache = await startApacheBroker(`${zk.connect}/apache`, {PLAINTEXT: 'PLAINTEXT'}, [])
})

after(async () => {
  await kafkit?.cleanup()
  await apache?.stop()
  await zk?.stop()
  if (dir) removeDir(dir)
})

const k = (s: string) => Buffer.from(s)
const cases: Array<[string, string, Buffer]> = [
  ['compact, keyed, null, null', 'c', buildBatch({records: [{key: k('a'), value: k('1')}, {key: null, value: k('2')}, {key: null, value: k('3')}]})],
  ['compact, gzip batch with a keyless record', 'c', recompressBatch(buildBatch({records: [{key: k('b'), value: k('4')}, {key: null, value: k('5')}]}), 1)],
  ['compact, five keyless records (three quoted)', 'c', buildBatch({records: [1, 2, 3, 4, 5].map(i => ({key: null, value: k(String(i))}))})],
  ['compact,delete, keyless', 'cd', buildBatch({records: [{key: null, value: k('6')}]})],
  ['compact, every record keyed', 'c', buildBatch({records: [{key: k('a'), value: k('7')}, {key: k('b'), value: null}]})],
  ['delete policy, keyless', 'd', buildBatch({records: [{key: null, value: k('8')}]})],
]

async function transcript(port: number, bootstrap: string): Promise<string[]> {
  for (const [topic, policy] of [['c', 'compact'], ['cd', 'compact,delete'], ['d', 'delete']]) {
    const r = await runCommand('kafka-topics', ['--bootstrap-server', bootstrap, '--create', '--topic', topic, '--partitions', '1', '--replication-factor', '1', '--config', `cleanup.policy=${policy}`], {timeoutMs: 60000})
    assert.equal(r.code, 0, r.stderr)
  }
  const conn = await RawConn.open(port)
  const lines: string[] = []
  try {
    let id = 1
    for (const [what, topic, records] of cases) {
      // A new partition's leader may take a moment: produce again on NOT_LEADER / UNKNOWN_TOPIC until it serves.
      const p = await waitFor(async () => {
        conn.write(requestFrame(0, 9, id, {transactionalId: null, acks: 1, timeoutMs: 5000, topicData: [{name: topic, partitionData: [{index: 0, records}]}]}))
        const frame = await conn.next(20000)
        assert.ok(frame, `an answer to the produce of ${what}`)
        id++
        const r = decodeResponse(0, 9, frame!).responses[0].partitionResponses[0]
        return r.errorCode === 6 || r.errorCode === 3 ? undefined : r
      }, 20000, `the leader of ${topic} to serve`, 100)
      lines.push(`${what}: error ${p.errorCode}, message ${JSON.stringify(p.errorMessage)}, record errors ${JSON.stringify(p.recordErrors.map((e: any) => [e.batchIndex, e.batchIndexErrorMessage]))}`)
    }
  } finally {
    conn.close()
  }
  return lines
}

test('a compacted topic refuses keyless records with Kafka 3.9\'s record errors and message, as Apache Kafka 3.9 answers', {skip, timeout: 180000}, async () => {
  const ours = await transcript(kafkit.ports.PLAINTEXT, kafkit.addr('PLAINTEXT'))
  const theirs = await transcript(apache.ports.PLAINTEXT, apache.addr('PLAINTEXT'))
  console.log(ours.join('\n'))
  assert.deepEqual(ours, theirs)
  const msg = 'Compacted topic cannot accept message without key in topic partition c-0'
  assert.equal(ours[0], `compact, keyed, null, null: error 87, message ${JSON.stringify(`One or more records have been rejected due to 2 record errors in total, and only showing the first three errors at most: [RecordError(batchIndex=1, message='${msg}'), RecordError(batchIndex=2, message='${msg}')]`)}, record errors ${JSON.stringify([[1, msg], [2, msg]])}`)
  assert.match(ours[4], /^compact, every record keyed: error 0, /)
  assert.match(ours[5], /^delete policy, keyless: error 0, /)
})

test('kafka-console-producer on a compacted topic prints, per keyless line, what Apache\'s tool prints (kafkit then exits 1, Apache 0)', {skip, timeout: 180000}, async () => {
  // Two lines in one batch (linger.ms): two record errors, each line failing with its own.
  const args = ['--bootstrap-server', kafkit.addr('PLAINTEXT'), '--topic', 'c', '--producer-property', 'linger.ms=200']
  const ours = await runCommand('kafka-console-producer', args, {input: 'a\nb\n', timeoutMs: 60000})
  const theirs = await apacheTool('kafka-console-producer', args, {input: 'a\nb\n'})
  const lines = (s: string) => s.split('\n').map(l => l.replace(/^\[[^\]]*\] /, '')).filter(Boolean)
  assert.deepEqual(lines(ours.stderr), lines(theirs.stderr))
  assert.deepEqual(lines(ours.stderr).filter(l => l.startsWith('org.')), Array(2).fill('org.apache.kafka.common.InvalidRecordException: Compacted topic cannot accept message without key in topic partition c-0'))
  assert.equal(ours.code, 1)
})
