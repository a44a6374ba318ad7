// confluent-kafka-python (librdkafka: idempotent producer, acks=all, group consumer) and
// kafka-python (admin, producer, group consumer) against kafkit's broker.
import {test, before, after} from 'node:test'
import assert from 'node:assert/strict'
import {startApacheZooKeeper, startBrokerProc, python, type ApacheZooKeeper, type BrokerProc} from './helpers.js'

let zk: ApacheZooKeeper
let broker: BrokerProc

before(async () => {
  zk = await startApacheZooKeeper()
  broker = await startBrokerProc(zk.connect, ['num.partitions=3'])
})

after(async () => {
  await broker?.cleanup()
  await zk?.stop()
})

function summary(r: {code: number | null; stdout: string; stderr: string}): any {
  assert.equal(r.code, 0, `exit ${r.code}: ${r.stderr.slice(-3000)}`)
  return JSON.parse(r.stdout.trim().split('\n').pop()!)
}

test('confluent-kafka: idempotent acks=all producer and a group consumer', async () => {
  const s = summary(await python('confluent_roundtrip.py', [broker.bootstrap, 'ck-topic', '5000', 'ck-group'], {timeoutMs: 90000}))
  assert.deepEqual(s.errors, [])
  assert.equal(s.delivered, 5000)
  assert.equal(s.unflushed, 0)
  assert.equal(s.consumed, 5000)
  assert.equal(s.all, true)
  assert.equal(s.committed_ok, true)
  assert.equal(s.committed, 5000)
})

test('kafka-python: admin, producer, group consumer with commit', async () => {
  const s = summary(await python('kafka_python_roundtrip.py', [broker.bootstrap, 'kp-topic', '1000', 'kp-group'], {timeoutMs: 90000}))
  assert.equal(s.topic_listed, true)
  assert.equal(s.acked, 1000)
  assert.equal(s.consumed, 1000)
  assert.equal(s.all, true)
  assert.equal(s.committed, 1000)
  assert.equal(s.group_listed, true)
})
