// kafka-dump-log on segments written by a real broker (kafkit's or Apache Kafka 3.9's,
// KAFKIT_TOOLS_TARGET picks): plain, keyed, headers, gzip, idempotent and transactional
// batches (markers, .txnindex), rolled segments with real index entries and producer
// snapshots, __consumer_offsets and __transaction_state. Compared with Apache Kafka's own
// kafka-dump-log on the same files (stdout, stderr, exit code); exact lines; bad input.
import {test, before, after} from 'node:test'
import assert from 'node:assert/strict'
import {cpSync, existsSync, readdirSync, writeFileSync} from 'node:fs'
import {createRequire} from 'node:module'
import {join} from 'node:path'
import {removeDir, repoRoot, runCommand, tempDir, type RunResult} from '../helpers/util.js'
import {apacheKafkaHome, startCluster, targetSkipReason, type Cluster} from './apache-kafka.js'
import {runApacheInspect} from './apache-inspect.js'
import {AdminClient} from '../../src/core/client/admin-client.js'
import {DescribeLogDirs} from '../../src/core/protocol/messages.js'
import {javaStringHashCode} from '../../src/core/group/records.js'

const require = createRequire(join(repoRoot, 'package.json'))
const {Kafka, CompressionTypes, logLevel} = require('kafkajs')

let cluster: Cluster | undefined
const dir = tempDir('kafkit-dump-log-test-')
/** Copies of the partition directories (the broker may roll or delete files meanwhile). */
const copy = (p: string) => join(dir, p)
const seg = (p: string, base = 0, suffix = 'log') => join(copy(p), `${String(base).padStart(20, '0')}.${suffix}`)

before(async () => {
  const reason = targetSkipReason()
  if (reason) throw new Error(`kafka-dump-log tests need a broker: ${reason}`)
  cluster = await startCluster()
  const kafka = new Kafka({brokers: [cluster.bootstrap], clientId: 'dump-test', logLevel: logLevel.NOTHING})
  const admin = kafka.admin()
  await admin.connect()
  await admin.createTopics({waitForLeaders: true, topics: [
    {topic: 'dump-t', numPartitions: 1},
    {topic: 'dump-txn', numPartitions: 1},
    {topic: 'dump-roll', numPartitions: 1, configEntries: [{name: 'segment.bytes', value: '600'}, {name: 'index.interval.bytes', value: '1'}]},
  ]})
  await admin.disconnect()
  const p = kafka.producer({idempotent: true, maxInFlightRequests: 1})
  await p.connect()
  await p.send({topic: 'dump-t', messages: [{value: 'hello', timestamp: '1700000000000'}]})
  await p.send({topic: 'dump-t', messages: [{key: 'k1', value: 'v1', headers: {h1: 'x', h2: 'y'}, timestamp: '1700000001000'}, {key: 'k2', value: null, timestamp: '1700000001001'}]})
  await p.send({topic: 'dump-t', compression: CompressionTypes.GZIP, messages: [{key: 'g', value: 'gzip one', timestamp: '1700000002000'}, {value: 'gzip two', timestamp: '1700000002001'}]})
  for (let i = 0; i < 12; i++) {
    await p.send({topic: 'dump-roll', compression: i % 3 === 0 ? CompressionTypes.GZIP : CompressionTypes.None, messages: [{key: `k${i}`, value: `value-${i}`, timestamp: String(1700000000000 + i * 1000)}, {value: `second-${i}`, timestamp: String(1700000000000 + i * 1000 + 5)}]})
  }
  await p.disconnect()
  const tp = kafka.producer({transactionalId: 'dump-tx', idempotent: true, maxInFlightRequests: 1})
  await tp.connect()
  let t = await tp.transaction()
  await t.send({topic: 'dump-txn', messages: [{value: 'aborted-1'}]})
  await t.abort()
  t = await tp.transaction()
  await t.send({topic: 'dump-txn', messages: [{value: 'committed-1'}]})
  await t.commit()
  await tp.disconnect()
  const c = kafka.consumer({groupId: 'dump-group'})
  await c.connect()
  await c.subscribe({topic: 'dump-t', fromBeginning: true})
  let n = 0
  await new Promise<void>(res => { void c.run({eachMessage: async () => { if (++n === 5) res() }}) })
  await c.commitOffsets([{topic: 'dump-t', partition: 0, offset: '5'}])
  await c.disconnect()

  // lz4, snappy and zstd batches, written by kafkit's own producer.
  for (const codec of ['lz4', 'snappy', 'zstd']) {
    const r = await runCommand('kafka-producer-perf-test', ['--topic', `dump-${codec}`, '--num-records', '3000', '--record-size', '100', '--throughput', '-1', '--producer-props', `bootstrap.servers=${cluster.bootstrap}`, `compression.type=${codec}`, 'batch.size=20000'])
    assert.equal(r.code, 0, r.stderr)
  }
  const ac = new AdminClient(cluster.bootstrap)
  const res = await ac.call('describeLogDirs', {kind: 'node', id: 0}, DescribeLogDirs, {topics: null})
  ac.close()
  const logDir = res.results[0].logDir
  const offsetsPartition = Math.abs(javaStringHashCode('dump-group')) % 50
  const txnPartition = Math.abs(javaStringHashCode('dump-tx')) % 50
  for (const [from, to] of [['dump-t-0', 'dump-t-0'], ['dump-txn-0', 'dump-txn-0'], ['dump-roll-0', 'dump-roll-0'], [`__consumer_offsets-${offsetsPartition}`, 'offsets'], [`__transaction_state-${txnPartition}`, 'txn-state'], ['dump-lz4-0', 'lz4'], ['dump-snappy-0', 'snappy'], ['dump-zstd-0', 'zstd']]) {
    cpSync(join(logDir, from), copy(to), {recursive: true})
  }
})

