// Quotas: a producer_byte_rate quota for a user (set and described with Apache Kafka 3.9's
// kafka-configs through AlterClientQuotas / DescribeClientQuotas) throttles that user's
// producer to about the rate: responses carry throttle_time_ms and the connection is muted; a
// more specific user/client-id quota takes precedence (Kafka's order); removing the quota lifts
// it. Fetch quotas as Kafka 3.9's KafkaApis.handleFetchRequest enforces them: a fetch is
// capped to one quota window's bytes, a fetch that would violate the quota gets an empty
// response with throttle_time_ms (its bytes not counted) and the channel is muted; a
// consumer_byte_rate holds librdkafka's consumer near the rate; request_percentage throttles;
// client-id-only and <default> entities apply. The broker runs with quota.window.num=2 so that a
// test second is a full quota window.
import {test, before, after} from 'node:test'
import assert from 'node:assert/strict'
import {removeDir} from '../helpers/util.js'
import {startApacheZooKeeper, type ApacheZooKeeper} from '../broker/helpers.js'
import {startSecureBroker, startApacheBroker, apacheTool, apacheSkip, pyClient, scratch, type SecureBroker} from './helpers.js'
import {RawConn, requestFrame, decodeResponse} from './raw.js'

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

/** A raw connection with a client id of the test's choosing: request(apiKey, version, body) answers the decoded response and when it came. */
async function rawClient(clientId: string, port = broker.ports.PLAINTEXT) {
  const conn = await RawConn.open(port)
  let cid = 0
  return {
    conn,
    async request(apiKey: number, version: number, body: object): Promise<{res: any; ms: number}> {
      const t0 = Date.now()
      conn.write(requestFrame(apiKey, version, ++cid, body, clientId))
      const f = await conn.next(30000)
      assert.ok(f, `a response to api ${apiKey}`)
      return {res: decodeResponse(apiKey, version, f), ms: Date.now() - t0}
    },
  }
}

const recordBytes = (p: any): number => p.records === null ? 0 : Array.isArray(p.records) ? p.records.reduce((n: number, b: Buffer) => n + b.length, 0) : p.records.length

/** The offset after the last batch of a Fetch partition's records. */
function nextOffset(p: any, from: number): number {
  const b: Buffer = Array.isArray(p.records) ? Buffer.concat(p.records) : p.records
  let at = 0
  let next = from
  while (b && at + 61 <= b.length) {
    const size = b.readInt32BE(at + 8) + 12
    if (at + size > b.length) break
    next = Number(b.readBigInt64BE(at)) + b.readInt32BE(at + 23) + 1
    at += size
  }
  return next
}

const fetchBody = (topic: string, offset: number) => ({replicaId: -1, maxWaitMs: 100, minBytes: 1, maxBytes: 50 * 1024 * 1024, isolationLevel: 0, sessionId: 0, sessionEpoch: -1,
  topics: [{topic, partitions: [{partition: 0, currentLeaderEpoch: -1, fetchOffset: offset, logStartOffset: -1, partitionMaxBytes: 50 * 1024 * 1024}]}], forgottenTopicsData: [], rackId: ''})

interface FetchLoop { data: number; throttled: number; largest: number; mutedWait: number; dataWithThrottle: number }

/**
 * Fetches a topic's partition 0 from the start as fast as the broker lets one raw connection,
 * until both data and throttled answers were seen a few times: what each kind looked like.
 */
async function fetchLoop(port: number, topic: string, clientId: string): Promise<FetchLoop> {
  const c = await rawClient(clientId, port)
  const r: FetchLoop = {data: 0, throttled: 0, largest: 0, mutedWait: Infinity, dataWithThrottle: 0}
  try {
    let offset = 0
    let lastThrottle = 0
    const deadline = Date.now() + 90000
    while ((r.data < 3 || r.throttled < 3) && Date.now() < deadline) {
      const {res, ms} = await c.request(1, 11, fetchBody(topic, offset))
      if (lastThrottle > 0) r.mutedWait = Math.min(r.mutedWait, ms / lastThrottle)
      assert.equal(res.errorCode, 0)
      if (res.throttleTimeMs > 0 && res.responses.length === 0) {
        r.throttled++
        lastThrottle = res.throttleTimeMs
        continue
      }
      lastThrottle = 0
      const part = res.responses[0].partitions[0]
      assert.equal(part.errorCode, 0)
      const n = recordBytes(part)
      if (res.throttleTimeMs > 0) r.dataWithThrottle++
      r.largest = Math.max(r.largest, n)
      if (n > 0) r.data++
      offset = nextOffset(part, offset)
    }
  } finally {
    c.conn.close()
  }
  return r
}

