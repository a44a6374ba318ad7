// Kafka Connect 3.9 in distributed mode on a kafkit broker, twice on one cluster: with
// exactly.once.source.support=enabled and in the default mode (not enabled). Each worker creates
// and checks its compacted internal topics (config, offsets, status), runs a FileStreamSource
// connector whose records a read_committed consumer sees (once each with exactly-once; at least
// once each, in order, in the default mode), and goes on where it was after a kill -9 of the
// worker. Needs connect-file 3.9.1 (scripts/fetch-kafka-streams.sh) beside Apache Kafka 3.9's
// jars (connect-runtime).
import {test, before, after} from 'node:test'
import assert from 'node:assert/strict'
import {spawn} from 'node:child_process'
import {appendFileSync, existsSync, writeFileSync} from 'node:fs'
import {homedir} from 'node:os'
import {delimiter, join} from 'node:path'
import {freePort, runCommand, waitFor, Proc} from '../helpers/util.js'
import {JAVA, KAFKA_HOME, LIBS, javaTxn, requireApacheKafka, startTxnCluster, type TxnCluster} from './helpers.js'

const EXTRA_LIBS = join(homedir(), '.cache', 'kafka-streams-3.9', 'libs')

let cluster: TxnCluster
const workers: Proc[] = []

before(async () => {
  requireApacheKafka()
  if (!existsSync(join(EXTRA_LIBS, 'connect-file-3.9.1.jar'))) throw new Error(`connect-file 3.9.1 is not in ${EXTRA_LIBS} (run scripts/fetch-kafka-streams.sh)`)
  cluster = await startTxnCluster(1)
})

after(async () => {
  for (const w of workers) await w.stop('SIGKILL')
  await cluster?.stop()
})

/** A worker's settings file: its own group, internal topics and REST port, for one mode. */
async function workerProps(name: string, eos: boolean): Promise<{props: string; rest: string}> {
  const rest = `http://127.0.0.1:${await freePort()}`
  const props = join(cluster.dir, `connect-${name}.properties`)
  writeFileSync(props, [
    `bootstrap.servers=${cluster.bootstrap}`,
    `group.id=kafkit-connect-${name}`,
    'key.converter=org.apache.kafka.connect.storage.StringConverter',
    'value.converter=org.apache.kafka.connect.storage.StringConverter',
    `config.storage.topic=${name}-configs`, 'config.storage.replication.factor=1',
    `offset.storage.topic=${name}-offsets`, 'offset.storage.replication.factor=1', 'offset.storage.partitions=5',
    `status.storage.topic=${name}-status`, 'status.storage.replication.factor=1', 'status.storage.partitions=5',
    `listeners=${rest}`,
    ...(eos ? ['exactly.once.source.support=enabled'] : []),
    'offset.flush.interval.ms=500',
    '',
  ].join('\n'))
  return {props, rest}
}

function startWorker(props: string): Proc {
  const child = spawn(JAVA, ['-Xmx384m', '-XX:TieredStopAtLevel=1', `-Dlog4j.configuration=file:${join(KAFKA_HOME, 'config', 'log4j.properties')}`, '-cp', [join(LIBS, '*'), join(EXTRA_LIBS, '*')].join(delimiter), 'org.apache.kafka.connect.cli.ConnectDistributed', props], {stdio: ['ignore', 'pipe', 'pipe']})
  const w = new Proc(child)
  workers.push(w)
  return w
}

async function restJson(rest: string, path: string, init?: RequestInit): Promise<any> {
  const r = await fetch(rest + path, init)
  const text = await r.text()
  if (!r.ok) throw new Error(`${init?.method ?? 'GET'} ${path}: ${r.status} ${text}`)
  return text === '' ? null : JSON.parse(text)
}

async function running(rest: string, connector: string): Promise<boolean> {
  try {
    const s = await restJson(rest, `/connectors/${connector}/status`)
    return s.connector.state === 'RUNNING' && s.tasks.length === 1 && s.tasks[0].state === 'RUNNING'
  } catch {
    return false
  }
}

