// Differential: kafkit's kafka-consumer-groups and Apache Kafka 3.9's, run with the same
// arguments against the same kafkit broker, print the same stdout byte for byte and the same
// first stderr line. (Exit codes differ on purpose: kafkit exits 1 whenever it printed
// "Error: ...", where Kafka's tool often exits 0.) Skipped when Apache Kafka 3.9 is not
// installed in ~/.cache/apache-kafka-3.9.
import {test, before, after} from 'node:test'
import assert from 'node:assert/strict'
import {spawn} from 'node:child_process'
import {join} from 'node:path'
import {Kafka, logLevel, type Consumer} from 'kafkajs'
import {startApacheZooKeeper, startBrokerProc, type ApacheZooKeeper, type BrokerProc} from '../broker/helpers.js'
import {runCommand, waitFor, type RunResult} from '../helpers/util.js'
import {apacheKafkaHome} from '../tools/apache-kafka.js'

const home = apacheKafkaHome()
const skip = home ? false : 'Apache Kafka 3.9 is not installed in ~/.cache/apache-kafka-3.9 (run /work/shared/tools/apache-kafka)'
const JAVA = process.env.JAVA_HOME ? join(process.env.JAVA_HOME, 'bin', 'java') : 'java'

let zk: ApacheZooKeeper | undefined
let broker: BrokerProc | undefined
let consumer: Consumer | undefined
let B = ''

function apacheTool(args: string[]): Promise<RunResult> {
  return new Promise((res, rej) => {
    const child = spawn(JAVA, ['-Xmx256m', '-XX:+UseSerialGC', '-XX:TieredStopAtLevel=1', `-Dlog4j.configuration=file:${join(home!, 'config', 'tools-log4j.properties')}`, '-cp', join(home!, 'libs', '*'), 'org.apache.kafka.tools.consumer.group.ConsumerGroupCommand', ...args], {stdio: ['ignore', 'pipe', 'pipe']})
    const out: Buffer[] = []
    const err: Buffer[] = []
    child.stdout.on('data', d => out.push(d))
    child.stderr.on('data', d => err.push(d))
    const timer = setTimeout(() => { child.kill('SIGKILL'); rej(new Error(`ConsumerGroupCommand ${args.join(' ')} timed out`)) }, 60000)
    child.on('error', rej)
    child.on('close', code => { clearTimeout(timer); res({code, stdout: Buffer.concat(out).toString(), stderr: Buffer.concat(err).toString()}) })
  })
}

/** The first stderr line that is not part of a Java stack trace (kafkit prints none), without log4j's timestamp. */
const firstErr = (s: string) => (s.split('\n').filter(l => l.trim() !== '' && !/^(\s+at |\s*\.\.\. \d+ more|Caused by: |[\w.$]+(Exception|Error)\b)/.test(l))[0] ?? '').replace(/^\[[^\]]*\] /, '')

before(async () => {
  if (skip) return
  zk = await startApacheZooKeeper()
  broker = await startBrokerProc(zk.connect, ['group.min.session.timeout.ms=1000'])
  B = broker.bootstrap
  const kafka = new Kafka({clientId: 'diff-test', brokers: [B], logLevel: logLevel.NOTHING})
  const admin = kafka.admin()
  await admin.connect()
  await admin.createTopics({topics: [{topic: 'diff-topic', numPartitions: 3}, {topic: 'a-much-longer-topic-name-here', numPartitions: 1}, {topic: 'wide', numPartitions: 20}], waitForLeaders: true})
  const p = kafka.producer()
  await p.connect()
  await p.send({topic: 'diff-topic', messages: Array.from({length: 30}, (_, i) => ({partition: i % 3, value: `v${i}`}))})
  await p.send({topic: 'a-much-longer-topic-name-here', messages: [{value: 'x'}, {value: 'y'}]})
  await admin.setOffsets({groupId: 'idle-group', topic: 'diff-topic', partitions: [{partition: 0, offset: '3'}, {partition: 2, offset: '10'}]})
  await admin.setOffsets({groupId: 'idle-group', topic: 'a-much-longer-topic-name-here', partitions: [{partition: 0, offset: '1'}]})
  await admin.setOffsets({groupId: 'second-group-with-a-long-name', topic: 'diff-topic', partitions: [{partition: 1, offset: '2'}]})
  // 20 partitions: Java's HashMap resizes past 12 entries, which changes the row order.
  await p.send({topic: 'wide', messages: Array.from({length: 40}, (_, i) => ({partition: i % 20, value: `w${i}`}))})
  await admin.setOffsets({groupId: 'wide-group', topic: 'wide', partitions: Array.from({length: 20}, (_, i) => ({partition: i, offset: String(i % 3)}))})
  await p.disconnect()
  await admin.disconnect()
  consumer = kafka.consumer({groupId: 'busy-group', sessionTimeout: 10000, heartbeatInterval: 500, maxWaitTimeInMs: 200})
  await consumer.connect()
  await consumer.subscribe({topics: ['diff-topic', 'a-much-longer-topic-name-here'], fromBeginning: true})
  let seen = 0
  await consumer.run({eachMessage: async () => { seen++ }})
  await waitFor(() => seen >= 32, 30000, 'busy-group to consume everything')
})

after(async () => {
  await consumer?.disconnect().catch(() => {})
  await broker?.cleanup()
  await zk?.stop()
})

const cases: string[][] = [
  ['--list'],
  ['--list', '--state'],
  ['--describe', '--all-groups'],
  ['--describe', '--group', 'idle-group', '--group', 'busy-group', '--members', '--verbose'],
  ['--describe', '--all-groups', '--state'],
  ['--describe', '--group', 'missing-group'],
  ['--reset-offsets', '--all-groups', '--all-topics', '--to-earliest'],
  ['--reset-offsets', '--group', 'idle-group', '--group', 'second-group-with-a-long-name', '--topic', 'diff-topic', '--shift-by', '-5', '--dry-run', '--export'],
  ['--delete-offsets', '--group', 'busy-group', '--topic', 'diff-topic', '--topic', 'no-such-topic'],
  ['--reset-offsets', '--group', 'idle-group', '--all-topics', '--to-datetime', '2020-01-01T00:00:00', '--dry-run'],
  ['--reset-offsets', '--group', 'wide-group', '--topic', 'wide', '--to-latest', '--dry-run'],
  ['--reset-offsets', '--group', 'wide-group', '--topic', 'wide:3,1,17,12,0,5,9,2,11,13,19,4,6', '--shift-by', '1', '--dry-run', '--export'],
]

for (const args of cases) {
  test(`same output as Apache Kafka 3.9: ${args.join(' ')}`, {skip, timeout: 120000}, async () => {
    await waitFor(async () => (await runCommand('kafka-consumer-groups', ['--bootstrap-server', B, '--describe', '--group', 'busy-group', '--state'])).stdout.includes('Stable'), 20000, 'busy-group Stable')
    const ours = await runCommand('kafka-consumer-groups', ['--bootstrap-server', B, ...args])
    const theirs = await apacheTool(['--bootstrap-server', B, ...args])
    assert.equal(ours.stdout, theirs.stdout, `stdout differs (stderr ours: ${ours.stderr} / theirs: ${theirs.stderr})`)
    assert.equal(firstErr(ours.stderr), firstErr(theirs.stderr))
  })
}
