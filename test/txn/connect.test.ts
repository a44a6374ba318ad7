// Kafka Connect 3.9 in distributed mode, with exactly.once.source.support=enabled, on a kafkit
// broker: the worker creates and checks its compacted internal topics (config, offsets,
// status), runs a FileStreamSource connector whose records a read_committed consumer sees once
// each, and goes on where it was after a kill -9 of the worker. Needs connect-file 3.9.1
// (scripts/fetch-kafka-streams.sh) beside Apache Kafka 3.9's jars (connect-runtime).
import {test, before, after} from 'node:test'
import assert from 'node:assert/strict'
import {spawn} from 'node:child_process'
import {appendFileSync, existsSync, writeFileSync} from 'node:fs'
import {homedir} from 'node:os'
import {join} from 'node:path'
import {freePort, runCommand, waitFor, Proc} from '../helpers/util.js'
import {JAVA, KAFKA_HOME, LIBS, javaTxn, requireApacheKafka, startTxnCluster, type TxnCluster} from './helpers.js'

const EXTRA_LIBS = join(homedir(), '.cache', 'kafka-streams-3.9', 'libs')

let cluster: TxnCluster
let worker: Proc | null = null
let rest = ''
let props = ''

before(async () => {
  requireApacheKafka()
  if (!existsSync(join(EXTRA_LIBS, 'connect-file-3.9.1.jar'))) throw new Error(`connect-file 3.9.1 is not in ${EXTRA_LIBS} (run scripts/fetch-kafka-streams.sh)`)
  cluster = await startTxnCluster(1)
  const port = await freePort()
  rest = `http://127.0.0.1:${port}`
  props = join(cluster.dir, 'connect-distributed.properties')
  writeFileSync(props, [
    `bootstrap.servers=${cluster.bootstrap}`,
    'group.id=kafkit-connect',
    'key.converter=org.apache.kafka.connect.storage.StringConverter',
    'value.converter=org.apache.kafka.connect.storage.StringConverter',
    'config.storage.topic=connect-configs', 'config.storage.replication.factor=1',
    'offset.storage.topic=connect-offsets', 'offset.storage.replication.factor=1', 'offset.storage.partitions=5',
    'status.storage.topic=connect-status', 'status.storage.replication.factor=1', 'status.storage.partitions=5',
    `listeners=${rest}`,
    'exactly.once.source.support=enabled',
    'offset.flush.interval.ms=500',
    '',
  ].join('\n'))
})

after(async () => {
  await worker?.stop('SIGKILL')
  await cluster?.stop()
})

function startWorker(): Proc {
  const child = spawn(JAVA, ['-Xmx384m', '-XX:TieredStopAtLevel=1', `-Dlog4j.configuration=file:${join(KAFKA_HOME, 'config', 'log4j.properties')}`, '-cp', `${join(LIBS, '*')}:${join(EXTRA_LIBS, '*')}`, 'org.apache.kafka.connect.cli.ConnectDistributed', props], {stdio: ['ignore', 'pipe', 'pipe']})
  return new Proc(child)
}

async function restJson(path: string, init?: RequestInit): Promise<any> {
  const r = await fetch(rest + path, init)
  const text = await r.text()
  if (!r.ok) throw new Error(`${init?.method ?? 'GET'} ${path}: ${r.status} ${text}`)
  return text === '' ? null : JSON.parse(text)
}

async function running(): Promise<boolean> {
  try {
    const s = await restJson('/connectors/file-src/status')
    return s.connector.state === 'RUNNING' && s.tasks.length === 1 && s.tasks[0].state === 'RUNNING'
  } catch {
    return false
  }
}

async function committed(count: number): Promise<string[]> {
  const r = await javaTxn(['read', cluster.bootstrap, 'connect-out', 'read_committed', String(count)])
  assert.equal(r.code, 0, r.stderr)
  const line = r.stdout.split('\n').find(l => l.trim() !== '' && !l.startsWith('log4j:')) ?? ''
  return line === '' ? [] : line.split(',')
}

test('Kafka Connect distributed (exactly-once source) runs a FileStreamSource connector on kafkit and survives a worker kill -9', {timeout: 240000}, async () => {
  const input = join(cluster.dir, 'input.txt')
  const first = Array.from({length: 20}, (_, i) => `line-${i}`)
  writeFileSync(input, first.join('\n') + '\n')
  worker = startWorker()
  await waitFor(async () => {
    try {
      return (await restJson('/')).version === '3.9.1'
    } catch {
      return false
    }
  }, 120000, `the Connect worker's REST API (output: ${worker.output.slice(-2000)})`)
  // The worker created its internal topics compacted, as it requires (it checks them with DescribeConfigs).
  for (const t of ['connect-configs', 'connect-offsets', 'connect-status']) {
    const d = await runCommand('kafka-topics', ['--bootstrap-server', cluster.bootstrap, '--describe', '--topic', t])
    assert.match(d.stdout, /cleanup\.policy=compact/, `${t}: ${d.stdout}`)
  }
  await restJson('/connectors/file-src/config', {method: 'PUT', headers: {'content-type': 'application/json'}, body: JSON.stringify({
    'connector.class': 'org.apache.kafka.connect.file.FileStreamSourceConnector', 'tasks.max': '1', 'file': input, 'topic': 'connect-out', 'exactly.once.support': 'required',
  })})
  await waitFor(running, 120000, `the connector and its task RUNNING (worker output: ${worker.output.slice(-3000)})`)
  await waitFor(async () => (await committed(20)).length === 20, 90000, 'the first 20 lines')
  assert.deepEqual(await committed(20), first)
  // kill -9 the worker, add lines, start it again: it resumes from its committed offsets.
  await worker.stop('SIGKILL')
  const second = Array.from({length: 10}, (_, i) => `line-${20 + i}`)
  appendFileSync(input, second.join('\n') + '\n')
  worker = startWorker()
  await waitFor(running, 120000, `the connector RUNNING again (worker output: ${worker.output.slice(-3000)})`)
  await waitFor(async () => (await committed(30)).length >= 30, 90000, 'all 30 lines')
  const all = await committed(40)
  assert.deepEqual(all, [...first, ...second], 'each line exactly once, in order')
  assert.doesNotMatch(worker.output, /ERROR/, worker.output.split('\n').filter(l => /ERROR/.test(l)).slice(0, 5).join('\n'))
})
