import {test} from 'node:test'
import assert from 'node:assert/strict'
import {writeFileSync} from 'node:fs'
import {join} from 'node:path'
import {hostname} from 'node:os'
import {loadServerConfig, serverConfigFromText, topicConfigDefaults, validateTopicConfigs, TOPIC_TO_BROKER_KEY, BROKER_TO_TOPIC_KEY, ConfigError} from '../../src/core/config/server-config.js'
import {repoRoot, tempDir, removeDir} from '../helpers/util.js'

test('the shipped config/server.properties loads with Kafka 3.9 defaults and no warnings', () => {
  const c = loadServerConfig(join(repoRoot, 'config', 'server.properties'))
  assert.deepEqual(c.warnings, [])
  assert.equal(c.brokerId, 0)
  assert.equal(c.zookeeperConnect, 'localhost:2181')
  assert.deepEqual(c.logDirs, ['/tmp/kafka-logs'])
  assert.equal(c.logRetentionMs, 168 * 3600000)
  assert.equal(c.logSegmentBytes, 1073741824)
  assert.equal(c.messageMaxBytes, 1048588)
  assert.equal(c.zookeeperSessionTimeoutMs, 18000)
  assert.equal(c.zookeeperConnectionTimeoutMs, 18000)
  assert.equal(c.offsetsTopicNumPartitions, 50)
  assert.equal(c.offsetsTopicReplicationFactor, 1)
  assert.equal(c.groupInitialRebalanceDelayMs, 0)
  assert.equal(c.autoCreateTopicsEnable, true)
  assert.equal(c.deleteTopicEnable, true)
  assert.equal(c.listeners[0].port, 9092)
  assert.equal(c.listeners[0].securityProtocol, 'PLAINTEXT')
})

test('defaults when a key is absent', () => {
  const c = serverConfigFromText('zookeeper.connect=zk:2181/kafka\n')
  assert.equal(c.brokerId, -1)
  assert.equal(c.reservedBrokerMaxId, 1000)
  assert.deepEqual(c.listeners, [{name: 'PLAINTEXT', host: '', port: 9092, securityProtocol: 'PLAINTEXT'}])
  assert.equal(c.advertisedListeners[0].host, hostname())
  assert.equal(c.groupInitialRebalanceDelayMs, 3000)
  assert.equal(c.offsetsTopicReplicationFactor, 3)
  assert.equal(c.transactionStateLogMinIsr, 2)
  assert.equal(c.numPartitions, 1)
  assert.equal(c.defaultReplicationFactor, 1)
  assert.equal(c.minInsyncReplicas, 1)
  assert.equal(c.uncleanLeaderElectionEnable, false)
  assert.equal(c.compressionType, 'producer')
  assert.equal(c.logRollMs, 168 * 3600000)
  assert.equal(c.logRetentionBytes, -1)
  assert.equal(c.logMessageTimestampType, 'CreateTime')
  assert.deepEqual(c.logCleanupPolicy, ['delete'])
})

test('retention: ms beats minutes beats hours; negative means unlimited', () => {
  assert.equal(serverConfigFromText('zookeeper.connect=a:1\nlog.retention.hours=1\nlog.retention.minutes=5').logRetentionMs, 300000)
  assert.equal(serverConfigFromText('zookeeper.connect=a:1\nlog.retention.minutes=5\nlog.retention.ms=42').logRetentionMs, 42)
  assert.equal(serverConfigFromText('zookeeper.connect=a:1\nlog.retention.ms=-5').logRetentionMs, -1)
  assert.equal(serverConfigFromText('zookeeper.connect=a:1\nlog.roll.ms=1000\nlog.roll.hours=3').logRollMs, 1000)
})

test('overrides win over the file and must be key=value', () => {
  const c = serverConfigFromText('zookeeper.connect=a:1\nbroker.id=0', 'f', ['broker.id=3', 'log.dirs=/x,/y'])
  assert.equal(c.brokerId, 3)
  assert.deepEqual(c.logDirs, ['/x', '/y'])
  assert.throws(() => serverConfigFromText('zookeeper.connect=a:1', 'f', ['broker.id']), /Invalid override broker.id/)
})

