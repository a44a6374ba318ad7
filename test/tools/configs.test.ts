// kafka-configs against a real broker (kafkit's, or Apache Kafka 3.9's with
// KAFKIT_TOOLS_TARGET=apache): topics, dynamic broker configs (per broker and the cluster
// default, persisted in ZooKeeper as Kafka persists them), client and user quotas, users'
// SCRAM credentials; compared with Apache Kafka 3.9's own kafka-configs when it is installed
// (same broker, same stdout); bad input gives Kafka's line and exit code.
import {test, before, after} from 'node:test'
import assert from 'node:assert/strict'
import {writeFileSync} from 'node:fs'
import {join} from 'node:path'
import {removeDir, runCommand, tempDir, waitFor} from '../helpers/util.js'
import {startCluster, targetSkipReason, type Cluster} from './apache-kafka.js'
import {apacheScript, errorLine, runApache} from './admin-scripts.js'

let cluster: Cluster | undefined
let B = ''
const apache = apacheScript('kafka-configs') ? undefined : 'Apache Kafka 3.9\'s kafka-configs is not installed (../shared/tools/apache-kafka)'
const configs = (...args: string[]) => runCommand('kafka-configs', ['--bootstrap-server', B, ...args])

before(async () => {
  const reason = targetSkipReason()
  if (reason) throw new Error(`kafka-configs tests need a broker: ${reason}`)
  cluster = await startCluster()
  B = cluster.bootstrap
  for (const t of ['cfg-t', 'cfg-u']) {
    const r = await runCommand('kafka-topics', ['--create', '--bootstrap-server', B, '--topic', t, '--partitions', '1'])
    assert.equal(r.code, 0, r.stdout + r.stderr)
  }
})

after(async () => {
  await cluster?.stop()
})

async function ok(...args: string[]): Promise<string> {
  const r = await configs(...args)
  assert.equal(r.stderr, '', args.join(' '))
  assert.equal(r.code, 0, args.join(' '))
  return r.stdout
}

/** kafkit's and Apache's kafka-configs print the same for args (on the same broker). */
async function sameAsApache(...args: string[]): Promise<void> {
  if (apache) return
  const [k, a] = await Promise.all([configs(...args), runApache('kafka-configs', ['--bootstrap-server', B, ...args])])
  assert.equal(k.stdout, a.stdout, args.join(' '))
  assert.equal(k.code, a.code, args.join(' '))
  assert.equal(errorLine(k.stderr), errorLine(a.stderr), args.join(' '))
}

test('topics: --alter --add-config (brackets), --describe, --delete-config', async () => {
  assert.equal(await ok('--alter', '--entity-type', 'topics', '--entity-name', 'cfg-t', '--add-config', 'retention.ms=5000,cleanup.policy=[compact,delete]'), 'Completed updating config for topic cfg-t.\n')
  const d = await ok('--describe', '--entity-type', 'topics', '--entity-name', 'cfg-t')
  const lines = d.split('\n')
  assert.equal(lines[0], 'Dynamic configs for topic cfg-t are:')
  assert.match(lines[1], /^ {2}cleanup\.policy=compact,delete sensitive=false synonyms=\{DYNAMIC_TOPIC_CONFIG:cleanup\.policy=compact,delete, DEFAULT_CONFIG:log\.cleanup\.policy=delete\}$/)
  assert.match(lines[2], /^ {2}retention\.ms=5000 sensitive=false synonyms=\{DYNAMIC_TOPIC_CONFIG:retention\.ms=5000.*\}$/)
  assert.equal(lines.length, 4)
  await sameAsApache('--describe', '--topic', 'cfg-t')
  assert.equal(await ok('--alter', '--topic', 'cfg-t', '--delete-config', 'retention.ms'), 'Completed updating config for topic cfg-t.\n')
  assert.doesNotMatch(await ok('--describe', '--topic', 'cfg-t'), /retention\.ms/)
  await sameAsApache('--describe', '--entity-type', 'topics')
  await sameAsApache('--describe', '--topic', 'cfg-u')
})