after(async () => {
  await cluster?.stop()
  removeDir(dir)
})

const dumpLog = (...args: string[]) => runCommand('kafka-dump-log', args)

/** kafkit's and (when installed) Apache's kafka-dump-log: same exit code, stdout and stderr. */
async function same(...args: string[]): Promise<RunResult> {
  const k = await dumpLog(...args)
  if (apacheKafkaHome()) {
    const a = await runApacheInspect('kafka-dump-log', args)
    assert.equal(k.code, a.code, `exit codes: ${args.join(' ')}\n${k.stderr}\n${a.stderr}`)
    assert.equal(k.stdout, a.stdout, `stdout: ${args.join(' ')}`)
    assert.equal(k.stderr, a.stderr, `stderr: ${args.join(' ')}`)
  }
  return k
}

test('a segment as Kafka prints it: batches, records, keys, headers, gzip', async () => {
  const f = seg('dump-t-0')
  const r = await same('--print-data-log', '--files', f)
  assert.equal(r.code, 0, r.stderr)
  const lines = r.stdout.split('\n')
  assert.equal(lines[0], `Dumping ${f}`)
  assert.equal(lines[1], 'Log starting offset: 0')
  assert.match(lines[2], /^baseOffset: 0 lastOffset: 0 count: 1 baseSequence: 0 lastSequence: 0 producerId: \d+ producerEpoch: 0 partitionLeaderEpoch: 0 isTransactional: false isControl: false deleteHorizonMs: OptionalLong.empty position: 0 CreateTime: 1700000000000 size: \d+ magic: 2 compresscodec: none crc: \d+ isvalid: true$/)
  assert.equal(lines[3], '| offset: 0 CreateTime: 1700000000000 keySize: -1 valueSize: 5 sequence: 0 headerKeys: [] payload: hello')
  assert.equal(lines[5], '| offset: 1 CreateTime: 1700000001000 keySize: 2 valueSize: 2 sequence: 1 headerKeys: [h1,h2] key: k1 payload: v1')
  assert.equal(lines[6], '| offset: 2 CreateTime: 1700000001001 keySize: 2 valueSize: -1 sequence: 2 headerKeys: [] key: k2')
  assert.match(lines[7], / compresscodec: gzip crc: \d+ isvalid: true$/)
  assert.equal(lines[8], '| offset: 3 CreateTime: 1700000002000 keySize: 1 valueSize: 8 sequence: 3 headerKeys: [] key: g payload: gzip one')
  for (const opts of [[], ['--deep-iteration'], ['--print-data-log', '--skip-record-metadata'], ['--max-bytes', '100', '--deep-iteration']]) {
    await same(...opts, '--files', [f, seg('dump-t-0', 0, 'index'), seg('dump-t-0', 0, 'timeindex')].join(','))
  }
})

