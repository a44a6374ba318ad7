// `npm run bench`: kafkit's broker beside Apache Kafka 3.9 (when installed), driven by the same
// librdkafka load generator (bench/py/rdkafka_load.py, separate processes). Cases, each run
// BENCH_RUNS times (default 3) on fresh servers, figures printed as medians with the ratio:
//  - single:     one broker, one partition: produce acks=1 and acks=all (idempotent), consume;
//                start-up time, idle and peak RSS. Produce latency is the produce requests'
//                round trip (librdkafka's statistics), not a per-record figure: the producer
//                asks for delivery reports of failures only (a Python callback per record made
//                the client, not the broker, set the rate)
//  - parallel:   one broker, 16 partitions, 4 producer processes at once (acks=1), one consumer
//  - replicated: three brokers, replication factor 3, min.insync.replicas 2, acks=all
//  - e2e:        end-to-end latency (send to receive) at a fixed rate: half the lower of the two
//                brokers' acks=1 peaks from `single`, but at most BENCH_E2E_MAX_RATE (default
//                20,000 records/s: above it the Python consumer, not the broker, sets the latency)
//                (p50 / p99 / p99.9)
//  - startup:    start-up with 10,000 partitions on disk (100 topics x 100): to "started" and
//                until every partition has a leader
//  - java:       (not in the default list) Apache Kafka 3.9's kafka-producer-perf-test, the Java
//                producer, idempotent acks=all with up to 5 requests in flight, one partition:
//                librdkafka's idempotent producer keeps fewer than one in flight
//  - kafkitperf: (not in the default list) the same load from kafkit's own
//                kafka-producer-perf-test (idempotent acks=all, 5 in flight, 1 MiB batches):
//                a client that costs less CPU per record than either of the others, against
//                both brokers; prints each side's CPU seconds per GiB
//  - rawproduce: idempotent acks=all from a client that costs little (one batch built once, only
//                its sequence and CRC set per request, 5 in flight, from this process): the
//                broker's own capacity; on a 2-core machine every other client's CPU caps the
//                rate it can show (docs/ARCHITECTURE.md, "acks=all: what sets the rate")
// BENCH_RECORDS (default 1,000,000) and BENCH_RECORD_SIZE (1024) size the runs; BENCH_CASES
// picks cases (comma-separated); BENCH_KAFKIT_ONLY skips Apache. Not a test: it prints figures.
// RSS figures come from /proc (Linux).
import {spawn} from 'node:child_process'
import {existsSync} from 'node:fs'
import {join} from 'node:path'
import {tempDir, removeDir, repoRoot, waitFor} from '../test/helpers/util.js'
import {KafkaConnection} from '../src/core/protocol/client.js'
import {Apis} from '../src/core/protocol/messages.js'
import {buildBatch} from '../src/core/protocol/record-batch.js'
import {setProducerFields} from '../src/core/client/records.js'
import {APACHE, apacheInstalled, cpuSeconds, median, printTable, rss, startApacheBroker, startKafkitBroker, startZooKeeper, type Started} from './servers.js'

const RECORDS = Number(process.env.BENCH_RECORDS ?? 1000000)
const SIZE = Number(process.env.BENCH_RECORD_SIZE ?? 1024)
const RUNS = Number(process.env.BENCH_RUNS ?? 3)
const CASES = (process.env.BENCH_CASES ?? 'single,rawproduce,parallel,replicated,e2e,startup').split(',').map(s => s.trim())
const PY = existsSync('/usr/bin/python3') ? '/usr/bin/python3' : 'python3'
const LOAD = join(repoRoot, 'bench', 'py', 'rdkafka_load.py')

type Figures = Record<string, number | null>
type Kind = 'kafkit' | 'apache'
const starters: Record<Kind, typeof startKafkitBroker> = {kafkit: startKafkitBroker, apache: startApacheBroker}

/** Runs the load generator (asynchronously: RSS sampling goes on meanwhile); its last JSON line. */
function load(args: string[], onLine?: (line: string) => void): Promise<any> {
  return new Promise((resolve, reject) => {
    const child = spawn(PY, [LOAD, ...args], {stdio: ['ignore', 'pipe', 'pipe']})
    let out = ''
    let err = ''
    child.stdout.on('data', d => {
      out += d
      if (onLine) for (const l of String(d).split('\n')) if (l.trim()) onLine(l)
    })
    child.stderr.on('data', d => { err += d })
    const timer = setTimeout(() => child.kill('SIGKILL'), 900000)
    child.on('close', code => {
      clearTimeout(timer)
      if (code !== 0) reject(new Error(`load generator ${args[0]} failed (${code}): ${err.slice(-500)}`))
      else resolve(JSON.parse(out.trim().split('\n').pop()!))
    })
  })
}

