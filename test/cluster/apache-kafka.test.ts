// Differential test: Apache Kafka 3.9's broker (the controller here) and kafkit's
// ClusterManager share one Apache ZooKeeper. A topic Apache's kafka-topics creates is read
// correctly by kafkit; a topic kafkit writes (assignment, configs, more partitions) is
// brought online by Apache's controller and described by Apache's kafka-topics; kafkit's
// deletion request is completed by Apache's controller. Skipped (with the reason) when
// Apache Kafka is not installed in ~/.cache/apache-kafka-3.9 (../shared/tools/apache-kafka).
import {test} from 'node:test'
import assert from 'node:assert/strict'
import {spawn, type ChildProcess} from 'node:child_process'
import {existsSync, writeFileSync} from 'node:fs'
import {homedir} from 'node:os'
import {join} from 'node:path'
import {ClusterManager} from '../../src/core/cluster/cluster.js'
import {serverConfigFromProps} from '../../src/core/config/server-config.js'
import {Logger, setLogSink} from '../../src/core/util/log.js'
import {freePort, tempDir, removeDir, waitFor} from '../helpers/util.js'
import {startApacheZooKeeper} from './zk-helper.js'
import {Kafka, logLevel} from 'kafkajs'

const KAFKA_HOME = process.env.KAFKA_HOME ?? join(homedir(), '.cache', 'apache-kafka-3.9')
const LIBS = join(KAFKA_HOME, 'libs')
const installed = existsSync(LIBS)
setLogSink(() => {})

function java(mainClass: string, args: string[], log4j = 'tools-log4j.properties'): ChildProcess {
  return spawn('java', ['-Xmx384m', '-XX:+UseSerialGC', '-XX:TieredStopAtLevel=1', `-Dlog4j.configuration=file:${join(KAFKA_HOME, 'config', log4j)}`, '-cp', join(LIBS, '*'), mainClass, ...args], {stdio: ['ignore', 'pipe', 'pipe']})
}

function runTool(args: string[]): Promise<{code: number | null; stdout: string; stderr: string}> {
  return new Promise((resolve, reject) => {
    const child = java('org.apache.kafka.tools.TopicCommand', args)
    let stdout = ''
    let stderr = ''
    child.stdout!.on('data', d => { stdout += d })
    child.stderr!.on('data', d => { stderr += d })
    const timer = setTimeout(() => { child.kill('SIGKILL'); reject(new Error(`kafka-topics ${args.join(' ')} timed out: ${stderr}`)) }, 60000)
    child.on('error', reject)
    child.on('close', code => { clearTimeout(timer); resolve({code, stdout, stderr}) })
  })
}