test('bad values throw one-line ConfigErrors naming key, value and file', () => {
  const dir = tempDir()
  try {
    const f = join(dir, 'server.properties')
    writeFileSync(f, 'zookeeper.connect=localhost:2181\nnum.partitions=abc\n')
    assert.throws(() => loadServerConfig(f), (e: Error) => e instanceof ConfigError && e.message.includes('num.partitions') && e.message.includes('abc') && e.message.includes(f) && !e.message.includes('\n'))
  } finally {
    removeDir(dir)
  }
  assert.throws(() => serverConfigFromText('broker.id=0'), /Missing required configuration "zookeeper.connect"/)
  assert.throws(() => serverConfigFromText('zookeeper.connect=a:1\nbroker.id=5000'), /broker.id/)
  assert.throws(() => serverConfigFromText('zookeeper.connect=a:1\nlisteners=PLAINTEXT//x:1'), /listeners/)
  assert.throws(() => serverConfigFromText('zookeeper.connect=a:1\nlisteners=FOO://:9092'), /no entry for FOO/)
  assert.throws(() => serverConfigFromText('zookeeper.connect=a:1\nadvertised.listeners=PLAINTEXT://0.0.0.0:9092'), /nonroutable/)
  assert.throws(() => serverConfigFromText('zookeeper.connect=a:1\ndelete.topic.enable=maybe'), /delete.topic.enable/)
  assert.throws(() => serverConfigFromText('zookeeper.connect=a:1\nlisteners=PLAINTEXT://:9092\nadvertised.listeners=OTHER://h:9092\nlistener.security.protocol.map=PLAINTEXT:PLAINTEXT,OTHER:PLAINTEXT'), /must be equal to or a subset of the ones defined in listeners\. Found OTHER/)
  assert.throws(() => serverConfigFromText('zookeeper.connect=a:1\nlisteners=A://:9092,B://:9092\nlistener.security.protocol.map=A:PLAINTEXT,B:PLAINTEXT'), /Each listener must have a different port/)
  assert.throws(() => serverConfigFromText('zookeeper.connect=a:1\ninter.broker.listener.name=NOPE'), /inter.broker.listener.name must be a listener name defined in advertised.listeners/)
  assert.throws(() => serverConfigFromText('zookeeper.connect=a:1\nlog.message.timestamp.type=Foo'), /CreateTime, LogAppendTime/)
  assert.throws(() => serverConfigFromText('zookeeper.connect=a:1\ncompression.type=brotli'), /compression.type/)
  assert.throws(() => serverConfigFromText('zookeeper.connect=not a host'), /zookeeper.connect/)
})

test('unknown keys are warnings; keys without effect in kafkit are accepted silently', () => {
  const c = serverConfigFromText('zookeeper.connect=a:1\nnum.io.threads=8\nnum.network.threads=3\nlistener.name.plaintext.foo=1\nno.such.key=1')
  assert.deepEqual(c.warnings, ["The configuration 'no.such.key' was supplied but isn't a known config."])
})

test('listeners: several, advertised, IPv6, custom protocol map', () => {
  const c = serverConfigFromText('zookeeper.connect=a:1\nlisteners=INTERNAL://127.0.0.1:9093,EXTERNAL://[::1]:9094\nlistener.security.protocol.map=INTERNAL:PLAINTEXT,EXTERNAL:PLAINTEXT\nadvertised.listeners=INTERNAL://h1:9093,EXTERNAL://h2:19094')
  assert.deepEqual(c.listeners.map(l => [l.name, l.host, l.port]), [['INTERNAL', '127.0.0.1', 9093], ['EXTERNAL', '::1', 9094]])
  assert.deepEqual(c.advertisedListeners.map(l => [l.name, l.host, l.port, l.securityProtocol]), [['INTERNAL', 'h1', 9093, 'PLAINTEXT'], ['EXTERNAL', 'h2', 19094, 'PLAINTEXT']])
  assert.equal(c.interBrokerListenerName, 'INTERNAL')
  assert.deepEqual(c.warnings, [])
  const ssl = serverConfigFromText('zookeeper.connect=a:1\nlisteners=PLAINTEXT://:9092,SSL://:9093')
  assert.deepEqual(ssl.warnings, [])
  assert.equal(ssl.interBrokerListenerName, 'PLAINTEXT')
})