test('brokers: per-broker and cluster-default dynamic configs, kept in ZooKeeper as Kafka keeps them', async () => {
  assert.equal(await ok('--alter', '--entity-type', 'brokers', '--entity-default', '--add-config', 'log.cleaner.threads=2'), 'Completed updating default config for brokers in the cluster.\n')
  assert.equal(await ok('--alter', '--broker', '0', '--add-config', 'log.retention.ms=99999'), 'Completed updating config for broker 0.\n')
  const d = await ok('--describe', '--entity-type', 'brokers')
  assert.equal(d, [
    'Dynamic configs for broker 0 are:',
    '  log.retention.ms=99999 sensitive=false synonyms={DYNAMIC_BROKER_CONFIG:log.retention.ms=99999, DEFAULT_CONFIG:log.retention.hours=168}',
    'Default configs for brokers in the cluster are:',
    '  log.cleaner.threads=2 sensitive=false synonyms={DYNAMIC_DEFAULT_BROKER_CONFIG:log.cleaner.threads=2}',
    '',
  ].join('\n'))
  await sameAsApache('--describe', '--entity-type', 'brokers')
  await sameAsApache('--describe', '--broker-defaults')
  // Kafka's znodes: /config/brokers/<default> and /config/brokers/0.
  const zk = await runCommand('zookeeper-shell', [cluster!.zkConnect, 'get', '/config/brokers/<default>'])
  assert.match(zk.stdout, /\{"version":1,"config":\{"log\.cleaner\.threads":"2"\}\}/)
  const zk0 = await runCommand('zookeeper-shell', [cluster!.zkConnect, 'get', '/config/brokers/0'])
  assert.match(zk0.stdout, /\{"version":1,"config":\{"log\.retention\.ms":"99999"\}\}/)
  // The per-broker value is what topics without an override now get.
  await waitFor(async () => (await runCommand('kafka-topics', ['--describe', '--bootstrap-server', B, '--topic', 'cfg-u'])).code === 0, 5000, 'describe')
  assert.equal(await ok('--alter', '--broker', '0', '--delete-config', 'log.retention.ms'), 'Completed updating config for broker 0.\n')
  assert.equal(await ok('--describe', '--broker', '0'), 'Dynamic configs for broker 0 are:\n')
  assert.equal(await ok('--alter', '--broker-defaults', '--delete-config', 'log.cleaner.threads'), 'Completed updating default config for brokers in the cluster.\n')
  assert.equal(await ok('--describe', '--broker-defaults'), 'Default configs for brokers in the cluster are:\n')
})

test('brokers: a topic-level default changed at run time applies to existing topics at once', async () => {
  const c = await runCommand('kafka-topics', ['--create', '--bootstrap-server', B, '--topic', 'cfg-ts', '--partitions', '1'])
  assert.equal(c.code, 0, c.stdout + c.stderr)
  const produce = async (line: string) => assert.equal((await runCommand('kafka-console-producer', ['--bootstrap-server', B, '--topic', 'cfg-ts'], {input: line + '\n'})).code, 0)
  await produce('before')
  assert.equal(await ok('--alter', '--broker-defaults', '--add-config', 'log.message.timestamp.type=LogAppendTime'), 'Completed updating default config for brokers in the cluster.\n')
  await produce('after')
  const r = await runCommand('kafka-console-consumer', ['--bootstrap-server', B, '--topic', 'cfg-ts', '--from-beginning', '--max-messages', '2', '--property', 'print.timestamp=true'])
  assert.match(r.stdout, /^CreateTime:\d+\tbefore\nLogAppendTime:\d+\tafter\n$/)
  assert.equal(await ok('--alter', '--broker-defaults', '--delete-config', 'log.message.timestamp.type'), 'Completed updating default config for brokers in the cluster.\n')
})