/** Samples a process's RSS every 100 ms; the highest seen. */
function peakSampler(pids: () => (number | undefined)[]): {stop(): number | null} {
  let peak: number | null = null
  const t = setInterval(() => {
    let sum = 0
    for (const p of pids()) sum += rss(p) ?? 0
    if (sum > 0 && (peak === null || sum > peak)) peak = sum
  }, 100)
  return {stop() { clearInterval(t); return peak }}
}

/** A fresh ZooKeeper and `n` brokers of one kind in a temp dir, for one run. */
async function withCluster<T>(kind: Kind, n: number, extra: string[], fn: (brokers: Started[], zkPort: number, dir: string) => Promise<T>): Promise<T> {
  const dir = tempDir('kafkit-bench-')
  const zk = await startZooKeeper(dir)
  const brokers: Started[] = []
  try {
    for (let id = 0; id < n; id++) brokers.push(await starters[kind](dir, zk.port, extra, id))
    return await fn(brokers, zk.port, dir)
  } finally {
    for (const b of brokers) await b.stop()
    await zk.stop()
    if (process.env.BENCH_KEEP) console.log(`(kept ${dir})`)
    else removeDir(dir)
  }
}

const boot = (bs: Started[]) => bs.map(b => `127.0.0.1:${b.port}`).join(',')

/** A produce run's MB/s, or null (printed n/a) when a record failed or was never delivered. */
const delivered = (p: {mb_per_s: number; errors: number; unflushed: number}): number | null => p.errors === 0 && p.unflushed === 0 ? p.mb_per_s : null

async function single(kind: Kind): Promise<Figures> {
  return withCluster(kind, 1, [], async ([b]) => {
    const f: Figures = {'start-up (ms)': b.startupMs, 'idle RSS (MB)': rss(b.child.pid)}
    const peak = peakSampler(() => [b.child.pid])
    await load(['create', boot([b]), 'acks1', '1', '1'])
    await load(['create', boot([b]), 'acksall', '1', '1'])
    const p1 = await load(['produce', boot([b]), 'acks1', String(RECORDS), String(SIZE), '1'])
    const pa = await load(['produce', boot([b]), 'acksall', String(RECORDS), String(SIZE), 'all'])
    const c = await load(['consume', boot([b]), 'acks1', String(RECORDS), String(SIZE), '1'])
    f['peak RSS (MB)'] = peak.stop()
    f['produce acks=1 MB/s'] = delivered(p1)
    f['produce acks=1 request p50 ms'] = p1.p50_ms
    f['produce acks=1 request p99 ms'] = p1.p99_ms
    f['produce acks=1 records/s'] = p1.records_per_s
    f['produce acks=all MB/s'] = delivered(pa)
    f['produce acks=all request p50 ms'] = pa.p50_ms
    f['produce acks=all request p99 ms'] = pa.p99_ms
    f['consume MB/s'] = c.records === RECORDS ? c.mb_per_s : null
    return f
  })
}

async function parallel(kind: Kind): Promise<Figures> {
  return withCluster(kind, 1, [], async ([b]) => {
    await load(['create', boot([b]), 'par16', '16', '1'])
    const t0 = performance.now()
    const each = Math.floor(RECORDS / 4)
    const runs = await Promise.all([0, 1, 2, 3].map(() => load(['produce', boot([b]), 'par16', String(each), String(SIZE), '1'])))
    const secs = (performance.now() - t0) / 1000
    const c = await load(['consume', boot([b]), 'par16', String(each * 4), String(SIZE), '16'])
    return {
      '4 producers, 16 partitions: MB/s (all)': runs.every(r => delivered(r) !== null) ? each * 4 * SIZE / secs / 1048576 : null,
      '4 producers: worst request p99 ms': Math.max(...runs.map(r => r.p99_ms ?? 0)),
      '1 consumer, 16 partitions: MB/s': c.records === each * 4 ? c.mb_per_s : null,
    }
  })
}

