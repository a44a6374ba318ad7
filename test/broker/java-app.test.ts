// MISSION row 11: an application written against the Java client with its defaults (acks=all,
// idempotent producer) and a consumer with manual commits and auto.offset.reset=earliest,
// as a Spring Kafka app is set up. It produces, consumes part of the topic committing each
// record, "restarts", and must go on exactly where it committed: nothing lost, nothing twice.
import {test, before, after} from 'node:test'
import assert from 'node:assert/strict'
import {existsSync} from 'node:fs'
import {homedir} from 'node:os'
import {join} from 'node:path'
import {startApacheZooKeeper, startBrokerProc, exec, type ApacheZooKeeper, type BrokerProc} from './helpers.js'
import {repoRoot, runCommand} from '../helpers/util.js'

const LIBS = join(homedir(), '.cache', 'apache-kafka-3.9', 'libs')
const APP = join(repoRoot, 'test', 'broker', 'java', 'App.java')
const JAVA = '/usr/bin/java'

let zk: ApacheZooKeeper
let broker: BrokerProc

before(async () => {
  if (!existsSync(LIBS)) throw new Error(`Apache Kafka 3.9's client jars are not in ${LIBS} (run /work/shared/tools/apache-kafka ~/.cache/apache-kafka-3.9)`)
  zk = await startApacheZooKeeper()
  broker = await startBrokerProc(zk.connect)
})

after(async () => {
  await broker?.cleanup()
  await zk?.stop()
})

const app = (...args: string[]) => exec(JAVA, ['-Xmx256m', '-XX:TieredStopAtLevel=1', '-Dorg.slf4j.simpleLogger.defaultLogLevel=warn', '-cp', join(LIBS, '*'), APP, ...args], {timeoutMs: 120000})

test('a Java-client app with default producer settings and manual commits resumes exactly where it committed', {timeout: 300000}, async () => {
  const b = broker.bootstrap
  const created = await runCommand('kafka-topics', ['--bootstrap-server', b, '--create', '--topic', 'app-topic', '--partitions', '1', '--replication-factor', '1'])
  assert.equal(created.code, 0, created.stdout + created.stderr)
  const produced = await app('produce', b, 'app-topic', '100')
  assert.equal(produced.code, 0, produced.stderr)
  assert.equal(produced.stdout.trim(), 'sent 100 last offset 99')
  const first = await app('consume', b, 'app-topic', 'app-group', '60')
  assert.equal(first.code, 0, first.stderr)
  assert.deepEqual(first.stdout.trim().split('\n'), Array.from({length: 60}, (_, i) => `v${i}`))
  // The app restarts: the same group goes on at the committed offset.
  const second = await app('consume', b, 'app-topic', 'app-group', '40')
  assert.equal(second.code, 0, second.stderr)
  assert.deepEqual(second.stdout.trim().split('\n'), Array.from({length: 40}, (_, i) => `v${60 + i}`))
  const groups = await runCommand('kafka-consumer-groups', ['--bootstrap-server', b, '--describe', '--group', 'app-group'])
  const row = groups.stdout.split('\n').find(l => l.startsWith('app-group'))
  assert.ok(row, groups.stdout + groups.stderr)
  const cols = row.trim().split(/\s+/)
  assert.deepEqual(cols.slice(1, 6), ['app-topic', '0', '100', '100', '0'], 'committed 100, log end 100, lag 0')
})
