// Pure pieces of the client core, bytes and numbers only: Java's exponential backoff, the
// murmur2 partitioner against values from Kafka 3.9's own Utils.murmur2, the sticky
// partitioner, the range and roundrobin assignors, record batches built and read back,
// read_committed filtering, config errors in ConfigDef's words, and the error table.
import {test} from 'node:test'
import assert from 'node:assert/strict'
import {ExponentialBackoff, retryBackoff} from '../../src/core/client/backoff.js'
import {murmur2, partitionForKey, StickyPartitioner, toPositive} from '../../src/core/client/partitioner.js'
import {rangeAssignor, roundRobinAssignor, assignorsFor} from '../../src/core/client/assignors.js'
import {AbortFilter, BatchBuilder, readRecords, setProducerFields, type FetchedRecord} from '../../src/core/client/records.js'
import {ClientConfig, ConfigError} from '../../src/core/client/config.js'
import {producerSettings} from '../../src/core/client/producer.js'
import {apiError, isInvalidMetadata, isRetriable, timeoutError} from '../../src/core/client/kafka-errors.js'
import {parseBootstrapServers} from '../../src/core/client/network.js'
import {validateBatches, decodeRecords} from '../../src/core/protocol/record-batch.js'

test('ExponentialBackoff: Java\'s formula, cap and jitter bounds', () => {
  const fixedRandom = (r: number) => () => r
  // No jitter: 100, 200, 400, 800, then the 1000 cap.
  const b = new ExponentialBackoff(100, 2, 1000, 0)
  assert.deepEqual([0, 1, 2, 3, 4, 10].map(a => b.backoff(a)), [100, 200, 400, 800, 1000, 1000])
  // 20% jitter: the random factor spans [0.8, 1.2).
  assert.equal(new ExponentialBackoff(100, 2, 1000, 0.2, fixedRandom(0)).backoff(1), 160)
  assert.equal(new ExponentialBackoff(100, 2, 1000, 0.2, fixedRandom(0.5)).backoff(1), 200)
  assert.equal(new ExponentialBackoff(100, 2, 1000, 0.2, fixedRandom(0.999)).backoff(1), 239)
  // The cap applies after the jitter; initial above max is the max; max == initial: constant.
  assert.equal(new ExponentialBackoff(100, 2, 1000, 0.2, fixedRandom(0.999)).backoff(20), 1000)
  assert.equal(new ExponentialBackoff(5000, 2, 1000, 0.2).backoff(3), 1000)
  assert.equal(new ExponentialBackoff(50, 2, 50, 0.2).backoff(7), 50)
  // retry.backoff.ms 100 / retry.backoff.max.ms 1000 (Kafka 3.7+ defaults): 80..120 first.
  const r = retryBackoff(100, 1000)
  for (let i = 0; i < 200; i++) {
    const v = r.backoff(0)
    assert.ok(v >= 80 && v < 120, String(v))
    const w = r.backoff(5)
    assert.ok(w >= 800 && w <= 1000, String(w))
  }
})

test('murmur2: the values of Kafka 3.9\'s Utils.murmur2 (jshell, kafka-clients 3.9.1)', () => {
  // key, Utils.murmur2(key.getBytes(UTF_8)), toPositive(murmur2) % 7
  const golden: [string, number, number][] = [
    ['', 275646681, 2], ['a', -1563381124, 5], ['b', -1853091852, 6], ['c', -1877468854, 0],
    ['d', 284602193, 1], ['e', -967466694, 4], ['foo', 597841616, 1], ['ab', 316155434, 0],
    ['abc', 479470107, 4], ['abcd', -1323649548, 5], ['abcde', 461995741, 4],
    ['hello world', 1221641059, 2], ['kafkit', -1581087225, 5], ['été', -2101193575, 4],
    ['0123456789abcdef!', -838087196, 0],
  ]
  for (const [key, hash, p7] of golden) {
    assert.equal(murmur2(Buffer.from(key, 'utf8')), hash, key)
    assert.equal(partitionForKey(Buffer.from(key, 'utf8'), 7), p7, key)
  }
  assert.equal(toPositive(-1), 0x7fffffff)
  // The partitions Apache Kafka 3.9's console producer chose for these keys (3 partitions).
  const javaPartitions: Record<string, number> = {a: 1, b: 2, c: 1, d: 2, e: 2, foo: 2}
  for (const [k, p] of Object.entries(javaPartitions)) assert.equal(partitionForKey(Buffer.from(k), 3), p, k)
})