async function replicated(kind: Kind): Promise<Figures> {
  return withCluster(kind, 3, ['offsets.topic.replication.factor=3', 'min.insync.replicas=2', 'default.replication.factor=3'], async bs => {
    const peak = peakSampler(() => bs.map(b => b.child.pid))
    await load(['create', boot(bs), 'rf3', '1', '3'])
    const p = await load(['produce', boot(bs), 'rf3', String(RECORDS), String(SIZE), 'all'])
    const c = await load(['consume', boot(bs), 'rf3', String(RECORDS), String(SIZE), '1'])
    return {
      'RF 3 acks=all MB/s': delivered(p),
      'RF 3 acks=all request p50 ms': p.p50_ms,
      'RF 3 acks=all request p99 ms': p.p99_ms,
      'RF 3 consume MB/s': c.records === RECORDS ? c.mb_per_s : null,
      'RF 3 peak RSS, 3 brokers (MB)': peak.stop(),
    }
  })
}

let e2eRate = 0

async function e2e(kind: Kind): Promise<Figures> {
  const seconds = Number(process.env.BENCH_E2E_SECONDS ?? 20)
  return withCluster(kind, 1, [], async ([b]) => {
    await load(['create', boot([b]), 'e2e', '1', '1'])
    let ready: () => void
    const isReady = new Promise<void>(r => { ready = r })
    const consumer = load(['e2e-consume', boot([b]), 'e2e', String(Math.floor(e2eRate * seconds * 0.98)), String(seconds)], l => { if (l.includes('"ready"')) ready() })
    await isReady
    // The consumer's position is set once it has fetched: give it the first fetch.
    await new Promise(r => setTimeout(r, 1000))
    const p = await load(['e2e-produce', boot([b]), 'e2e', String(e2eRate), String(seconds), String(SIZE)])
    const c = await consumer
    return {
      'e2e rate (records/s)': p.achieved_rate,
      'e2e p50 ms': c.p50_ms,
      'e2e p99 ms': c.p99_ms,
      'e2e p99.9 ms': c.p999_ms,
    }
  })
}

async function startup(kind: Kind): Promise<Figures> {
  return withCluster(kind, 1, [], async ([b], zkPort, dir) => {
    const topics = Array.from({length: 100}, (_, i) => `many-${i}`)
    for (let i = 0; i < topics.length; i += 10) await Promise.all(topics.slice(i, i + 10).map(t => load(['create', boot([b]), t, '100', '1'])))
    await b.stop()
    const again = await starters[kind](dir, zkPort, [], 0)
    try {
      const t0 = performance.now()
      const conn = await KafkaConnection.connect('127.0.0.1', again.port, {timeoutMs: 120000})
      try {
        await conn.negotiate()
        await waitFor(async () => {
          const md = await conn.request(Apis.Metadata, {topics: topics.map(name => ({name})), allowAutoTopicCreation: false})
          return md.topics.length === 100 && md.topics.every(t => t.errorCode === 0 && t.partitions.length === 100 && t.partitions.every(p => p.leaderId === 0 && p.errorCode === 0))
        }, 300000, 'all 10,000 partitions online', 200)
      } finally {
        await conn.close()
      }
      return {
        '10k partitions: start to "started" (ms)': again.startupMs,
        '10k partitions: start to all online (ms)': again.startupMs + (performance.now() - t0),
        '10k partitions: RSS (MB)': rss(again.child.pid),
      }
    } finally {
      await again.stop()
    }
  })
}

/** kafka-producer-perf-test's summary line (Apache's tool, or kafkit's with `kafkit`): records/s, MB/s, average and percentile latencies. */
function perfTest(args: string[], kafkit = false): Promise<Record<string, number>> {
  return new Promise((resolve, reject) => {
    const child = kafkit
      ? spawn(process.execPath, [join(repoRoot, 'bin', 'kafka-producer-perf-test.js'), ...args], {stdio: ['ignore', 'pipe', 'pipe']})
      : spawn(join(APACHE, 'bin', 'kafka-producer-perf-test'), args, {stdio: ['ignore', 'pipe', 'pipe']})
    let out = ''
    let err = ''
    // The client's CPU time, sampled until it exits (a child's /proc entry goes with it).
    let clientCpu: number | null = null
    const sample = setInterval(() => { clientCpu = cpuSeconds(child.pid) ?? clientCpu }, 50)
    child.stdout.on('data', d => { out += d })
    child.stderr.on('data', d => { err += d })
    child.on('exit', () => clearInterval(sample))
    child.on('close', () => {
      clearInterval(sample)
      const m = /records sent, ([\d.]+) records\/sec \(([\d.]+) MB\/sec\), ([\d.]+) ms avg latency, [\d.]+ ms max latency, (\d+) ms 50th, \d+ ms 95th, (\d+) ms 99th/.exec(out)
      if (m) resolve({recordsPerSec: Number(m[1]), mbPerSec: Number(m[2]), avgMs: Number(m[3]), p50Ms: Number(m[4]), p99Ms: Number(m[5]), clientCpuS: clientCpu ?? NaN})
      else reject(new Error(`kafka-producer-perf-test: ${(out + err).slice(-500)}`))
    })
  })
}