test('users and clients: quotas (Java doubles, Kafka\'s order) and SCRAM credentials', async () => {
  assert.equal(await ok('--alter', '--entity-type', 'users', '--entity-name', 'alice', '--add-config', 'SCRAM-SHA-256=[iterations=8192,password=alice-secret]'), 'Completed updating config for user alice.\n')
  assert.equal(await ok('--alter', '--entity-type', 'users', '--entity-name', 'alice', '--add-config', 'producer_byte_rate=1024,consumer_byte_rate=20000000'), 'Completed updating config for user alice.\n')
  assert.equal(await ok('--alter', '--user-defaults', '--add-config', 'producer_byte_rate=5'), 'Completed updating default config for users in the cluster.\n')
  assert.equal(await ok('--alter', '--user', 'bob', '--client', 'c1', '--add-config', 'request_percentage=50'), 'Completed updating config for client c1.\n')
  assert.equal(await ok('--alter', '--entity-type', 'clients', '--entity-default', '--add-config', 'request_percentage=20'), 'Completed updating default config for clients in the cluster.\n')
  assert.equal(await ok('--describe', '--entity-type', 'users', '--entity-name', 'alice'), [
    'Quota configs for user-principal \'alice\' are consumer_byte_rate=2.0E7, producer_byte_rate=1024.0',
    'SCRAM credential configs for user-principal \'alice\' are SCRAM-SHA-256=iterations=8192',
    '',
  ].join('\n'))
  assert.equal(await ok('--describe', '--user', 'bob', '--client', 'c1'), 'Quota configs for user-principal \'bob\', client-id \'c1\' are request_percentage=50.0\n')
  assert.equal(await ok('--describe', '--entity-type', 'users', '--entity-name', 'nobody'), '')
  for (const args of [['--entity-type', 'users'], ['--entity-type', 'clients'], ['--entity-type', 'users', '--entity-type', 'clients'], ['--user-defaults'], ['--client-defaults'], ['--user', 'alice']]) {
    await sameAsApache('--describe', ...args)
  }
  assert.equal(await ok('--alter', '--user', 'alice', '--delete-config', 'SCRAM-SHA-256'), 'Completed updating config for user alice.\n')
  assert.equal(await ok('--alter', '--user', 'alice', '--delete-config', 'producer_byte_rate,consumer_byte_rate'), 'Completed updating config for user alice.\n')
  assert.equal(await ok('--describe', '--user', 'alice'), '')
})

test('Apache\'s kafka-configs reads what kafkit\'s wrote and the other way round', {skip: apache}, async () => {
  const a = await runApache('kafka-configs', ['--bootstrap-server', B, '--alter', '--user', 'carol', '--add-config', 'SCRAM-SHA-512=[iterations=5000,password=c],SCRAM-SHA-256=[password=d]'])
  assert.equal(a.stdout, 'Completed updating config for user carol.\n')
  assert.equal(await ok('--describe', '--user', 'carol'), 'SCRAM credential configs for user-principal \'carol\' are SCRAM-SHA-256=iterations=4096, SCRAM-SHA-512=iterations=5000\n')
  await sameAsApache('--describe', '--user', 'carol')
  await ok('--alter', '--ip', '127.0.0.9', '--add-config', 'connection_creation_rate=10')
  await sameAsApache('--describe', '--ip', '127.0.0.9')
  await sameAsApache('--describe', '--entity-type', 'ips')
})