const WINDOW_BYTES = 64 * 1024

/** What Kafka 3.9 does (the same loop against Apache's broker gives the same kinds of answers). */
function assertKafkaFetchThrottling(r: FetchLoop, who: string): void {
  console.log(`# ${who}: fetches with data: ${r.data} (largest ${r.largest} B, cap ${WINDOW_BYTES} B), empty throttled: ${r.throttled}, data with a throttle: ${r.dataWithThrottle}; the fetch after a throttled one waited >= ${r.mutedWait.toFixed(2)} x the throttle`)
  assert.ok(r.data >= 3 && r.throttled >= 3, `data ${r.data}, throttled ${r.throttled}`)
  // Kafka never sends data and a throttle together: a violating fetch is answered empty.
  assert.equal(r.dataWithThrottle, 0, 'fetches with data carried throttle_time_ms')
  // One quota window's bytes (quota x (quota.window.num - 1) x window), at least one batch.
  assert.ok(r.largest <= WINDOW_BYTES + 20 * 1024, `largest fetch ${r.largest} B`)
  // The channel is muted for the throttle time: the next answer comes no sooner.
  assert.ok(r.mutedWait >= 0.8, `the fetch after a throttled one waited ${r.mutedWait} x the throttle`)
}

test('a <default> client consumer_byte_rate caps each fetch to one window and answers a violating fetch empty, with throttle_time_ms and a muted channel', {skip, timeout: 180000}, async () => {
  const set = await configs('--alter', '--add-config', `consumer_byte_rate=${WINDOW_BYTES}`, '--entity-type', 'clients', '--entity-default')
  assert.equal(set.code, 0, set.stderr)
  // 1 MB in 1 KiB records, produced by a client with a quota-free id (a consumer quota only).
  const p = await pyClient(broker.addr('PLAINTEXT'), 'quota-f', 1024, 'produce', {'test.value.size': 1024, 'linger.ms': 20, 'batch.size': 16384, 'test.timeout.s': 60})
  assert.equal(p.delivered, 1024)
  assertKafkaFetchThrottling(await fetchLoop(broker.ports.PLAINTEXT, 'quota-f', 'raw-consumer'), 'kafkit')
})

test('Apache Kafka 3.9 answers the same fetch loop the same way (differential)', {skip, timeout: 240000}, async () => {
  const apache = await startApacheBroker(`${zk.connect}/apache-quotas`, {PLAINTEXT: 'PLAINTEXT'}, ['quota.window.num=2', 'quota.window.size.seconds=1'], {brokerId: 9})
  try {
    const set = await apacheTool('kafka-configs', ['--bootstrap-server', apache.addr('PLAINTEXT'), '--alter', '--add-config', `consumer_byte_rate=${WINDOW_BYTES}`, '--entity-type', 'clients', '--entity-default'])
    assert.equal(set.code, 0, set.stderr)
    const p = await pyClient(apache.addr('PLAINTEXT'), 'quota-f', 1024, 'produce', {'test.value.size': 1024, 'linger.ms': 20, 'batch.size': 16384, 'test.timeout.s': 60})
    assert.equal(p.delivered, 1024)
    assertKafkaFetchThrottling(await fetchLoop(apache.ports.PLAINTEXT, 'quota-f', 'raw-consumer'), 'Apache Kafka 3.9')
  } finally {
    await apache.stop()
  }
})

