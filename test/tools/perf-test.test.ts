// kafka-producer-perf-test and kafka-consumer-perf-test typed as a user types them, against a
// real broker; output lines checked against the exact shapes Apache Kafka 3.9's tools print.
import {test, before, after} from 'node:test'
import assert from 'node:assert/strict'
import {writeFileSync} from 'node:fs'
import {join} from 'node:path'
import {runCommand, startCommand, tempDir, removeDir, waitFor} from '../helpers/util.js'
import {startCluster, targetSkipReason, type Cluster} from './apache-kafka.js'
import {startBrokerProc, type BrokerProc} from '../broker/helpers.js'
import {GroupAdmin, LATEST_TIMESTAMP} from '../../src/core/client/groups.js'

let cluster: Cluster | undefined
let B = ''
let dir = ''

before(async () => {
  const reason = targetSkipReason()
  if (reason) throw new Error(`perf tool tests need a broker: ${reason}`)
  cluster = await startCluster()
  B = cluster.bootstrap
  dir = tempDir('kafkit-perf-')
})

after(async () => {
  await cluster?.stop()
  if (dir) removeDir(dir)
})

// ProducerPerformance's lines: the 5 s window (%d, %.1f, %.2f, %.1f, %.1f) and the total
// (%d, %f, %.2f, %.2f, %.2f, then four %d percentiles).
const WINDOW = /^(\d+) records sent, \d+\.\d records\/sec \(\d+\.\d{2} MB\/sec\), \d+\.\d ms avg latency, \d+\.\d ms max latency\.$/
const TOTAL = /^(\d+) records sent, \d+\.\d{6} records\/sec \((\d+\.\d{2}) MB\/sec\), \d+\.\d{2} ms avg latency, (\d+)\.00 ms max latency, (\d+) ms 50th, (\d+) ms 95th, (\d+) ms 99th, (\d+) ms 99\.9th\.$/
// ConsumerPerformance's header and result line (%s, %s, %.4f, %.4f, %d, %.4f, %d, %d, %.4f, %.4f).
const HEADER = 'start.time, end.time, data.consumed.in.MB, MB.sec, data.consumed.in.nMsg, nMsg.sec, rebalance.time.ms, fetch.time.ms, fetch.MB.sec, fetch.nMsg.sec'
const DETAILED_HEADER = 'time, threadId, data.consumed.in.MB, MB.sec, data.consumed.in.nMsg, nMsg.sec, rebalance.time.ms, fetch.time.ms, fetch.MB.sec, fetch.nMsg.sec'
const DATE = String.raw`\d{4}-\d\d-\d\d \d\d:\d\d:\d\d:\d{3}`
const RESULT = new RegExp(String.raw`^${DATE}, ${DATE}, (\d+\.\d{4}), \d+\.\d{4}, (\d+), \d+\.\d{4}, (\d+), (\d+), \d+\.\d{4}, \d+\.\d{4}$`)
const DETAILED = new RegExp(String.raw`^${DATE}, 0, (\d+\.\d{4}), \d+\.\d{4}, (\d+), \d+\.\d{4}, \d+, -?\d+, \d+\.\d{4}, \d+\.\d{4}$`)

const createTopic = async (topic: string, partitions: number) => {
  const r = await runCommand('kafka-topics', ['--create', '--bootstrap-server', B, '--topic', topic, '--partitions', String(partitions), '--replication-factor', '1'])
  assert.equal(r.code, 0, r.stdout + r.stderr)
}

/** Sum of the log end offsets of topic's partitions, from the partition leaders. */
const endOffsets = async (topic: string, partitions: number): Promise<number> => {
  const admin = new GroupAdmin(B, {timeoutMs: 10000})
  try {
    const m = await admin.listOffsets(Array.from({length: partitions}, (_, partition) => ({topic, partition})), LATEST_TIMESTAMP)
    assert.equal(m.size, partitions)
    let sum = 0
    for (const v of m.values()) sum += v
    return sum
  } finally {
    admin.close()
  }
}

