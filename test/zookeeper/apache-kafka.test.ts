// Apache Kafka 3.9 itself (broker in ZooKeeper mode, Java ZooKeeper client 3.8) keeps its
// metadata in kafkit's ZooKeeper server: it registers, becomes controller under a chroot,
// and a topic created through it has Kafka's znodes.
import {test} from 'node:test'
import assert from 'node:assert/strict'
import {spawn} from 'node:child_process'
import {existsSync, writeFileSync} from 'node:fs'
import {homedir} from 'node:os'
import {join} from 'node:path'
import {startKafkitZk, connect, freePort, tempDir, removeDir, waitFor} from './helpers.js'

const KAFKA_BIN = process.env.KAFKA_HOME ? join(process.env.KAFKA_HOME, 'bin') : join(homedir(), '.cache', 'apache-kafka-3.9', 'bin')

test('an Apache Kafka 3.9 broker runs on kafkit\'s ZooKeeper (chroot, controller, topic znodes)', async () => {
  assert.ok(existsSync(join(KAFKA_BIN, 'kafka-server-start')), `Apache Kafka 3.9 is not installed in ${KAFKA_BIN}: run ../shared/tools/apache-kafka`)
  const zk = await startKafkitZk({maxSessionTimeout: 60000})
  const dir = tempDir('akafka-')
  const port = await freePort()
  const props = join(dir, 'server.properties')
  writeFileSync(props, `broker.id=0\nlisteners=PLAINTEXT://127.0.0.1:${port}\nlog.dirs=${join(dir, 'logs')}\nzookeeper.connect=127.0.0.1:${zk.port}/kafka\noffsets.topic.replication.factor=1\nnum.partitions=1\n`)
  const broker = spawn(join(KAFKA_BIN, 'kafka-server-start'), [props], {stdio: ['ignore', 'pipe', 'pipe'], env: {...process.env, KAFKA_HEAP_OPTS: '-Xmx256m'}})
  let out = ''
  broker.stdout.on('data', d => { out += d })
  broker.stderr.on('data', d => { out += d })
  const exited = new Promise(r => broker.on('exit', r))
  const c = await connect(zk.port)
  try {
    await waitFor(() => out.includes('started (kafka.server.KafkaServer)'), 90000, `the broker to start (${out.slice(-1500)})`, 200)
    const [ids] = await c.call<[string[]]>('getChildren', '/kafka/brokers/ids')
    assert.deepEqual(ids, ['0'])
    const [ctl] = await c.call<[Buffer]>('getData', '/kafka/controller')
    assert.equal(JSON.parse(ctl.toString()).brokerid, 0)
    const topics = spawn(join(KAFKA_BIN, 'kafka-topics'), ['--bootstrap-server', `127.0.0.1:${port}`, '--create', '--topic', 'on-kafkit-zk', '--partitions', '2', '--replication-factor', '1'], {stdio: ['ignore', 'pipe', 'pipe']})
    let tout = ''
    topics.stdout.on('data', d => { tout += d })
    topics.stderr.on('data', d => { tout += d })
    await new Promise(r => topics.on('exit', r))
    assert.match(tout, /Created topic on-kafkit-zk\./)
    await waitFor(async () => {
      const [parts] = await c.call<[string[]]>('getChildren', '/kafka/brokers/topics/on-kafkit-zk/partitions')
      return parts.length === 2
    }, 30000, 'the partition state znodes')
    const [st] = await c.call<[Buffer]>('getData', '/kafka/brokers/topics/on-kafkit-zk/partitions/0/state')
    assert.equal(JSON.parse(st.toString()).leader, 0)
  } finally {
    c.close()
    broker.kill('SIGKILL')
    await exited
    await zk.cleanup()
    removeDir(dir)
  }
})