async function java(kind: Kind): Promise<Figures> {
  return withCluster(kind, 1, [], async ([b]) => {
    await load(['create', boot([b]), 'java', '1', '1'])
    const r = await perfTest(['--topic', 'java', '--num-records', String(RECORDS), '--record-size', String(SIZE), '--throughput', '-1',
      '--producer-props', `bootstrap.servers=${boot([b])}`, 'acks=all', 'enable.idempotence=true', 'max.in.flight.requests.per.connection=5',
      'linger.ms=5', 'batch.size=524288', 'buffer.memory=268435456'])
    return {'Java producer, idempotent acks=all: MB/s': r.mbPerSec, 'Java producer: record p50 ms': r.p50Ms, 'Java producer: record p99 ms': r.p99Ms}
  })
}

async function kafkitperf(kind: Kind): Promise<Figures> {
  return withCluster(kind, 1, [], async ([b]) => {
    await load(['create', boot([b]), 'kperf', '1', '1'])
    const cpu0 = cpuSeconds(b.child.pid)
    const r = await perfTest(['--topic', 'kperf', '--num-records', String(RECORDS), '--record-size', String(SIZE), '--throughput', '-1',
      '--producer-props', `bootstrap.servers=${boot([b])}`, 'acks=all', 'enable.idempotence=true', 'max.in.flight.requests.per.connection=5',
      'linger.ms=5', 'batch.size=1048576'], true)
    const cpu1 = cpuSeconds(b.child.pid)
    // CPU seconds per GiB produced: what each side spends, less sensitive to a busy machine than the rate.
    const gib = RECORDS * SIZE / 2 ** 30
    return {
      'kafkit producer, idempotent acks=all: MB/s': r.mbPerSec, 'kafkit producer: record p50 ms': r.p50Ms, 'kafkit producer: record p99 ms': r.p99Ms,
      'broker CPU s per GiB': cpu0 !== null && cpu1 !== null ? (cpu1 - cpu0) / gib : null,
      'client CPU s per GiB': Number.isFinite(r.clientCpuS) ? r.clientCpuS / gib : null,
    }
  })
}

/**
 * Idempotent acks=all produce from a client that costs the machine little, so that the broker
 * sets the rate: one ~1 MiB batch of SIZE-byte records built once, each request only setting the
 * batch's sequence and CRC, 5 requests in flight on one connection (the idempotent limit).
 */