test('Apache Kafka 3.9 and kafkit read and write the same ZooKeeper metadata', {skip: installed ? false : `Apache Kafka 3.9 is not installed in ${KAFKA_HOME} (run ../shared/tools/apache-kafka)`, timeout: 180000}, async () => {
  const zk = await startApacheZooKeeper()
  const dir = tempDir('kafkit-akafka-')
  let kafka: ChildProcess | undefined
  let kit: ClusterManager | undefined
  let output = ''
  try {
    const port = await freePort()
    const bootstrap = `127.0.0.1:${port}`
    const props = join(dir, 'server.properties')
    writeFileSync(props, [
      'broker.id=0', `listeners=PLAINTEXT://127.0.0.1:${port}`, `log.dirs=${join(dir, 'logs')}`,
      `zookeeper.connect=${zk.connect}/kafka`, 'offsets.topic.replication.factor=1', 'group.initial.rebalance.delay.ms=0',
      'transaction.state.log.replication.factor=1', 'transaction.state.log.min.isr=1', '',
    ].join('\n'))
    kafka = java('kafka.Kafka', [props], 'log4j.properties')
    kafka.stdout!.on('data', d => { output += d })
    kafka.stderr!.on('data', d => { output += d })
    await waitFor(() => {
      if (kafka!.exitCode !== null) throw new Error(`Apache Kafka exited: ${output.slice(-3000)}`)
      return output.includes('[KafkaServer id=0] started')
    }, 90000, 'Apache Kafka to start', 200)

    const created = await runTool(['--bootstrap-server', bootstrap, '--create', '--topic', 'from-apache', '--partitions', '3', '--replication-factor', '1', '--config', 'retention.ms=1234'])
    assert.equal(created.stdout.trim(), 'Created topic from-apache.', created.stderr)

    // kafkit joins as broker 1 (its listener port is never opened: this test is about metadata).
    const kitPort = await freePort()
    kit = new ClusterManager(serverConfigFromProps({'broker.id': '1', 'zookeeper.connect': `${zk.connect}/kafka`, 'listeners': `PLAINTEXT://127.0.0.1:${kitPort}`}), new Logger('kafka.cluster'), {metadataWaitMs: 30000})
    await kit.start()
    assert.equal(kit.controllerId(), 0)
    assert.equal(kit.isController(), false)
    assert.deepEqual(kit.brokers().map(b => [b.id, b.host, b.port]), [[0, '127.0.0.1', port], [1, '127.0.0.1', kitPort]])
    const fa = kit.topic('from-apache')
    assert.ok(fa, 'kafkit sees the topic Apache created')
    assert.equal(fa.partitions.length, 3)
    assert.deepEqual(fa.partitions.map(p => [p.partition, p.leader, p.leaderEpoch, p.isr, p.replicas]), [[0, 0, 0, [0], [0]], [1, 0, 0, [0], [0]], [2, 0, 0, [0], [0]]])
    assert.deepEqual(fa.configs, {'retention.ms': '1234'})
    assert.match(fa.topicId, /^[A-Za-z0-9_-]{22}$/)

    // Apache's controller parsed kafkit's registration: its metadata lists broker 1 at kafkit's endpoint.
    const admin = new Kafka({clientId: 'diff', brokers: [bootstrap], logLevel: logLevel.NOTHING}).admin()
    await admin.connect()
    try {
      const cluster = await waitFor(async () => {
        const d = await admin.describeCluster()
        return d.brokers.length === 2 ? d : undefined
      }, 30000, 'Apache metadata to list both brokers', 200)
      assert.deepEqual(cluster!.brokers.map(b => [b.nodeId, b.host, b.port]).sort(), [[0, '127.0.0.1', port], [1, '127.0.0.1', kitPort]])
      assert.equal(cluster!.controller, 0)
      assert.equal(cluster!.clusterId, kit.clusterId)
    } finally {
      await admin.disconnect()
    }

    // kafkit writes a topic; Apache's controller brings it online.
    const fk = await kit.createTopic('from-kafkit', {numPartitions: -1, replicationFactor: -1, assignment: {0: [0], 1: [0]}, configs: {'segment.bytes': '1048576'}})
    assert.deepEqual(fk.partitions.map(p => [p.leader, p.isr]), [[0, [0]], [0, [0]]], 'Apache controller elected leaders')
    await kit.alterTopicConfigs('from-kafkit', {'retention.ms': '999'}, [])
    await kit.createPartitions('from-kafkit', 3)
    assert.deepEqual(kit.topic('from-kafkit')!.partitions[2].replicas, [0])
    assert.equal(kit.topic('from-kafkit')!.partitions[2].leader, 0)

    const described = await waitFor(async () => {
      const d = await runTool(['--bootstrap-server', bootstrap, '--describe', '--topic', 'from-kafkit'])
      return d.stdout.includes('retention.ms=999') && d.stdout.includes('Partition: 2') ? d : undefined
    }, 60000, 'Apache describe to show kafkit changes', 500)
    if (process.env.KAFKIT_TEST_VERBOSE) console.log(described!.stdout)
    const lines = described!.stdout.trim().split('\n')
    assert.match(lines[0], new RegExp(`^Topic: from-kafkit\\tTopicId: ${fk.topicId.replace(/[-]/g, '\\-')}\\tPartitionCount: 3\\tReplicationFactor: 1\\tConfigs: `))
    assert.ok(lines[0].includes('segment.bytes=1048576'), lines[0])
    for (let p = 0; p < 3; p++) assert.equal(lines[p + 1], `\tTopic: from-kafkit\tPartition: ${p}\tLeader: 0\tReplicas: 0\tIsr: 0\tElr: N/A\tLastKnownElr: N/A`)

    // kafkit asks for deletion; Apache's controller completes it.
    const deleted: string[] = []
    kit.on('topicDeleted', n => deleted.push(n))
    await kit.deleteTopic('from-apache')
    await waitFor(() => deleted.includes('from-apache'), 30000, 'deletion completed by Apache controller')
    const listed = await runTool(['--bootstrap-server', bootstrap, '--list'])
    assert.deepEqual(listed.stdout.trim().split('\n'), ['from-kafkit'])
  } finally {
    await kit?.stop().catch(() => {})
    if (kafka && kafka.exitCode === null) {
      const exited = new Promise(r => kafka!.once('exit', r))
      kafka.kill('SIGTERM')
      const t = setTimeout(() => kafka!.kill('SIGKILL'), 20000)
      await exited
      clearTimeout(t)
    }
    await zk.stop()
    removeDir(dir)
  }
})