test('producer: every record is delivered and the summary line has Kafka\'s shape', async () => {
  await createTopic('perf', 3)
  const n = 200000
  const r = await runCommand('kafka-producer-perf-test', ['--topic', 'perf', '--num-records', String(n), '--record-size', '100', '--throughput', '-1', '--producer-props', `bootstrap.servers=${B}`, 'acks=1'])
  assert.equal(r.code, 0, r.stderr)
  assert.equal(r.stderr, '')
  const lines = r.stdout.trimEnd().split('\n')
  const m = TOTAL.exec(lines[lines.length - 1])
  assert.ok(m, lines[lines.length - 1])
  assert.equal(Number(m[1]), n)
  const [p50, p95, p99, p999, max] = [m[4], m[5], m[6], m[7], m[3]].map(Number)
  assert.ok(p50 <= p95 && p95 <= p99 && p99 <= p999 && p999 <= max, lines[lines.length - 1])
  for (const line of lines.slice(0, -1)) assert.match(line, WINDOW)
  assert.equal(await endOffsets('perf', 3), n)
})

test('consumer: header and result line; exactly --messages records and their megabytes', async () => {
  const r = await runCommand('kafka-consumer-perf-test', ['--bootstrap-server', B, '--topic', 'perf', '--messages', '200000', '--group', 'perf-g'])
  assert.equal(r.code, 0, r.stderr)
  const lines = r.stdout.trimEnd().split('\n')
  assert.equal(lines.length, 2, r.stdout)
  assert.equal(lines[0], HEADER)
  const m = RESULT.exec(lines[1])
  assert.ok(m, lines[1])
  assert.equal(m[1], (200000 * 100 / 1048576).toFixed(4))
  assert.equal(m[2], '200000')
  // The group committed where it stopped: a second run finds nothing left and times out.
  const again = await runCommand('kafka-consumer-perf-test', ['--bootstrap-server', B, '--topic', 'perf', '--messages', '10', '--group', 'perf-g', '--timeout', '300', '--hide-header'])
  assert.equal(again.code, 0, again.stderr)
  const a = again.stdout.trimEnd().split('\n')
  assert.equal(a[0], 'WARNING: Exiting before consuming the expected number of messages: timeout (300 ms) exceeded. You can use the --timeout option to increase the timeout.')
  assert.equal(RESULT.exec(a[1])?.[2], '0', a[1])
})

test('consumer: --show-detailed-stats, --reporting-interval, --date-format, deprecated --threads', async () => {
  const r = await runCommand('kafka-consumer-perf-test', ['--bootstrap-server', B, '--topic', 'perf', '--messages', '150000', '--show-detailed-stats', '--reporting-interval', '1', '--fetch-size', '65536'])
  assert.equal(r.code, 0, r.stderr)
  const lines = r.stdout.trimEnd().split('\n')
  assert.equal(lines[0], DETAILED_HEADER)
  assert.ok(lines.length >= 3, r.stdout)
  let last = 0
  for (const line of lines.slice(1)) {
    const m = DETAILED.exec(line)
    assert.ok(m, line)
    assert.ok(Number(m[2]) > last)
    last = Number(m[2])
  }
  // As in Kafka's tool, a line is printed when a reporting interval has passed at the end of
  // a fetch round, so the last line need not show the very last record.
  assert.ok(last > 0 && last <= 150000, `last reported count ${last}`)
  const d = await runCommand('kafka-consumer-perf-test', ['--bootstrap-server', B, '--topic', 'perf', '--messages', '10', '--hide-header', '--date-format', "yyyy'T'HH", '--threads', '2'])
  assert.equal(d.code, 0, d.stderr)
  const dl = d.stdout.trimEnd().split('\n')
  assert.equal(dl[0], 'WARNING: option [threads] and [num-fetch-threads] have been deprecated and will be ignored by the test')
  assert.match(dl[1], /^\d{4}T\d\d, \d{4}T\d\d, 0\.0010, \d+\.\d{4}, 10, /)
  // --from-latest with a fresh group (from --consumer.config) starts at the end: nothing to read.
  const cfg = join(dir, 'consumer.properties')
  writeFileSync(cfg, 'group.id=latest-g\nclient.id=perf-test-client\n')
  const l = await runCommand('kafka-consumer-perf-test', ['--bootstrap-server', B, '--topic', 'perf', '--messages', '1', '--from-latest', '--timeout', '300', '--consumer.config', cfg, '--hide-header'])
  assert.equal(l.code, 0, l.stderr)
  const ll = l.stdout.trimEnd().split('\n')
  assert.match(ll[0], /^WARNING: Exiting before consuming the expected number of messages: timeout \(300 ms\) exceeded\./)
  assert.equal(RESULT.exec(ll[1])?.[2], '0', ll[1])
  const admin = new GroupAdmin(B, {timeoutMs: 10000})
  try {
    const committed = await admin.committedOffsets('latest-g')
    assert.equal(committed.reduce((n, c) => n + c.offset, 0), 200000)
  } finally {
    admin.close()
  }
})