test('sticky partitioner: one partition per batch.size bytes, random among those with a leader', () => {
  let n = 0
  const randoms = [5, 7, 9, 11, 13]
  const s = new StickyPartitioner(1000, () => randoms[n++ % randoms.length])
  const available = [0, 1, 2, 3]
  const first = s.partition(available, 4)
  assert.equal(first, 5 % 4)
  // Stays while fewer than batch.size bytes went there.
  s.appended(600, available, 4, true)
  assert.equal(s.partition(available, 4), first)
  // Switches once batch.size bytes were appended and the last batch is full...
  s.appended(500, available, 4, true)
  const second = s.partition(available, 4)
  assert.equal(second, 7 % 4)
  // ...but not while the last batch still fills, until twice batch.size.
  s.appended(1500, available, 4, false)
  assert.equal(s.partition(available, 4), second)
  s.appended(600, available, 4, false)
  assert.equal(s.partition(available, 4), 9 % 4)
  // Only partitions with a leader are picked (uniformly).
  const t = new StickyPartitioner(1, () => 3)
  assert.equal(t.partition([2, 6], 8), 6)
  // No leader anywhere: any partition.
  assert.equal(new StickyPartitioner(1, () => 11).partition([], 4), 3)
  // Adaptive: shorter queues are preferred (Java's cumulative frequency table).
  const a = new StickyPartitioner(1, () => 0)
  a.updateLoadStats([0, 3, 1], [0, 1, 2], 3) // CFT 4, 5, 8
  const picks = [0, 3, 4, 5, 7].map(r => { const p = new StickyPartitioner(1, () => r); p.updateLoadStats([0, 3, 1], [0, 1, 2], 3); return p.partition([0, 1, 2], 3) })
  assert.deepEqual(picks, [0, 0, 1, 2, 2])
  // Equal queues: uniform again.
  a.updateLoadStats([2, 2, 2], [0, 1, 2], 3)
  assert.equal(a.partition([0, 1, 2], 3), 0)
})

test('range and roundrobin assignors as Java\'s', () => {
  const members = [
    {memberId: 'c-2', groupInstanceId: null, topics: ['t', 'u']},
    {memberId: 'c-1', groupInstanceId: null, topics: ['t']},
    {memberId: 'c-3', groupInstanceId: null, topics: ['t', 'u']},
  ]
  const counts = new Map([['t', 7], ['u', 2]])
  const range = rangeAssignor.assign(counts, members)
  assert.deepEqual(Object.fromEntries([...range].map(([m, t]) => [m, Object.fromEntries(t)])), {
    'c-1': {t: [0, 1, 2]},
    'c-2': {t: [3, 4], u: [0]},
    'c-3': {t: [5, 6], u: [1]},
  })
  const rr = roundRobinAssignor.assign(counts, members)
  assert.deepEqual(Object.fromEntries([...rr].map(([m, t]) => [m, Object.fromEntries(t)])), {
    'c-1': {t: [0, 3, 6]},
    'c-2': {t: [1, 4], u: [0]},
    'c-3': {t: [2, 5], u: [1]},
  })
  // Java 3.9's default list: cooperative-sticky is left out (eager protocol), range stays.
  assert.deepEqual(assignorsFor(['org.apache.kafka.clients.consumer.RangeAssignor', 'org.apache.kafka.clients.consumer.CooperativeStickyAssignor']).map(a => a.name), ['range'])
  assert.throws(() => assignorsFor(['com.example.Mine']), /Class com\.example\.Mine cannot be found/)
})