test('lz4, snappy and zstd batches (kafkit\'s producer), decompressed record by record', async () => {
  for (const codec of ['lz4', 'snappy', 'zstd']) {
    const r = await same('--deep-iteration', '--files', seg(codec))
    assert.equal(r.code, 0, r.stderr)
    assert.match(r.stdout, new RegExp(` compresscodec: ${codec} crc: \\d+ isvalid: true\n`))
    assert.equal(r.stdout.split('\n').filter(l => l.startsWith('| offset: ')).length, 3000)
  }
})

test('transactions: markers, the .txnindex, __transaction_state', async () => {
  const r = await same('--deep-iteration', '--files', `${seg('dump-txn-0')},${seg('dump-txn-0', 0, 'txnindex')}`)
  assert.match(r.stdout, /\| offset: 1 CreateTime: \d+ keySize: 4 valueSize: 6 sequence: -1 headerKeys: \[\] endTxnMarker: ABORT coordinatorEpoch: \d+\n/)
  assert.match(r.stdout, /endTxnMarker: COMMIT/)
  assert.match(r.stdout, /\nversion: 0 producerId: \d+ firstOffset: 0 lastOffset: 1 lastStableOffset: 2\n$/)
  const t = await same('--transaction-log-decoder', '--files', seg('txn-state'))
  assert.match(t.stdout, /key: transaction_metadata::transactionalId=dump-tx payload: producerId:\d+,producerEpoch:0,state=Ongoing,partitions=\[dump-txn-0\],txnLastUpdateTimestamp=\d+,txnTimeoutMs=60000\n/)
  assert.match(t.stdout, /state=CompleteCommit,partitions=\[\]/)
  const missing = await same('--files', seg('dump-t-0', 0, 'txnindex'))
  assert.equal(missing.code, 0)
})