test('producer: a 5 s progress window under --throughput, payload file and monotonic payloads', async () => {
  const r = await runCommand('kafka-producer-perf-test', ['--topic', 'slow', '--num-records', '11000', '--record-size', '10', '--throughput', '2000', '--producer-props', `bootstrap.servers=${B}`])
  assert.equal(r.code, 0, r.stderr)
  const lines = r.stdout.trimEnd().split('\n')
  assert.equal(lines.length, 2, r.stdout)
  const w = WINDOW.exec(lines[0])
  assert.ok(w, lines[0])
  assert.ok(Number(w[1]) >= 9000 && Number(w[1]) <= 10500, lines[0])
  assert.equal(TOTAL.exec(lines[1])?.[1], '11000', lines[1])
  assert.equal(await endOffsets('slow', 1), 11000)

  const file = join(dir, 'payloads.txt')
  writeFileSync(file, 'alpha;beta;gamma')
  const p = await runCommand('kafka-producer-perf-test', ['--topic', 'slow', '--num-records', '300', '--payload-file', file, '--payload-delimiter', ';', '--throughput', '-1', '--producer-props', `bootstrap.servers=${B}`, 'acks=all', 'linger.ms=5'])
  assert.equal(p.code, 0, p.stderr)
  const pl = p.stdout.trimEnd().split('\n')
  assert.equal(pl[0], `Reading payloads from: ${file}`)
  assert.equal(pl[1], 'Number of messages read: 3')
  assert.equal(TOTAL.exec(pl[2])?.[1], '300', pl[2])
  const mono = await runCommand('kafka-producer-perf-test', ['--topic', 'slow', '--num-records', '700', '--payload-monotonic', '--throughput', '-1', '--producer-props', `bootstrap.servers=${B}`, 'acks=0'])
  assert.equal(mono.code, 0, mono.stderr)
  assert.equal(TOTAL.exec(mono.stdout.trim())?.[1], '700', mono.stdout)
  // acks=0: the tool is done once the records are written to the socket; the broker appends them just after.
  await waitFor(async () => await endOffsets('slow', 1) === 12000, 15000, 'the acks=0 records to be appended')
})

test('bad input: one line on stderr and exit 1', async () => {
  const base = ['--topic', 'perf', '--num-records', '10', '--record-size', '10', '--throughput', '-1']
  const cases: [string, string[], RegExp][] = [
    ['kafka-producer-perf-test', ['--topic', 'perf', '--num-records', '10', '--record-size', '10', '--producer-props', `bootstrap.servers=${B}`], /^producer-performance: error: argument --throughput is required$/],
    ['kafka-producer-perf-test', [...base, '--producer-props', `bootstrap.servers=${B}`, 'acks'], /^Error: Invalid property: acks$/],
    ['kafka-producer-perf-test', [...base, '--producer-props', `bootstrap.servers=${B}`, 'acks=2'], /^Error: Invalid value 2 for configuration acks: String must be one of: all, -1, 0, 1$/],
    ['kafka-producer-perf-test', base, /^producer-performance: error: Either --producer-props or --producer.config must be specified\.$/],
    ['kafka-producer-perf-test', ['--topic', 'perf', '--num-records', '10', '--throughput', '-1', '--producer-props', `bootstrap.servers=${B}`], /^producer-performance: error: one of the arguments --record-size --payload-file --payload-monotonic is required$/],
    ['kafka-producer-perf-test', [...base, '--producer-props', `bootstrap.servers=${B}`, '--transactional-id', 'tx'], /^Error: --transactional-id is not supported: kafkit has no transactions yet$/],
    ['kafka-producer-perf-test', ['--topic', 'perf', '--num-records', 'many', '--record-size', '10', '--throughput', '-1', '--producer-props', `bootstrap.servers=${B}`], /^producer-performance: error: argument --num-records: could not convert 'many' to Long/],
    ['kafka-producer-perf-test', ['--topic', 'perf', '--num-records', '10', '--payload-file', join(dir, 'missing.txt'), '--throughput', '-1', '--producer-props', `bootstrap.servers=${B}`], /^Error: cannot read payload file .*missing\.txt: no such file$/],
    ['kafka-consumer-perf-test', ['--bootstrap-server', B, '--topic', 'perf'], /^Missing required argument "\[messages\]"$/],
    ['kafka-consumer-perf-test', ['--topic', 'perf', '--messages', '1'], /^Missing required option\(s\) \[bootstrap-server\]$/],
    ['kafka-consumer-perf-test', ['--bootstrap-server', B, '--topic', 'perf', '--messages', 'x'], /^Cannot parse argument 'x' of option messages$/],
    ['kafka-consumer-perf-test', ['--bootstrap-server', B, '--topic', 'perf', '--messages', '1', '--reporting-interval', '0'], /^Reporting interval must be greater than 0\.$/],
  ]
  await Promise.all(cases.map(async ([cmd, args, re]) => {
    const r = await runCommand(cmd, args)
    assert.equal(r.code, 1, `${cmd} ${args.join(' ')}: ${r.stdout}${r.stderr}`)
    const lines = r.stderr.trimEnd().split('\n')
    assert.equal(lines.length, 1, r.stderr)
    assert.match(lines[0], re)
  }))
})