function build(records: {key: string | null; value: string | null; headers?: {key: string; value: string | null}[]}[], codec = 0, ts = 1700000000000): Buffer {
  const b = new BatchBuilder(64)
  for (const [i, r] of records.entries()) {
    const n = b.tryAppend(ts + i, r.key === null ? null : Buffer.from(r.key), r.value === null ? null : Buffer.from(r.value), r.headers?.map(h => ({key: h.key, value: h.value === null ? null : Buffer.from(h.value)})), 1 << 20)
    assert.ok(n > 0)
  }
  const sealed = Buffer.from(b.seal(codec))
  setProducerFields(sealed, 42, 3, 7)
  return sealed
}

test('record batches: built in place, valid for the broker, read back (every codec)', () => {
  const input = [
    {key: 'k1', value: 'v1', headers: [{key: 'h', value: 'x'}, {key: 'h', value: null}]},
    {key: null, value: 'no key'},
    {key: 'k3', value: null},
    {key: '', value: 'é'.repeat(300)},
  ]
  for (const codec of [0, 1, 2, 3, 4]) {
    const batch = build(input, codec)
    const v = validateBatches(batch)
    assert.equal(v.records, 4)
    assert.equal(v.first.producerId, 42)
    assert.equal(v.first.producerEpoch, 3)
    assert.equal(v.first.baseSequence, 7)
    assert.equal(v.first.compression, codec)
    const out: FetchedRecord[] = []
    const r = readRecords(batch, 0, 100, undefined, 't-0', true, rec => out.push(rec))
    assert.equal(r.next, 4)
    assert.deepEqual(out.map(o => [o.offset, o.timestamp, o.key?.toString() ?? null, o.value?.toString() ?? null, o.headers.map(h => [h.key, h.value?.toString() ?? null])]), [
      [0, 1700000000000, 'k1', 'v1', [['h', 'x'], ['h', null]]],
      [1, 1700000000001, null, 'no key', []],
      [2, 1700000000002, 'k3', null, []],
      [3, 1700000000003, '', 'é'.repeat(300), []],
    ])
    if (codec === 0) assert.deepEqual(decodeRecords(batch).map(d => d.key?.toString() ?? null), ['k1', null, 'k3', ''])
    // Counting only: the same records and their key + value bytes.
    const c = readRecords(batch, 1, 100, undefined, 't-0', true, undefined)
    assert.deepEqual([c.count, c.bytes, c.next], [3, 6 + 2 + Buffer.byteLength('é'.repeat(300)), 4])
    // A limit stops inside the batch; the position is after the last record handed out.
    assert.equal(readRecords(batch, 0, 2, undefined, 't-0', true, () => {}).next, 2)
  }
  // A corrupted byte: the CRC check names the partition.
  const bad = build(input)
  bad[bad.length - 1] ^= 0xff
  assert.throws(() => readRecords(bad, 0, 10, undefined, 't-3', true, () => {}), /Record batch for partition t-3 is invalid, cause: Record is corrupt/)
  // A batch cut off at the end of a fetch is left for the next fetch.
  const whole = build(input)
  assert.deepEqual(readRecords(whole.subarray(0, whole.length - 5), 0, 10, undefined, 't-0', true, () => {}), {next: 0, count: 0, bytes: 0})
})

test('read_committed: batches of aborted transactions are skipped up to their abort marker', () => {
  /** One record batch at offset base, of producer pid, transactional (control: a marker). */
  const batch = (pid: number, base: number, key: Buffer | null, value: Buffer, control: boolean) => {
    const b = new BatchBuilder(64)
    b.tryAppend(0, key, value, null, 1000)
    const s = Buffer.from(b.seal(0))
    if (control) s.writeInt16BE(0x20, 21)
    s.writeUInt32BE(0, 0)
    s.writeUInt32BE(base, 4)
    setProducerFields(s, pid, 0, 0, true)
    return s
  }
  const txn = (pid: number, base: number, value: string) => batch(pid, base, null, Buffer.from(value), false)
  // The control record's key: version 0, type 0 (abort) or 1 (commit).
  const marker = (pid: number, base: number, abort: boolean) => batch(pid, base, Buffer.from([0, 0, 0, abort ? 0 : 1]), Buffer.alloc(6), true)
  // pid 1 aborted from offset 0 (its marker at 2); pid 2 is not aborted.
  const data = Buffer.concat([txn(1, 0, 'aborted'), txn(2, 1, 'kept'), marker(1, 2, true), txn(1, 3, 'after')])
  const seen: string[] = []
  const r = readRecords(data, 0, 100, new AbortFilter([{producerId: 1, firstOffset: 0}]), 't-0', false, rec => seen.push(rec.value!.toString()))
  assert.deepEqual(seen, ['kept', 'after'])
  assert.equal(r.next, 4)
  const all: string[] = []
  readRecords(data, 0, 100, undefined, 't-0', false, rec => all.push(rec.value!.toString()))
  assert.deepEqual(all, ['aborted', 'kept', 'after'])
})