test('__consumer_offsets with --offsets-decoder', async () => {
  const r = await same('--offsets-decoder', '--files', seg('offsets'))
  assert.match(r.stdout, /key: \{"type":"2","data":\{"group":"dump-group"\}\} payload: \{"version":"3","data":\{"protocolType":"consumer","generation":1,"protocol":"RoundRobinAssigner",/)
  assert.match(r.stdout, /key: \{"type":"1","data":\{"group":"dump-group","topic":"dump-t","partition":0\}\} payload: \{"version":"3","data":\{"offset":5,"leaderEpoch":-1,"metadata":"","commitTimestamp":\d+\}\}/)
})

test('rolled segments: indexes, time indexes, producer snapshots, checks', async () => {
  const files = readdirSync(copy('dump-roll-0')).filter(n => /\.(log|index|timeindex|snapshot)$/.test(n)).sort().map(n => join(copy('dump-roll-0'), n))
  assert.ok(files.some(f => f.endsWith('.snapshot')), `a producer snapshot was written at the roll: ${files.join(' ')}`)
  const r = await same('--print-data-log', '--files', files.join(','))
  assert.match(r.stdout, /\noffset: 3 position: 112\n/)
  assert.match(r.stdout, /\ntimestamp: 1700000001005 offset: 3\n/)
  assert.match(r.stdout, /\nproducerId: \d+ producerEpoch: 0 coordinatorEpoch: -1 currentTxnFirstOffset: OptionalLong.empty lastTimestamp: \d+ firstSequence: \d+ lastSequence: \d+ lastOffset: \d+ offsetDelta: 1 timestamp: \d+\n/)
  await same('--verify-index-only', '--files', files.filter(f => !f.endsWith('.snapshot')).join(','))
  // Kafka prints the exception with a stack trace where kafkit prints one line: compare the old segment only.
  await same('--index-sanity-check', '--files', `${seg('dump-roll-0', 0, 'index')},${seg('dump-roll-0', 0, 'timeindex')}`)
})

test('corrupt files and bad input: one line, exit 1', async () => {
  const none = await dumpLog()
  assert.equal(none.code, 1)
  assert.match(none.stderr, /^This tool helps to parse a log file/)
  const noFiles = await dumpLog('--print-data-log')
  assert.equal(noFiles.code, 1)
  assert.equal(noFiles.stderr, 'Missing required argument "[files]"\n')
  const badSize = await dumpLog('--max-bytes', 'x', '--files', seg('dump-t-0'))
  assert.equal(badSize.code, 1)
  assert.equal(badSize.stderr, 'Cannot parse argument \'x\' of option max-bytes\n')
  const bogus = await dumpLog('--bogus', '--files', seg('dump-t-0'))
  assert.equal(bogus.stderr, 'bogus is not a recognized option\n')
  const missing = join(dir, '00000000000000000000.log')
  const m = await dumpLog('--files', missing)
  assert.equal(m.code, 1)
  assert.equal(m.stdout, `Dumping ${missing}\nLog starting offset: 0\n`)
  assert.equal(m.stderr, `Error: ${missing} (No such file or directory)\n`)
  const unknown = join(dir, 'notes.txt')
  writeFileSync(unknown, 'x')
  const u = await same('--files', unknown)
  assert.equal(u.code, 0)
  assert.equal(u.stderr, `Ignoring unknown file ${unknown}\n`)
  // A segment cut in the middle of its last batch: the batches before it, then the torn bytes.
  const torn = join(dir, 'torn')
  cpSync(copy('dump-t-0'), torn, {recursive: true})
  const log = join(torn, '00000000000000000000.log')
  const {readFileSync} = await import('node:fs')
  const whole = readFileSync(log)
  writeFileSync(log, whole.subarray(0, whole.length - 10))
  const t = await same('--files', log)
  assert.equal(t.code, 0)
  assert.match(t.stdout, /\nFound \d+ invalid bytes at the end of 00000000000000000000.log\n$/)
  // A corrupt producer snapshot: Kafka's message on stderr, exit 0.
  const snap = join(torn, '00000000000000000005.snapshot')
  writeFileSync(snap, Buffer.from([0, 1, 0, 0, 0, 0, 0, 0, 0, 0]))
  const s = await same('--files', snap)
  assert.equal(s.code, 0)
  assert.match(s.stderr, /^Snapshot is corrupt \(CRC is no longer valid\)\. Stored crc: 0\. Computed crc: \d+\n$/)
  assert.ok(existsSync(snap))
  // A decoder that cannot read a record (no key): the record's metadata, then one line and exit 1.
  for (const decoderFlag of ['--offsets-decoder', '--transaction-log-decoder']) {
    const k = await dumpLog(decoderFlag, '--files', seg('dump-t-0'))
    assert.equal(k.code, 1)
    assert.match(k.stdout, /\n\| offset: 0 CreateTime: 1700000000000 keySize: -1 valueSize: 5 sequence: 0 headerKeys: \[\]$/)
    assert.match(k.stderr, /^Error: Failed to decode message at offset 0 using (offset topic|transaction log) decoder \(message had a missing key\)\n$/)
    if (apacheKafkaHome()) {
      const a = await runApacheInspect('kafka-dump-log', [decoderFlag, '--files', seg('dump-t-0')])
      assert.equal(k.code, a.code)
      assert.equal(k.stdout, a.stdout)
    }
  }
  const decoder = await dumpLog('--value-decoder-class', 'com.example.Decoder', '--files', seg('dump-t-0'))
  assert.equal(decoder.code, 0)
  assert.match(decoder.stderr, /^Note: --value-decoder-class com.example.Decoder is ignored/)
  assert.match(decoder.stdout, /payload: hello/)
})
