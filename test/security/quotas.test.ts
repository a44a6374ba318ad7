// Quotas: a producer_byte_rate quota for a user (set and described with Apache Kafka 3.9's
// kafka-configs through AlterClientQuotas / DescribeClientQuotas) throttles that user's
// producer to about the rate: responses carry throttle_time_ms and the connection is muted; a
// more specific user/client-id quota takes precedence (Kafka's order); removing the quota lifts
// it. The broker runs with quota.window.num=2 so that a test second is a full quota window.
import {test, before, after} from 'node:test'
import assert from 'node:assert/strict'
import {removeDir} from '../helpers/util.js'
import {startApacheZooKeeper, type ApacheZooKeeper} from '../broker/helpers.js'
import {startSecureBroker, apacheTool, apacheSkip, pyClient, scratch, type SecureBroker} from './helpers.js'

const skip = apacheSkip()
const PLAIN = 'org.apache.kafka.common.security.plain.PlainLoginModule'
let zk: ApacheZooKeeper
let broker: SecureBroker
let dir: string
const RATE = 200 * 1024

before(async () => {
  if (skip) return
  dir = scratch()
  zk = await startApacheZooKeeper()
  broker = await startSecureBroker(zk.connect, {PLAINTEXT: 'PLAINTEXT', SASL_PLAINTEXT: 'SASL_PLAINTEXT'}, [
    'sasl.enabled.mechanisms=PLAIN',
    `listener.name.sasl_plaintext.plain.sasl.jaas.config=${PLAIN} required user_alice="alice-secret";`,
    'quota.window.num=2',
    'quota.window.size.seconds=1',
  ])
})

after(async () => {
  await broker?.cleanup()
  await zk?.stop()
  if (dir) removeDir(dir)
})

const configs = (...args: string[]) => apacheTool('kafka-configs', ['--bootstrap-server', broker.addr('PLAINTEXT'), ...args])
const alice = {'security.protocol': 'SASL_PLAINTEXT', 'sasl.mechanisms': 'PLAIN', 'sasl.username': 'alice', 'sasl.password': 'alice-secret'}

test('a produce byte-rate quota throttles the user\'s producer to about the rate, with throttle_time_ms', {skip, timeout: 120000}, async () => {
  const set = await configs('--alter', '--add-config', `producer_byte_rate=${RATE}`, '--entity-type', 'users', '--entity-name', 'alice')
  assert.equal(set.code, 0, set.stderr)
  assert.match(set.stdout, /Completed updating config for user alice\./)
  const d = await configs('--describe', '--entity-type', 'users', '--entity-name', 'alice')
  assert.match(d.stdout, new RegExp(`Quota configs for user-principal 'alice' are producer_byte_rate=${RATE}\\.0`))
  // 1.2 MB in 1 KiB records: at 200 KiB/s about 6 s (a window's burst goes through at once).
  const count = 1200
  const r = await pyClient(broker.addr('SASL_PLAINTEXT'), 'quota-t', count, 'produce', {...alice, 'test.value.size': 1024, 'linger.ms': 20, 'batch.size': 65536, 'test.timeout.s': 60})
  assert.deepEqual(r.errors, [])
  assert.equal(r.delivered, count)
  const rate = count * 1024 / r.produce_seconds
  console.log(`# produced ${count} KiB in ${r.produce_seconds} s: ${(rate / 1024).toFixed(0)} KiB/s against a quota of ${RATE / 1024} KiB/s; ${r.throttles} throttled responses, at most ${r.max_throttle_ms} ms`)
  assert.ok(r.throttles > 0, 'some responses carried throttle_time_ms')
  assert.ok(rate < RATE * 1.6, `rate ${rate} B/s is about the quota ${RATE} B/s`)
  assert.ok(rate > RATE * 0.5, `rate ${rate} B/s is not far below the quota ${RATE} B/s`)
})

test('a user/client-id quota takes precedence over the user\'s; deleting the quotas lifts them', {skip, timeout: 120000}, async () => {
  const set = await configs('--alter', '--add-config', 'producer_byte_rate=104857600', '--entity-type', 'users', '--entity-name', 'alice', '--entity-type', 'clients', '--entity-name', 'fast-app')
  assert.equal(set.code, 0, set.stderr)
  const d = await configs('--describe', '--entity-type', 'users', '--entity-name', 'alice', '--entity-type', 'clients', '--entity-name', 'fast-app')
  assert.match(d.stdout, /Quota configs for user-principal 'alice', client-id 'fast-app' are producer_byte_rate=1\.048576E8/)
  const fast = await pyClient(broker.addr('SASL_PLAINTEXT'), 'quota-t', 1200, 'produce', {...alice, 'client.id': 'fast-app', 'test.value.size': 1024, 'linger.ms': 20, 'test.timeout.s': 60})
  assert.equal(fast.delivered, 1200)
  assert.equal(fast.throttles, 0)
  assert.ok(fast.produce_seconds < 4, `${fast.produce_seconds} s`)
  for (const args of [['--entity-type', 'users', '--entity-name', 'alice'], ['--entity-type', 'users', '--entity-name', 'alice', '--entity-type', 'clients', '--entity-name', 'fast-app']]) {
    const del = await configs('--alter', '--delete-config', 'producer_byte_rate', ...args)
    assert.equal(del.code, 0, del.stderr)
  }
  const none = await configs('--describe', '--entity-type', 'users')
  assert.doesNotMatch(none.stdout, /producer_byte_rate/)
  const free = await pyClient(broker.addr('SASL_PLAINTEXT'), 'quota-t', 1200, 'produce', {...alice, 'test.value.size': 1024, 'linger.ms': 20, 'test.timeout.s': 60})
  assert.equal(free.throttles, 0)
})