async function rawproduce(kind: Kind): Promise<Figures> {
  return withCluster(kind, 1, [], async ([b]) => {
    await load(['create', boot([b]), 'raw', '1', '1'])
    const c = await KafkaConnection.connect('127.0.0.1', b.port, {clientId: 'raw-producer', timeoutMs: 60000})
    try {
      await c.negotiate()
      // Apache answers COORDINATOR_LOAD_IN_PROGRESS (14) until its producer id manager is ready.
      let pid = await c.request(Apis.InitProducerId, {transactionalId: null, transactionTimeoutMs: 60000, producerId: -1, producerEpoch: -1})
      await waitFor(async () => {
        if (pid.errorCode === 14) pid = await c.request(Apis.InitProducerId, {transactionalId: null, transactionTimeoutMs: 60000, producerId: -1, producerEpoch: -1})
        return pid.errorCode !== 14
      }, 30000, 'a producer id', 100)
      if (pid.errorCode !== 0) throw new Error(`InitProducerId: error ${pid.errorCode}`)
      const perBatch = Math.max(1, Math.floor(1048576 / (SIZE + 12)))
      const value = Buffer.alloc(SIZE, 'x')
      const template = buildBatch({records: Array.from({length: perBatch}, () => ({key: null, value})), producerId: pid.producerId, producerEpoch: pid.producerEpoch, baseSequence: 0})
      const batches = Math.ceil(RECORDS / perBatch)
      let next = 0
      const latencies: number[] = []
      const cpu0 = cpuSeconds(b.child.pid)
      const t0 = performance.now()
      // Five senders, each with its own copy of the batch (reused once its request is answered);
      // a sender takes the next sequence and sends at once, so the wire carries them in order.
      await Promise.all(Array.from({length: 5}, async () => {
        const buf = Buffer.from(template)
        while (next < batches) {
          const i = next++
          setProducerFields(buf, pid.producerId, pid.producerEpoch, i * perBatch)
          const s = performance.now()
          const r = await c.request(Apis.Produce, {transactionalId: null, acks: -1, timeoutMs: 30000, topicData: [{name: 'raw', partitionData: [{index: 0, records: buf}]}]}, 60000)
          latencies.push(performance.now() - s)
          const code = r.responses[0].partitionResponses[0].errorCode
          if (code !== 0) throw new Error(`Produce: error ${code}`)
        }
      }))
      const secs = (performance.now() - t0) / 1000
      const cpu1 = cpuSeconds(b.child.pid)
      const bytes = batches * perBatch * SIZE
      latencies.sort((x, y) => x - y)
      return {
        'raw idempotent acks=all, 5 in flight: MB/s': bytes / secs / 1048576,
        'raw: request p50 ms': latencies[Math.floor(latencies.length / 2)],
        'raw: broker CPU s per GiB': cpu0 !== null && cpu1 !== null ? (cpu1 - cpu0) / (bytes / 2 ** 30) : null,
      }
    } finally {
      await c.close()
    }
  })
}

async function main(): Promise<void> {
  const kinds: Kind[] = ['kafkit']
  if (apacheInstalled() && !process.env.BENCH_KAFKIT_ONLY) kinds.push('apache')
  else if (!apacheInstalled()) console.log(`(Apache Kafka 3.9 not installed at ${APACHE}: run ../shared/tools/apache-kafka for the side-by-side figures)`)
  const cases: Record<string, (k: Kind) => Promise<Figures>> = {single, parallel, replicated, e2e, startup, java, kafkitperf, rawproduce}
  const results: Record<string, Record<Kind, Figures[]>> = {}
  for (const name of CASES) {
    const fn = cases[name]
    if (!fn) throw new Error(`unknown case ${name} (cases: ${Object.keys(cases).join(', ')})`)
    if (name === 'e2e') {
      const peaks = kinds.map(k => median((results.single?.[k] ?? []).map(f => f['produce acks=1 records/s'])))
      const known = peaks.filter((x): x is number => x !== null)
      e2eRate = Math.min(Math.round((known.length ? Math.min(...known) : 40000) / 2), Number(process.env.BENCH_E2E_MAX_RATE ?? 20000))
    }
    results[name] = {kafkit: [], apache: []}
    for (let run = 0; run < RUNS; run++) {
      for (const k of kinds) {
        try {
          results[name][k].push(await fn(k))
        } catch (error) {
          console.error(`${k} ${name} run ${run + 1}: ${(error as Error).message}`)
        }
      }
    }
  }
  console.log(`\nkafkit broker benchmark: ${RECORDS} records of ${SIZE} B, librdkafka in separate processes, medians of ${RUNS} runs on fresh servers\n`)
  const rows: [string, (number | null)[]][] = []
  for (const name of CASES) {
    const metrics = new Set<string>()
    for (const k of kinds) for (const f of results[name][k]) for (const m of Object.keys(f)) metrics.add(m)
    for (const m of metrics) rows.push([m, kinds.map(k => median(results[name][k].map(f => f[m] ?? null)))])
  }
  const digits: Record<string, number> = {}
  for (const [label] of rows) digits[label] = /\(ms\)|records\/s/.test(label) ? 0 : /ms$|per GiB$/.test(label) ? 2 : 1
  printTable(kinds.map(k => k === 'kafkit' ? 'kafkit' : 'apache-kafka-3.9'), rows, digits)
}

main().catch(error => {
  console.error(`bench failed: ${error.message}`)
  process.exit(1)
})
