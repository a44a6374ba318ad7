// kafka-replica-verification on kafkit's client core against a real broker (kafkit's or
// Apache Kafka 3.9's, KAFKIT_TOOLS_TARGET picks): the start line, the periodic max-lag lines
// (the same partition, offset and count as Apache's tool prints, timestamps aside), the
// deprecation warning, bad input.
import {test, before, after} from 'node:test'
import assert from 'node:assert/strict'
import {createRequire} from 'node:module'
import {join} from 'node:path'
import {freePort, repoRoot, runCommand, startCommand, type Proc} from '../helpers/util.js'
import {apacheKafkaHome, startCluster, targetSkipReason, type Cluster} from './apache-kafka.js'
import {startApacheInspect} from './apache-inspect.js'
import {hashMapOrder} from '../../src/core/client/admin/replica-verification.js'

const require = createRequire(join(repoRoot, 'package.json'))
const {Kafka, logLevel} = require('kafkajs')

let cluster: Cluster | undefined

before(async () => {
  const reason = targetSkipReason()
  if (reason) throw new Error(`kafka-replica-verification tests need a broker: ${reason}`)
  cluster = await startCluster()
  const kafka = new Kafka({brokers: [cluster.bootstrap], clientId: 'rv-test', logLevel: logLevel.NOTHING})
  const admin = kafka.admin()
  await admin.connect()
  await admin.createTopics({waitForLeaders: true, topics: [{topic: 'rv-a', numPartitions: 3}, {topic: 'rv-b', numPartitions: 2}]})
  await admin.disconnect()
  const p = kafka.producer()
  await p.connect()
  for (let i = 0; i < 20; i++) await p.send({topic: i % 2 ? 'rv-a' : 'rv-b', messages: [{key: `k${i}`, value: `v${i}`}]})
  await p.disconnect()
})

after(async () => {
  await cluster?.stop()
})

const TS = /^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3}: /

/** Runs the tool until it printed two lag reports; returns its stdout lines without timestamps. */
async function reports(proc: Proc): Promise<string[]> {
  try {
    await proc.waitForOutput(/max lag is[^\n]*\n[^\n]*max lag is[^\n]*\n/, 60000)
  } finally {
    await proc.stop('SIGTERM')
  }
  return proc.output.split('\n').filter(l => TS.test(l)).map(l => l.replace(TS, '')).slice(0, 3)
}

test('java.util.HashMap order of topic partitions', () => {
  const tps = [{topic: 'rv-a', partition: 0}, {topic: 'rv-a', partition: 1}, {topic: 'rv-b', partition: 0}]
  assert.equal(hashMapOrder(tps).length, 3)
  assert.deepEqual(hashMapOrder([{topic: 'a', partition: 0}]), [{topic: 'a', partition: 0}])
})

test('verification lines as Kafka prints them', async () => {
  const args = ['--broker-list', cluster!.bootstrap, '--topics-include', 'rv-.*', '--report-interval-ms', '500', '--time', '-2']
  const k = startCommand('kafka-replica-verification', args)
  const lines = await reports(k)
  assert.match(k.output, /^\[\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3}\] WARN This tool is deprecated and may be removed in a future major release\. \(org\.apache\.kafka\.tools\.ReplicaVerificationTool\)\n/)
  assert.equal(lines[0], 'verification process is started')
  assert.match(lines[1], /^max lag is 0 for partition rv-[ab]-\d at offset \d+ among 5 partitions$/)
  if (apacheKafkaHome()) {
    const a = startApacheInspect('kafka-replica-verification', args)
    assert.deepEqual(await reports(a), lines)
  }
})

test('bad input: one line, exit 1', async () => {
  const B = cluster!.bootstrap
  const cases: [string[], RegExp][] = [
    [[], /Validate that all replicas for a set of topics have the same data\.\n$/],
    [['--broker-list'], /Option broker-list requires an argument\n$/],
    [['--broker-list', 'bad'], /Please provide valid host:port like host1:9091,host2:9092\n$/],
    [['--broker-list', B, '--topics-include', 'x', '--topic-white-list', 'y'], /Option "\[topics-include\]" can't be used with option "\[topic-white-list\]"\n$/],
    [['--broker-list', B, '--time', 'x'], /Cannot parse argument 'x' of option time\n$/],
    [['--broker-list', B, '--topics-include', '['], /\[ is an invalid regex\n$/],
    [['--broker-list', B, '--topics-include', 'no-such-topic'], /ERROR No topics found\. \[topics-include\] if specified, is either filtering out all topics or there is no topic\. \(org\.apache\.kafka\.tools\.ReplicaVerificationTool\)\n$/],
  ]
  for (const [args, re] of cases) {
    const r = await runCommand('kafka-replica-verification', args)
    assert.equal(r.code, 1, args.join(' ') + r.stderr)
    assert.equal(r.stdout, '')
    assert.match(r.stderr, re, args.join(' '))
    assert.ok(r.stderr.split('\n').length <= 3, r.stderr)
  }
  const port = await freePort()
  const down = await runCommand('kafka-replica-verification', ['--broker-list', `127.0.0.1:${port}`], {env: {}, timeoutMs: 90000})
  assert.equal(down.code, 1)
  assert.match(down.stderr, /Timed out waiting for a node assignment\. Call: listTopics\n$/)
})