/** What a read_committed consumer reads from the beginning: `count` records, or what came in waitMs. */
async function committed(topic: string, count: number, waitMs = 20000): Promise<string[]> {
  const r = await javaTxn(['read', cluster.bootstrap, topic, 'read_committed', String(count), String(waitMs)])
  assert.equal(r.code, 0, r.stderr)
  const line = r.stdout.split('\n').find(l => l.trim() !== '' && !l.startsWith('log4j:')) ?? ''
  return line === '' ? [] : line.split(',')
}

/**
 * One worker in one mode: internal topics, a FileStreamSource connector (20 lines), kill -9 of
 * the worker, 10 more lines, the worker again. With exactly-once each line arrives once; in the
 * default mode the offsets flushed before the kill may lag, so lines may come again (at least
 * once), but none is lost and their first arrivals are in order.
 */
async function connectRun(name: string, eos: boolean): Promise<void> {
  const {props, rest} = await workerProps(name, eos)
  const connector = `${name}-file-src`
  const out = `${name}-out`
  const input = join(cluster.dir, `${name}-input.txt`)
  const first = Array.from({length: 20}, (_, i) => `line-${i}`)
  writeFileSync(input, first.join('\n') + '\n')
  let worker = startWorker(props)
  await waitFor(async () => {
    try {
      return (await restJson(rest, '/')).version === '3.9.1'
    } catch {
      return false
    }
  }, 120000, `the Connect worker's REST API (output: ${worker.output.slice(-2000)})`)
  // The worker created its internal topics compacted, as it requires (it checks them with DescribeConfigs).
  for (const t of [`${name}-configs`, `${name}-offsets`, `${name}-status`]) {
    const d = await runCommand('kafka-topics', ['--bootstrap-server', cluster.bootstrap, '--describe', '--topic', t])
    assert.match(d.stdout, /cleanup\.policy=compact/, `${t}: ${d.stdout}`)
  }
  await restJson(rest, `/connectors/${connector}/config`, {method: 'PUT', headers: {'content-type': 'application/json'}, body: JSON.stringify({
    'connector.class': 'org.apache.kafka.connect.file.FileStreamSourceConnector', 'tasks.max': '1', 'file': input, 'topic': out,
    ...(eos ? {'exactly.once.support': 'required'} : {}),
  })})
  await waitFor(() => running(rest, connector), 120000, `the connector and its task RUNNING (worker output: ${worker.output.slice(-3000)})`)
  await waitFor(async () => (await committed(out, 20)).length === 20, 90000, 'the first 20 lines')
  assert.deepEqual(await committed(out, 20), first)
  // kill -9 the worker, add lines, start it again: it resumes from its committed offsets.
  await worker.stop('SIGKILL')
  const second = Array.from({length: 10}, (_, i) => `line-${20 + i}`)
  appendFileSync(input, second.join('\n') + '\n')
  worker = startWorker(props)
  await waitFor(() => running(rest, connector), 120000, `the connector RUNNING again (worker output: ${worker.output.slice(-3000)})`)
  if (eos) {
    await waitFor(async () => (await committed(out, 30)).length >= 30, 90000, 'all 30 lines')
    assert.deepEqual(await committed(out, 40), [...first, ...second], 'each line exactly once, in order')
  } else {
    let all: string[] = []
    await waitFor(async () => (all = await committed(out, 1000, 5000)).includes('line-29'), 90000, 'the last line')
    assert.deepEqual([...new Set(all)], [...first, ...second], 'each line at least once, first arrivals in order')
  }
  assert.doesNotMatch(worker.output, /ERROR/, worker.output.split('\n').filter(l => /ERROR/.test(l)).slice(0, 5).join('\n'))
  await worker.stop('SIGKILL')
}

test('Kafka Connect distributed (exactly-once source) runs a FileStreamSource connector on kafkit and survives a worker kill -9', {timeout: 300000}, async () => {
  await connectRun('eos', true)
})

test('Kafka Connect distributed in the default mode (exactly.once.source.support not enabled) runs it too and survives a worker kill -9', {timeout: 300000}, async () => {
  await connectRun('plain', false)
})