test('producer: a topic that does not exist, on a broker that does not create topics', async () => {
  let b: BrokerProc | undefined
  try {
    b = await startBrokerProc(`${cluster!.zkConnect}/nocreate`, ['auto.create.topics.enable=false'])
    const r = await runCommand('kafka-producer-perf-test', ['--topic', 'nope', '--num-records', '10', '--record-size', '10', '--throughput', '-1', '--producer-props', `bootstrap.servers=${b.bootstrap}`, 'max.block.ms=500'])
    assert.equal(r.code, 1, r.stdout + r.stderr)
    assert.equal(r.stdout, '')
    // Java's producer logs each metadata answer that lacks the topic (WARN, NetworkClient).
    const lines = r.stderr.trimEnd().split('\n')
    for (const l of lines.slice(0, -1)) assert.match(l, /^\[[^\]]+\] WARN \[Producer clientId=perf-producer-client\] The metadata response from the cluster reported a recoverable issue with correlation id \d+ : \{nope=UNKNOWN_TOPIC_OR_PARTITION\} \(org\.apache\.kafka\.clients\.NetworkClient\)$/)
    assert.equal(lines[lines.length - 1], 'Error: Topic nope not present in metadata after 500 ms.')
  } finally {
    await b?.cleanup()
  }
})

