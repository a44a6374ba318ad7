// kafka-verifiable-producer beside Apache Kafka 3.9's VerifiableProducer on the same broker:
// the same JSON event lines (names, field order, types; timestamps and avg_throughput aside),
// the same argparse4j errors and exit codes, SIGTERM's shutdown events.
import {test, before, after} from 'node:test'
import assert from 'node:assert/strict'
import {writeFileSync} from 'node:fs'
import {join} from 'node:path'
import {runCommand, tempDir, removeDir} from '../helpers/util.js'
import {apacheKafkaHome, startCluster, targetSkipReason, type Cluster} from './apache-kafka.js'
import {argparseErrorLine, runScript, startKafkitScript} from './apache-tool.js'

const skip = targetSkipReason() ?? (apacheKafkaHome() ? undefined : 'Apache Kafka 3.9 is not installed (../shared/tools/apache-kafka)')
let cluster: Cluster | undefined
let B = ''
let dir = ''

before(async () => {
  if (skip) return
  cluster = await startCluster()
  B = cluster.bootstrap
  dir = tempDir('kafkit-vp-')
})

after(async () => {
  await cluster?.stop()
  if (dir) removeDir(dir)
})

const createTopic = async (topic: string, partitions = 1) => {
  const r = await runCommand('kafka-topics', ['--create', '--bootstrap-server', B, '--topic', topic, '--partitions', String(partitions), '--replication-factor', '1'])
  assert.equal(r.code, 0, r.stdout + r.stderr)
}

/** The event lines with what differs from run to run blanked: timestamps, rates, the topic. */
const normalize = (stdout: string, topic: string) => stdout.trimEnd().split('\n').map(l => l
  .replace(/^\{"timestamp":\d+,/, '{"timestamp":0,')
  .replace(/"avg_throughput":\d+\.\d+(E-?\d+)?/, '"avg_throughput":0.0')
  .replaceAll(JSON.stringify(topic), '"T"'))

test('events as Apache\'s: successes with keys, prefixed values, offsets; shutdown and tool_data', {skip}, async () => {
  await createTopic('vp-k')
  await createTopic('vp-a')
  const args = (t: string) => ['--bootstrap-server', B, '--topic', t, '--max-messages', '7', '--repeating-keys', '3', '--value-prefix', '5', '--acks', '1']
  const [k, a] = await Promise.all([runScript('kafkit', 'kafka-verifiable-producer', args('vp-k')), runScript('apache', 'kafka-verifiable-producer', args('vp-a'))])
  assert.equal(k.code, 0, k.stderr)
  assert.equal(a.code, 0, a.stderr)
  const kl = normalize(k.stdout, 'vp-k')
  assert.deepEqual(kl, normalize(a.stdout, 'vp-a'))
  assert.equal(kl.length, 10)
  assert.equal(kl[1], '{"timestamp":0,"name":"producer_send_success","key":"0","value":"5.0","offset":0,"topic":"T","partition":0}')
  assert.equal(kl[9], '{"timestamp":0,"name":"tool_data","sent":7,"acked":7,"target_throughput":-1,"avg_throughput":0.0}')
  // Plain values, null keys, --broker-list, --message-create-time, --acks 0 (offset -1 as Java).
  const args2 = (t: string) => ['--broker-list', B, '--topic', t, '--max-messages', '3', '--message-create-time', '1000', '--acks', '0', '--throughput', '1000']
  const [k2, a2] = await Promise.all([runScript('kafkit', 'kafka-verifiable-producer', args2('vp-k')), runScript('apache', 'kafka-verifiable-producer', args2('vp-a'))])
  assert.deepEqual(normalize(k2.stdout, 'vp-k'), normalize(a2.stdout, 'vp-a'))
  assert.match(k2.stdout, /"key":null,"value":"2","offset":-1,"topic":"vp-k","partition":0\}/)
})

