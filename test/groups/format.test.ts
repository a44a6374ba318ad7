// Pure helpers of kafka-consumer-groups: Java's HashMap order for TopicPartitions (checked
// against orders Apache Kafka 3.9's tool printed), padding, datetime/duration/CSV inputs.
import {test} from 'node:test'
import assert from 'node:assert/strict'
import {pad, row, tpHashOrder, parseDateTime, parseDuration, parseResetPlan, assignmentString, javaException} from '../../src/core/client/groups-format.js'
import {javaHashMapOrder} from '../../src/core/client/format.js'

test('TopicPartition order is the order Kafka 3.9 printed', () => {
  const tps = (topic: string, ps: number[]) => ps.map(partition => ({topic, partition}))
  // kafka-consumer-groups --reset-offsets --topic dev-topic printed partitions 2, 1, 0.
  assert.deepEqual(tpHashOrder(tps('dev-topic', [0, 1, 2])).map(t => t.partition), [2, 1, 0])
  // --describe of a member owning dev-topic:1 and other-topic:0 printed dev-topic first.
  assert.deepEqual(tpHashOrder([{topic: 'dev-topic', partition: 1}, {topic: 'other-topic', partition: 0}]).map(t => t.topic), ['dev-topic', 'other-topic'])
  // Group ids: Kafka listed other-group before dev-group, and 'ga, gb' in that order.
  assert.deepEqual(javaHashMapOrder(['dev-group', 'other-group'], g => g), ['other-group', 'dev-group'])
  assert.deepEqual(javaHashMapOrder(['gb', 'ga'], g => g), ['ga', 'gb'])
})

test('padding as Java\'s %-Ns', () => {
  assert.equal(pad('ab', 5), 'ab   ')
  assert.equal(pad('abcdef', 3), 'abcdef')
  assert.equal(row(['a', 'b', 'c'], [3, 2, 0]), 'a   b  c')
})

test('--to-datetime as Kafka\'s Utils.getDateTime', () => {
  assert.equal(parseDateTime('2020-01-01T00:00:00.000'), Date.UTC(2020, 0, 1))
  assert.equal(parseDateTime('2020-01-01T00:00:00.000Z'), Date.UTC(2020, 0, 1))
  assert.equal(parseDateTime('2020-01-01T01:00:00.000+01:00'), Date.UTC(2020, 0, 1))
  assert.equal(parseDateTime('2020-01-01T00:00:00.000-0130'), Date.UTC(2020, 0, 1, 1, 30))
  assert.throws(() => parseDateTime('yesterday'), /does not contain a 'T'/)
  assert.throws(() => parseDateTime('2020-13-01T00:00:00.000'), /Unparseable date: "2020-13-01T00:00:00.000Z"/)
  assert.throws(() => parseDateTime('2020-02-30T00:00:00.000'), /Unparseable date/)
  assert.throws(() => parseDateTime('2020-01-01T00:00:00'), /Unparseable date/)
})

test('--by-duration as java.time.Duration.parse', () => {
  assert.equal(parseDuration('PT1H'), 3600000)
  assert.equal(parseDuration('P1DT2H3M4.5S'), 86400000 + 7200000 + 180000 + 4500)
  assert.equal(parseDuration('-PT1M'), -60000)
  assert.equal(parseDuration('pt10s'), 10000)
  for (const bad of ['1h', 'P', 'PT', 'P1H', 'PT1D', '']) assert.throws(() => parseDuration(bad), /Text cannot be parsed to a Duration/, bad)
})

test('reset plan CSV: with and without the group column; bad lines named', () => {
  assert.deepEqual(parseResetPlan('t,0,5\nt,1,7\n\n', 'g'), [{group: 'g', topic: 't', partition: 0, offset: 5}, {group: 'g', topic: 't', partition: 1, offset: 7}])
  assert.deepEqual(parseResetPlan('g1,t,0,5\r\ng2,t,1,7\n', undefined), [{group: 'g1', topic: 't', partition: 0, offset: 5}, {group: 'g2', topic: 't', partition: 1, offset: 7}])
  assert.throws(() => parseResetPlan('t,0,5\nt,x,1\n', 'g'), /line 2: 't,x,1'/)
  assert.throws(() => parseResetPlan('t,0\n', undefined), /line 1/)
})

test('members --verbose assignment strings and Java exception names', () => {
  assert.equal(assignmentString([]), '-')
  assert.equal(assignmentString([{topic: 'a', partition: 2}, {topic: 'a', partition: 0}, {topic: 'b', partition: 1}]), '(0,2), (1)')
  assert.equal(assignmentString([{topic: 'a', partition: 10}, {topic: 'a', partition: 9}]), '(10,9)')
  assert.equal(javaException(69), 'org.apache.kafka.common.errors.GroupIdNotFoundException: The group id does not exist.')
  assert.equal(javaException(68), 'org.apache.kafka.common.errors.GroupNotEmptyException: The group is not empty.')
})