test('bad input: Kafka\'s message on stderr, exit 1', async () => {
  const cases: [string[], string][] = [
    [['--describe'], 'At least one entity type must be specified'],
    [[], 'Command must include exactly one action: --describe, --alter'],
    [['--describe', '--topic', 'x', '--add-config', 'a=b'], 'Option "[describe]" can\'t be used with option "[add-config]"'],
    [['--describe', '--entity-type', 'foo'], 'Invalid entity type foo, the entity type must be one of topics, clients, users, brokers, ips, broker-loggers, client-metrics with a --bootstrap-server or --bootstrap-controller argument'],
    [['--describe', '--entity-type', 'topics', '--entity-type', 'topics'], 'Duplicate entity type(s) specified: topics'],
    [['--describe', '--entity-type', 'topics', '--entity-type', 'users'], 'Only \'users\' and \'clients\' entity types may be specified together'],
    [['--describe', '--broker', 'x'], 'The entity name for brokers must be a valid integer broker id, but it is: x'],
    [['--alter', '--entity-type', 'topics', '--add-config', 'a=b'], 'an entity name must be specified with --alter of topics'],
    [['--alter', '--user', 'u'], 'At least one of --add-config, --add-config-file, or --delete-config must be specified with --alter'],
    [['--alter', '--topic', 'cfg-t', '--add-config', 'a'], 'requirement failed: Invalid entity config: all configs to be added must be in the format "key=val".'],
    [['--alter', '--topic', 'cfg-t', '--add-config', 'a$b=1'], 'Invalid character found for config key: a$b'],
    [['--alter', '--topic', 'cfg-t', '--delete-config', 'nope,other'], 'Invalid config(s): nope,other'],
    [['--alter', '--client', 'c', '--add-config', 'foo=1'], 'Only quota configs can be added for \'clients\' using --bootstrap-server. Unexpected config names: Set(foo)'],
    [['--alter', '--user', 'u', '--add-config', 'foo=1'], 'Only quota and SCRAM credential configs can be added for \'users\' using --bootstrap-server. Unexpected config names: Set(foo)'],
    [['--alter', '--user', 'u', '--add-config', 'producer_byte_rate=x'], 'Cannot parse quota configuration value for producer_byte_rate: x'],
    [['--alter', '--user', 'u', '--add-config', 'SCRAM-SHA-256=[iterations=100,password=p]'], 'Iterations 100 is less than the minimum 4096 required for SCRAM-SHA-256'],
    [['--alter', '--user', 'u', '--add-config', 'SCRAM-SHA-256=[iterations=8192,pass=p]'], 'Invalid credential property SCRAM_SHA_256=iterations=8192,pass=p'],
    [['--alter', '--user-defaults', '--add-config', 'SCRAM-SHA-256=[password=p]'], 'The use of --entity-default or --user-defaults is not allowed with User SCRAM Credentials using --bootstrap-server.'],
    [['--alter', '--user', 'u', '--add-config', 'SCRAM-SHA-256=[password=p],producer_byte_rate=1'], 'Cannot alter both quota and SCRAM credential configs simultaneously for \'users\' using --bootstrap-server.'],
    [['--alter', '--user', 'u', '--delete-config', 'producer_byte_rate'], 'Invalid config(s): producer_byte_rate'],
    [['--alter', '--broker', '0', '--delete-config', 'log.cleaner.threads'], 'Invalid config(s): log.cleaner.threads'],
    [['--bogus'], 'bogus is not a recognized option'],
    [['--alter', '--broker', '0', '--add-config', 'broker.id=5'], `Error while executing config command with args '--bootstrap-server ${B} --alter --broker 0 --add-config broker.id=5'`],
    [['--alter', '--topic', 'nope', '--add-config', 'retention.ms=1'], `Error while executing config command with args '--bootstrap-server ${B} --alter --topic nope --add-config retention.ms=1'`],
  ]
  for (const [args, line] of cases) {
    const r = await configs(...args)
    assert.equal(r.stderr.split('\n')[0], line, args.join(' '))
    assert.equal(r.code, 1, args.join(' '))
    await sameAsApache(...args)
  }
  const id = await configs('--alter', '--broker', '0', '--add-config', 'broker.id=5')
  assert.equal(id.stderr.split('\n')[1], 'java.util.concurrent.ExecutionException: org.apache.kafka.common.errors.InvalidRequestException: Cannot update these configs dynamically: Set(broker.id)')
})

test('unreachable broker and a bad admin config: Kafka\'s two lines, exit 1', async () => {
  const dir = tempDir('kafkit-configs-')
  try {
    const short = join(dir, 'short.properties')
    writeFileSync(short, 'default.api.timeout.ms=2000\nrequest.timeout.ms=1000\n')
    const bad = join(dir, 'bad.properties')
    writeFileSync(bad, 'default.api.timeout.ms=2000\n')
    const cases: [string[], string][] = [
      [['--bootstrap-server', '127.0.0.1:1', '--alter', '--user', 'u', '--add-config', 'producer_byte_rate=5', '--command-config', short], 'java.util.concurrent.ExecutionException: org.apache.kafka.common.errors.TimeoutException: Timed out waiting for a node assignment. Call: describeClientQuotas'],
      [['--bootstrap-server', '127.0.0.1:1', '--describe', '--broker', '0', '--command-config', bad], 'org.apache.kafka.common.KafkaException: Failed to create new KafkaAdminClient'],
    ]
    for (const [args, second] of cases) {
      const r = await runCommand('kafka-configs', args)
      assert.deepEqual(r.stderr.split('\n').filter(l => l && !/ WARN /.test(l)), [`Error while executing config command with args '${args.join(' ')}'`, second])
      assert.equal(r.code, 1)
      if (!apache) {
        const a = await runApache('kafka-configs', args)
        assert.deepEqual(a.stderr.split('\n').filter(l => l && !/ WARN |^\s+at |^Caused by|^\s+\.\.\./.test(l)).slice(0, 2), [`Error while executing config command with args '${args.join(' ')}'`, second])
      }
    }
  } finally {
    removeDir(dir)
  }
})