test('configs: Java\'s defaults and ConfigDef\'s messages; idempotence as Kafka 3.x decides it', () => {
  const d = producerSettings(new ClientConfig())
  assert.deepEqual([d.acks, d.batchSize, d.lingerMs, d.retries, d.deliveryTimeoutMs, d.maxInFlight, d.idempotence, d.bufferMemory, d.maxBlockMs], [-1, 16384, 0, 2147483647, 120000, 5, true, 33554432, 60000])
  assert.throws(() => producerSettings(new ClientConfig({acks: '2'})), (e: Error) => e instanceof ConfigError && e.message === 'Invalid value 2 for configuration acks: String must be one of: all, -1, 0, 1')
  assert.throws(() => producerSettings(new ClientConfig({'linger.ms': 'soon'})), /^ConfigError$|Invalid value soon for configuration linger\.ms: Not a number of type LONG/)
  assert.throws(() => producerSettings(new ClientConfig({'batch.size': '-1'})), /Invalid value -1 for configuration batch\.size: Value must be at least 0/)
  assert.throws(() => producerSettings(new ClientConfig({'enable.idempotence': 'yes'})), /Expected value to be either true or false/)
  // acks=1 silently turns the default idempotence off; asking for both is an error.
  assert.equal(producerSettings(new ClientConfig({acks: '1'})).idempotence, false)
  assert.throws(() => producerSettings(new ClientConfig({acks: '1', 'enable.idempotence': 'true'})), /Must set acks to all in order to use the idempotent producer/)
  assert.throws(() => producerSettings(new ClientConfig({'max.in.flight.requests.per.connection': '6', 'enable.idempotence': 'true'})), /must be set to at most 5\. Current value is 6\./)
  // delivery.timeout.ms below linger + request timeout: raised when unset, refused when set.
  assert.equal(producerSettings(new ClientConfig({'linger.ms': '1000', 'request.timeout.ms': '1500', 'delivery.timeout.ms': '120000'})).deliveryTimeoutMs, 120000)
  assert.throws(() => producerSettings(new ClientConfig({'linger.ms': '1000', 'delivery.timeout.ms': '2000'})), /delivery\.timeout\.ms should be equal to or larger than linger\.ms \+ request\.timeout\.ms/)
  assert.deepEqual(parseBootstrapServers('a:1, [::1]:9092'), [{host: 'a', port: 1}, {host: '::1', port: 9092}])
  assert.throws(() => parseBootstrapServers('nohost'), /Invalid url in bootstrap.servers: nohost/)
})

test('errors: Java\'s exception classes, retriable and invalid-metadata as Kafka 3.9 has them', () => {
  assert.equal(apiError(6).toString(), 'org.apache.kafka.common.errors.NotLeaderOrFollowerException: For requests intended only for the leader, this error indicates that the broker is not the current leader. For requests intended for any replica, this error indicates that the broker is not a replica of the topic partition.')
  assert.equal(timeoutError('Expiring 1 record(s) for t-0:120000 ms has passed since batch creation').toString(), 'org.apache.kafka.common.errors.TimeoutException: Expiring 1 record(s) for t-0:120000 ms has passed since batch creation')
  for (const code of [3, 5, 6, 13, 74]) assert.ok(isRetriable(code) && isInvalidMetadata(code), String(code))
  for (const code of [7, 14, 15, 16, 19, 20]) assert.ok(isRetriable(code) && !isInvalidMetadata(code), String(code))
  for (const code of [1, 10, 17, 29, 45, 46, 59]) assert.ok(!isRetriable(code), String(code))
  assert.equal(apiError(45).exceptionClass, 'OutOfOrderSequenceException')
})
