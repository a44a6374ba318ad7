// `npm run bench:txn`: transactions on kafkit's broker beside Apache Kafka 3.9 (when installed),
// driven by librdkafka from a separate process (bench/py/txn_load.py): transactional produce
// with 1, 100 and 10,000 records per transaction (transactions/s, records/s, commit latency),
// then a read_committed and a read_uncommitted consumer over the same 200,000 committed
// records. Not a test: it prints figures and ratios.
import {spawn} from 'node:child_process'
import {join} from 'node:path'
import {tempDir, removeDir, repoRoot, runCommand} from '../test/helpers/util.js'
import {apacheInstalled, printTable, startApacheBroker, startKafkitBroker, startZooKeeper, type Started} from './servers.js'

const PY = '/usr/bin/python3'
const LOAD = join(repoRoot, 'bench', 'py', 'txn_load.py')
const SECONDS = Number(process.env.BENCH_SECONDS ?? 5)
const VALUE = 100
const FETCH_RECORDS = 200000

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

async function measure(broker: Started): Promise<number[]> {
  const boot = `127.0.0.1:${broker.port}`
  const out: number[] = []
  for (const [i, perTxn] of [1, 100, 10000].entries()) {
    const topic = `txn-${i}`
    const c = await runCommand('kafka-topics', ['--bootstrap-server', boot, '--create', '--topic', topic, '--partitions', '1', '--replication-factor', '1'])
    if (c.code !== 0) throw new Error(c.stderr)
    const r = await load(['produce', boot, topic, String(perTxn), String(perTxn === 10000 ? SECONDS * 2 : SECONDS), String(VALUE)])
    out.push(r.txns / r.seconds, r.records / r.seconds, r.commit_ms_p50, r.commit_ms_p99)
  }
  // The 100-per-transaction topic holds enough committed records for the fetch comparison.
  const fetchTopic = 'txn-2'
  for (const isolation of ['read_uncommitted', 'read_committed']) {
    const r = await load(['consume', boot, fetchTopic, isolation, String(FETCH_RECORDS)])
    out.push(r.records / r.seconds, r.bytes / r.seconds / 1e6)
  }
  await broker.stop()
  return out
}

async function main(): Promise<void> {
  const names: string[] = []
  const figures: number[][] = []
  const dir = tempDir('kafkit-txnbench-')
  const extra = ['transaction.state.log.replication.factor=1', 'transaction.state.log.min.isr=1', 'transaction.state.log.num.partitions=4', 'offsets.topic.num.partitions=4']
  try {
    const zk = await startZooKeeper(dir)
    try {
      names.push('kafkit')
      figures.push(await measure(await startKafkitBroker(dir, zk.port, extra)))
      if (apacheInstalled()) {
        names.push('apache-kafka-3.9')
        figures.push(await measure(await startApacheBroker(dir, zk.port, extra)))
      }
    } finally {
      await zk.stop()
    }
  } finally {
    removeDir(dir)
  }
  const labels = [
    'txns/s, 1 record/txn', 'records/s, 1 record/txn', 'commit p50 ms, 1 record/txn', 'commit p99 ms, 1 record/txn',
    'txns/s, 100 records/txn', 'records/s, 100 records/txn', 'commit p50 ms, 100 records/txn', 'commit p99 ms, 100 records/txn',
    'txns/s, 10k records/txn', 'records/s, 10k records/txn', 'commit p50 ms, 10k records/txn', 'commit p99 ms, 10k records/txn',
    'read_uncommitted records/s', 'read_uncommitted MB/s', 'read_committed records/s', 'read_committed MB/s',
  ]
  console.log(`\nkafkit transactions benchmark: librdkafka (confluent-kafka), ${VALUE}-byte values, ${SECONDS} s per produce run (10k: ${SECONDS * 2} s), fetch of ${FETCH_RECORDS} records\n`)
  printTable(names, labels.map((l, i) => [l, figures.map(f => f[i])] as [string, number[]]), Object.fromEntries(labels.map(l => [l, /ms/.test(l) ? 1 : /MB/.test(l) ? 1 : 0])))
}

main().then(() => process.exit(0), error => {
  console.error(`bench failed: ${error.message}`)
  process.exit(1)
})