test('a broker restart in the middle of a run: the producer retries, nothing is lost; the consumer reconnects', async () => {
  let b: BrokerProc | undefined
  try {
    b = await startBrokerProc(`${cluster!.zkConnect}/restart`)
    const bootstrap = b.bootstrap
    const run = runCommand('kafka-producer-perf-test', ['--topic', 'moving', '--num-records', '6000', '--record-size', '50', '--throughput', '3000', '--producer-props', `bootstrap.servers=${bootstrap}`, 'acks=all'])
    // The restart comes once the first records are in the log (not after a fixed sleep, which on
    // a loaded machine may fall after the run's end): records before it and records after it.
    const probe = new GroupAdmin(bootstrap, {timeoutMs: 2000})
    try {
      await waitFor(async () => ((await probe.listOffsets([{topic: 'moving', partition: 0}], LATEST_TIMESTAMP)).get('moving\0' + '0') ?? 0) > 0, 30000, 'the first records of the run in the log', 20)
    } finally {
      probe.close()
    }
    await b.restart()
    const r = await run
    assert.equal(r.code, 0, r.stdout + r.stderr)
    const lines = r.stdout.trimEnd().split('\n')
    assert.equal(TOTAL.exec(lines[lines.length - 1])?.[1], '6000', r.stdout)
    const admin = new GroupAdmin(bootstrap, {timeoutMs: 10000})
    try {
      const end = (await admin.listOffsets([{topic: 'moving', partition: 0}], LATEST_TIMESTAMP)).get('moving\0' + '0')
      assert.ok(end !== undefined && end >= 6000, `log end offset ${end}`)
      // The consumer reads what is there, loses its broker, and goes on with what comes after.
      const c = startCommand('kafka-consumer-perf-test', ['--bootstrap-server', bootstrap, '--topic', 'moving', '--messages', String(end + 1000), '--show-detailed-stats', '--reporting-interval', '1', '--timeout', '15000', '--hide-header', '--group', 'moving-g'])
      try {
        // Reading (a detailed line appears once an interval passed after a poll).
        await c.waitForOutput(/, 0, \d+\.\d{4}, \d+\.\d{4}, [1-9]\d*, /)
        await b.restart()
        const more = await runCommand('kafka-producer-perf-test', ['--topic', 'moving', '--num-records', '1000', '--record-size', '50', '--throughput', '-1', '--producer-props', `bootstrap.servers=${bootstrap}`])
        assert.equal(more.code, 0, more.stderr)
        assert.equal(await c.exited, 0, c.output)
        assert.doesNotMatch(c.output, /WARNING|Error/)
        // Every record was read: no timeout WARNING, and the group committed the end. (A
        // detailed line is printed only when an interval passed after a poll, as in Kafka's
        // tool, so the last one may stop short of the total.)
        const lines = c.output.trimEnd().split('\n').filter(l => DETAILED.test(l))
        assert.ok(Number(DETAILED.exec(lines[lines.length - 1])?.[2]) > end, c.output)
        const committed = await admin.committedOffsets('moving-g')
        assert.deepEqual(committed.map(x => [x.partition, x.offset]), [[0, end + 1000]], c.output)
      } finally {
        await c.stop('SIGKILL')
      }
    } finally {
      admin.close()
    }
  } finally {
    await b?.cleanup()
  }
})

test('consumer: compressed batches (gzip, snappy, lz4, zstd) are counted record by record', async () => {
  const line = 'x'.repeat(1000)
  const input = Array.from({length: 500}, () => line).join('\n') + '\n'
  for (const codec of ['gzip', 'snappy', 'lz4', 'zstd']) {
    const p = await runCommand('kafka-console-producer', ['--bootstrap-server', B, '--topic', 'packed', '--compression-codec', codec], {input})
    assert.equal(p.code, 0, `${codec}: ${p.stderr}`)
  }
  const r = await runCommand('kafka-consumer-perf-test', ['--bootstrap-server', B, '--topic', 'packed', '--messages', '2000', '--hide-header'])
  assert.equal(r.code, 0, r.stderr)
  const m = RESULT.exec(r.stdout.trimEnd())
  assert.ok(m, r.stdout)
  assert.equal(m[1], (2000 * 1000 / 1048576).toFixed(4))
  assert.equal(m[2], '2000')
})

test('producer: compression.type gzip, snappy, lz4 and zstd batches are taken whole', async () => {
  for (const codec of ['gzip', 'snappy', 'lz4', 'zstd']) {
    const p = await runCommand('kafka-producer-perf-test', ['--topic', `z-${codec}`, '--num-records', '20000', '--record-size', '100', '--throughput', '-1', '--producer-props', `bootstrap.servers=${B}`, `compression.type=${codec}`])
    assert.equal(p.code, 0, `${codec}: ${p.stderr}`)
    assert.equal(TOTAL.exec(p.stdout.trim())?.[1], '20000', p.stdout)
    assert.equal(await endOffsets(`z-${codec}`, 1), 20000)
    const c = await runCommand('kafka-consumer-perf-test', ['--bootstrap-server', B, '--topic', `z-${codec}`, '--messages', '20000', '--hide-header'])
    assert.equal(RESULT.exec(c.stdout.trim())?.[1], (20000 * 100 / 1048576).toFixed(4), c.stdout + c.stderr)
  }
  const bad = await runCommand('kafka-producer-perf-test', ['--topic', 'z-gzip', '--num-records', '1', '--record-size', '1', '--throughput', '-1', '--producer-props', `bootstrap.servers=${B}`, 'compression.type=brotli'])
  assert.equal(bad.code, 1)
  assert.equal(bad.stderr, 'Error: Invalid value brotli for configuration compression.type: String must be one of: none, gzip, snappy, lz4, zstd\n')
})
