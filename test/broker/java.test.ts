// The Java client (Apache Kafka 3.9's own tools) against kafkit's broker: kafka-topics
// (admin: CreateTopics, DescribeTopicPartitions fallback to Metadata, DescribeConfigs),
// kafka-console-producer (idempotent, acks=-1, flexible versions, ApiVersions v3+) and
// kafka-console-consumer with a group, then kafka-consumer-groups --describe.
import {test, before, after} from 'node:test'
import assert from 'node:assert/strict'
import {existsSync} from 'node:fs'
import {homedir} from 'node:os'
import {join} from 'node:path'
import {startApacheZooKeeper, startBrokerProc, exec, type ApacheZooKeeper, type BrokerProc} from './helpers.js'

const BIN = join(homedir(), '.cache', 'apache-kafka-3.9', 'bin')
const tool = (name: string) => join(BIN, name)

let zk: ApacheZooKeeper
let broker: BrokerProc

before(async () => {
  if (!existsSync(tool('kafka-topics'))) throw new Error(`Apache Kafka 3.9 is not installed in ${BIN} (run /work/shared/tools/apache-kafka ~/.cache/apache-kafka-3.9)`)
  zk = await startApacheZooKeeper()
  broker = await startBrokerProc(zk.connect)
})

after(async () => {
  await broker?.cleanup()
  await zk?.stop()
})

test('Apache kafka-topics, console producer and consumer, consumer-groups work against kafkit', {timeout: 180000}, async () => {
  const b = broker.bootstrap
  const created = await exec(tool('kafka-topics'), ['--bootstrap-server', b, '--create', '--topic', 'java-topic', '--partitions', '2', '--replication-factor', '1', '--config', 'retention.ms=3600000'], {timeoutMs: 60000})
  assert.equal(created.code, 0, created.stderr)
  assert.match(created.stdout, /Created topic java-topic\./)
  const described = await exec(tool('kafka-topics'), ['--bootstrap-server', b, '--describe', '--topic', 'java-topic'], {timeoutMs: 60000})
  assert.equal(described.code, 0, described.stderr)
  assert.match(described.stdout, /Topic: java-topic\tTopicId: [A-Za-z0-9_-]{22}\tPartitionCount: 2\tReplicationFactor: 1\tConfigs: retention\.ms=3600000/)
  assert.match(described.stdout, /\tTopic: java-topic\tPartition: 1\tLeader: 0\tReplicas: 0\tIsr: 0/)
  const lines = Array.from({length: 200}, (_, i) => `java-${i}`)
  const produced = await exec(tool('kafka-console-producer'), ['--bootstrap-server', b, '--topic', 'java-topic'], {input: lines.join('\n') + '\n', timeoutMs: 60000})
  assert.equal(produced.code, 0, produced.stderr)
  assert.doesNotMatch(produced.stderr, /ERROR/)
  const consumed = await exec(tool('kafka-console-consumer'), ['--bootstrap-server', b, '--topic', 'java-topic', '--from-beginning', '--group', 'java-group', '--max-messages', '200', '--timeout-ms', '30000'], {timeoutMs: 60000})
  assert.equal(consumed.code, 0, consumed.stderr)
  assert.deepEqual(consumed.stdout.trim().split('\n').sort(), [...lines].sort())
  assert.match(consumed.stderr, /Processed a total of 200 messages/)
  const groups = await exec(tool('kafka-consumer-groups'), ['--bootstrap-server', b, '--describe', '--group', 'java-group'], {timeoutMs: 60000})
  assert.equal(groups.code, 0, groups.stderr)
  const rows = groups.stdout.split('\n').filter(l => l.startsWith('java-group'))
  assert.equal(rows.length, 2, groups.stdout)
  const total = rows.map(r => r.trim().split(/\s+/)).reduce((n, cols) => n + Number(cols[3]), 0)
  assert.equal(total, 200)
})

test('Apache kafka-topics --alter --partitions, --delete; kafka-consumer-groups --list / --delete', {timeout: 180000}, async () => {
  const b = broker.bootstrap
  const run = async (name: string, args: string[]) => {
    const r = await exec(tool(name), ['--bootstrap-server', b, ...args], {timeoutMs: 60000})
    assert.equal(r.code, 0, `${name} ${args.join(' ')}: ${r.stderr}`)
    return r.stdout
  }
  await run('kafka-topics', ['--create', '--topic', 'java-alter', '--partitions', '1', '--replication-factor', '1'])
  await run('kafka-topics', ['--alter', '--topic', 'java-alter', '--partitions', '3'])
  assert.match(await run('kafka-topics', ['--describe', '--topic', 'java-alter']), /PartitionCount: 3\t/)
  await run('kafka-topics', ['--delete', '--topic', 'java-alter'])
  const list = await run('kafka-topics', ['--list'])
  assert.doesNotMatch(list, /^java-alter$/m)
  assert.match(await run('kafka-consumer-groups', ['--list']), /^java-group$/m)
  assert.match(await run('kafka-consumer-groups', ['--delete', '--group', 'java-group']), /Deletion of requested consumer groups \('java-group'\) was successful\./)
  assert.doesNotMatch(await run('kafka-consumer-groups', ['--list']), /^java-group$/m)
})