test('a user\'s consumer_byte_rate holds librdkafka\'s consumer near the rate (above a <default> client quota)', {skip, timeout: 180000}, async () => {
  const set = await configs('--alter', '--add-config', `consumer_byte_rate=${RATE}`, '--entity-type', 'users', '--entity-name', 'alice')
  assert.equal(set.code, 0, set.stderr)
  const count = 1200
  const p = await pyClient(broker.addr('PLAINTEXT'), 'quota-c', count, 'produce', {'test.value.size': 1024, 'linger.ms': 20, 'batch.size': 16384, 'test.timeout.s': 60})
  assert.equal(p.delivered, count)
  const r = await pyClient(broker.addr('SASL_PLAINTEXT'), 'quota-c', count, 'consume', {...alice, 'test.timeout.s': 80})
  assert.deepEqual(r.errors, [])
  assert.equal(r.consumed, count)
  const rate = count * 1024 / r.consume_seconds
  console.log(`# consumed ${count} KiB in ${r.consume_seconds} s: ${(rate / 1024).toFixed(0)} KiB/s against a quota of ${RATE / 1024} KiB/s; ${r.throttles} throttled responses, at most ${r.max_throttle_ms} ms`)
  assert.ok(r.throttles > 0, 'some fetch responses carried throttle_time_ms')
  assert.ok(rate < RATE * 1.6, `rate ${rate} B/s is about the quota ${RATE} B/s`)
  assert.ok(rate > RATE * 0.4, `rate ${rate} B/s is not far below the quota ${RATE} B/s`)
  for (const args of [['--entity-type', 'users', '--entity-name', 'alice'], ['--entity-type', 'clients', '--entity-default']]) {
    const del = await configs('--alter', '--delete-config', 'consumer_byte_rate', ...args)
    assert.equal(del.code, 0, del.stderr)
  }
})

test('a client id\'s request_percentage throttles its requests, at most one window', {skip, timeout: 120000}, async () => {
  const set = await configs('--alter', '--add-config', 'request_percentage=0.01', '--entity-type', 'clients', '--entity-name', 'busy-app')
  assert.equal(set.code, 0, set.stderr)
  const d = await configs('--describe', '--entity-type', 'clients', '--entity-name', 'busy-app')
  assert.match(d.stdout, /Quota configs for client-id 'busy-app' are request_percentage=0\.01/)
  const busy = await rawClient('busy-app')
  const other = await rawClient('other-app')
  try {
    let throttle = 0
    let fetchThrottled: any
    for (let i = 0; i < 400 && (throttle === 0 || fetchThrottled === undefined); i++) {
      const {res} = await busy.request(3, 9, {topics: [{name: 'quota-f'}], allowAutoTopicCreation: false, includeTopicAuthorizedOperations: false})
      throttle = Math.max(throttle, res.throttleTimeMs)
      if (throttle > 0 && fetchThrottled === undefined) {
        const f = await busy.request(1, 11, fetchBody('quota-f', 0))
        if (f.res.throttleTimeMs > 0) fetchThrottled = f.res
      }
    }
    console.log(`# request_percentage=0.01: largest throttle ${throttle} ms; a throttled fetch had ${fetchThrottled?.responses.length} topics`)
    assert.ok(throttle > 0, 'a Metadata response carried throttle_time_ms')
    assert.ok(throttle <= 1000, `request quota throttles are bounded by the window (${throttle} ms)`)
    assert.ok(fetchThrottled, 'a fetch was throttled by the request quota')
    assert.deepEqual(fetchThrottled.responses, [])
    // Another client id has no quota.
    for (let i = 0; i < 50; i++) {
      const {res} = await other.request(3, 9, {topics: [{name: 'quota-f'}], allowAutoTopicCreation: false, includeTopicAuthorizedOperations: false})
      assert.equal(res.throttleTimeMs, 0)
    }
  } finally {
    busy.conn.close()
    other.conn.close()
    const del = await configs('--alter', '--delete-config', 'request_percentage', '--entity-type', 'clients', '--entity-name', 'busy-app')
    assert.equal(del.code, 0, del.stderr)
  }
})
