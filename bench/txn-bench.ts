// `npm run bench:txn`: transactions on kafkit's broker beside Apache Kafka 3.9 (when installed),
// driven by librdkafka from a separate process (bench/py/txn_load.py): transactional produce
// with 1, 100 and 10,000 records per transaction (transactions/s, records/s, commit latency),
// then a fetch comparison on a topic of its own filled with exactly BENCH_FETCH_TXNS (default
// 2,000) transactions of 100 records, every 10th aborted: a read_uncommitted consumer reads all
// of them, a read_committed one exactly the committed ones (the aborted transactions come back
// in each fetch's aborted_transactions), each clock stopping at the last record. Each run
// (BENCH_RUNS, default 3) is on fresh servers; figures are medians. Not a test: it prints
// figures and ratios.
import {spawn} from 'node:child_process'
import {join} from 'node:path'
import {tempDir, removeDir, repoRoot, runCommand} from '../test/helpers/util.js'
import {apacheInstalled, printTable, startApacheBroker, startKafkitBroker, startZooKeeper, type Started} from './servers.js'

const PY = '/usr/bin/python3'
const LOAD = join(repoRoot, 'bench', 'py', 'txn_load.py')
const SECONDS = Number(process.env.BENCH_SECONDS ?? 5)
const RUNS = Number(process.env.BENCH_RUNS ?? 3)
const VALUE = 100
const FETCH_TXNS = Number(process.env.BENCH_FETCH_TXNS ?? 2000)
const FETCH_PER_TXN = 100
const ABORT_EVERY = 10

function load(args: string[]): Promise<any> {
  return new Promise((resolve, reject) => {
    const child = spawn(PY, [LOAD, ...args], {stdio: ['ignore', 'pipe', 'pipe']})
    let out = ''
    let err = ''
    child.stdout.on('data', d => { out += d })
    child.stderr.on('data', d => { err += d })
    child.on('exit', code => (code === 0 ? resolve(JSON.parse(out.trim().split('\n').pop()!)) : reject(new Error(`txn_load.py ${args[0]} failed: ${err.slice(-1000)}`))))
  })
}

async function createTopic(boot: string, topic: string): Promise<void> {
  const c = await runCommand('kafka-topics', ['--bootstrap-server', boot, '--create', '--topic', topic, '--partitions', '1', '--replication-factor', '1'])
  if (c.code !== 0) throw new Error(c.stderr)
}

async function measure(broker: Started): Promise<number[]> {
  const boot = `127.0.0.1:${broker.port}`
  const out: number[] = []
  try {
    for (const [i, perTxn] of [1, 100, 10000].entries()) {
      const topic = `txn-${i}`
      await createTopic(boot, topic)
      const r = await load(['produce', boot, topic, String(perTxn), String(perTxn === 10000 ? SECONDS * 2 : SECONDS), String(VALUE)])
      out.push(r.txns / r.seconds, r.records / r.seconds, r.commit_ms_p50, r.commit_ms_p99)
    }
    const fetchTopic = 'txn-fetch'
    await createTopic(boot, fetchTopic)
    const filled = await load(['fill', boot, fetchTopic, String(FETCH_TXNS), String(FETCH_PER_TXN), String(VALUE), String(ABORT_EVERY)])
    for (const [isolation, count] of [['read_uncommitted', filled.total], ['read_committed', filled.committed]] as const) {
      const r = await load(['consume', boot, fetchTopic, isolation, String(count)])
      if (r.records !== count) throw new Error(`${isolation}: ${r.records} records, expected ${count}`)
      out.push(r.records / r.seconds, r.bytes / r.seconds / 1e6)
    }
  } finally {
    await broker.stop()
  }
  return out
}

const median = (xs: number[]): number => {
  const v = xs.filter(x => Number.isFinite(x)).sort((a, b) => a - b)
  return v.length === 0 ? NaN : v.length % 2 ? v[(v.length - 1) / 2] : (v[v.length / 2 - 1] + v[v.length / 2]) / 2
}

async function run(kind: 'kafkit' | 'apache'): Promise<number[]> {
  const dir = tempDir('kafkit-txnbench-')
  const extra = ['transaction.state.log.replication.factor=1', 'transaction.state.log.min.isr=1', 'transaction.state.log.num.partitions=4', 'offsets.topic.num.partitions=4']
  try {
    const zk = await startZooKeeper(dir)
    try {
      return await measure(await (kind === 'kafkit' ? startKafkitBroker : startApacheBroker)(dir, zk.port, extra))
    } finally {
      await zk.stop()
    }
  } finally {
    removeDir(dir)
  }
}

async function main(): Promise<void> {
  const kinds: ('kafkit' | 'apache')[] = ['kafkit']
  if (apacheInstalled() && !process.env.BENCH_KAFKIT_ONLY) kinds.push('apache')
  const figures: Record<string, number[][]> = {kafkit: [], apache: []}
  for (let i = 0; i < RUNS; i++) {
    for (const k of kinds) {
      try {
        figures[k].push(await run(k))
      } catch (error) {
        console.error(`${k} run ${i + 1}: ${(error as Error).message}`)
      }
    }
  }
  const labels = [
    'txns/s, 1 record/txn', 'records/s, 1 record/txn', 'commit p50 ms, 1 record/txn', 'commit p99 ms, 1 record/txn',
    'txns/s, 100 records/txn', 'records/s, 100 records/txn', 'commit p50 ms, 100 records/txn', 'commit p99 ms, 100 records/txn',
    'txns/s, 10k records/txn', 'records/s, 10k records/txn', 'commit p50 ms, 10k records/txn', 'commit p99 ms, 10k records/txn',
    'read_uncommitted records/s', 'read_uncommitted MB/s', 'read_committed records/s', 'read_committed MB/s',
  ]
  const committed = FETCH_TXNS * FETCH_PER_TXN * (1 - 1 / ABORT_EVERY)
  console.log(`\nkafkit transactions benchmark: librdkafka (confluent-kafka), ${VALUE}-byte values, ${SECONDS} s per produce run (10k: ${SECONDS * 2} s), ` +
    `fetch of ${FETCH_TXNS} transactions x ${FETCH_PER_TXN} records (every ${ABORT_EVERY}th aborted: ${FETCH_TXNS * FETCH_PER_TXN} read_uncommitted, ${committed} read_committed), medians of ${RUNS} runs on fresh servers\n`)
  printTable(kinds.map(k => k === 'kafkit' ? 'kafkit' : 'apache-kafka-3.9'),
    labels.map((l, i) => [l, kinds.map(k => median(figures[k].map(f => f[i])))] as [string, number[]]),
    Object.fromEntries(labels.map(l => [l, /ms/.test(l) ? 1 : /MB/.test(l) ? 1 : 0])))
}

main().then(() => process.exit(0), error => {
  console.error(`bench failed: ${error.message}`)
  process.exit(1)
})