test('topic config defaults follow the broker keys, and the mapping is two-way', () => {
  const c = serverConfigFromText('zookeeper.connect=a:1\nlog.retention.hours=1\nlog.segment.bytes=2048\nlog.cleanup.policy=compact\nmessage.max.bytes=500\nmin.insync.replicas=2')
  const d = topicConfigDefaults(c)
  assert.equal(d['retention.ms'], '3600000')
  assert.equal(d['segment.bytes'], '2048')
  assert.equal(d['cleanup.policy'], 'compact')
  assert.equal(d['max.message.bytes'], '500')
  assert.equal(d['min.insync.replicas'], '2')
  assert.equal(d['flush.messages'], '9223372036854775807')
  assert.equal(d['segment.ms'], '604800000')
  assert.equal(d['compression.type'], 'producer')
  assert.equal(d['message.timestamp.type'], 'CreateTime')
  assert.equal(topicConfigDefaults(c, {'log.retention.ms': '5'})['retention.ms'], '5')
  assert.equal(TOPIC_TO_BROKER_KEY['retention.ms'], 'log.retention.ms')
  assert.equal(TOPIC_TO_BROKER_KEY['max.message.bytes'], 'message.max.bytes')
  assert.equal(BROKER_TO_TOPIC_KEY['log.segment.bytes'], 'segment.bytes')
  assert.equal(BROKER_TO_TOPIC_KEY['log.roll.ms'], 'segment.ms')
})

test('topic config validation gives Kafka\'s INVALID_CONFIG messages', () => {
  assert.equal(validateTopicConfigs({'retention.ms': '1000', 'cleanup.policy': 'compact,delete', 'min.cleanable.dirty.ratio': '0.1', 'preallocate': 'TRUE'}), undefined)
  assert.equal(validateTopicConfigs({'no.such': '1'}), 'Unknown topic config name: no.such')
  assert.equal(validateTopicConfigs({'retention.ms': 'abc'}), 'Invalid value abc for configuration retention.ms: Not a number of type LONG')
  assert.equal(validateTopicConfigs({'segment.bytes': '10'}), 'Invalid value 10 for configuration segment.bytes: Value must be at least 14')
  assert.equal(validateTopicConfigs({'cleanup.policy': 'zap'}), 'Invalid value zap for configuration cleanup.policy: String must be one of: compact, delete')
  assert.match(validateTopicConfigs({'compression.type': 'brotli'})!, /String must be one of: uncompressed, zstd, lz4, snappy, gzip, producer/)
  assert.match(validateTopicConfigs({'preallocate': 'yes'})!, /true or false/)
  assert.match(validateTopicConfigs({'min.cleanable.dirty.ratio': '2'})!, /no more than 1/)
  assert.equal(validateTopicConfigs({'retention.ms': null}), undefined)
})

test('security keys: used ones and listener-prefixed ones pass silently; unknown ssl./sasl. keys warn', () => {
  const c = serverConfigFromText([
    'zookeeper.connect=a:1', 'listeners=SASL_SSL://:9093', 'ssl.keystore.location=/x', 'ssl.client.auth=required', 'sasl.enabled.mechanisms=PLAIN',
    'listener.name.sasl_ssl.plain.sasl.jaas.config=x', 'listener.name.sasl_ssl.scram-sha-256.connections.max.reauth.ms=1000', 'connections.max.reauth.ms=5000',
    'ssl.provider=SunJSSE', 'sasl.kerberos.service.name=kafka', 'ssl.no.such=1', 'sasl.nonsense=2',
  ].join('\n'))
  assert.deepEqual(c.warnings, ["The configuration 'ssl.no.such' was supplied but isn't a known config.", "The configuration 'sasl.nonsense' was supplied but isn't a known config."])
})