test('failed sends: producer_send_error with Java\'s exception class and message, exit 0', {skip}, async () => {
  const cfg = join(dir, 'block.properties')
  writeFileSync(cfg, 'max.block.ms=1500\n')
  const args = ['--bootstrap-server', '127.0.0.1:1', '--topic', 'nowhere', '--max-messages', '1', '--producer.config', cfg]
  const [k, a] = await Promise.all([runScript('kafkit', 'kafka-verifiable-producer', args), runScript('apache', 'kafka-verifiable-producer', args)])
  assert.equal(k.code, 0)
  assert.equal(a.code, 0)
  assert.deepEqual(normalize(k.stdout, 'nowhere'), normalize(a.stdout, 'nowhere'))
  assert.match(k.stdout, /\{"timestamp":\d+,"name":"producer_send_error","topic":"nowhere","key":null,"value":"0","exception":"class org.apache.kafka.common.errors.TimeoutException","message":"Topic nowhere not present in metadata after 1500 ms."\}/)
  // An invalid topic name: the broker's INVALID_TOPIC_EXCEPTION (first record as Java).
  const bad = ['--bootstrap-server', B, '--topic', 'bad!topic', '--max-messages', '1']
  const [kb, ab] = await Promise.all([runScript('kafkit', 'kafka-verifiable-producer', bad), runScript('apache', 'kafka-verifiable-producer', bad)])
  assert.deepEqual(normalize(kb.stdout, 'bad!topic'), normalize(ab.stdout, 'bad!topic'))
  assert.match(kb.stdout, /"exception":"class org.apache.kafka.common.errors.InvalidTopicException","message":"Invalid topics: \[bad!topic\]"/)
})

test('bad arguments: argparse4j\'s error line and exit 1, as Apache\'s', {skip}, async () => {
  const cfgMissing = join(dir, 'missing.properties')
  const cases = [
    ['--topic', 't', '--bootstrap-server', B, '--acks', '2'],
    ['--topic', 't', '--bootstrap-server', B, '--max-messages', 'abc'],
    ['--topic', 't', '--bootstrap-server', B, '--throughput', '1.5'],
    ['--topic', 't', '--bootstrap-server', B, '--value-prefix', '99999999999'],
    ['--topic', 't', '--bootstrap-server', B, '--bogus', '1'],
    ['--topic', 't', '--bootstrap-server', B, '--producer.config', cfgMissing],
    ['--topic', 't', '--bootstrap-server', B, '--broker-list', B],
    ['--topic', 't'],
    ['--bootstrap-server', B],
    ['--topic', 't', '--bootstrap-server', B, '--acks'],
  ]
  for (const args of cases) {
    const [k, a] = await Promise.all([runScript('kafkit', 'kafka-verifiable-producer', args), runScript('apache', 'kafka-verifiable-producer', args)])
    assert.equal(a.code, 1, `apache ${args.join(' ')}: ${a.stderr}`)
    assert.equal(k.code, 1, `kafkit ${args.join(' ')}: ${k.stderr}`)
    assert.equal(k.stdout, '')
    assert.equal(k.stderr.trimEnd().split('\n').length, 1, k.stderr)
    assert.equal(argparseErrorLine(k.stderr), argparseErrorLine(a.stderr), args.join(' '))
  }
  // No arguments: the help, exit 0 (as argparse4j's printHelp).
  const h = await runCommand('kafka-verifiable-producer', [])
  assert.equal(h.code, 0)
  assert.match(h.stdout, /--repeating-keys/)
})

test('SIGTERM stops the producer: every sent record gets its event, then shutdown_complete and tool_data, exit 143', {skip}, async () => {
  await createTopic('vp-sig')
  const p = startKafkitScript('kafka-verifiable-producer', ['--bootstrap-server', B, '--topic', 'vp-sig', '--throughput', '200'])
  await p.waitForLines('"name":"producer_send_success"', 20)
  const code = await p.stop('SIGTERM')
  assert.equal(code, 143)
  const lines = p.lines().map(l => JSON.parse(l))
  assert.equal(lines[0].name, 'startup_complete')
  const successes = lines.filter(l => l.name === 'producer_send_success')
  assert.deepEqual(successes.map(l => l.value), successes.map((_, i) => String(i)))
  assert.deepEqual(lines.slice(-2).map(l => l.name), ['shutdown_complete', 'tool_data'])
  const data = lines[lines.length - 1]
  assert.deepEqual(Object.keys(data), ['timestamp', 'name', 'sent', 'acked', 'target_throughput', 'avg_throughput'])
  assert.equal(data.acked, successes.length)
  assert.equal(data.sent, successes.length)
  assert.equal(data.target_throughput, 200)
  assert.ok(data.avg_throughput > 50 && data.avg_throughput < 260, String(data.avg_throughput))
})
