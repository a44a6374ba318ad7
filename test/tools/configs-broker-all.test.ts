// kafka-configs --describe --all of a broker lists what Apache Kafka 3.9's broker lists: every
// non-internal KafkaConfig key, with Kafka's default values as Kafka prints them, sensitivity
// and synonyms, for brokers started from the same server.properties. Values that legitimately
// differ between the two brokers (ids, addresses, ports, paths) are masked. Needs Apache Kafka
// 3.9 (../shared/tools/apache-kafka).
import {test, before, after} from 'node:test'
import assert from 'node:assert/strict'
import {runCommand} from '../helpers/util.js'
import {AdminClient} from '../../src/core/client/admin-client.js'
import {ConfigResourceType, describeConfigs} from '../../src/core/client/admin/configs.js'
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

/** Both brokers' --describe --all, started with these server.properties settings (each pair stopped after). */
async function describeBoth(extra: Record<string, string>): Promise<[Map<string, string>, Map<string, string>]> {
  const [k, a] = await Promise.all([startCluster('kafkit', extra), startCluster('apache', extra)])
  try {
    return await Promise.all([describeAll(k), describeAll(a)])
  } finally {
    await Promise.all([k.stop(), a.stop()])
  }
}

function sameLines(k: Map<string, string>, a: Map<string, string>): void {
  assert.ok(a.size > 250, `Apache lists ${a.size} keys`)
  assert.deepEqual([...k.keys()].sort(), [...a.keys()].sort(), 'the same keys')
  const differ = [...a.keys()].filter(key => k.get(key) !== a.get(key)).map(key => `kafkit: ${k.get(key)}\napache: ${a.get(key)}`)
  assert.deepEqual(differ, [], 'the same values, sensitivity and synonyms')
}

/** Keys whose values depend on the broker's process, addresses or files, not on Kafka's defaults. */
const MASKED = /^(broker\.id|listeners|advertised\.listeners|log\.dirs?|zookeeper\.connect|port|host\.name|advertised\.(host\.name|port)|listener\.security\.protocol\.map)$/

/** The key=line map of `kafka-configs --describe --all` of broker 0. */
async function describeAll(c: Cluster): Promise<Map<string, string>> {
  const r = await runCommand('kafka-configs', ['--bootstrap-server', c.bootstrap, '--describe', '--all', '--entity-type', 'brokers', '--entity-name', '0'])
  assert.equal(r.code, 0, r.stderr)
  const out = new Map<string, string>()
  for (const line of r.stdout.split('\n')) {
    const m = /^ {2}([^=\s]+)=/.exec(line)
    if (m) out.set(m[1], MASKED.test(m[1]) ? '<masked>' : line.split(c.bootstrap).join('<broker>'))
  }
  return out
}

test('kafka-configs --describe --all of a broker lists Apache Kafka\'s keys and defaults', {skip}, async () => {
  const [k, a] = await Promise.all([describeAll(kafkit!), describeAll(apache!)])
  sameLines(k, a)
  // What kafka-configs does not print: read-only flags and types, as Kafka's DescribeConfigs gives them.
  const flags = await Promise.all([kafkit!, apache!].map(async c => {
    const admin = new AdminClient(c.bootstrap)
    try {
      const entries = await describeConfigs(admin, ConfigResourceType.BROKER, '0', false)
      return new Map(entries.map(e => [e.name, `readOnly=${e.readOnly} type=${e.configType}`]))
    } finally {
      admin.close()
    }
  }))
  const flagDiffs = [...flags[1].keys()].filter(key => flags[0].get(key) !== flags[1].get(key)).map(key => `${key} kafkit ${flags[0].get(key)} apache ${flags[1].get(key)}`)
  assert.deepEqual(flagDiffs, [], 'the same read-only flags and types')
  // Dynamic configs, this broker's own and the cluster default's, on top.
  for (const c of [kafkit!, apache!]) {
    for (const target of [['--entity-name', '0'], ['--entity-default']]) {
      const config = target[0] === '--entity-default' ? 'log.cleaner.threads=2,log.segment.bytes=2097152' : 'log.retention.ms=5000,num.io.threads=6'
      const r = await runCommand('kafka-configs', ['--bootstrap-server', c.bootstrap, '--alter', '--entity-type', 'brokers', ...target, '--add-config', config])
      assert.equal(r.code, 0, r.stderr)
    }
  }
  const [k2, a2] = await Promise.all([describeAll(kafkit!), describeAll(apache!)])
  sameLines(k2, a2)
  assert.match(a2.get('log.retention.ms')!, /DYNAMIC_BROKER_CONFIG:log\.retention\.ms=5000, DEFAULT_CONFIG:log\.retention\.hours=168/)
  // The cluster default resource lists only its dynamic keys.
  const defaults = await Promise.all([kafkit!, apache!].map(async c => {
    const r = await runCommand('kafka-configs', ['--bootstrap-server', c.bootstrap, '--describe', '--all', '--entity-type', 'brokers', '--entity-default'])
    return `${r.code}\n${r.stdout}${r.stderr}`
  }))
  assert.equal(defaults[0], defaults[1])
})

test('settings in server.properties: the value as Kafka parses it, the synonyms as written, secrets hidden', {skip}, async () => {
  const [k, a] = await describeBoth({
    'log.retention.hours': '24', 'log.roll.ms': '3600000', 'num.io.threads': '4', 'auto.create.topics.enable': 'false',
    'sasl.enabled.mechanisms': 'PLAIN, SCRAM-SHA-256', 'ssl.keystore.password': 'secret', 'message.max.bytes': '2000000',
  })
  sameLines(k, a)
  assert.match(a.get('ssl.keystore.password')!, /=null sensitive=true/)
})
