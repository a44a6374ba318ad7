// Pure pieces of the tools, bytes and strings only: Java's HashMap order (which decides
// kafka-topics --describe's order), the producer's line format, the consumer's formatter,
// replica assignments, topic filters and bootstrap lists.
import {test} from 'node:test'
import assert from 'node:assert/strict'
import {javaHashMapOrder, javaStringHash, topicFilter, invalidTopicName, describePartitionLine} from '../../src/core/client/format.js'
import {lineFormat, parseLine} from '../../src/core/client/line-reader.js'
import {formatOptions, formatRecord, deserializer} from '../../src/core/client/message-formatter.js'
import {parseBootstrap} from '../../src/core/client/connection.js'
import {parseReplicaAssignment} from '../../src/commands/kafka-topics.js'

test('Java String.hashCode', () => {
  assert.equal(javaStringHash(''), 0)
  assert.equal(javaStringHash('a'), 97)
  assert.equal(javaStringHash('hello'), 99162322)
  assert.equal(javaStringHash('retention.ms'), 'retention.ms'.split('').reduce((h, c) => (Math.imul(h, 31) + c.charCodeAt(0)) | 0, 0))
  assert.equal(javaStringHash('polygenelubricants'), -2147483648)
})

test('Java HashMap iteration order, as Apache Kafka 3.9 printed it', () => {
  // Orders observed from Apache Kafka 3.9's kafka-topics --describe.
  const configs = ['cleanup.policy', 'compression.type', 'segment.bytes']
  assert.deepEqual(javaHashMapOrder(configs, x => x), ['compression.type', 'cleanup.policy', 'segment.bytes'])
  assert.deepEqual(javaHashMapOrder(['retention.ms', 'cleanup.policy'], x => x), ['cleanup.policy', 'retention.ms'])
  const topics = ['__consumer_offsets', 'dev-topic', 'keyed', 'newtopic-auto', 'other.t_x']
  assert.deepEqual(javaHashMapOrder(topics, x => x, topics.length), ['newtopic-auto', 'other.t_x', 'dev-topic', 'keyed', '__consumer_offsets'])
})

test('console producer line format', () => {
  const plain = lineFormat(new Map())
  assert.deepEqual(parseLine(plain, 'a\tb', 1), {key: null, value: 'a\tb', headers: undefined})
  const keyed = lineFormat(new Map([['parse.key', 'true'], ['key.separator', '::']]))
  assert.deepEqual(parseLine(keyed, 'k::v::w', 1), {key: 'k', value: 'v::w', headers: undefined})
  assert.throws(() => parseLine(keyed, 'nosep', 7), /^Error: No key separator found on line number 7: 'nosep'$/)
  const ignoring = lineFormat(new Map([['parse.key', 'true'], ['ignore.error', 'true']]))
  assert.deepEqual(parseLine(ignoring, 'nosep', 1), {key: null, value: 'nosep', headers: undefined})
  const all = lineFormat(new Map([['parse.key', 'true'], ['parse.headers', 'true'], ['null.marker', '-']]))
  assert.deepEqual(parseLine(all, 'a:1,b:-\t-\tv', 1), {key: null, value: 'v', headers: {a: '1', b: null}})
  assert.deepEqual(parseLine(all, '\tk\t-', 1), {key: 'k', value: null, headers: {}})
  assert.throws(() => parseLine(all, 'a1\tk\tv', 3), /No header key separator found in pair 'a1' on line number 3/)
  assert.throws(() => lineFormat(new Map([['parse.key', 'true'], ['null.marker', '\t']])), /null.marker and key.separator cannot be the same/)
})

