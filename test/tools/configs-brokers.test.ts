// kafkit's broker answers kafka-configs as Apache Kafka 3.9's broker does: the same commands
// on both brokers (one of each, started here) give the same stdout, synonyms and errors
// included (--describe --all of a topic, dynamic broker configs per broker and cluster-wide,
// quotas, SCRAM credentials). Needs Apache Kafka 3.9 (../shared/tools/apache-kafka).
import {test, before, after} from 'node:test'
import assert from 'node:assert/strict'
import {runCommand} from '../helpers/util.js'
import {apacheKafkaHome, kafkitBrokerBuilt, startCluster, type Cluster} from './apache-kafka.js'

const skip = !apacheKafkaHome() ? 'Apache Kafka 3.9 is not installed (../shared/tools/apache-kafka)' : !kafkitBrokerBuilt() ? 'kafkit is not built' : undefined
let kafkit: Cluster | undefined
let apache: Cluster | undefined

before(async () => {
  if (skip) return
  ;[kafkit, apache] = await Promise.all([startCluster('kafkit'), startCluster('apache')])
})

after(async () => {
  await Promise.all([kafkit?.stop(), apache?.stop()])
})

/** Runs the same kafka-configs (or kafka-topics) command on both brokers; bootstrap addresses masked. */
async function onBoth(script: string, ...args: string[]): Promise<{kafkit: string; apache: string}> {
  const run = async (c: Cluster) => {
    const r = await runCommand(script, ['--bootstrap-server', c.bootstrap, ...args])
    return `${r.code}\n${r.stdout}${r.stderr}`.split(c.bootstrap).join('<broker>')
  }
  const [k, a] = await Promise.all([run(kafkit!), run(apache!)])
  return {kafkit: k, apache: a}
}

async function same(script: string, ...args: string[]): Promise<string> {
  const r = await onBoth(script, ...args)
  assert.equal(r.kafkit, r.apache, `${script} ${args.join(' ')}`)
  return r.kafkit
}

test('the same kafka-configs session on kafkit\'s broker and on Apache Kafka\'s', {skip}, async () => {
  await same('kafka-topics', '--create', '--topic', 'syn', '--partitions', '1')
  await same('kafka-configs', '--alter', '--topic', 'syn', '--add-config', 'retention.ms=1000,segment.bytes=1048576,max.message.bytes=2000000,cleanup.policy=[compact,delete]')
  await same('kafka-configs', '--describe', '--all', '--topic', 'syn')
  await same('kafka-configs', '--alter', '--broker', '0', '--add-config', 'log.retention.ms=5000,log.roll.ms=7000')
  await same('kafka-configs', '--alter', '--broker-defaults', '--add-config', 'log.cleaner.threads=2,log.segment.bytes=2097152')
  const d = await same('kafka-configs', '--describe', '--entity-type', 'brokers')
  assert.match(d, /DYNAMIC_BROKER_CONFIG:log\.retention\.ms=5000, DEFAULT_CONFIG:log\.retention\.hours=168/)
  await same('kafka-configs', '--describe', '--all', '--topic', 'syn')
  await same('kafka-configs', '--alter', '--broker-defaults', '--add-config', 'log.retention.minutes=50')
  await same('kafka-configs', '--alter', '--broker', '0', '--add-config', 'log.retention.ms=abc')
  await same('kafka-configs', '--alter', '--topic', 'syn', '--add-config', 'retention.ms=abc')
  await same('kafka-configs', '--alter', '--broker', '0', '--delete-config', 'log.retention.ms,log.roll.ms')
  await same('kafka-configs', '--alter', '--broker-defaults', '--delete-config', 'log.cleaner.threads,log.segment.bytes')
  await same('kafka-configs', '--describe', '--entity-type', 'brokers')
  await same('kafka-configs', '--alter', '--user', 'alice', '--add-config', 'SCRAM-SHA-512=[iterations=5000,password=a],SCRAM-SHA-256=[password=b]')
  await same('kafka-configs', '--alter', '--user', 'bob', '--add-config', 'producer_byte_rate=1024,consumer_byte_rate=20000000')
  await same('kafka-configs', '--alter', '--user-defaults', '--client', 'c1', '--add-config', 'request_percentage=12.5')
  await same('kafka-configs', '--describe', '--entity-type', 'users')
  await same('kafka-configs', '--describe', '--entity-type', 'users', '--entity-type', 'clients')
  await same('kafka-configs', '--alter', '--user', 'alice', '--delete-config', 'SCRAM-SHA-512')
  await same('kafka-configs', '--describe', '--user', 'alice')
  await same('kafka-configs', '--describe', '--topic', 'nope')
})