test('console consumer formatter', () => {
  const fmt = (props: [string, string][], rec: Partial<Parameters<typeof formatRecord>[1]>) => {
    const out: Buffer[] = []
    formatRecord(formatOptions(new Map(props)), {partition: 2, offset: '41', timestamp: '1700000000000', timestampType: 0, key: Buffer.from('k'), value: Buffer.from('v'), headers: {}, ...rec}, out)
    return Buffer.concat(out).toString()
  }
  assert.equal(fmt([], {}), 'v\n')
  assert.equal(fmt([['print.key', 'true'], ['print.timestamp', 'true'], ['print.partition', 'true'], ['print.offset', 'true'], ['print.headers', 'true']], {}), 'CreateTime:1700000000000\tPartition:2\tOffset:41\tNO_HEADERS\tk\tv\n')
  assert.equal(fmt([['print.key', 'true'], ['print.value', 'false']], {key: null}), 'null\n')
  assert.equal(fmt([['print.headers', 'true'], ['headers.separator', '|']], {headers: {a: Buffer.from('1'), b: [Buffer.from('2'), Buffer.from('3')]}}), 'a:1|b:2|b:3\tv\n')
  assert.equal(fmt([['print.timestamp', 'true'], ['key.separator', ' ']], {timestampType: 1, value: null}), 'LogAppendTime:1700000000000 null\n')
  assert.equal(fmt([['line.separator', '\r\n'], ['null.literal', 'NIL']], {value: null}), 'NIL\r\n')
})

test('replica assignments, topic filters, names, bootstrap lists', () => {
  assert.deepEqual(parseReplicaAssignment('0:1, 1:2,2:0'), [[0, 1], [1, 2], [2, 0]])
  assert.throws(() => parseReplicaAssignment('0:0'), /Partition replica lists may not contain duplicate entries: 0/)
  assert.throws(() => parseReplicaAssignment('0:1,2'), /Partition 1 has different replication factor: \[2\]/)
  const f = topicFilter('dev.*, other')
  assert.ok(f('dev-topic') && f('other') && !f('xdev') && !f('others'))
  assert.throws(() => topicFilter('('), /invalid regex/)
  assert.equal(invalidTopicName('ok.name_1-2'), undefined)
  assert.match(invalidTopicName('bad name')!, /contains one or more characters/)
  assert.match(invalidTopicName('x'.repeat(250))!, /longer than 249/)
  assert.deepEqual(parseBootstrap('a:1, b:2'), [{host: 'a', port: 1}, {host: 'b', port: 2}])
  assert.throws(() => parseBootstrap('nohost'), /Invalid url in bootstrap.servers: nohost/)
  assert.equal(describePartitionLine('t', {partition: 0, leader: -1, replicas: [1, 2], isr: []}), '\tTopic: t\tPartition: 0\tLeader: none\tReplicas: 1,2\tIsr: \tElr: N/A\tLastKnownElr: N/A')
})

test('deserializers named as Kafka names them', () => {
  const long = Buffer.alloc(8)
  long.writeBigInt64BE(-42n)
  const out: Buffer[] = []
  formatRecord(formatOptions(new Map([['value.deserializer', 'org.apache.kafka.common.serialization.LongDeserializer'], ['print.key', 'true']])), {partition: 0, offset: '0', timestamp: '0', timestampType: 0, key: Buffer.from('word'), value: long, headers: {}}, out)
  assert.equal(Buffer.concat(out).toString(), 'word\t-42\n')
  const int = Buffer.alloc(4)
  int.writeInt32BE(7)
  assert.equal(deserializer('org.apache.kafka.common.serialization.IntegerDeserializer')!(int).toString(), '7')
  const dbl = Buffer.alloc(8)
  dbl.writeDoubleBE(3)
  assert.equal(deserializer('org.apache.kafka.common.serialization.DoubleDeserializer')!(dbl).toString(), '3.0')
  dbl.writeDoubleBE(1.5e10)
  assert.equal(deserializer('org.apache.kafka.common.serialization.DoubleDeserializer')!(dbl).toString(), '1.5E10')
  assert.equal(deserializer('org.apache.kafka.common.serialization.StringDeserializer'), undefined)
  assert.throws(() => deserializer('com.example.Avro'), /Deserializer com.example.Avro is not supported by kafkit/)
  assert.throws(() => deserializer('org.apache.kafka.common.serialization.LongDeserializer')!(Buffer.from('abc')), /Size of data received by LongDeserializer is not 8/)
})
